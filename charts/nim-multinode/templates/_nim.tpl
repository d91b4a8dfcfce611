{{/*
NIM for LLMs 2.x specifics: its environment, its CLI actions and the model pre-download. Everything
else (pods, Ray settings, NCCL, shared memory, cache volume, exposure) comes from multinode-common.

NIM's container CLI (NIM LLM 2.x "CLI Reference"): `nim-serve` serves on one pod; `nim-serve-ray --head
--port P` starts the Ray head and the server on the leader; `nim-serve-ray --head-address host:P`
joins a worker to that head; `download-to-cache [-p profile]` fills the cache without serving.
Every action is given as args, so the image's entrypoint runs first and then execs it, as NVIDIA's
operator does (NVIDIA/k8s-nim-operator v3.1.2 manifests/lws.yaml renders no command for nim-leader
and nim-worker; internal/controller/platform/standalone/nimservice.go sets LeaderArgs
["nim-serve-ray", "--head", "--port", P] and WorkerArgs ["nim-serve-ray", "--head-address", ...]).
*/}}

{{- define "nim.isSharedCache" -}}
{{- if has .Values.cache.type (list "pvc" "existingClaim" "nfs") -}}true{{- end -}}
{{- end -}}

{{/*
Environment of every NIM container, the leader's, the workers' and the pre-download's alike.
HF_HOME lies in the model cache as the operator puts it (api/apps/v1alpha1/nimservice_types.go:
<model store>/huggingface/hub), so a model-free NIM's Hugging Face download lands on the shared volume,
not in HOME, an emptyDir of each pod.
*/}}
{{- define "nim.env" -}}
{{- $v := .Values -}}
{{- $m := $v.model -}}
{{- $multiPod := include "mnc.isMultiPod" . -}}
- name: NIM_SERVER_PORT
  value: {{ $v.server.port | quote }}
- name: NIM_CACHE_PATH
  value: {{ $v.cache.mountPath | quote }}
- name: HF_HOME
  value: {{ printf "%s/huggingface/hub" (trimSuffix "/" $v.cache.mountPath) | quote }}
- name: NIM_JSONL_LOGGING
  value: {{ ternary "1" "0" (and $m.jsonLogging (not $multiPod)) | quote }}
- name: NIM_LOG_LEVEL
  value: {{ $m.logLevel | quote }}
{{- if include "mnc.layoutFromValues" . }}
- name: NIM_TENSOR_PARALLEL_SIZE
  value: {{ $v.topology.tensorParallelSize | quote }}
- name: NIM_PIPELINE_PARALLEL_SIZE
  value: {{ $v.topology.pipelineParallelSize | quote }}
{{- end }}
{{- with $m.profile }}
- name: NIM_MODEL_PROFILE
  value: {{ . | quote }}
{{- end }}
{{- with $m.path }}
- name: NIM_MODEL_PATH
  value: {{ . | quote }}
{{- end }}
{{- with $m.servedModelName }}
- name: NIM_SERVED_MODEL_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $m.offline }}
- name: NIM_DISABLE_MODEL_DOWNLOAD
  value: "1"
- name: HF_HUB_OFFLINE
  value: "1"
- name: TRANSFORMERS_OFFLINE
  value: "1"
{{- end }}
{{- if gt (int $m.maxModelLen) 0 }}
- name: NIM_MAX_MODEL_LEN
  value: {{ $m.maxModelLen | quote }}
{{- end }}
{{- if $multiPod }}
- name: NIM_MULTI_NODE
  value: "1"
- name: NIM_NUM_COMPUTE_NODES
  value: {{ $v.topology.podsPerGroup | quote }}
{{ include "mnc.nodeRankEnv" (dict "root" . "name" "NIM_NODE_RANK") }}
{{- end }}
# NIM runs vLLM, which advertises this address to its Ray peers.
- name: VLLM_HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- if $m.ngcApiKey.secretName }}
- name: NGC_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $m.ngcApiKey.secretName | quote }}
      key: {{ $m.ngcApiKey.secretKey | quote }}
{{- end }}
{{- if $m.hfToken.secretName }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $m.hfToken.secretName | quote }}
      key: {{ $m.hfToken.secretKey | quote }}
{{- end }}
{{- end -}}

{{/*
A worker waits, bounded, until the head's Ray port accepts connections (a plain TCP check: it needs
nothing from the image but bash), then hands over to NIM's own worker action.
*/}}
{{- define "nim.workerScript" -}}
set -euo pipefail
leader="${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS:-}}"
if [ -z "${leader}" ]; then
  echo "[nim-worker] ERROR: no leader address: neither MULTINODE_LEADER_ADDRESS nor LWS_LEADER_ADDRESS is set" >&2
  exit 2
fi
head="${leader}:${MULTINODE_RAY_PORT}"
deadline=$(( SECONDS + MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS ))
until timeout 5 bash -c 'exec 3<>"/dev/tcp/${1}/${2}"' tcp-check "${leader}" "${MULTINODE_RAY_PORT}" 2>/dev/null; do
  if (( SECONDS >= deadline )); then
    echo "[nim-worker] ERROR: the Ray head at ${head} did not answer within ${MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS}s (ray.headWaitTimeoutSeconds); check the leader pod and that ${leader} resolves from this pod" >&2
    exit 2
  fi
  echo "[nim-worker] waiting for the Ray head at ${head}"
  sleep "${MULTINODE_POLL_SECONDS}"
done
echo "[nim-worker] joining the Ray head at ${head}"
exec nim-serve-ray --head-address "${head}"
{{- end -}}

{{/*
The pre-download init container. Takes (dict "root" $ "guardRank" bool): with guardRank (an Indexed
Job pod on a shared cache) it downloads only on completion index 0, so the model is fetched once.
*/}}
{{- define "nim.preloadContainer" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $download := list "download-to-cache" -}}
{{- with $v.model.profile }}{{ $download = concat $download (list "--profiles" .) }}{{ end -}}
name: download-model
image: {{ include "mnc.image" $root | quote }}
imagePullPolicy: {{ $v.image.pullPolicy }}
{{- /* args, not command: the image's entrypoint runs first, as for the engine container. */}}
{{- if .guardRank }}
args:
  - bash
  - -c
  - |
    if [ "${MULTINODE_NODE_RANK}" != "0" ]; then
      echo "[download-model] the leader (index 0) fills the shared cache; nothing to do here"
      exit 0
    fi
    exec "$@"
  - download-model
  {{- toYaml $download | nindent 2 }}
{{- else }}
args:
  {{- toYaml $download | nindent 2 }}
{{- end }}
env:
  {{- include "nim.env" $root | nindent 2 }}
  {{- with include "mnc.identityEnv" $root }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- if .guardRank }}
  {{- include "mnc.nodeRankEnv" (dict "root" $root "name" "MULTINODE_NODE_RANK") | nindent 2 }}
  {{- end }}
  {{- with $v.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
# The same GPUs as the engine: NIM picks the profile for the hardware it sees, and an init
# container's request does not add to the pod's (the pod asks for the larger of the two).
resources:
  {{- include "mnc.resources" $root | nindent 2 }}
{{ include "mnc.containerSecurityContext" (dict "root" $root "engine" false) }}
volumeMounts:
  {{- include "mnc.cacheVolumeMount" $root | nindent 2 }}
  {{- with include "mnc.writableMounts" $root }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Init containers of a role: "leader", "worker" or "member" (Indexed Job pod). */}}
{{- define "nim.initContainers" -}}
{{- $root := .root -}}
{{- if $root.Values.cache.preload.enabled -}}
{{- $shared := include "nim.isSharedCache" $root -}}
{{- if eq .role "member" -}}
- {{ include "nim.preloadContainer" (dict "root" $root "guardRank" (and $shared (include "mnc.isMultiPod" $root))) | nindent 2 }}
{{- else if or (eq .role "leader") (not $shared) -}}
- {{ include "nim.preloadContainer" (dict "root" $root "guardRank" false) | nindent 2 }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
NIM_LEADER_ROLE: 1 on the leader and 0 on the workers of a multi-pod group, as the operator sets it
(nimservice_types.go, the leader's and the workers' LWS env).
*/}}
{{- define "nim.roleEnv" -}}
- name: NIM_LEADER_ROLE
  value: {{ ternary "1" "0" (eq .role "leader") | quote }}
{{- end -}}

{{/* The leader: nim-serve-ray as Ray head and server for a multi-pod group, nim-serve for one pod. */}}
{{- define "nim.leaderContainer" -}}
{{- $v := .Values -}}
{{- $role := ternary "member" "leader" (eq (include "mnc.isIndexedJob" .) "true") -}}
{{- $env := include "nim.env" . | fromYamlArray -}}
{{- $c := dict "name" "nim" "health" "/v1/health/ready" "liveness" "/v1/health/live" "headCheck" "status" -}}
{{- $_ := set $c "initContainers" (include "nim.initContainers" (dict "root" . "role" $role) | fromYamlArray) -}}
{{- if include "mnc.isMultiPod" . -}}
{{- $env = concat $env (include "nim.roleEnv" (dict "role" "leader") | fromYamlArray) -}}
{{- $_ := set $c "args" (concat (list "nim-serve-ray" "--head" "--port" (toString $v.ray.port)) $v.model.extraArgs) -}}
{{- $_ := set $c "ports" (list (dict "name" "ray-gcs" "containerPort" (int $v.ray.port) "protocol" "TCP")) -}}
{{- else -}}
{{- $_ := set $c "args" (concat (list "nim-serve") $v.model.extraArgs) -}}
{{- end -}}
{{- $_ := set $c "env" $env -}}
{{- toYaml $c -}}
{{- end -}}

{{/* A worker: waits for the head, then joins it through NIM's own worker action, after the entrypoint. */}}
{{- define "nim.workerContainer" -}}
{{- $env := concat (include "nim.env" . | fromYamlArray) (include "nim.roleEnv" (dict "role" "worker") | fromYamlArray) -}}
{{- $c := dict "name" "nim" "env" $env "headCheck" "status" -}}
{{- $_ := set $c "initContainers" (include "nim.initContainers" (dict "root" . "role" "worker") | fromYamlArray) -}}
{{- $_ := set $c "args" (list "bash" "-c" (include "nim.workerScript" .) "nim-worker") -}}
{{- toYaml $c -}}
{{- end -}}
