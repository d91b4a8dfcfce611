{{/*
Prometheus Operator scraping of the leaders' metrics (metrics.path on the API port). The
ServiceMonitor selects the leader-only Service by its component label "api"; the PodMonitor selects
the leader pods with the same labels as that Service. Workers serve no metrics endpoint.
*/}}

{{- define "mnc.serviceMonitor" -}}
{{- $m := .Values.metrics -}}
{{- if $m.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    {{- with $m.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .Release.Namespace }}
  selector:
    matchLabels:
      {{- include "mnc.selectorLabels" . | nindent 6 }}
      {{- include "mnc.apiServiceLabel" . | nindent 6 }}
  endpoints:
    - port: http
      path: {{ $m.path }}
      interval: {{ $m.serviceMonitor.interval }}
      scrapeTimeout: {{ $m.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}

{{- define "mnc.podMonitor" -}}
{{- $m := .Values.metrics -}}
{{- if $m.podMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    {{- with $m.podMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .Release.Namespace }}
  selector:
    matchLabels:
      {{- include "mnc.leaderSelector" . | nindent 6 }}
  podMetricsEndpoints:
    - port: http
      path: {{ $m.path }}
      interval: {{ $m.podMonitor.interval }}
{{- end -}}
{{- end -}}
