#!/bin/bash
# The stand-in's kafka-broker-api-versions.sh (compose.yaml's health check): the Maven jars
# carry no kafka-tools, so it asks the broker for its default configs instead, an admin
# request that succeeds only when the broker answers.
# Usage: kafka-broker-api-versions.sh --bootstrap-server HOST:PORT
set -euo pipefail
[[ "${1:-}" == --bootstrap-server && -n "${2:-}" ]] || { echo "usage: $0 --bootstrap-server HOST:PORT" >&2; exit 2; }
exec java -Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '/opt/kafka/libs/*' \
	-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
	kafka.admin.ConfigCommand --bootstrap-server "$2" --describe --entity-type brokers --entity-default
