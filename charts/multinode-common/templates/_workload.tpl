{{/*
The workload that runs the groups, chosen by workload.kind:
  LeaderWorkerSet  the LWS controller creates leader and worker pods per group and restarts the
                   whole group when one pod fails (group.restartPolicy)
  IndexedJob       plain Kubernetes: one Indexed Job per group (completions = parallelism = pods per
                   group) and a headless Service for stable pod names; completion index 0 leads
Engine charts describe their leader and worker containers once and call "mnc.workload" with
(dict "root" $ "leader" <container dict> "worker" <container dict>).
*/}}

{{- define "mnc.isIndexedJob" -}}
{{- if eq .Values.workload.kind "IndexedJob" -}}true{{- end -}}
{{- end -}}

{{- define "mnc.workload" -}}
{{- $out := "" -}}
{{- if include "mnc.isIndexedJob" .root -}}
{{- $out = include "mnc.indexedJobs" . -}}
{{- else -}}
{{- $out = include "mnc.leaderWorkerSet" . -}}
{{- end -}}
{{- /* Refuses what the assembled pods would get twice (see _validate_api.tpl). */ -}}
{{- include "mnc.validateWorkloadPods" (dict "root" .root "text" $out) -}}
{{- $out -}}
{{- end -}}

{{/*
Where a pod reads its rank in the group (0 on the leader): LeaderWorkerSet's worker-index label, or
the Job's completion-index annotation (present since Kubernetes 1.21; the label only since 1.28).
*/}}
{{- define "mnc.nodeRankFieldPath" -}}
{{- if include "mnc.isIndexedJob" . -}}
metadata.annotations['batch.kubernetes.io/job-completion-index']
{{- else -}}
metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']
{{- end -}}
{{- end -}}

{{/* The pod's rank as an EnvVar, for engines that want it under their own name. Takes (dict "root" $ "name" "NIM_NODE_RANK"). */}}
{{- define "mnc.nodeRankEnv" -}}
- name: {{ .name }}
  valueFrom:
    fieldRef:
      fieldPath: {{ include "mnc.nodeRankFieldPath" .root }}
{{- end -}}
