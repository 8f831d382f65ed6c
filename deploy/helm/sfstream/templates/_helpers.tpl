{{/*
Names, labels and the pieces the three workloads share.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "sfstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The resource name prefix: fullnameOverride, or the release name plus the chart name unless
the release name already contains it. Components append "-producer" etc., so it is cut to 40.
*/}}
{{- define "sfstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "sfstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. Call with (dict "ctx" $ "component" "producer"); component may be "". */}}
{{- define "sfstream.labels" -}}
helm.sh/chart: {{ include "sfstream.chart" .ctx }}
{{ include "sfstream.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: sfstream
{{- end }}

{{/* Selector labels. Call with (dict "ctx" $ "component" "producer"). */}}
{{- define "sfstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfstream.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "sfstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sfstream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the credentials come from: existingSecret or the chart's own. */}}
{{- define "sfstream.secretName" -}}
{{- default (include "sfstream.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* "true" when the chart creates its own Secret: no existingSecret and a credential value set. */}}
{{- define "sfstream.createSecret" -}}
{{- $sasl := and .Values.kafka.sasl.enabled .Values.kafka.sasl.password }}
{{- $registry := and .Values.schemaRegistry.username .Values.schemaRegistry.password }}
{{- if and (not .Values.existingSecret) (or $sasl $registry .Values.s3.accessKey .Values.s3.secretKey) }}true{{ end }}
{{- end }}

{{/* An image reference. Call with (dict "ctx" $ "image" .Values.producer.image). */}}
{{- define "sfstream.image" -}}
{{- $tag := .image.tag | default .ctx.Values.image.tag | default .ctx.Chart.AppVersion }}
{{- with .ctx.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .) $.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* Path of the Kafka CA certificate inside the containers. */}}
{{- define "sfstream.kafkaCAPath" -}}
/etc/sfstream/kafka-ca/ca.crt
{{- end }}

{{/* Checks that fail the render early, with a message that says what to set. */}}
{{- define "sfstream.validate" -}}
{{- if not .Values.kafka.brokers }}
{{- fail "kafka.brokers is required" }}
{{- end }}
{{- if not .Values.schemaRegistry.url }}
{{- fail "schemaRegistry.url is required" }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.username is required when kafka.sasl.enabled is true" }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not (has .Values.kafka.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512"))) }}
{{- fail (printf "kafka.sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not %q" .Values.kafka.sasl.mechanism) }}
{{- end }}
{{- if and .Values.kafka.tls.caSecret.name (not .Values.kafka.tls.enabled) }}
{{- fail "kafka.tls.caSecret.name is set but kafka.tls.enabled is false" }}
{{- end }}
{{- if not (has .Values.logFormat (list "text" "json")) }}
{{- fail (printf "logFormat must be text or json, not %q" .Values.logFormat) }}
{{- end }}
{{- if not (has .Values.logLevel (list "debug" "info" "warn" "error")) }}
{{- fail (printf "logLevel must be debug, info, warn or error, not %q" .Values.logLevel) }}
{{- end }}
{{- if lt (int .Values.kafka.partitions) 1 }}
{{- fail "kafka.partitions must be at least 1" }}
{{- end }}
{{- end }}

{{/*
The metric the processors' HPA scales on: "lag" or "cpu". "lag" falls back to "cpu" when
processors.autoscaling.lag.fallbackToCPU is set and the cluster does not serve the metrics API
that lag.type needs.
*/}}
{{- define "sfstream.processors.scaleMetric" -}}
{{- $as := .Values.processors.autoscaling }}
{{- if not (has $as.metric (list "cpu" "lag")) }}
{{- fail (printf "processors.autoscaling.metric must be cpu or lag, not %q" $as.metric) }}
{{- end }}
{{- if not (has $as.lag.type (list "External" "Pods")) }}
{{- fail (printf "processors.autoscaling.lag.type must be External or Pods, not %q" $as.lag.type) }}
{{- end }}
{{- if eq $as.metric "lag" }}
{{- $served := false }}
{{- if eq $as.lag.type "External" }}
{{- $served = .Capabilities.APIVersions.Has "external.metrics.k8s.io/v1beta1" }}
{{- else }}
{{- $served = or (.Capabilities.APIVersions.Has "custom.metrics.k8s.io/v1beta1") (.Capabilities.APIVersions.Has "custom.metrics.k8s.io/v1beta2") }}
{{- end }}
{{- if or $served (not $as.lag.fallbackToCPU) }}lag{{ else }}cpu{{ end }}
{{- else }}cpu{{ end }}
{{- end }}

{{/* Pod-level settings every workload shares. Call with (dict "ctx" $ "values" .Values.producer). */}}
{{- define "sfstream.podCommon" -}}
serviceAccountName: {{ include "sfstream.serviceAccountName" .ctx }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: config checksums (a changed ConfigMap or Secret rolls the pods) and the user's. */}}
{{- define "sfstream.podAnnotations" -}}
checksum/config: {{ include (print .ctx.Template.BasePath "/configmap.yaml") .ctx | sha256sum }}
{{- if include "sfstream.createSecret" .ctx }}
checksum/secret: {{ include (print .ctx.Template.BasePath "/secret.yaml") .ctx | sha256sum }}
{{- end }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Container settings every workload shares: config, port, probes, resources. Call with (dict "ctx" $ "values" .Values.archiver "s3" true). */}}
{{- define "sfstream.containerCommon" -}}
imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
{{- with .values.args }}
args:
  {{- toYaml . | nindent 2 }}
{{- end }}
envFrom:
  - configMapRef:
      name: {{ include "sfstream.fullname" .ctx }}
  {{- if .s3 }}
  - configMapRef:
      name: {{ include "sfstream.fullname" .ctx }}-archiver
  {{- end }}
ports:
  - name: metrics
    containerPort: {{ .ctx.Values.metricsPort }}
    protocol: TCP
startupProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: metrics
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- with .values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Environment variables from the Secret and the user, after envFrom. Call with (dict "ctx" $ "values" .Values.archiver "s3" true). */}}
{{- define "sfstream.env" -}}
{{- $secret := include "sfstream.secretName" .ctx }}
{{- if .ctx.Values.schemaRegistry.username }}
- name: SFSTREAM_SCHEMA_REGISTRY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .ctx.Values.secretKeys.schemaRegistryPassword }}
      optional: true
{{- end }}
{{- if .ctx.Values.kafka.sasl.enabled }}
- name: SFSTREAM_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .ctx.Values.secretKeys.kafkaSaslPassword }}
      optional: true
{{- end }}
{{- if .s3 }}
- name: SFSTREAM_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .ctx.Values.secretKeys.s3AccessKey }}
      optional: true
- name: SFSTREAM_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .ctx.Values.secretKeys.s3SecretKey }}
      optional: true
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts every workload shares: the Kafka CA when TLS is on. */}}
{{- define "sfstream.commonVolumeMounts" -}}
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/sfstream/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Volumes every workload shares. */}}
{{- define "sfstream.commonVolumes" -}}
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: ca.crt
{{- end }}
{{- end }}
