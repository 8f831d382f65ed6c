#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops the local integration-test stack that up.sh started (SIGTERM, then
# SIGKILL after a grace period) and deletes its run directory ($SFSTREAM_RUN:
# data, logs, stack.env), so the next up.sh starts from empty servers.
# Safe to run when nothing is running. The install cache is kept.
set -euo pipefail

LOG_TAG=down
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# stop NAME GRACE stops service NAME, giving it GRACE seconds to exit cleanly.
# Each server leads its own process group (up.sh starts it with setsid), so
# the signal goes to the group.
stop() {
	local name="$1" grace="$2" pid deadline
	pid="$(pid_of "$name")"
	if [[ -z "$pid" ]]; then
		log "$name: not running"
		return
	fi
	log "$name: stopping pid $pid"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + grace))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name: still running after ${grace}s, killing it"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do
			sleep 0.1
		done
	fi
	log "$name: stopped"
}

remove_run_dir() {
	if [[ ! -e "$SFSTREAM_RUN" ]]; then
		return
	fi
	case "$SFSTREAM_RUN" in
	/ | "$HOME" | /tmp | /root) die "refusing to delete SFSTREAM_RUN=$SFSTREAM_RUN" ;;
	esac
	if [[ ! -f "$RUN_MARKER" ]]; then
		die "$SFSTREAM_RUN was not made by up.sh (no $(basename "$RUN_MARKER")); not deleting it"
	fi
	rm -rf -- "$SFSTREAM_RUN"
	log "removed $SFSTREAM_RUN"
}

main() {
	# Clients first: the registry keeps its state in Kafka.
	stop registry 20
	stop s3 10
	stop kafka 30
	remove_run_dir
}

main "$@"
