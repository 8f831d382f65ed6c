#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A Docker engine of the project's own, for machines that have no Docker daemon (CI, the
# development machines): Debian's docker.io (dockerd, containerd, runc), started in a network
# namespace of its own, with its own socket, data root and exec root, so that it touches
# neither a Docker the machine may have nor the machine's network.
#
#   deploy/docker/engine.sh up      install (apt, once), start, wait until it answers
#   deploy/docker/engine.sh env     print the variables a client needs (eval "$(... env)")
#   deploy/docker/engine.sh status  exit 0 when it runs
#   deploy/docker/engine.sh down    remove every container, stop dockerd, delete the namespace
#
# Inside the namespace only loopback is up, plus the bridges dockerd makes itself: containers
# reach each other on their networks, ports they publish listen on the namespace's loopback
# (reach them with `ip netns exec sfstream-docker CMD`), and nothing reaches past the machine
# (no route, no DNS server). Images and the build cache persist in the data root (under
# SFSTREAM_CACHE) between runs; `down` keeps them, `down --purge` deletes them.
set -euo pipefail

LOG_TAG=engine
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '8,11p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2
	exit 2
}

install_engine() {
	if command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v runc >/dev/null &&
		command -v iptables >/dev/null && command -v nsenter >/dev/null && command -v ip >/dev/null; then
		return
	fi
	log "installing Debian's docker.io (dockerd, containerd, runc) with apt..."
	local started
	started="$(now_ms)"
	mkdir -p "$DOCKER_CACHE/logs"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		docker.io iptables iproute2 util-linux; } >"$DOCKER_CACHE/logs/apt-docker.log" 2>&1 ||
		{ tail -n 20 "$DOCKER_CACHE/logs/apt-docker.log" >&2; die "apt-get install docker.io failed"; }
	log "docker.io installed in $(elapsed "$started")"
}

# install_compose makes `docker compose` work: Debian 12 has only the old Python
# docker-compose 1.x, so the v2 plugin is built from the Go module proxy at a pinned version
# (once, about 5 minutes on 2 cores; cached in $DOCKER_CACHE/bin) and linked where the docker
# CLI looks for plugins.
install_compose() {
	local plugin_dir=/usr/local/lib/docker/cli-plugins bin="$DOCKER_CACHE/bin/docker-compose" started
	docker compose version >/dev/null 2>&1 && return
	if ! { [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+github.com/docker/compose/v2[[:space:]]+$COMPOSE_VERSION([[:space:]]|$)"; }; then
		need go
		started="$(now_ms)"
		log "docker compose $COMPOSE_VERSION: go install from the Go module proxy (once; a few minutes)..."
		mkdir -p "$DOCKER_CACHE/bin.partial" "$DOCKER_CACHE/logs" "$DOCKER_CACHE/bin"
		# Outside the repo, with no inherited GOFLAGS, as deploy/local does for versitygw.
		(cd "$DOCKER_CACHE" && GOFLAGS='' GOBIN="$DOCKER_CACHE/bin.partial" \
			go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION") >"$DOCKER_CACHE/logs/compose-install.log" 2>&1 ||
			{ tail -n 20 "$DOCKER_CACHE/logs/compose-install.log" >&2; die "building docker compose failed"; }
		mv "$DOCKER_CACHE/bin.partial/cmd" "$bin"
		rmdir "$DOCKER_CACHE/bin.partial"
		log "docker compose $COMPOSE_VERSION: built in $(elapsed "$started")"
	fi
	mkdir -p "$plugin_dir"
	ln -sfn "$bin" "$plugin_dir/docker-compose"
}

# dockerd_pid prints the pid of our dockerd when it runs: the pid file's process, which must
# be a dockerd in our namespace. Prints nothing otherwise.
dockerd_pid() {
	local pid
	[[ -f "$ENGINE_RUN/dockerd.pid" ]] || return 0
	pid="$(<"$ENGINE_RUN/dockerd.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */dockerd ]] || return 0
	[[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" == "$(netns_id)" ]] || return 0
	echo "$pid"
}

# netns_id prints the namespace's identity (net:[inode]) as /proc/PID/ns/net shows it.
netns_id() {
	[[ -e "/run/netns/$ENGINE_NETNS" ]] || return 0
	ip netns exec "$ENGINE_NETNS" readlink /proc/self/ns/net 2>/dev/null || true
}

answers() { docker -H "$ENGINE_HOST" version >/dev/null 2>&1; }

up() {
	install_engine
	install_compose
	mkdir -p "$ENGINE_RUN" "$ENGINE_DATA"
	if [[ -n "$(dockerd_pid)" ]] && answers; then
		log "dockerd already running (pid $(dockerd_pid)) on $ENGINE_HOST"
		return
	fi
	if [[ ! -e "/run/netns/$ENGINE_NETNS" ]]; then
		ip netns add "$ENGINE_NETNS"
	fi
	ip netns exec "$ENGINE_NETNS" ip link set lo up
	local started
	started="$(now_ms)"
	log "starting dockerd in network namespace $ENGINE_NETNS (data root $ENGINE_DATA)"
	rm -f "$ENGINE_RUN/docker.sock"
	# Its own session, so it outlives this script; its managed containerd lives under the
	# exec root. No registry is reachable: no mirror, no DNS, nothing to pull from.
	setsid nohup nsenter --net="/run/netns/$ENGINE_NETNS" \
		dockerd --host "$ENGINE_HOST" --data-root "$ENGINE_DATA" --exec-root "$ENGINE_RUN/exec" \
		--pidfile "$ENGINE_RUN/dockerd.pid" --storage-driver overlay2 \
		--log-level warn --max-concurrent-downloads 1 \
		>"$ENGINE_RUN/dockerd.log" 2>&1 </dev/null &
	local deadline=$((SECONDS + 90))
	until answers; do
		if ((SECONDS > deadline)); then
			tail -n 30 "$ENGINE_RUN/dockerd.log" >&2
			die "dockerd did not answer on $ENGINE_HOST within 90s (log: $ENGINE_RUN/dockerd.log)"
		fi
		sleep 0.3
	done
	log "dockerd ready in $(elapsed "$started") (pid $(dockerd_pid), $(docker -H "$ENGINE_HOST" version -f '{{.Server.Version}}'))"
}

down() {
	local pid purge="${1:-}"
	pid="$(dockerd_pid)"
	if [[ -n "$pid" ]]; then
		if answers; then
			local ids
			ids="$(docker -H "$ENGINE_HOST" ps -aq)"
			if [[ -n "$ids" ]]; then
				log "removing $(wc -w <<<"$ids") container(s)"
				# shellcheck disable=SC2086 # one id per word
				docker -H "$ENGINE_HOST" rm -f -v $ids >/dev/null || true
			fi
		fi
		log "stopping dockerd (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 30))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		if kill -0 "$pid" 2>/dev/null; then
			log "dockerd still running after 30s, killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	else
		log "dockerd: not running"
	fi
	if [[ -e "/run/netns/$ENGINE_NETNS" ]]; then
		ip netns delete "$ENGINE_NETNS"
	fi
	# dockerd leaves mounts behind (its default sandbox's netns under the exec root, overlay
	# mounts under the data root after a crash): unmount them, deepest first, before deleting.
	local m
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v run="$ENGINE_RUN" -v data="$ENGINE_DATA" \
		'index($2, run "/") == 1 || index($2, data "/") == 1 {print $2}' /proc/mounts | sort -r)
	rm -rf "$ENGINE_RUN"
	if [[ "$purge" == --purge ]]; then
		log "deleting the data root $ENGINE_DATA"
		rm -rf -- "$ENGINE_DATA"
	fi
}

env_vars() {
	cat <<EOF
export DOCKER_HOST=$ENGINE_HOST
export SFSTREAM_DOCKER_NETNS=$ENGINE_NETNS
EOF
}

case "${1:-}" in
up) up ;;
down) down "${2:-}" ;;
env) env_vars ;;
status) [[ -n "$(dockerd_pid)" ]] && answers ;;
*) usage ;;
esac
