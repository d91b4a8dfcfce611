{{/*
A PodDisruptionBudget per group (disruptionBudget): a node drain evicts at most maxUnavailable pods of
one group at a time. A group with a pod missing does not serve, so availability during drains comes
from running several groups; maxUnavailable 0 makes drains wait for the group to be removed.
*/}}
{{- define "mnc.disruptionBudgets" -}}
{{- $root := . -}}
{{- if .Values.disruptionBudget.enabled -}}
{{- range $group := until (int (include "mnc.groupCount" $root)) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ printf "%s-group-%d" (include "mnc.fullname" $root) $group }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
spec:
  maxUnavailable: {{ $root.Values.disruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "mnc.groupSelector" (dict "root" $root "group" $group) | nindent 6 }}
{{- end }}
{{- end -}}
{{- end -}}
