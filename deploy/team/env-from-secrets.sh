#!/bin/sh
# Runs a program with secrets it reads only from its environment (MLflow's PostgreSQL password,
# the S3 keys) taken from compose secret files, so none is ever written in a compose file, a
# URL or `podman inspect`'s environment. SECRET_ENV lists VARIABLE=file pairs, separated by
# spaces; each file is read from SECRETS_PATH (default /run/secrets), its final newline dropped.
#   SECRET_ENV="PGPASSWORD=mlflow_db_password" env-from-secrets.sh mlflow server ...
set -eu
folder="${SECRETS_PATH:-/run/secrets}"
for pair in ${SECRET_ENV:-}; do
    name="${pair%%=*}"
    file="${pair#*=}"
    if [ ! -r "$folder/$file" ]; then
        echo "env-from-secrets: cannot read $folder/$file (for $name)" >&2
        exit 1
    fi
    value="$(cat "$folder/$file")"
    export "$name=$value"
done
unset SECRET_ENV SECRETS_PATH
exec "$@"
