#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts the local integration-test stack in the background and waits until
# every server answers:
#
#   Apache Kafka (KRaft, one combined broker+controller)  127.0.0.1:39092
#   schema registry (Apicurio, or srfake)                  127.0.0.1:38081
#   versitygw S3 gateway (posix backend)                   127.0.0.1:39000
#
# It runs install.sh first (a no-op when the cache is warm), creates the S3
# bucket sfstream-test, and writes $SFSTREAM_RUN/stack.env with the addresses
# for the tests. Running it again while the stack is up only re-checks it.
# Logs and pid files: $SFSTREAM_RUN/<kafka|registry|s3>/. Stop with down.sh.
set -euo pipefail

LOG_TAG=up
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# start_bg NAME CMD... starts CMD detached (own session, no terminal) in the
# service's run directory, with its output in NAME.log and its pid in NAME.pid.
start_bg() {
	local name="$1" dir
	shift
	dir="$(service_dir "$name")"
	mkdir -p "$dir"
	(
		cd "$dir"
		setsid nohup "$@" >"$name.log" 2>&1 </dev/null &
		echo "$!" >"$name.pid"
	)
}

# fail NAME MESSAGE reports a server that did not come up, with its log tail.
fail() {
	local name="$1" log
	shift
	log="$(service_dir "$name")/$name.log"
	log "error: $name: $*"
	if [[ -f "$log" ]]; then
		log "last lines of $log:"
		tail -n 40 "$log" | sed 's/^/    /' >&2
	fi
	log "whatever did start is left running for inspection; stop it with deploy/local/down.sh"
	exit 1
}

# wait_ready NAME CHECK... polls the command CHECK until it succeeds, failing
# when the server's process dies or after SFSTREAM_STACK_TIMEOUT seconds.
wait_ready() {
	local name="$1" started deadline
	shift
	started="$(now_ms)"
	deadline=$((SECONDS + SFSTREAM_STACK_TIMEOUT))
	until "$@"; do
		[[ -n "$(pid_of "$name")" ]] || fail "$name" "the server exited while starting"
		((SECONDS < deadline)) || fail "$name" "not ready after ${SFSTREAM_STACK_TIMEOUT}s (SFSTREAM_STACK_TIMEOUT)"
		sleep 0.3
	done
	log "$name: ready in $(elapsed "$started")"
}

# port_free NAME PORT fails when another process already listens on PORT.
port_free() {
	if port_open "$2"; then
		fail "$1" "127.0.0.1:$2 is already in use by another process" \
			"(see: ss -ltnp 'sport = :$2'); a stack from another SFSTREAM_RUN?"
	fi
}

# --- Kafka -------------------------------------------------------------------

# A fixed cluster id (base64 of 16 bytes): the data is thrown away by down.sh.
KAFKA_CLUSTER_ID=c2ZzdHJlYW0tbG9jYWwtaw

write_kafka_config() {
	cat >"$1" <<EOF
# Written by deploy/local/up.sh: a single-node KRaft cluster for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$2

# One replica of everything, so transactions and groups work on one node.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions: the first group or transaction is ready sooner.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4

# Test friendly: no waiting for more members, topics only when asked for,
# and a log cleaner that looks for compactable logs every second.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=1
log.cleaner.backoff.ms=1000
EOF
}

kafka_ready() {
	port_open "$KAFKA_PORT" &&
		grep -q 'Kafka Server started' "$(service_dir kafka)/kafka.log"
}

start_kafka() {
	local dir java
	dir="$(service_dir kafka)"
	if [[ -n "$(pid_of kafka)" ]]; then
		log "kafka: already running (pid $(pid_of kafka))"
		return
	fi
	port_free kafka "$KAFKA_PORT"
	port_free kafka "$KAFKA_CONTROLLER_PORT"
	java="$(find_java 17)"
	[[ -n "$java" ]] || die "kafka: needs Java 17 or newer (set SFSTREAM_JAVA)"
	mkdir -p "$dir"
	write_kafka_config "$dir/server.properties" "$dir/data"
	if [[ ! -f "$dir/data/meta.properties" ]]; then
		"$java" -cp "$KAFKA_HOME/libs/*" \
			-Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" \
			kafka.tools.StorageTool format --ignore-formatted \
			--cluster-id "$KAFKA_CLUSTER_ID" --config "$dir/server.properties" \
			>"$dir/format.log" 2>&1 || fail kafka "formatting the storage failed: $(tail -n 5 "$dir/format.log")"
	fi
	log "kafka: starting $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)"
	start_bg kafka "$java" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" \
		-cp "$KAFKA_HOME/libs/*" kafka.Kafka "$dir/server.properties"
}

# --- schema registry ---------------------------------------------------------

REGISTRY_KIND="$(registry_kind)"
case "$REGISTRY_KIND" in
apicurio) REGISTRY_URL="http://$KAFKA_HOST:$REGISTRY_PORT/apis/ccompat/v7" ;;
srfake) REGISTRY_URL="http://$KAFKA_HOST:$REGISTRY_PORT" ;;
esac

registry_ready() {
	[[ "$(curl -fsS "$REGISTRY_URL/subjects" 2>/dev/null)" == \[*\] ]]
}

start_registry() {
	local dir java
	dir="$(service_dir registry)"
	if [[ -n "$(pid_of registry)" ]]; then
		log "registry: already running (pid $(pid_of registry))"
		return
	fi
	port_free registry "$REGISTRY_PORT"
	mkdir -p "$dir"
	case "$REGISTRY_KIND" in
	apicurio)
		port_free registry "$REGISTRY_MANAGEMENT_PORT"
		java="$(find_java 21)"
		mkdir -p "$dir/tmp" "$dir/snapshots"
		log "registry: starting Apicurio Registry $APICURIO_VERSION on $REGISTRY_URL (storage: Kafka topic kafkasql-journal)"
		# Quick to start rather than fast to run: C1 only and the serial GC.
		start_bg registry "$java" -Xms64m -Xmx512m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
			-XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir="$dir/tmp" \
			-Dquarkus.http.host="$KAFKA_HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
			-Dquarkus.management.host="$KAFKA_HOST" -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
			-Dapicurio.storage.kind=kafkasql \
			-Dapicurio.kafkasql.bootstrap.servers="$KAFKA_HOST:$KAFKA_PORT" \
			-Dapicurio.kafkasql.consumer.poll.timeout=500 \
			-Dapicurio.storage.snapshot.location="$dir/snapshots" \
			-jar "$APICURIO_HOME/quarkus-run.jar"
		;;
	srfake)
		log "registry: starting srfake (in memory) on $REGISTRY_URL"
		start_bg registry "$SRFAKE_BIN" -addr "$KAFKA_HOST:$REGISTRY_PORT"
		;;
	esac
}

# configure_registry makes Apicurio's global compatibility BACKWARD, the
# default of Confluent's registry and of srfake (Apicurio's own is NONE).
configure_registry() {
	[[ "$REGISTRY_KIND" == apicurio ]] || return 0
	curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
		--data '{"compatibility":"BACKWARD"}' "$REGISTRY_URL/config" ||
		fail registry "setting the global compatibility to BACKWARD failed"
}

# --- S3 ----------------------------------------------------------------------

s3_ready() {
	curl -fsS -o /dev/null "http://$KAFKA_HOST:$S3_PORT/health" 2>/dev/null
}

start_s3() {
	local dir
	dir="$(service_dir s3)"
	if [[ -n "$(pid_of s3)" ]]; then
		log "s3: already running (pid $(pid_of s3))"
		return
	fi
	port_free s3 "$S3_PORT"
	mkdir -p "$dir/data"
	log "s3: starting versitygw $VERSITYGW_VERSION on $KAFKA_HOST:$S3_PORT (posix backend in $dir/data)"
	# The root credentials go through the environment, not the command line.
	ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
		start_bg s3 "$VERSITYGW_BIN" --port "$KAFKA_HOST:$S3_PORT" --region "$S3_REGION" \
		--health /health --quiet posix "$dir/data"
}

create_bucket() {
	local status
	status="$(s3_curl -o /dev/null -w '%{http_code}' -X PUT "http://$KAFKA_HOST:$S3_PORT/$S3_BUCKET")" ||
		fail s3 "creating bucket $S3_BUCKET failed"
	case "$status" in
	200) log "s3: created bucket $S3_BUCKET" ;;
	409) log "s3: bucket $S3_BUCKET exists" ;;
	*) fail s3 "creating bucket $S3_BUCKET: HTTP $status" ;;
	esac
}

# --- stack.env ---------------------------------------------------------------

write_stack_env() {
	local env="$SFSTREAM_RUN/stack.env"
	cat >"$env.tmp" <<EOF
# Written by deploy/local/up.sh for the stack running now; removed by down.sh.
# Use: . $env
export SFSTREAM_KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT
export SFSTREAM_SCHEMA_REGISTRY_URL=$REGISTRY_URL
export SFSTREAM_REGISTRY_KIND=$REGISTRY_KIND
export SFSTREAM_S3_ENDPOINT=$KAFKA_HOST:$S3_PORT
export SFSTREAM_S3_ACCESS_KEY=$S3_ACCESS_KEY
export SFSTREAM_S3_SECRET_KEY=$S3_SECRET_KEY
export SFSTREAM_S3_BUCKET=$S3_BUCKET
export SFSTREAM_S3_REGION=$S3_REGION
export SFSTREAM_S3_SECURE=false
EOF
	mv "$env.tmp" "$env"
	log "wrote $env"
}

main() {
	local started
	started="$(now_ms)"
	need curl setsid nohup
	"$LOCAL_DIR/install.sh"

	mkdir -p "$SFSTREAM_RUN"
	touch "$RUN_MARKER"
	rm -f "$SFSTREAM_RUN/stack.env"

	# Start all three at once: the JVMs boot while Kafka comes up, and the
	# registry retries its Kafka connection until the broker answers.
	start_s3
	start_kafka
	start_registry
	wait_ready kafka kafka_ready
	wait_ready registry registry_ready
	configure_registry
	wait_ready s3 s3_ready
	create_bucket

	write_stack_env
	log "stack up in $(elapsed "$started") (registry: $REGISTRY_KIND); stop it with deploy/local/down.sh"
}

main "$@"
