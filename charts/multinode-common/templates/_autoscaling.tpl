{{/*
Autoscaling of whole groups. Both kinds scale the LeaderWorkerSet through its scale subresource, whose
pod selector (status.hpaPodSelector) picks the leader pods only, so the metric is read where the
engine's queue is. The LeaderWorkerSet is rendered without replicas while autoscaling is on.
*/}}

{{- define "mnc.autoscaler" -}}
{{- $a := .Values.autoscaling -}}
{{- if $a.enabled -}}
{{- if eq $a.kind "hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: leaderworkerset.x-k8s.io/v1
    kind: LeaderWorkerSet
    name: {{ include "mnc.groupSetName" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Pods
      pods:
        metric:
          name: {{ $a.hpaMetricName }}
        target:
          type: AverageValue
          averageValue: {{ $a.targetWaitingRequests | quote }}
  behavior:
    # A new group takes minutes to tens of minutes to load; do not shrink on a short lull.
    scaleDown:
      stabilizationWindowSeconds: 600
{{- else -}}
{{- $query := $a.keda.query | default (printf "sum(%s{namespace=%q,pod=~%q})" $a.metric .Release.Namespace (printf "%s-[0-9]+" (include "mnc.groupSetName" .))) -}}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: leaderworkerset.x-k8s.io/v1
    kind: LeaderWorkerSet
    name: {{ include "mnc.groupSetName" . }}
  minReplicaCount: {{ $a.minReplicas }}
  maxReplicaCount: {{ $a.maxReplicas }}
  pollingInterval: {{ $a.keda.pollingInterval }}
  cooldownPeriod: {{ $a.keda.cooldownPeriod }}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: {{ $a.keda.serverAddress | quote }}
        query: {{ $query | quote }}
        threshold: {{ $a.targetWaitingRequests | quote }}
{{- end -}}
{{- end -}}
{{- end -}}
