#!/bin/sh
# The public postgres image's start, as far as docker-compose.yml uses it: initialise
# the data folder on the first start (user, password, database), then run the server.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password_file=$POSTGRES_PASSWORD_FILE
    else
        : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD)}"
        password_file=$(mktemp)
        printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
    fi
    # Local (socket) logins trusted, TCP logins by password: the public image's defaults.
    "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$password_file" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    # The database is made by a server listening on the socket only, so pg_isready over
    # TCP (the health check) says ready only once the real server runs.
    "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$database" != "postgres" ]; then
        "$bin/createdb" -U "$user" "$database"
    fi
    "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*'
