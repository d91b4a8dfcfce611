{{/*
Topology arithmetic. A group is one model instance: podsPerGroup pods with gpusPerPod GPUs each.
The engine splits the model over TP x PP GPUs, which must be exactly the group's GPUs.
*/}}

{{- define "mnc.groupGPUs" -}}
{{- mul (int .Values.topology.gpusPerPod) (int .Values.topology.podsPerGroup) -}}
{{- end -}}

{{/*
TP x PP. An engine chart may leave both at 0 when the layout comes from elsewhere (a NIM model
profile); the engine then splits the model over the group's GPUs.
*/}}
{{- define "mnc.parallelGPUs" -}}
{{- if include "mnc.layoutFromValues" . -}}
{{- mul (int .Values.topology.tensorParallelSize) (int .Values.topology.pipelineParallelSize) -}}
{{- else -}}
{{- include "mnc.groupGPUs" . -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when the values give the parallel layout (TP and PP not both 0). */}}
{{- define "mnc.layoutFromValues" -}}
{{- if or (gt (int .Values.topology.tensorParallelSize) 0) (gt (int .Values.topology.pipelineParallelSize) 0) -}}true{{- end -}}
{{- end -}}

{{/* True (non-empty) when the group spans more than one pod and so needs Ray. */}}
{{- define "mnc.isMultiPod" -}}
{{- if gt (int .Values.topology.podsPerGroup) 1 -}}true{{- end -}}
{{- end -}}

{{/* Refuses a topology whose parallel layout does not cover the group's GPUs exactly. */}}
{{- define "mnc.validateTopology" -}}
{{- $t := .Values.topology -}}
{{- if include "mnc.layoutFromValues" . -}}
{{- $group := include "mnc.groupGPUs" . | int -}}
{{- $parallel := include "mnc.parallelGPUs" . | int -}}
{{- if ne $group $parallel -}}
{{- fail (printf "topology: tensorParallelSize x pipelineParallelSize = %d x %d = %d GPUs, but gpusPerPod x podsPerGroup = %d x %d = %d GPUs; the two must be equal (every GPU of the group holds one shard)" (int $t.tensorParallelSize) (int $t.pipelineParallelSize) $parallel (int $t.gpusPerPod) (int $t.podsPerGroup) $group) -}}
{{- end -}}
{{- end -}}
{{- end -}}
