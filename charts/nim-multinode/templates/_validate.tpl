{{/* NIM's own guards, on top of multinode-common's. */}}

{{- define "nim.validate" -}}
{{- include "nim.validateLayout" . -}}
{{- include "nim.validateLogging" . -}}
{{- include "nim.validateModelSource" . -}}
{{- end -}}

{{/*
The layout comes from exactly one place: TP and PP, or a model profile. A profile name that spells its
layout (vllm-bf16-tp16-pp1) must still cover the group's GPUs.
*/}}
{{- define "nim.validateLayout" -}}
{{- $t := .Values.topology -}}
{{- $profile := .Values.model.profile -}}
{{- $fromValues := include "mnc.layoutFromValues" . -}}
{{- if and $fromValues $profile -}}
{{- fail (printf "model.profile and topology.tensorParallelSize/pipelineParallelSize both set (profile %q, TP %d, PP %d): the parallel layout must come from one place; set either model.profile, or topology.tensorParallelSize and topology.pipelineParallelSize, not both" $profile (int $t.tensorParallelSize) (int $t.pipelineParallelSize)) -}}
{{- end -}}
{{- if not (or $fromValues $profile) -}}
{{- fail "no parallel layout: set topology.tensorParallelSize and topology.pipelineParallelSize (their product must equal gpusPerPod x podsPerGroup), or set model.profile to a NIM model profile (see list-model-profiles)" -}}
{{- end -}}
{{- if and $fromValues (or (lt (int $t.tensorParallelSize) 1) (lt (int $t.pipelineParallelSize) 1)) -}}
{{- fail (printf "topology: tensorParallelSize %d and pipelineParallelSize %d must both be at least 1 when either is set" (int $t.tensorParallelSize) (int $t.pipelineParallelSize)) -}}
{{- end -}}
{{- $match := regexFindAll "(^|-)tp[0-9]+-pp[0-9]+(-|$)" $profile 1 -}}
{{- if $match -}}
{{- $tp := regexFind "tp[0-9]+" (first $match) | trimPrefix "tp" | int -}}
{{- $pp := regexFind "pp[0-9]+" (first $match) | trimPrefix "pp" | int -}}
{{- $group := include "mnc.groupGPUs" . | int -}}
{{- if ne (mul $tp $pp) $group -}}
{{- fail (printf "model.profile %q splits the model over tp%d x pp%d = %d GPUs, but gpusPerPod x podsPerGroup = %d x %d = %d GPUs; choose the profile for %d GPUs or change the topology" $profile $tp $pp (mul $tp $pp) (int $t.gpusPerPod) (int $t.podsPerGroup) $group $group) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Belt and braces with the schema's rule: Helm releases that skip schema validation still stop here. */}}
{{- define "nim.validateLogging" -}}
{{- if and .Values.model.jsonLogging (include "mnc.isMultiPod" .) -}}
{{- fail (printf "model.jsonLogging: must be false for a group of %d pods; NIM's JSON log formatter is missing in Ray worker processes and kills them" (int .Values.topology.podsPerGroup)) -}}
{{- end -}}
{{- end -}}

{{- define "nim.validateModelSource" -}}
{{- if and (contains "model-free" .Values.image.repository) (not .Values.model.path) -}}
{{- fail (printf "model.path: the model-free NIM image %s serves no built-in model; set model.path (hf://org/model, ngc://..., or a path under cache.mountPath) or use a model-specific NIM image" .Values.image.repository) -}}
{{- end -}}
{{- end -}}

{{/*
What NIM's actions and its backend get from the chart's values, for "mnc.validateExtraArgs": flag ->
the value that sets it. model.extraArgs goes after nim-serve or nim-serve-ray, which take --head,
--port and --head-address themselves (NIM LLM 2.x CLI Reference) and hand the rest to vLLM, whose
parser reads the layout flags (vllm-project/vllm v0.12.0 vllm/engine/arg_utils.py
EngineArgs.add_cli_args: "--tensor-parallel-size", "-tp"; "--pipeline-parallel-size", "-pp";
"--data-parallel-size", "-dp"); the chart gives NIM the same settings through NIM_* variables.
*/}}
{{- define "nim-multinode.ownedFlags" -}}
--tensor-parallel-size: topology.tensorParallelSize (NIM_TENSOR_PARALLEL_SIZE) or model.profile
-tp: topology.tensorParallelSize (NIM_TENSOR_PARALLEL_SIZE) or model.profile
--pipeline-parallel-size: topology.pipelineParallelSize (NIM_PIPELINE_PARALLEL_SIZE) or model.profile
-pp: topology.pipelineParallelSize (NIM_PIPELINE_PARALLEL_SIZE) or model.profile
--data-parallel-size: topology.replicas (one group per model instance)
-dp: topology.replicas (one group per model instance)
--head: topology.podsPerGroup (the leader of a multi-pod group runs the Ray head)
--head-address: topology.podsPerGroup (workers join their own group's leader)
--port: server.port (NIM_SERVER_PORT) and ray.port
--served-model-name: model.servedModelName (NIM_SERVED_MODEL_NAME)
--max-model-len: model.maxModelLen (NIM_MAX_MODEL_LEN)
--model: model.path (NIM_MODEL_PATH) or the image's model
{{- end -}}
