#!/usr/bin/env bash
# deploy/check/check.sh: checks the deployment files offline; CI runs it (make deploy-check).
#
#   bash deploy/check/check.sh            check everything
#   bash deploy/check/check.sh --update   first rewrite deploy/manifests/sfstream.yaml from the chart
#
# 1. Tools, pinned and cached under ${SFSTREAM_CACHE:-$HOME/.cache/sfstream}: helm and kubeconform
#    (go install), the Kubernetes JSON schemas (from the PyPI package kubernetes-validate, whose
#    wheel ships them: kubeconform's default download host is not reachable here), and
#    composecheck, dockercheck and valuesdoc (deploy/check, a Go module of its own, so the main
#    go.mod stays untouched), vetted and tested first.
# 2. The chart: helm lint --strict, then helm template for the default values and each variant
#    in deploy/check/values/, each validated by kubeconform -strict against the schemas of the
#    oldest and newest Kubernetes the chart supports (deploy/check/schemas/ for the
#    ServiceMonitor CRD), plus what each variant and its NOTES.txt must and must not render;
#    renders that must fail; every value documented in values.yaml and in the chart's README.
# 3. deploy/manifests/sfstream.yaml equals the default render: drift fails.
# 4. compose.yaml: `docker compose config -q` where the plugin exists, composecheck always.
# 5. deploy/docker/Dockerfile: dockercheck (BuildKit's parser and linter, and sfstream's rules).
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# Kubernetes JSON schemas: kubernetes-validate's wheel, pinned by hash.
SCHEMA_PACKAGE_VERSION=1.37.0
SCHEMA_PACKAGE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
# Oldest and newest Kubernetes the chart is validated against (Chart.yaml: kubeVersion).
KUBE_VERSIONS=(1.25.0 1.37.0)
RELEASE=sfstream
NAMESPACE=sfstream

UPDATE=0
case "${1:-}" in
  --update) UPDATE=1 ;;
  "") ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CHART=deploy/helm/sfstream
MANIFEST=deploy/manifests/sfstream.yaml
CACHE=${SFSTREAM_CACHE:-$HOME/.cache/sfstream}
BIN=$CACHE/bin
SCHEMAS=$CACHE/k8s-schemas/kubernetes-validate-$SCHEMA_PACKAGE_VERSION
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$BIN"

step() { printf '== %s (%ss)\n' "$*" "$SECONDS"; }
die() { echo "deploy-check: FAIL: $*" >&2; exit 1; }

# ---- 1. tools --------------------------------------------------------------------------

HELM=$BIN/helm-$HELM_VERSION
KUBECONFORM=$BIN/kubeconform-$KUBECONFORM_VERSION

# go_install NAME PACKAGE VERSION [LDFLAGS [GCFLAGS]]: build a pinned tool into $BIN/NAME-VERSION.
go_install() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:--s -w} gcflags=${5:-}
  [[ -x $BIN/$name-$version ]] && return 0
  local gobin
  gobin=$(mktemp -d "$WORK/gobin.XXXX")
  GOBIN=$gobin go install -ldflags "$ldflags" -gcflags "$gcflags" "$pkg@$version"
  mv "$gobin/$name" "$BIN/$name-$version"
}

# The Kubernetes JSON schemas of kubernetes-validate, for each version in KUBE_VERSIONS, laid
# out as kubeconform expects. Its "local" schemas point at /api/_definitions.json on
# kubernetes.io; the rewrite makes that a path beside them, so nothing is fetched.
install_schemas() {
  local missing=0 v
  for v in "${KUBE_VERSIONS[@]}"; do
    [[ -f $SCHEMAS/v$v-standalone-strict/.complete ]] || missing=1
  done
  [[ $missing == 0 ]] && return 0
  command -v python3 >/dev/null || die "python3 is needed to unpack the Kubernetes schemas"
  local wheels=$WORK/wheels
  mkdir -p "$wheels"
  printf 'kubernetes-validate==%s --hash=sha256:%s\n' "$SCHEMA_PACKAGE_VERSION" "$SCHEMA_PACKAGE_SHA256" >"$WORK/schemas-requirements.txt"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$WORK/schemas-requirements.txt" -d "$wheels"
  python3 - "$wheels"/kubernetes_validate-*.whl "$SCHEMAS" "${KUBE_VERSIONS[@]}" <<'PY'
import json, os, sys, zipfile

wheel, dest, versions = sys.argv[1], sys.argv[2], sys.argv[3:]
remote = "/api/_definitions.json"

def rewrite(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(remote):
            node["$ref"] = "_definitions.json" + ref[len(remote):]
        for value in node.values():
            rewrite(value)
    elif isinstance(node, list):
        for value in node:
            rewrite(value)

with zipfile.ZipFile(wheel) as zf:
    for version in versions:
        prefix = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
        names = [n for n in zf.namelist() if n.startswith(prefix) and n.endswith(".json")]
        if not names:
            sys.exit(f"no schemas for Kubernetes {version} in {os.path.basename(wheel)}")
        out = os.path.join(dest, f"v{version}-standalone-strict")
        os.makedirs(out, exist_ok=True)
        for name in names:
            doc = json.loads(zf.read(name))
            rewrite(doc)
            with open(os.path.join(out, os.path.basename(name)), "w") as f:
                json.dump(doc, f)
        open(os.path.join(out, ".complete"), "w").close()
        print(f"schemas for Kubernetes {version}: {len(names)} files")
PY
}

# composecheck, dockercheck and valuesdoc: rebuilt on every run (seconds with a warm Go cache).
build_check_tools() {
  (
    cd deploy/check
    go vet ./...
    go test -count=1 ./...
    go build -buildvcs=false -o "$BIN/composecheck" ./composecheck
    go build -buildvcs=false -o "$BIN/valuesdoc" ./valuesdoc
    go build -buildvcs=false -o "$BIN/dockercheck" ./dockercheck
  )
}

step "tools (cache: $CACHE)"
# helm is the long build (two to five minutes from nothing on two cores): start it first, in
# the background, without optimisations (-N -l: about a fifth less compile time; it renders one
# small chart). Without the ldflags a `go install`ed helm reports version "v3.22" and defaults
# to Kubernetes 1.20; check.sh passes --kube-version everywhere anyway.
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=37"
done
go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$helm_ldflags" "all=-N -l" >"$WORK/helm-install.log" 2>&1 &
helm_pid=$!
go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" "-s -w -X main.version=$KUBECONFORM_VERSION"
install_schemas
build_check_tools
wait "$helm_pid" || { cat "$WORK/helm-install.log" >&2; die "go install helm $HELM_VERSION"; }
echo "helm $("$HELM" version --short), kubeconform $("$KUBECONFORM" -v), schemas kubernetes-validate $SCHEMA_PACKAGE_VERSION"

# ---- 2. the chart ------------------------------------------------------------------------

# helm template leaves NOTES.txt out, and a NOTES.txt that fails breaks `helm install`: a copy
# of the chart renders it as one more manifest, a YAML string.
NOTES_CHART=$WORK/notes-chart/sfstream
mkdir -p "$(dirname "$NOTES_CHART")"
cp -r "$CHART" "$NOTES_CHART"
cp "$CHART/templates/NOTES.txt" "$NOTES_CHART/notes.txt"
echo 'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}' >"$NOTES_CHART/templates/zz-notes.yaml"

# render NAME [HELM ARGS...]: helm template into $WORK/NAME-<kube version>.yaml, one per version,
# and the install notes into $WORK/NAME.notes.
RENDERS=()
render() {
  local name=$1 v
  shift
  RENDERS+=("$name")
  for v in "${KUBE_VERSIONS[@]}"; do
    "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "$v" "$@" \
      >"$WORK/$name-$v.yaml" || die "helm template $name (Kubernetes $v)"
  done
  "$HELM" template "$RELEASE" "$NOTES_CHART" --namespace "$NAMESPACE" --kube-version "${KUBE_VERSIONS[-1]}" "$@" \
    --show-only templates/zz-notes.yaml >"$WORK/$name.notes" || die "NOTES.txt of $name"
}

# expect_notes NAME PATTERN...: the install notes of NAME say every fixed-string PATTERN.
expect_notes() {
  local name=$1 pattern
  shift
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$WORK/$name.notes" || die "$name: NOTES.txt lacks: $pattern"
  done
}

# validate: kubeconform -strict on every render, one run per Kubernetes version (a run compiles
# each schema once; -n 1 because parallel workers would compile the same schemas again).
validate() {
  local v
  for v in "${KUBE_VERSIONS[@]}"; do
    printf 'Kubernetes %s: ' "$v"
    "$KUBECONFORM" -strict -summary -output text -n 1 -kubernetes-version "$v" \
      -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      -schema-location "$ROOT/deploy/check/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
      "$WORK"/*-"$v".yaml || die "kubeconform: a render does not validate against Kubernetes $v"
  done
}

# expect NAME PATTERN...: every fixed-string PATTERN occurs in the render of NAME.
expect() {
  local name=$1 pattern
  shift
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$WORK/$name-${KUBE_VERSIONS[-1]}.yaml" || die "$name: render lacks: $pattern"
  done
}

# reject NAME PATTERN...: no fixed-string PATTERN occurs in the render of NAME.
reject() {
  local name=$1 pattern
  shift
  for pattern in "$@"; do
    ! grep -qF -- "$pattern" "$WORK/$name-${KUBE_VERSIONS[-1]}.yaml" || die "$name: render must not contain: $pattern"
  done
}

# must_fail MESSAGE [HELM ARGS...]: the render fails and says MESSAGE.
must_fail() {
  local message=$1
  shift
  if "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "${KUBE_VERSIONS[-1]}" "$@" >"$WORK/fail.out" 2>&1; then
    die "helm template $* succeeded, want an error: $message"
  fi
  grep -qF -- "$message" "$WORK/fail.out" || { cat "$WORK/fail.out" >&2; die "helm template $*: error lacks: $message"; }
}

step "helm lint"
"$HELM" lint --strict --quiet "$CHART" --kube-version "${KUBE_VERSIONS[-1]}"
for values in deploy/check/values/*.yaml; do
  "$HELM" lint --strict --quiet "$CHART" --kube-version "${KUBE_VERSIONS[-1]}" -f "$values"
done

step "render"
render default
expect default "kind: DaemonSet" "hostPID: true" "privileged: true" "fieldPath: spec.nodeName" \
  "- operator: Exists" "path: /sys/kernel/btf" "mountPath: /host/proc" "kind: HorizontalPodAutoscaler" \
  "type: Resource" "runAsUser: 65532" "clusterIP: None" "name: SFSTREAM_S3_SECRET_KEY" \
  'SFSTREAM_STAGING_MAX_BYTES: "8GiB"' "sizeLimit: 10Gi"
reject default "kind: Secret" "kind: ServiceMonitor" "type: External" "replicas: 2" "SFSTREAM_KAFKA_TLS" \
  "SFSTREAM_KAFKA_SASL" "SCHEMA_REGISTRY_PASSWORD" "SFSTREAM_EXCLUDE_COMMS" "SFSTREAM_S3_REGION"
expect_notes default "NOTE: no S3 credentials were given" "processors on CPU (70% of requests)"

# TLS with the system CAs: no CA volume.
render tls-system-cas --set kafka.tls.enabled=true
expect tls-system-cas 'SFSTREAM_KAFKA_TLS: "true"'
reject tls-system-cas "SFSTREAM_KAFKA_TLS_CA_FILE" "kafka-ca"

render lag-servicemonitor-existingsecret -f deploy/check/values/lag-servicemonitor-existingsecret.yaml \
  --api-versions external.metrics.k8s.io/v1beta1 --api-versions monitoring.coreos.com/v1
expect lag-servicemonitor-existingsecret "kind: ServiceMonitor" "type: External" "name: kafka_consumergroup_lag" \
  "consumergroup: sfstream-processors" 'averageValue: "20000"' "type: Resource" "name: sfstream-credentials" \
  'SFSTREAM_S3_ENDPOINT: "minio.storage.svc:9000"' 'SFSTREAM_S3_SECURE: "false"' "release: kube-prometheus-stack"
reject lag-servicemonitor-existingsecret "kind: Secret"
expect_notes lag-servicemonitor-existingsecret "on consumer lag (External metric kafka_consumergroup_lag" \
  'A ServiceMonitor \"sfstream\" scrapes them'

render sasl-tls-resources -f deploy/check/values/sasl-tls-resources.yaml
expect sasl-tls-resources "kind: Secret" "kafka-sasl-password:" "s3-access-key:" "name: SFSTREAM_KAFKA_SASL_PASSWORD" \
  'SFSTREAM_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512"' 'SFSTREAM_KAFKA_TLS_CA_FILE: "/etc/sfstream/kafka-ca/ca.crt"' \
  "secretName: kafka-ca" "type: Pods" "registry.example.com/security/sf-processor:v0.2.0" \
  "registry.example.com/security/sf-producer:v0.2.1" "containerPort: 9191" 'SFSTREAM_METRICS_ADDR: ":9191"' \
  "serviceAccountName: sfstream-workloads" "checksum/secret:" "priorityClassName: system-node-critical" \
  "name: regcred" "emptyDir: {}" "example.com/team: security" 'GOMEMLIMIT: "1800MiB"' 'SFSTREAM_KAFKA_TLS: "true"' \
  "schema-registry-password:" "name: SFSTREAM_SCHEMA_REGISTRY_PASSWORD" 'SFSTREAM_SCHEMA_REGISTRY_USER: "sfstream"' \
  'SFSTREAM_LOG_LEVEL: "debug"' 'SFSTREAM_S3_REGION: "eu-west-1"' 'SFSTREAM_S3_PREFIX: "cluster-a"' \
  'SFSTREAM_STAGING_MAX_BYTES: "20GiB"' "name: SFSTREAM_EXCLUDE_COMMS" 'value: "java,minio"'
reject sasl-tls-resources "kind: ServiceAccount" "type: Resource" "type: External" "- operator: Exists"

# lag asked for, but no external metrics API: the HPA falls back to CPU.
render lag-fallback --set processors.autoscaling.metric=lag
expect lag-fallback "type: Resource"
reject lag-fallback "type: External"
expect_notes lag-fallback 'WARNING: processors.autoscaling.metric is \"lag\" but this cluster does not serve'

# Everything off but the producer: no HPA, no archiver ConfigMap.
render producer-only --set processors.enabled=false --set archiver.enabled=false
expect producer-only "kind: DaemonSet"
reject producer-only "kind: Deployment" "kind: HorizontalPodAutoscaler" "name: sfstream-archiver"

step "kubeconform: ${RENDERS[*]}"
validate

step "renders that must fail"
must_fail "kafka.tls.caSecret.name is set but kafka.tls.enabled is false" --set kafka.tls.caSecret.name=ca
must_fail "logLevel must be debug, info, warn or error" --set logLevel=trace
must_fail "kafka.sasl.username is required" --set kafka.sasl.enabled=true
must_fail "kafka.sasl.mechanism must be" --set kafka.sasl.enabled=true --set kafka.sasl.username=u --set kafka.sasl.mechanism=GSSAPI
must_fail "processors.autoscaling.metric must be cpu or lag" --set processors.autoscaling.metric=memory
must_fail "processors.resources.requests.cpu is required" --set processors.resources.requests.cpu=null
must_fail "logFormat must be text or json" --set logFormat=xml
if "$HELM" template "$RELEASE" "$CHART" --kube-version 1.24.0 >"$WORK/fail.out" 2>&1 ||
  ! grep -qF "incompatible with Kubernetes v1.24.0" "$WORK/fail.out"; then
  die "helm template for Kubernetes 1.24 did not fail on Chart.yaml's kubeVersion"
fi

step "values documented"
"$BIN/valuesdoc" "$CHART/values.yaml" "$CHART/README.md"

# ---- 3. static manifests -------------------------------------------------------------------

step "deploy/manifests/sfstream.yaml"
{
  echo "# sfstream for Kubernetes without Helm: the chart deploy/helm/sfstream rendered with its default"
  echo "# values, release \"$RELEASE\", namespace \"$NAMESPACE\". Generated by deploy/check/check.sh --update;"
  echo "# do not edit. Set the values you need (kafka.brokers, schemaRegistry.url, s3.*) by editing"
  echo "# the ConfigMaps, or better, install the chart. Use:"
  echo "#   kubectl create namespace $NAMESPACE"
  echo "#   kubectl apply -f deploy/manifests/sfstream.yaml"
  cat "$WORK/default-${KUBE_VERSIONS[-1]}.yaml"
} >"$WORK/manifest.yaml"
if [[ $UPDATE == 1 ]]; then
  mkdir -p "$(dirname "$MANIFEST")"
  cp "$WORK/manifest.yaml" "$MANIFEST"
  echo "updated $MANIFEST"
fi
if ! diff -u "$MANIFEST" "$WORK/manifest.yaml" >"$WORK/manifest.diff" 2>&1; then
  head -n 60 "$WORK/manifest.diff" >&2
  die "$MANIFEST differs from the chart's default render: run bash deploy/check/check.sh --update and commit it"
fi
echo "$MANIFEST matches the default render"

# ---- 4. compose --------------------------------------------------------------------------

step "compose.yaml"
if docker compose version >/dev/null 2>&1; then
  docker compose -f compose.yaml config -q
  echo "docker compose config: valid"
else
  echo "no Docker Compose plugin: composecheck (compose-go) only"
fi
"$BIN/composecheck" compose.yaml

# ---- 5. Dockerfile ---------------------------------------------------------------------------

step "deploy/docker/Dockerfile"
"$BIN/dockercheck" -root "$ROOT" deploy/docker/Dockerfile

step "deploy-check passed"
