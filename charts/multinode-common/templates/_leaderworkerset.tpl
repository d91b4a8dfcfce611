{{/*
The LeaderWorkerSet: topology.replicas groups of topology.podsPerGroup pods. Pod 0 of each group is the
leader (leader template), the others are workers. Takes (dict "root" $ "leader" <container dict>
"worker" <container dict>). With one pod per group only the leader template is ever instantiated;
the worker template is still rendered because the API requires it.
*/}}
{{- define "mnc.leaderWorkerSet" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $g := $v.group -}}
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata:
  name: {{ include "mnc.groupSetName" $root }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
  {{- if $g.exclusiveTopology }}
  annotations:
    leaderworkerset.sigs.k8s.io/exclusive-topology: {{ $g.exclusiveTopology | quote }}
  {{- end }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.topology.replicas }}
  {{- end }}
  startupPolicy: {{ $g.startupPolicy }}
  rolloutStrategy:
    type: RollingUpdate
    rollingUpdateConfiguration:
      maxUnavailable: {{ $g.rollout.maxUnavailable }}
      maxSurge: {{ $g.rollout.maxSurge }}
  networkConfig:
    subdomainPolicy: {{ $g.subdomainPolicy }}
  leaderWorkerTemplate:
    size: {{ $v.topology.podsPerGroup }}
    restartPolicy: {{ $g.restartPolicy }}
    {{- if gt (int $g.subGroupPolicy.subGroupSize) 0 }}
    subGroupPolicy:
      subGroupPolicyType: {{ $g.subGroupPolicy.type }}
      subGroupSize: {{ $g.subGroupPolicy.subGroupSize }}
    {{- end }}
    leaderTemplate:
      {{- include "mnc.podTemplate" (dict "root" $root "role" "leader" "spec" .leader) | nindent 6 }}
    workerTemplate:
      {{- include "mnc.podTemplate" (dict "root" $root "role" "worker" "spec" .worker) | nindent 6 }}
    {{- with include "mnc.cacheClaimTemplates" $root }}
    volumeClaimTemplates:
      {{- . | nindent 6 }}
    {{- end }}
{{- end -}}
