{{/*
vLLM specifics: the `vllm serve` command line and the engine's environment. Everything else comes from
the multinode-common library.
*/}}

{{/* `vllm serve` and its arguments, as a YAML list. */}}
{{- define "vllm.serveCommand" -}}
{{- $v := .Values -}}
{{- $m := $v.model -}}
- vllm
- serve
- {{ $m.name | quote }}
- --host
- "0.0.0.0"
- --port
- {{ $v.server.port | quote }}
- --served-model-name
- {{ default $m.name $m.servedModelName | quote }}
- --tensor-parallel-size
- {{ $v.topology.tensorParallelSize | quote }}
- --pipeline-parallel-size
- {{ $v.topology.pipelineParallelSize | quote }}
- --distributed-executor-backend
- {{ ternary "ray" "mp" (eq (include "mnc.isMultiPod" .) "true") | quote }}
- --gpu-memory-utilization
- {{ $m.gpuMemoryUtilization | quote }}
{{- if gt (int $m.maxModelLen) 0 }}
- --max-model-len
- {{ $m.maxModelLen | quote }}
{{- end }}
{{- range $m.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Environment of the vLLM containers, on the leader and on the Ray workers alike. */}}
{{- define "vllm.env" -}}
{{- $m := .Values.model -}}
- name: VLLM_HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: HF_HOME
  value: {{ .Values.cache.mountPath | quote }}
{{- if $m.hfToken.secretName }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $m.hfToken.secretName | quote }}
      key: {{ $m.hfToken.secretKey | quote }}
{{- end }}
{{- if $m.offline }}
- name: HF_HUB_OFFLINE
  value: "1"
- name: TRANSFORMERS_OFFLINE
  value: "1"
{{- end }}
{{- end -}}

{{/* The leader: Ray head and `vllm serve` for a multi-pod group, `vllm serve` alone for one pod. */}}
{{- define "vllm.leaderContainer" -}}
{{- $serve := include "vllm.serveCommand" . | fromYamlArray -}}
{{- $c := dict "name" "vllm" "env" (include "vllm.env" . | fromYamlArray) "health" "/health" -}}
{{- if include "mnc.isMultiPod" . -}}
{{- $_ := set $c "command" (list "bash" "-c" (include "mnc.rayLeaderScript" .) "ray-leader") -}}
{{- $_ := set $c "args" $serve -}}
{{- $_ := set $c "ports" (list (dict "name" "ray-gcs" "containerPort" (int .Values.ray.port) "protocol" "TCP")) -}}
{{- else -}}
{{- $_ := set $c "command" $serve -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* A worker: joins the leader's Ray cluster; vLLM's Ray actors then run inside it. */}}
{{- define "vllm.workerContainer" -}}
{{- $c := dict "name" "vllm" "env" (include "vllm.env" . | fromYamlArray) -}}
{{- $_ := set $c "command" (list "bash" "-c" (include "mnc.rayWorkerScript" .) "ray-worker") -}}
{{- toYaml $c -}}
{{- end -}}

{{/*
True (non-empty) when image is known to carry Ray: ray.imageCarriesRay, or a vllm/vllm-openai release
tag before v0.18.0. vLLM removed Ray from its dependencies and its images in v0.18.0
(vllm-project/vllm v0.18.0 requirements/cuda.txt and docker/Dockerfile no longer install ray).
*/}}
{{- define "vllm.imageCarriesRay" -}}
{{- $i := .Values.image -}}
{{- if .Values.ray.imageCarriesRay -}}
true
{{- else if and (not $i.digest) (hasSuffix "vllm/vllm-openai" $i.repository) (regexMatch "^v?0\\.([0-9]|1[0-7])\\.[0-9]+([.+-].*)?$" $i.tag) -}}
true
{{- end -}}
{{- end -}}

{{/* A multi-pod group forms through Ray: refuse an image that may not carry it, naming the values. */}}
{{- define "vllm.validateRayImage" -}}
{{- if and (include "mnc.isMultiPod" .) (not (include "vllm.imageCarriesRay" .)) -}}
{{- $i := .Values.image -}}
{{- fail (printf "image %s:%s may not carry Ray, which a multi-pod group (topology.podsPerGroup %d) runs to form: vLLM images carry none from v0.18.0 on. Set image.tag to a vllm/vllm-openai release before v0.18.0, or set ray.imageCarriesRay=true for an image that holds Ray (check `ray --version` in it)." $i.repository (ternary $i.digest $i.tag (ne $i.digest "")) (int .Values.topology.podsPerGroup)) -}}
{{- end -}}
{{- end -}}
