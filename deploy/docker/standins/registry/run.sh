#!/bin/bash
# Entry point of the registry stand-in: the first of SCHEMA_REGISTRY_LISTENERS
# (default http://0.0.0.0:8081) becomes srfake's listen address.
set -euo pipefail
listener="${SCHEMA_REGISTRY_LISTENERS:-http://0.0.0.0:8081}"
listener="${listener%%,*}"
listener="${listener#*://}"
exec /usr/local/bin/srfake -addr "$listener"
