# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are used by the scripts that source this
# Shared settings of engine.sh, images.sh and compose-test.sh. Sourced, never run. It builds
# on deploy/local/lib.sh (the cache, the versions of Kafka, the registry and versitygw, log
# helpers), so that both ways of running the third-party servers agree.

# shellcheck source=../local/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../local" && pwd)/lib.sh"
DOCKER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# --- the engine (engine.sh) -----------------------------------------------------------------

# Images, build cache and the debootstrap trees persist here between runs.
DOCKER_CACHE="$SFSTREAM_CACHE/docker"
# The network namespace dockerd runs in.
ENGINE_NETNS="${SFSTREAM_DOCKER_NETNS:-sfstream-docker}"
# Socket, exec root, pid file and log of the running engine; engine.sh down deletes it.
ENGINE_RUN="${SFSTREAM_DOCKER_RUN:-/run/sfstream-docker}"
ENGINE_DATA="${SFSTREAM_DOCKER_DATA:-$DOCKER_CACHE/data-root}"
ENGINE_HOST="unix://$ENGINE_RUN/docker.sock"
# The Compose CLI plugin engine.sh builds when `docker compose` is missing (Debian 12 has none).
COMPOSE_VERSION=v2.28.1

# --- stand-in base images (images.sh) -------------------------------------------------------

# The Debian release of the stand-ins (the machines' own) and where debootstrap gets it.
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${SFSTREAM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Names of the stand-ins; the Dockerfile's defaults are the upstream images.
STANDIN_PREFIX=sfstream-standin
STANDIN_RUNTIME="$STANDIN_PREFIX/distroless-static" # tags latest (root) and nonroot
STANDIN_GO="$STANDIN_PREFIX/golang"                 # tag: the host's Go version
STANDIN_DEBIAN="$STANDIN_PREFIX/debian"             # tag: $DEBIAN_SUITE

# The third-party images compose.yaml names by default. A stand-in is built under exactly
# this name when the engine does not have it (it cannot pull).
COMPOSE_KAFKA_IMAGE=apache/kafka:4.1.1
COMPOSE_REGISTRY_IMAGE=confluentinc/cp-schema-registry:8.1.1
COMPOSE_MINIO_IMAGE=quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z
COMPOSE_MC_IMAGE=quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z

# dk ARGS... runs the docker client against our engine.
dk() { docker -H "$ENGINE_HOST" "$@"; }
