#!/usr/bin/env bash
# On GitHub there is no ../shared beside the checkout: point DVC at the remote named by
# the repository's secrets instead (written to .dvc/config.local, never committed).
#   DVC_REMOTE_URL           e.g. s3://callcenterai-data/dvc (required)
#   DVC_REMOTE_ENDPOINT_URL  for an S3-compatible store such as MinIO (optional)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  read by DVC from the environment
# Usage: .ci/configure_dvc_remote.sh [PROJECT_DIR]
set -euo pipefail
project="${1:-$(dirname "$0")/..}"
if [ -z "${DVC_REMOTE_URL:-}" ]; then
  echo "::error::DVC_REMOTE_URL is not set: add it (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) as repository secrets; see README, 'CI on GitHub'"
  exit 1
fi
{
  echo "[core]"
  echo "    remote = ci"
  echo "['remote \"ci\"']"
  echo "    url = ${DVC_REMOTE_URL}"
  if [ -n "${DVC_REMOTE_ENDPOINT_URL:-}" ]; then
    echo "    endpointurl = ${DVC_REMOTE_ENDPOINT_URL}"
  fi
} > "${project}/.dvc/config.local"
echo "DVC default remote: ${DVC_REMOTE_URL}"
