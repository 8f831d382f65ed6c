#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Installs the servers of the local integration-test stack into the cache
# (${SFSTREAM_CACHE:-$HOME/.cache/sfstream}), once:
#
#   kafka      Apache Kafka jars from Maven Central (kafka/pom.xml)
#   registry   Apicurio Registry's server distribution from Maven Central,
#              or a build of ./srfake when SFSTREAM_STACK_REGISTRY=srfake
#   versitygw  the versitygw S3 gateway, built with `go install`
#
# Each part is skipped when its stamp in the cache says it is already there,
# so a second run takes well under a second. A part is built in a temporary
# directory and moved into place only when complete, so an interrupted run
# leaves nothing half-installed.
set -euo pipefail

LOG_TAG=install
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTALL_LOGS="$SFSTREAM_CACHE/logs"

# logged NAME CMD... runs CMD with its output in $INSTALL_LOGS/NAME.log, and
# shows the end of that log if CMD fails.
logged() {
	local name="$1" log
	shift
	mkdir -p "$INSTALL_LOGS"
	log="$INSTALL_LOGS/$name.log"
	if ! "$@" >"$log" 2>&1; then
		log "error: $name failed; last lines of $log:"
		tail -n 30 "$log" | sed 's/^/    /' >&2
		exit 1
	fi
}

# mvn_batch ARGS... runs Maven in batch mode against the cache's own local
# repository, so that nothing outside the cache is needed or touched.
mvn_batch() {
	mvn -B -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" "$@"
}

install_kafka() {
	local pom="$LOCAL_DIR/kafka/pom.xml" stamp="$KAFKA_HOME/.installed" want tmp started
	want="kafka $KAFKA_VERSION pom $(sha256sum "$pom" | cut -d' ' -f1)"
	if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
		log "kafka $KAFKA_VERSION: cached ($KAFKA_HOME)"
		return
	fi
	need mvn java
	started="$(now_ms)"
	log "kafka $KAFKA_VERSION: fetching the server jars from Maven Central..."
	tmp="$KAFKA_HOME.partial"
	rm -rf "$tmp"
	logged kafka-install mvn_batch -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
		"$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
		-DincludeScope=runtime -DoutputDirectory="$tmp/libs"
	[[ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
		die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after the download"
	echo "$want" >"$tmp/.installed"
	rm -rf "$KAFKA_HOME"
	mv "$tmp" "$KAFKA_HOME"
	log "kafka $KAFKA_VERSION: installed in $(elapsed "$started") ($(du -sh "$KAFKA_HOME" | cut -f1))"
}

install_apicurio() {
	local stamp="$APICURIO_HOME/.installed" want="apicurio $APICURIO_VERSION" tmp started
	local gav="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
	if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
		log "apicurio registry $APICURIO_VERSION: cached ($APICURIO_HOME)"
		return
	fi
	need mvn tar
	started="$(now_ms)"
	log "apicurio registry $APICURIO_VERSION: fetching the server distribution from Maven Central (about 160 MB)..."
	tmp="$APICURIO_HOME.partial"
	rm -rf "$tmp"
	mkdir -p "$tmp/download"
	# Run outside any project: the copy goal needs none.
	(cd "$tmp/download" && logged apicurio-install mvn_batch "$MAVEN_DEPENDENCY_PLUGIN:copy" \
		-Dartifact="$gav" -DoutputDirectory="$tmp/download")
	tar -xzf "$tmp/download/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$tmp"
	[[ -f "$tmp/quarkus-run.jar" ]] || die "apicurio: quarkus-run.jar missing from the distribution"
	# The unpacked tree is what we run; keep no second copy of the archive.
	rm -rf "$tmp/download" "$M2_REPO/io/apicurio/apicurio-registry-app/$APICURIO_VERSION"
	echo "$want" >"$tmp/.installed"
	rm -rf "$APICURIO_HOME"
	mv "$tmp" "$APICURIO_HOME"
	log "apicurio registry $APICURIO_VERSION: installed in $(elapsed "$started") ($(du -sh "$APICURIO_HOME" | cut -f1))"
}

install_srfake() {
	local started
	need go
	started="$(now_ms)"
	mkdir -p "$CACHE_BIN"
	(cd "$REPO_ROOT" && logged srfake-build go build -o "$SRFAKE_BIN" ./deploy/local/srfake)
	log "srfake: built from deploy/local/srfake in $(elapsed "$started")"
}

install_registry() {
	local kind
	kind="$(registry_kind)"
	if [[ "$kind" != "$SFSTREAM_STACK_REGISTRY" ]]; then
		log "warning: Apicurio Registry needs Java 21 or newer and none was found" \
			"(set SFSTREAM_JAVA to one); falling back to srfake"
	fi
	case "$kind" in
	apicurio) install_apicurio ;;
	srfake) install_srfake ;;
	esac
}

install_versitygw() {
	local started
	if [[ -x "$VERSITYGW_BIN" ]] &&
		go version -m "$VERSITYGW_BIN" 2>/dev/null |
		grep -qE "^[[:space:]]+mod[[:space:]]+github.com/versity/versitygw[[:space:]]+$VERSITYGW_VERSION([[:space:]]|$)"; then
		log "versitygw $VERSITYGW_VERSION: cached ($VERSITYGW_BIN)"
		return
	fi
	need go
	started="$(now_ms)"
	log "versitygw $VERSITYGW_VERSION: go install (downloads modules and compiles; a few minutes on 2 cores)..."
	mkdir -p "$CACHE_BIN"
	# Outside the repo, with no inherited GOFLAGS: `go install pkg@version`
	# must not see this module's go.mod or flags such as -mod=vendor.
	(cd "$SFSTREAM_CACHE" && GOFLAGS='' GOBIN="$CACHE_BIN" logged versitygw-install \
		go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
	log "versitygw $VERSITYGW_VERSION: installed in $(elapsed "$started")"
}

main() {
	local started
	started="$(now_ms)"
	mkdir -p "$SFSTREAM_CACHE"
	log "cache: $SFSTREAM_CACHE"
	install_kafka
	install_registry
	install_versitygw
	log "done in $(elapsed "$started")"
}

main "$@"
