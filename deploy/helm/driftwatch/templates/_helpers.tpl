{{/*
The chart name, or nameOverride.
*/}}
{{- define "driftwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of every resource: fullnameOverride, or the release name
(with the chart name appended unless it already holds it), cut to the 63
characters a DNS label allows.
*/}}
{{- define "driftwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "driftwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "driftwatch.labels" -}}
helm.sh/chart: {{ include "driftwatch.chart" . }}
{{ include "driftwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the pods (the workload's selector, the Service's, the
PodDisruptionBudget's).
*/}}
{{- define "driftwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "driftwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "driftwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "driftwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The driftwatch image, repository:tag, the tag defaulting to appVersion.
*/}}
{{- define "driftwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The port of config.http.listen. The probes, the container port and the
Service all use it; the render fails unless driftwatch listens on every
interface (":9464", "0.0.0.0:9464" or "[::]:9464"), where the kubelet and
Prometheus reach it.
*/}}
{{- define "driftwatch.httpPort" -}}
{{- $listen := toString (dig "http" "listen" "" .Values.config) }}
{{- $port := regexFind "[0-9]+$" $listen }}
{{- $host := trimSuffix (printf ":%s" $port) $listen }}
{{- if or (not $port) (not (has $host (list "" "0.0.0.0" "[::]"))) (eq $host $listen) }}
{{- fail (printf "config.http.listen: %q must be :PORT, 0.0.0.0:PORT or [::]:PORT: the probes, the Service and Prometheus reach driftwatch there" $listen) }}
{{- end }}
{{- $port }}
{{- end }}

{{/*
Whether scale-out is on (config.kafka.scale_out.enabled): "true" or "".
*/}}
{{- define "driftwatch.scaleOut" -}}
{{- if dig "kafka" "scale_out" "enabled" false .Values.config }}true{{ end }}
{{- end }}

{{/*
The credentials set in values: a list of {env, path, token, secretName,
key}. Without token, path is the *_env key of driftwatch.yml that names env;
with one (credentials.httpTokens), path is http.auth.tokens and token the
{name, role} of the entry added there, its token_env naming env:
DRIFTWATCH_HTTP_TOKEN_ and the name in capitals, other than A-Z and 0-9 as _.
*/}}
{{- define "driftwatch.credentials" -}}
{{- $all := list
  (dict "value" .Values.credentials.kafkaSaslPassword "env" "DRIFTWATCH_KAFKA_SASL_PASSWORD" "path" (list "kafka" "sasl" "password_env"))
  (dict "value" .Values.credentials.clickhousePassword "env" "DRIFTWATCH_CLICKHOUSE_PASSWORD" "path" (list "sinks" "clickhouse" "password_env"))
  (dict "value" .Values.credentials.webhookSecret "env" "DRIFTWATCH_WEBHOOK_SECRET" "path" (list "alerts" "actions" "webhook_secret_env")) }}
{{- $set := list }}
{{- range $all }}
{{- if .value.secretName }}
{{- if not .value.key }}
{{- fail (printf "credentials: the secret %q needs a key" .value.secretName) }}
{{- end }}
{{- $set = append $set (dict "env" .env "path" .path "token" dict "secretName" .value.secretName "key" .value.key) }}
{{- end }}
{{- end }}
{{- $envs := dict }}
{{- range $i, $t := .Values.credentials.httpTokens }}
{{- $env := printf "DRIFTWATCH_HTTP_TOKEN_%s" (regexReplaceAll "[^A-Z0-9]+" (upper $t.name) "_") }}
{{- if hasKey $envs $env }}
{{- fail (printf "credentials.httpTokens[%d]: %q and %q both become the variable %s; rename one" $i (get $envs $env) $t.name $env) }}
{{- end }}
{{- $_ := set $envs $env $t.name }}
{{- $set = append $set (dict "env" $env "path" (list "http" "auth" "tokens") "token" (dict "name" $t.name "role" $t.role) "secretName" $t.secretName "key" $t.secretKey) }}
{{- end }}
{{- toJson $set }}
{{- end }}

{{/*
driftwatch.yml: values' config, with the *_env keys of the credentials set
(and credentials.httpTokens appended to http.auth.tokens) and, under
scale-out, kafka.instance_id_env set to POD_NAME, the variable the workload
sets to the pod name. The render fails on a literal password: secrets come
from Secrets (credentials).
*/}}
{{- define "driftwatch.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- range $p := list (list "kafka" "sasl" "password") (list "sinks" "clickhouse" "password") }}
{{- if dig (index $p 0) (index $p 1) (index $p 2) "" $cfg }}
{{- fail (printf "config.%s: a password in values ends up in a ConfigMap; put it in a Secret and set credentials instead" (join "." $p)) }}
{{- end }}
{{- end }}
{{- range (include "driftwatch.credentials" . | fromJsonArray) }}
{{- $m := $cfg }}
{{- range $k := initial .path }}
{{- if not (hasKey $m $k) }}
{{- $_ := set $m $k dict }}
{{- end }}
{{- $m = index $m $k }}
{{- end }}
{{- if .token }}
{{- $_ := set $m (last .path) (append (get $m (last .path) | default list) (merge (dict "token_env" .env) .token)) }}
{{- else }}
{{- $_ := set $m (last .path) .env }}
{{- end }}
{{- end }}
{{- if include "driftwatch.scaleOut" . }}
{{- $kafka := get $cfg "kafka" }}
{{- range $k := list "instance_id" "instance_id_env" }}
{{- if get $kafka $k }}
{{- fail (printf "config.kafka.%s: under scale-out the chart sets kafka.instance_id_env to POD_NAME, the pod name; leave it unset" $k) }}
{{- end }}
{{- end }}
{{- $_ := set $kafka "instance_id_env" "POD_NAME" }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
The volume holding the baselines: a PersistentVolumeClaim or values'
baselines.volume. One is required: driftwatch run exits when
baselines.dir holds no baseline, so an empty volume would only crash-loop.
*/}}
{{- define "driftwatch.baselinesVolume" -}}
{{- $p := .Values.baselines.persistence }}
{{- if $p.enabled }}
persistentVolumeClaim:
  claimName: {{ default (printf "%s-baselines" (include "driftwatch.fullname" .)) $p.existingClaim }}
  {{- if .Values.baselines.readOnly }}
  readOnly: true
  {{- end }}
{{- else if .Values.baselines.volume }}
{{- toYaml .Values.baselines.volume }}
{{- else }}
{{- required "baselines: set baselines.persistence.enabled (a claim holding baselines) or baselines.volume: driftwatch run exits when config.baselines.dir holds no baseline" nil }}
{{- end }}
{{- end }}
