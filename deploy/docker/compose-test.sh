#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# make compose-test: the whole pipeline of compose.yaml on the project's own engine, checked
# end to end as a user would see it.
#
#  1. engine.sh up (and down at the end, if this script started it)
#  2. images.sh all: the sfstream images from the Dockerfile, stand-ins where pulls fail
#  3. docker compose up -d --wait (compose.yaml as it is; the producer captures this host)
#  4. a workload on the host: file writes and reads, TCP connections on loopback
#  5. sfprint on sysflow.events until the workload's file and network flows are there
#  6. hourclose moves every partition past the hour, so the archiver stores the open hour
#  7. sfprint on s3://sysflow/: the archive holds the workload's file and network flows, read
#     by a host build and by the tools image (docker compose --profile tools run)
#  8. docker compose down -v (always, also on failure)
#
# Published ports listen in the engine's network namespace, so the clients of steps 5-7
# run there (ip netns exec). SFSTREAM_COMPOSE_TIMEOUT (default 240) bounds each wait.
set -euo pipefail

LOG_TAG=compose-test
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIMEOUT="${SFSTREAM_COMPOSE_TIMEOUT:-240}"
WORK="$(mktemp -d /tmp/sfstream-compose-test.XXXXXX)"
BIN="$REPO_ROOT/bin"
STARTED_ENGINE=false
SERVER_PID=""
# The stand-ins' S3 server and registry are versitygw and srfake: leave them out of the
# capture like java and minio (SFSTREAM_EXCLUDE_COMMS, compose.yaml).
export SFSTREAM_EXCLUDE_COMMS="${SFSTREAM_EXCLUDE_COMMS-java,minio,versitygw,srfake}"
export SFSTREAM_EXPORTER_ID="${SFSTREAM_EXPORTER_ID:-sfstream-compose-test}"

step() { log "== $* ($(elapsed "$T0"))"; }

cleanup() {
	local rc=$?
	set +e
	[[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
	if [[ "$rc" != 0 ]] && dk info >/dev/null 2>&1; then
		log "failed: the services' state and the end of their logs"
		(cd "$REPO_ROOT" && docker compose ps -a && docker compose logs --no-color --tail 40) >&2
	fi
	step "docker compose down -v"
	(cd "$REPO_ROOT" && docker compose down -v --remove-orphans) >&2
	if $STARTED_ENGINE; then
		"$DOCKER_DIR/engine.sh" down
	fi
	rm -rf "$WORK"
	exit "$rc"
}

in_ns() { ip netns exec "$ENGINE_NETNS" "$@"; }

# wait_for DESC CMD... retries CMD every 3s until it succeeds or TIMEOUT passes.
wait_for() {
	local desc="$1" deadline=$((SECONDS + TIMEOUT))
	shift
	until "$@"; do
		((SECONDS < deadline)) || die "$desc: not within ${TIMEOUT}s"
		sleep 3
	done
	log "$desc ($(elapsed "$T0"))"
}

# workload writes and reads a file of its own and makes TCP connections to a server of its
# own on loopback, a few times a second for $1 seconds.
workload() {
	local until=$((SECONDS + $1)) i=0
	while ((SECONDS < until)); do
		i=$((i + 1))
		echo "sfstream compose-test $i" >"$PROBE_FILE"
		cat "$PROBE_FILE" >/dev/null
		curl -s -o /dev/null "http://127.0.0.1:$PROBE_PORT/" || true
		sleep 0.3
	done
}

# has_flows FILE says whether the JSON records in FILE hold the workload's file flow
# (the probe file) and network flow (the probe port).
has_flows() {
	python3 - "$1" "$PROBE_FILE" "$PROBE_PORT" <<'PY'
import json, os, sys
path, probe_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = ff = nf = 0
with open(path) as f:
    for line in f:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        n += 1
        if r.get("type") == "FF" and r.get("file", {}).get("path") == probe_file:
            ff += 1
        if r.get("type") == "NF" and port in (r.get("net", {}).get("sport"), r.get("net", {}).get("dport")):
            nf += 1
print(f"[compose-test] {os.path.basename(path)}: {n} records, {ff} file flows of {probe_file}, {nf} network flows on port {port}", file=sys.stderr)
sys.exit(0 if ff and nf else 1)
PY
}

events_have_flows() {
	in_ns timeout 60 "$BIN/sfprint" -o json "kafka://127.0.0.1:29092/sysflow.events" >"$WORK/events.json" 2>"$WORK/events.err" || true
	has_flows "$WORK/events.json"
}

archive_has_flows() {
	in_ns timeout 60 env SFSTREAM_S3_ENDPOINT=127.0.0.1:9000 SFSTREAM_S3_SECURE=false \
		SFSTREAM_S3_ACCESS_KEY="${SFSTREAM_S3_ACCESS_KEY:-sfstream}" SFSTREAM_S3_SECRET_KEY="${SFSTREAM_S3_SECRET_KEY:-sfstream-dev-only}" \
		"$BIN/sfprint" -o json "s3://${SFSTREAM_S3_BUCKET:-sysflow}/" >"$WORK/archive.json" 2>"$WORK/archive.err" || true
	has_flows "$WORK/archive.json"
}

main() {
	T0="$(now_ms)"
	need docker ip curl python3 go
	trap cleanup EXIT

	step "engine"
	if ! "$DOCKER_DIR/engine.sh" status; then
		"$DOCKER_DIR/engine.sh" up
		STARTED_ENGINE=true
	fi
	eval "$("$DOCKER_DIR/engine.sh" env)"
	docker compose version >/dev/null 2>&1 || die "no docker compose plugin (engine.sh up installs it)"

	step "images"
	"$DOCKER_DIR/images.sh" all

	step "sfprint and hourclose (host builds)"
	(cd "$REPO_ROOT" && go build -o bin/sfprint ./cmd/sfprint && go build -o bin/hourclose ./deploy/docker/hourclose)

	step "docker compose up -d --wait"
	(cd "$REPO_ROOT" && docker compose up -d --wait --wait-timeout "$TIMEOUT")
	(cd "$REPO_ROOT" && docker compose ps --format 'table {{.Service}}\t{{.Status}}') >&2

	step "workload on the host"
	PROBE_FILE="$WORK/probe-$RANDOM.txt"
	PROBE_PORT=$((20000 + RANDOM % 20000))
	python3 -m http.server --bind 127.0.0.1 --directory "$WORK" "$PROBE_PORT" >"$WORK/http.log" 2>&1 &
	SERVER_PID=$!
	workload 15
	wait_for "sysflow.events holds the workload's flows" events_have_flows

	step "close the hour (hourclose), wait for the archive"
	# A last round after the flows were seen, so they are not the newest records.
	workload 3
	in_ns "$BIN/hourclose" -brokers 127.0.0.1:29092 -registry http://127.0.0.1:8081 -ahead 70m
	wait_for "s3://sysflow/ holds the workload's flows" archive_has_flows

	step "the tools image reads the archive too (docker compose --profile tools run)"
	(cd "$REPO_ROOT" && docker compose --profile tools run --rm sfprint -o json s3://sysflow/) >"$WORK/tools.json" 2>"$WORK/tools.err" ||
		{ tail -n 20 "$WORK/tools.err" >&2; die "docker compose --profile tools run sfprint failed"; }
	has_flows "$WORK/tools.json" || die "the tools image's sfprint did not find the workload's flows in s3://sysflow/"
	step "passed"
}

main "$@"
