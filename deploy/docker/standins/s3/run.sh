#!/bin/bash
# Entry point of the S3 stand-in: `server [--address ADDR] [--console-address ADDR] DIR`, flags
# before or after DIR, as minio takes it (default address :9000; there is no console).
set -euo pipefail
[[ "${1:-}" == server ]] || { echo "usage: server [--address ADDR] [--console-address ADDR] DIR" >&2; exit 2; }
shift
address=:9000 dir=""
while (($#)); do
	case "$1" in
	--address) address="$2" && shift 2 ;;
	--console-address) shift 2 ;;
	--*) echo "s3 stand-in: unsupported flag $1" >&2 && exit 2 ;;
	*) dir="$1" && shift ;;
	esac
done
[[ -n "$dir" ]] || { echo "usage: server [--address ADDR] DIR" >&2; exit 2; }
export ROOT_ACCESS_KEY_ID="${MINIO_ROOT_USER:-minioadmin}"
export ROOT_SECRET_ACCESS_KEY="${MINIO_ROOT_PASSWORD:-minioadmin}"
unset MINIO_ROOT_USER MINIO_ROOT_PASSWORD
exec /usr/local/bin/versitygw --port "$address" --region "${MINIO_REGION:-us-east-1}" --health /health posix "$dir"
