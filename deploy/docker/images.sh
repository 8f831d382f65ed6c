#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds every image compose.yaml needs on an engine that cannot pull (engine.sh's): the
# sfstream images from deploy/docker/Dockerfile, on stand-in base images made from Debian,
# and stand-ins for the third-party images under the names compose.yaml uses.
#
#   deploy/docker/images.sh bases      stand-in bases: runtime (distroless-like) and Go builder
#   deploy/docker/images.sh standins   Kafka, schema registry, S3 (and mc) under compose's names
#   deploy/docker/images.sh sfstream   the four sfstream images (compose.yaml's names and tag)
#   deploy/docker/images.sh all        the three, in that order (the default)
#
# Talks to $DOCKER_HOST, or engine.sh's engine when it is unset. Everything that takes long
# is cached: the debootstrap trees under $SFSTREAM_CACHE/docker/rootfs, the images in the
# engine's data root (a stand-in whose name exists is not rebuilt), Go's build cache in
# BuildKit's cache mounts. SFSTREAM_VERSION (default dev) is the sfstream images' tag.
set -euo pipefail

LOG_TAG=images
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export DOCKER_HOST="${DOCKER_HOST:-$ENGINE_HOST}"
# The Dockerfile needs BuildKit (cache mounts, BUILDPLATFORM). Debian's docker 20.10 client
# has it built in; a newer client without the buildx plugin falls back to the legacy builder.
DOCKER_BUILD_CLI="${SFSTREAM_DOCKER_BUILD_CLI:-/usr/bin/docker}"
[[ -x "$DOCKER_BUILD_CLI" ]] || DOCKER_BUILD_CLI=docker
ROOTFS="$DOCKER_CACHE/rootfs"
LOGS="$DOCKER_CACHE/logs"
SFSTREAM_VERSION="${SFSTREAM_VERSION:-dev}"
SFSTREAM_IMAGE_PREFIX="${SFSTREAM_IMAGE_PREFIX:-sfstream}"

build() { DOCKER_BUILDKIT=1 "$DOCKER_BUILD_CLI" build --progress=plain "$@"; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# logged NAME CMD... runs CMD with its output in $LOGS/NAME.log; shows the log's end on failure.
logged() {
	local name="$1"
	shift
	mkdir -p "$LOGS"
	if ! "$@" >"$LOGS/$name.log" 2>&1; then
		log "error: $name failed; last lines of $LOGS/$name.log:"
		tail -n 40 "$LOGS/$name.log" | sed 's/^/    /' >&2
		exit 1
	fi
}

# --- Debian trees ---------------------------------------------------------------------------

# debian_tree NAME PACKAGES makes (once) $ROOTFS/NAME.tar: a minbase debootstrap of
# DEBIAN_SUITE with the comma-separated PACKAGES, apt's caches and lists removed.
debian_tree() {
	local name="$1" packages="$2" tar="$ROOTFS/$1.tar" want tmp started
	want="$DEBIAN_SUITE minbase $packages"
	if [[ -f "$tar" && -f "$tar.stamp" && "$(<"$tar.stamp")" == "$want" ]]; then
		return
	fi
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap with apt..."
		logged apt-debootstrap bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap'
	fi
	started="$(now_ms)"
	log "debootstrap $DEBIAN_SUITE ($name: $packages)... (a few minutes, once)"
	mkdir -p "$ROOTFS/debs"
	tmp="$ROOTFS/$name.partial"
	rm -rf "$tmp"
	logged "debootstrap-$name" debootstrap --variant=minbase --include="$packages" \
		--cache-dir="$ROOTFS/debs" "$DEBIAN_SUITE" "$tmp" "$DEBIAN_MIRROR"
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/* \
		"$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/*
	tar --numeric-owner -C "$tmp" -cf "$tar.partial" .
	mv "$tar.partial" "$tar"
	echo "$want" >"$tar.stamp"
	rm -rf "$tmp"
	log "$name tree: $(du -h "$tar" | cut -f1) in $(elapsed "$started")"
}

# import_tree TAR IMAGE CHANGES... imports a tree as IMAGE unless the engine has it.
import_tree() {
	local tar="$1" image="$2"
	shift 2
	have_image "$image" && return
	local -a changes=()
	local c
	for c in "$@"; do changes+=(--change "$c"); done
	docker import "${changes[@]}" "$tar" "$image" >/dev/null
	log "imported $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
}

# --- base stand-ins -------------------------------------------------------------------------

PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

debian_base() {
	debian_tree debian ca-certificates,curl,tzdata
	import_tree "$ROOTFS/debian.tar" "$STANDIN_DEBIAN:$DEBIAN_SUITE" "$PATH_ENV" 'CMD ["/bin/bash"]'
}

# runtime_base: what gcr.io/distroless/static-debian13 holds (CA bundle, tzdata, passwd and
# group with root, nobody and nonroot 65532, /etc/os-release, /tmp, /home/nonroot), taken
# from the Debian tree. :latest runs as root, :nonroot as 65532, like distroless.
runtime_base() {
	local tar="$ROOTFS/runtime.tar" tree
	if [[ ! -f "$tar" || "$ROOTFS/debian.tar" -nt "$tar" || "${BASH_SOURCE[0]}" -nt "$tar" ]]; then
		tree="$(mktemp -d)"
		tar -C "$tree" -xf "$ROOTFS/debian.tar" ./etc/ssl/certs/ca-certificates.crt ./usr/share/zoneinfo \
			./etc/os-release ./usr/lib/os-release ./etc/nsswitch.conf
		chmod 755 "$tree"
		mkdir -p "$tree/tmp" "$tree/home/nonroot" "$tree/root" "$tree/var/lib"
		chmod 1777 "$tree/tmp"
		chmod 700 "$tree/root"
		chown 65532:65532 "$tree/home/nonroot"
		cat >"$tree/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
		cat >"$tree/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
		tar --numeric-owner -C "$tree" -cf "$tar.partial" .
		mv "$tar.partial" "$tar"
		rm -rf "$tree"
		docker image rm "$STANDIN_RUNTIME:latest" "$STANDIN_RUNTIME:nonroot" >/dev/null 2>&1 || true
	fi
	local cert='ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
	import_tree "$tar" "$STANDIN_RUNTIME:latest" "$PATH_ENV" "$cert" 'USER 0'
	import_tree "$tar" "$STANDIN_RUNTIME:nonroot" "$PATH_ENV" "$cert" 'USER 65532' 'WORKDIR /home/nonroot'
}

# go_base: the Debian stand-in plus this machine's Go toolchain at /usr/local/go, set up as
# the golang image is (GOPATH /go, GOTOOLCHAIN local). Tagged with the Go version.
go_version() { go env GOVERSION | sed 's/^go//'; }
go_base() {
	local image="$STANDIN_GO:$(go_version)" ctx goroot
	have_image "$image" && return
	goroot="$(go env GOROOT)"
	ctx="$(mktemp -d)"
	# Hard links where the file system allows: the context is sent whole, but not copied here.
	cp -al "$goroot" "$ctx/go" 2>/dev/null || cp -a "$goroot" "$ctx/go"
	rm -rf "$ctx/go/pkg/obj" "$ctx/go/test"
	cat >"$ctx/Dockerfile" <<EOF
FROM $STANDIN_DEBIAN:$DEBIAN_SUITE
COPY go /usr/local/go
ENV GOPATH=/go GOTOOLCHAIN=local PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/bin /go/src && go version
WORKDIR /go
EOF
	logged go-base build -t "$image" "$ctx"
	rm -rf "$ctx"
	log "built $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
}

bases() {
	debian_base
	runtime_base
	go_base
}

# --- third-party stand-ins ------------------------------------------------------------------

# standin NAME IMAGE builds deploy/docker/standins/NAME as IMAGE (unless the engine has it),
# with the files that stage_NAME puts into the context.
standin() {
	local name="$1" image="$2" ctx started hash
	ctx="$(mktemp -d)"
	cp -a "$DOCKER_DIR/standins/$name/." "$ctx/"
	"stage_$name" "$ctx"
	# The image is rebuilt when anything in its context changed.
	hash="$(cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
	if [[ "$(docker image inspect -f '{{index .Config.Labels "org.sfstream.standin.context"}}' "$image" 2>/dev/null)" == "$hash" ]]; then
		log "$image: stand-in up to date"
		rm -rf "$ctx"
		return
	fi
	if have_image "$image" && [[ -z "$(docker image inspect -f '{{index .Config.Labels "org.sfstream.standin.context"}}' "$image")" ]]; then
		log "$image: present (not a stand-in), kept"
		rm -rf "$ctx"
		return
	fi
	started="$(now_ms)"
	logged "standin-$name" build -t "$image" \
		--build-arg DEBIAN_IMAGE="$STANDIN_DEBIAN:$DEBIAN_SUITE" \
		--build-arg JRE_IMAGE="$STANDIN_PREFIX/debian-jre:$DEBIAN_SUITE" \
		--label org.opencontainers.image.description="sfstream stand-in for $image, built by deploy/docker/images.sh" \
		--label org.sfstream.standin.context="$hash" \
		"$ctx"
	rm -rf "$ctx"
	log "$image: stand-in built in $(elapsed "$started") ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
}

# compose_version IMAGE prints the tag of an image reference.
compose_version() { echo "${1##*:}"; }

stage_kafka() { cp -a "$SFSTREAM_CACHE/kafka-$(compose_version "$COMPOSE_KAFKA_IMAGE")/libs" "$1/libs"; }
stage_registry() { cp -a "$SRFAKE_BIN" "$1/srfake"; }
stage_s3() { cp -a "$VERSITYGW_BIN" "$1/versitygw" && cp -a "$DOCKER_DIR/standins/mc/mc" "$1/mc"; }
stage_mc() { :; }

standins() {
	debian_base
	debian_tree debian-jre ca-certificates,curl,openjdk-17-jre-headless
	import_tree "$ROOTFS/debian-jre.tar" "$STANDIN_PREFIX/debian-jre:$DEBIAN_SUITE" "$PATH_ENV" 'CMD ["/bin/bash"]'
	# deploy/local's installer fetches Kafka (the version compose.yaml names), builds srfake
	# and versitygw; cached after the first run.
	SFSTREAM_KAFKA_VERSION="$(compose_version "$COMPOSE_KAFKA_IMAGE")" SFSTREAM_STACK_REGISTRY=srfake \
		"$LOCAL_DIR/install.sh"
	standin kafka "$COMPOSE_KAFKA_IMAGE"
	standin registry "$COMPOSE_REGISTRY_IMAGE"
	standin s3 "$COMPOSE_MINIO_IMAGE"
	standin mc "$COMPOSE_MC_IMAGE"
}

# --- the sfstream images --------------------------------------------------------------------

# sfstream builds the Dockerfile's four targets as a user does, from a copy of the work tree
# with the modules vendored (the engine has no network): see deploy/docker/README.md.
sfstream() {
	local ctx started target name
	started="$(now_ms)"
	ctx="$(mktemp -d)"
	(cd "$REPO_ROOT" && git ls-files -z -co --exclude-standard) |
		(cd "$REPO_ROOT" && tar --null -T - -cf -) | tar -C "$ctx" -xf -
	(cd "$ctx" && GOFLAGS= logged go-mod-vendor go mod vendor)
	log "context: $(du -sh "$ctx" | cut -f1) with vendor/ ($(elapsed "$started"))"
	for target in producer processor archiver tools; do
		case "$target" in
		producer) name=sf-producer ;;
		processor) name=sf-processor ;;
		archiver) name=sf-archiver ;;
		tools) name=sfstream-tools ;;
		esac
		local image="$SFSTREAM_IMAGE_PREFIX/$name:$SFSTREAM_VERSION" t0
		t0="$(now_ms)"
		logged "build-$target" build -f "$ctx/deploy/docker/Dockerfile" --target "$target" \
			--build-arg VERSION="$SFSTREAM_VERSION" \
			--build-arg GO_IMAGE="$STANDIN_GO:$(go_version)" \
			--build-arg RUNTIME_IMAGE="$STANDIN_RUNTIME" \
			--build-arg GO_MOD_DOWNLOAD=false \
			-t "$image" "$ctx"
		log "$image built in $(elapsed "$t0") ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
	done
	rm -rf "$ctx"
	# The images these builds replaced (untagged now): nothing else refers to them.
	docker image prune -f >/dev/null
	log "sfstream images built in $(elapsed "$started")"
}

main() {
	local what="${1:-all}" started
	started="$(now_ms)"
	docker version >/dev/null 2>&1 || die "no Docker engine at $DOCKER_HOST (start one: deploy/docker/engine.sh up)"
	case "$what" in
	bases) bases ;;
	standins) standins ;;
	sfstream) bases && sfstream ;;
	all) bases && standins && sfstream ;;
	*) sed -n '6,10p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2 && exit 2 ;;
	esac
	log "$what: done in $(elapsed "$started")"
}

main "$@"
