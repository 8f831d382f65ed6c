#!/bin/bash
# Entry point of the S3 stand-in: `server DIR [--console-address ADDR]` as minio takes it.
set -euo pipefail
[[ "${1:-}" == server && -n "${2:-}" ]] || { echo "usage: server DIR [--console-address ADDR]" >&2; exit 2; }
dir="$2"
export ROOT_ACCESS_KEY_ID="${MINIO_ROOT_USER:-minioadmin}"
export ROOT_SECRET_ACCESS_KEY="${MINIO_ROOT_PASSWORD:-minioadmin}"
unset MINIO_ROOT_USER MINIO_ROOT_PASSWORD
exec /usr/local/bin/versitygw --port :9000 --region "${MINIO_REGION:-us-east-1}" --health /health posix "$dir"
