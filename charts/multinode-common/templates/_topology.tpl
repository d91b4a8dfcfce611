{{/*
Topology arithmetic. A group is one model instance: podsPerGroup pods with gpusPerPod GPUs each.
The engine splits the model over TP x PP GPUs, which must be exactly the group's GPUs.
*/}}

{{- define "mnc.groupGPUs" -}}
{{- mul (int .Values.topology.gpusPerPod) (int .Values.topology.podsPerGroup) -}}
{{- end -}}

{{- define "mnc.parallelGPUs" -}}
{{- mul (int .Values.topology.tensorParallelSize) (int .Values.topology.pipelineParallelSize) -}}
{{- end -}}

{{/* True (non-empty) when the group spans more than one pod and so needs Ray. */}}
{{- define "mnc.isMultiPod" -}}
{{- if gt (int .Values.topology.podsPerGroup) 1 -}}true{{- end -}}
{{- end -}}

{{/* Refuses a topology whose parallel layout does not cover the group's GPUs exactly. */}}
{{- define "mnc.validateTopology" -}}
{{- $t := .Values.topology -}}
{{- $group := include "mnc.groupGPUs" . | int -}}
{{- $parallel := include "mnc.parallelGPUs" . | int -}}
{{- if ne $group $parallel -}}
{{- fail (printf "topology: tensorParallelSize x pipelineParallelSize = %d x %d = %d GPUs, but gpusPerPod x podsPerGroup = %d x %d = %d GPUs; the two must be equal (every GPU of the group holds one shard)" (int $t.tensorParallelSize) (int $t.pipelineParallelSize) $parallel (int $t.gpusPerPod) (int $t.podsPerGroup) $group) -}}
{{- end -}}
{{- end -}}
