{{/*
Names and labels. Kubernetes names are capped at 63 characters; the LeaderWorkerSet controller appends
"-<group>-<index>" to pod names, so the base name is held to 52 to leave room for them.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "mnc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name: release-chart unless the release name already holds the chart name. */}}
{{- define "mnc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, as helm.sh/chart wants it. */}}
{{- define "mnc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for the life of a release: the selector labels. */}}
{{- define "mnc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mnc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Standard labels for every object. */}}
{{- define "mnc.labels" -}}
helm.sh/chart: {{ include "mnc.chart" . }}
{{ include "mnc.selectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: multinode-inference
{{- end -}}

{{/*
The role of a pod inside its group. Takes (dict "root" $ "role" "leader"|"worker").
The leader-only Service selects on this label together with LeaderWorkerSet's own worker-index label.
*/}}
{{- define "mnc.roleLabel" -}}
app.kubernetes.io/component: {{ .role }}
{{- end -}}
