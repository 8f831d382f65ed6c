#!/bin/bash
# Entry point of the Kafka stand-in: writes server.properties from the KAFKA_* variables the
# way apache/kafka does (KAFKA_FOO_BAR is foo.bar; a double underscore is "_", a triple one
# "-"), formats the log directory once (CLUSTER_ID), then runs the broker in the foreground.
set -euo pipefail
config=/opt/kafka/config/server.properties
: >"$config"
while IFS='=' read -r name value; do
	case "$name" in
	KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JMX_OPTS | KAFKA_VERSION) continue ;;
	KAFKA_*) ;;
	*) continue ;;
	esac
	key="${name#KAFKA_}"
	key="${key,,}"
	key="${key//___/-}"
	key="${key//__/@}"
	key="${key//_/.}"
	key="${key//@/_}"
	printf '%s=%s\n' "$key" "$value" >>"$config"
done < <(env)
logdirs="$(sed -n 's/^log\.dirs=//p' "$config")"
if [[ -z "$logdirs" ]]; then
	logdirs=/var/lib/kafka/data
	echo "log.dirs=$logdirs" >>"$config"
fi
classpath='/opt/kafka/libs/*'
log4j=-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties
if [[ ! -f "${logdirs%%,*}/meta.properties" ]]; then
	java -cp "$classpath" "$log4j" kafka.tools.StorageTool format --ignore-formatted \
		--cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" --config "$config"
fi
# shellcheck disable=SC2086 # the options are words
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
	-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "$log4j" ${KAFKA_OPTS:-} \
	-cp "$classpath" kafka.Kafka "$config"
