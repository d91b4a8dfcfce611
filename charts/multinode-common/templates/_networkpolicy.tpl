{{/*
NetworkPolicies (networkPolicy.enabled). Ray's ports (GCS, raylet, object manager, the worker port
range) and NCCL's sockets must never face untrusted networks, and Ray picks many of them at run time,
so each group gets a policy that admits every port from the pods of that same group and from nothing
else. The leader's API port is admitted from networkPolicy.apiFrom (the ingress controller, the
gateway), from this release's helm test pod, and from networkPolicy.metricsFrom when a monitor is on.
A pod that any policy selects refuses all other ingress, so nothing else reaches the group.
*/}}

{{/* Number of groups a policy set must cover: the autoscaler's ceiling when it owns replicas. */}}
{{- define "mnc.groupCount" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.maxReplicas }}{{- else -}}{{ .Values.topology.replicas }}{{- end -}}
{{- end -}}

{{/* Labels that pick the pods of group .group only (as the controllers label them at run time). */}}
{{- define "mnc.groupSelector" -}}
{{ include "mnc.selectorLabels" .root }}
{{- if include "mnc.isIndexedJob" .root }}
batch.kubernetes.io/job-name: {{ include "mnc.groupJobName" . }}
{{- else }}
leaderworkerset.sigs.k8s.io/name: {{ include "mnc.groupSetName" .root }}
leaderworkerset.sigs.k8s.io/group-index: {{ .group | toString | quote }}
{{- end }}
{{- end -}}

{{- define "mnc.networkPolicies" -}}
{{- $root := . -}}
{{- $n := .Values.networkPolicy -}}
{{- if $n.enabled -}}
{{- range $group := until (int (include "mnc.groupCount" $root)) }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-group-%d" (include "mnc.fullname" $root) $group }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mnc.groupSelector" (dict "root" $root "group" $group) | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    # Ray and NCCL, on whatever ports they pick, between the pods of this group only.
    - from:
        - podSelector:
            matchLabels:
              {{- include "mnc.groupSelector" (dict "root" $root "group" $group) | nindent 14 }}
{{- end }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-api" (include "mnc.fullname" $root) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mnc.leaderSelector" $root | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - from:
        {{- with $n.apiFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        - podSelector:
            matchLabels:
              {{- include "mnc.selectorLabels" $root | nindent 14 }}
              app.kubernetes.io/component: smoke-test
        {{- if or $root.Values.metrics.serviceMonitor.enabled $root.Values.metrics.podMonitor.enabled }}
        {{- with $n.metricsFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- end }}
      ports:
        - port: http
          protocol: TCP
{{- end -}}
{{- end -}}

{{/* Pods that serve nothing (the helm test pod, the image pre-pull) accept no ingress at all. */}}
{{- define "mnc.auxiliaryNetworkPolicies" -}}
{{- $root := . -}}
{{- if .Values.networkPolicy.enabled -}}
{{- range $component := list "smoke-test" "prepull" }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ printf "%s-%s" (include "mnc.fullname" $root) $component }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mnc.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ $component }}
  policyTypes:
    - Ingress
{{- end }}
{{- end -}}
{{- end -}}

{{/* The preflight's pods talk to each other only (torch rendezvous, NCCL); a hook, so it exists before them. */}}
{{- define "mnc.preflightNetworkPolicy" -}}
{{- if and .Values.networkPolicy.enabled .Values.preflight.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "mnc.preflightName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    app.kubernetes.io/component: preflight
  annotations:
    {{- include "mnc.preflightHookAnnotations" (dict "root" . "weight" "-10") | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mnc.preflightLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              {{- include "mnc.preflightLabels" . | nindent 14 }}
{{- end -}}
{{- end -}}
