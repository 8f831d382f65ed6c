# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are used by the scripts that source this
# Shared settings and helpers for install.sh, up.sh and down.sh.
# Sourced, never run. The SFSTREAM_* settings below can be overridden from the
# environment; versions, ports and credentials are fixed here on purpose, so
# that tests and stack.env always agree.

# --- where things live -------------------------------------------------------

# Downloads and builds, kept between runs.
SFSTREAM_CACHE="${SFSTREAM_CACHE:-$HOME/.cache/sfstream}"
# Data, logs, pid files and stack.env of the running stack; down.sh removes it.
SFSTREAM_RUN="${SFSTREAM_RUN:-/tmp/sfstream-stack}"
# Absolute and free of symlinks: pid_of compares it with /proc/PID/cwd.
SFSTREAM_CACHE="$(realpath -m -- "$SFSTREAM_CACHE")"
SFSTREAM_RUN="$(realpath -m -- "$SFSTREAM_RUN")"

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd)"

# --- versions ----------------------------------------------------------------

# passed to kafka/pom.xml as -Dkafka.version; deploy/docker/images.sh asks for the version
# compose.yaml names (SFSTREAM_KAFKA_VERSION) for its stand-in Kafka image.
KAFKA_VERSION="${SFSTREAM_KAFKA_VERSION:-4.4.0}"
APICURIO_VERSION=3.3.3
VERSITYGW_VERSION=v1.8.0
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# Which schema registry to run: "apicurio" (a real registry, Confluent API under
# /apis/ccompat/v7) or "srfake" (franz-go's in-memory fake, Confluent API at /).
SFSTREAM_STACK_REGISTRY="${SFSTREAM_STACK_REGISTRY:-apicurio}"

# --- addresses and credentials (loopback only) -------------------------------

KAFKA_HOST=127.0.0.1
KAFKA_PORT=39092
KAFKA_CONTROLLER_PORT=39093
REGISTRY_PORT=38081
REGISTRY_MANAGEMENT_PORT=38082 # Apicurio's health/metrics interface
S3_PORT=39000
S3_ACCESS_KEY=sfstream
S3_SECRET_KEY=sfstream-secret
S3_BUCKET=sfstream-test
S3_REGION=us-east-1

# How long up.sh waits for each server to become ready, in seconds.
SFSTREAM_STACK_TIMEOUT="${SFSTREAM_STACK_TIMEOUT:-180}"

# --- derived paths -----------------------------------------------------------

M2_REPO="$SFSTREAM_CACHE/m2"
KAFKA_HOME="$SFSTREAM_CACHE/kafka-$KAFKA_VERSION"
APICURIO_HOME="$SFSTREAM_CACHE/apicurio-registry-$APICURIO_VERSION"
CACHE_BIN="$SFSTREAM_CACHE/bin"
VERSITYGW_BIN="$CACHE_BIN/versitygw"
SRFAKE_BIN="$CACHE_BIN/srfake"

# Marker that tells down.sh a directory is ours to delete.
RUN_MARKER="$SFSTREAM_RUN/.sfstream-stack"

# --- helpers -----------------------------------------------------------------

log() { printf '[%s] %s\n' "${LOG_TAG:-stack}" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# now_ms prints the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# elapsed START_MS prints seconds since START_MS with one decimal.
elapsed() {
	local ms=$(($(now_ms) - $1))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
	done
}

# java_major JAVA prints the major version of a java binary (8, 17, 21, ...),
# or nothing if it does not run.
java_major() {
	local line v major minor
	line="$("$1" -version 2>&1 | head -n 1)" || return 0
	v="$(sed -E -n 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/p' <<<"$line")"
	[[ -n "$v" ]] || return 0
	read -r major minor <<<"$v"
	if [[ "$major" == 1 ]]; then # "1.8.0" style
		echo "${minor:-0}"
	else
		echo "$major"
	fi
}

# find_java MIN prints the path of the first java whose major version is at
# least MIN: $SFSTREAM_JAVA, $JAVA_HOME, the PATH, then /usr/lib/jvm (newest
# first). Prints nothing if there is none.
find_java() {
	local min="$1" candidate major
	local -a candidates=()
	[[ -n "${SFSTREAM_JAVA:-}" ]] && candidates+=("$SFSTREAM_JAVA")
	[[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
	command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
	if [[ -d /usr/lib/jvm ]]; then
		while IFS= read -r candidate; do
			candidates+=("$candidate")
		done < <(find /usr/lib/jvm -mindepth 3 -maxdepth 3 -path '*/bin/java' 2>/dev/null | sort -r -V)
	fi
	for candidate in "${candidates[@]}"; do
		[[ -x "$candidate" ]] || continue
		major="$(java_major "$candidate")"
		if [[ -n "$major" ]] && ((major >= min)); then
			echo "$candidate"
			return 0
		fi
	done
}

# registry_kind prints the registry that up.sh will run: the requested one,
# or srfake when Apicurio is requested but no Java 21+ exists.
registry_kind() {
	case "$SFSTREAM_STACK_REGISTRY" in
	srfake) echo srfake ;;
	apicurio)
		if [[ -n "$(find_java 21)" ]]; then
			echo apicurio
		else
			echo srfake
		fi
		;;
	*) die "SFSTREAM_STACK_REGISTRY must be apicurio or srfake, not '$SFSTREAM_STACK_REGISTRY'" ;;
	esac
}

# port_open PORT succeeds when something accepts TCP connections on
# 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# service_dir NAME prints the run directory of service NAME (kafka, registry,
# s3). up.sh starts each server with this as its working directory.
service_dir() { echo "$SFSTREAM_RUN/$1"; }

# pid_of NAME prints the pid recorded for service NAME if that process is
# still alive and is the one up.sh started: its working directory is the
# service's run directory or below it (versitygw changes into its data
# directory). Prints nothing otherwise.
pid_of() {
	local dir pid cwd
	dir="$(service_dir "$1")"
	[[ -f "$dir/$1.pid" ]] || return 0
	pid="$(<"$dir/$1.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || return 0
	[[ "$cwd" == "$dir" || "$cwd" == "$dir"/* ]] || return 0
	echo "$pid"
}

# s3_curl ARGS... runs curl with the stack's S3 credentials, signing with
# SigV4. The credentials go through a config on stdin, not the command line.
s3_curl() {
	printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
		curl -sS -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
