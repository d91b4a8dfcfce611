{{/*
Names and labels. The base name (mnc.fullname) is held to 52 characters, as Helm's own scaffold does;
names the controllers derive from it are held to their limits in mnc.groupSetName.
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

{{/*
The LeaderWorkerSet's name: <fullname 42>-group. It must differ from every Service the chart renders,
because with subdomainPolicy Shared the LWS controller makes the pods' headless Service under the LWS's
own name and skips that step when a Service of that name already exists (kubernetes-sigs/lws v0.10.0,
pkg/controllers/leaderworkerset_controller.go reconcileHeadlessServices and
pkg/utils/controller/controller_utils.go CreateHeadlessServiceIfNotExists). The API Service keeps
<fullname>. Lengths: the controller runs one worker StatefulSet per group, named <lws>-<group>, whose
pods carry controller-revision-hash=<statefulset>-<hash of up to 10 characters>, a label value (at
most 63), so a StatefulSet name may hold 52; pods are <lws>-<group>-<index>, a hostname (at most 63).
42 + "-group" + "-" + three digits of group index is 52, and three more of worker index stay within 63.
*/}}
{{- define "mnc.groupSetName" -}}
{{- printf "%s-group" (include "mnc.fullname" . | trunc 42 | trimSuffix "-") -}}
{{- end -}}

{{/* chart-version, as helm.sh/chart wants it. */}}
{{- define "mnc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for the life of a release: the selector labels. */}}
{{- define "mnc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mnc.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
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
