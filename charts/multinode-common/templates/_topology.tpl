{{/*
Topology arithmetic. A group is one model instance: podsPerGroup pods with gpusPerPod GPUs each.
The engine splits the model over TP x PP GPUs, which must be exactly the group's GPUs.
*/}}

{{- define "mnc.groupGPUs" -}}
{{- mul (int .Values.topology.gpusPerPod) (int .Values.topology.podsPerGroup) -}}
{{- end -}}

{{/*
TP x PP x DP (dataParallelSize, 1 where an engine chart has none). An engine chart may leave TP and PP
at 0 when the layout comes from elsewhere (a NIM model profile); the engine then splits the model over
the group's GPUs.
*/}}
{{- define "mnc.dataParallelSize" -}}
{{- max 1 (int (.Values.topology.dataParallelSize | default 1)) -}}
{{- end -}}

{{- define "mnc.parallelGPUs" -}}
{{- if include "mnc.layoutFromValues" . -}}
{{- mul (int .Values.topology.tensorParallelSize) (int .Values.topology.pipelineParallelSize) (int (include "mnc.dataParallelSize" .)) -}}
{{- else -}}
{{- include "mnc.groupGPUs" . -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when the values give the parallel layout (TP and PP not both 0). */}}
{{- define "mnc.layoutFromValues" -}}
{{- if or (gt (int .Values.topology.tensorParallelSize) 0) (gt (int .Values.topology.pipelineParallelSize) 0) -}}true{{- end -}}
{{- end -}}

{{/* True (non-empty) when the group spans more than one pod (and so a launcher: Ray or the engine's own). */}}
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
{{- $dp := int (include "mnc.dataParallelSize" .) -}}
{{- if gt $dp 1 -}}
{{- fail (printf "topology: tensorParallelSize x pipelineParallelSize x dataParallelSize = %d x %d x %d = %d GPUs, but gpusPerPod x podsPerGroup = %d x %d = %d GPUs; the two must be equal (every GPU of the group holds one shard)" (int $t.tensorParallelSize) (int $t.pipelineParallelSize) $dp $parallel (int $t.gpusPerPod) (int $t.podsPerGroup) $group) -}}
{{- end -}}
{{- fail (printf "topology: tensorParallelSize x pipelineParallelSize = %d x %d = %d GPUs, but gpusPerPod x podsPerGroup = %d x %d = %d GPUs; the two must be equal (every GPU of the group holds one shard)" (int $t.tensorParallelSize) (int $t.pipelineParallelSize) $parallel (int $t.gpusPerPod) (int $t.podsPerGroup) $group) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Refuses a layout the model's shape cannot take, when the values carry that shape (topology.modelShape,
written by `inference-charts plan`; 0 = unknown). The engine would refuse it too, but only at startup,
after the whole group has been scheduled and the weights downloaded. Skipped when the layout comes from
a NIM model profile (TP and PP 0).
*/}}
{{- define "mnc.validateModelShape" -}}
{{- if include "mnc.layoutFromValues" . -}}
{{- $t := .Values.topology -}}
{{- $shape := $t.modelShape | default dict -}}
{{- $tp := int $t.tensorParallelSize -}}
{{- $pp := int $t.pipelineParallelSize -}}
{{- $heads := int ($shape.attentionHeads | default 0) -}}
{{- $kv := int ($shape.kvHeads | default 0) -}}
{{- $layers := int ($shape.layers | default 0) -}}
{{- if and (gt $heads 0) (gt $tp 0) (ne (mod $heads $tp) 0) -}}
{{- fail (printf "topology.tensorParallelSize %d does not divide the model's %d attention heads (topology.modelShape.attentionHeads): every GPU of a tensor-parallel group must compute a whole number of heads; choose a divisor of %d" $tp $heads $heads) -}}
{{- end -}}
{{- if and (gt $kv 0) (gt $tp 0) (ne (mod $kv $tp) 0) (ne (mod $tp $kv) 0) -}}
{{- fail (printf "topology.tensorParallelSize %d and the model's %d key/value heads (topology.modelShape.kvHeads) do not divide one another: vLLM splits the KV heads evenly over the group or copies each onto tensorParallelSize/kvHeads GPUs, and refuses anything else at startup" $tp $kv) -}}
{{- end -}}
{{- if and (gt $layers 0) (gt $pp $layers) -}}
{{- fail (printf "topology.pipelineParallelSize %d exceeds the model's %d layers (topology.modelShape.layers): every pipeline stage needs at least one layer" $pp $layers) -}}
{{- end -}}
{{- end -}}
{{- end -}}
