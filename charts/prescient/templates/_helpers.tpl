{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "prescient.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "prescient.fullname" -}}
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

{{- define "prescient.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "prescient.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "prescient.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prescient.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "prescient.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "prescient.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "prescient.image" -}}
{{- $repo := required "image.repository is required (the prescient-operator image built from the Dockerfile)" .Values.image.repository }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Checks of combinations the schema cannot express; included by the Deployment so every render runs them.
Also re-checks the single-field rules, since values.schema.json is only applied by Helm itself.
*/}}
{{- define "prescient.validate" -}}
{{- $p := .Values.policy }}
{{- if hasKey $p "quantile" }}
{{- if or (le (float64 $p.quantile) 0.0) (ge (float64 $p.quantile) 1.0) }}
{{- fail (printf "policy.quantile must be between 0 and 1 (exclusive), got %v" $p.quantile) }}
{{- end }}
{{- end }}
{{- if hasKey $p "scalingMode" }}
{{- if not (has $p.scalingMode (list "ProvisioningRequest" "Balloon" "None")) }}
{{- fail (printf "policy.scalingMode must be ProvisioningRequest, Balloon or None, got %q" (toString $p.scalingMode)) }}
{{- end }}
{{- end }}
{{- range $k := list "growthMemoryThreshold" "throttleThreshold" "holdoutFraction" }}
{{- if hasKey $p $k }}
{{- if or (lt (float64 (index $p $k)) 0.0) (gt (float64 (index $p $k)) 1.0) }}
{{- fail (printf "policy.%s must be between 0 and 1, got %v" $k (index $p $k)) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $k := list "historyHeadroom" "growthFactor" "defaultDurationSeconds" "agentHeartbeatTimeoutSeconds" "retrainIntervalSeconds" "retrainMinNewRecords" }}
{{- if hasKey $p $k }}
{{- if le (float64 (index $p $k)) 0.0 }}
{{- fail (printf "policy.%s must be positive, got %v" $k (index $p $k)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if lt (int .Values.replicas) 1 }}
{{- fail (printf "replicas must be at least 1, got %v" .Values.replicas) }}
{{- end }}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 needs leaderElection.enabled: true (otherwise every replica reconciles)" }}
{{- end }}
{{- if and .Values.persistence.enabled (gt (int .Values.replicas) 1) (not .Values.persistence.existingClaim) (ne .Values.persistence.accessMode "ReadWriteMany") }}
{{- fail (printf "persistence.accessMode %s cannot be mounted by %v replicas on different nodes: use ReadWriteMany or replicas: 1" .Values.persistence.accessMode .Values.replicas) }}
{{- end }}
{{- if or (lt (int .Values.workers) 1) (gt (int .Values.workers) 64) }}
{{- fail (printf "workers must be between 1 and 64, got %v" .Values.workers) }}
{{- end }}
{{- if not (has .Values.logLevel (list "debug" "info" "warn" "error")) }}
{{- fail (printf "logLevel must be debug, info, warn or error, got %q" (toString .Values.logLevel)) }}
{{- end }}
{{- end }}

{{- define "prescient.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end }}
