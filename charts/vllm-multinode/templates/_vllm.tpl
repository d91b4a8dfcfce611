{{/*
vLLM specifics: the `vllm serve` command line and the engine's environment. Everything else comes from
the multinode-common library.
*/}}

{{/* The launcher of a multi-pod group: "native" or "ray"; "" for one pod. */}}
{{- define "vllm.launcher" -}}
{{- if include "mnc.isMultiPod" . -}}{{ .Values.launcher.kind }}{{- end -}}
{{- end -}}

{{/* Data-parallel ranks per pod (--data-parallel-size-local). */}}
{{- define "vllm.dataParallelLocal" -}}
{{- div (int (include "mnc.dataParallelSize" .)) (int .Values.topology.podsPerGroup) -}}
{{- end -}}

{{/* `vllm serve` and the arguments every pod of the group shares, as a YAML list. */}}
{{- define "vllm.serveCommand" -}}
{{- $v := .Values -}}
{{- $m := $v.model -}}
{{- $t := $v.topology -}}
{{- $dp := int (include "mnc.dataParallelSize" .) -}}
{{- $launcher := include "vllm.launcher" . -}}
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
- {{ $t.tensorParallelSize | quote }}
- --pipeline-parallel-size
- {{ $t.pipelineParallelSize | quote }}
- --distributed-executor-backend
- {{ ternary "ray" "mp" (eq $launcher "ray") | quote }}
{{- if gt $dp 1 }}
- --data-parallel-size
- {{ $dp | quote }}
{{- end }}
{{- if $t.expertParallel }}
- --enable-expert-parallel
{{- end }}
{{- if eq $launcher "native" }}
{{- if gt $dp 1 }}
- --data-parallel-size-local
- {{ include "vllm.dataParallelLocal" . | quote }}
- --data-parallel-rpc-port
- {{ $v.launcher.dataParallelRpcPort | quote }}
{{- else }}
- --nnodes
- {{ $t.podsPerGroup | quote }}
- --master-port
- {{ $v.launcher.masterPort | quote }}
{{- end }}
{{- end }}
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

{{/*
The leader's own arguments under the native launcher. The addresses it binds are its pod IP, expanded
by the kubelet from POD_IP: vLLM binds its rendezvous and coordination sockets to --master-addr and
--data-parallel-address, which must be an address of this pod; the workers dial the leader by name.
*/}}
{{- define "vllm.nativeLeaderArgs" -}}
{{- if gt (int (include "mnc.dataParallelSize" .)) 1 }}
- --data-parallel-address
- "$(POD_IP)"
{{- else }}
- --node-rank
- "0"
- --master-addr
- "$(POD_IP)"
{{- end }}
{{- end -}}

{{/*
A worker of the native launcher: waits, bounded, until the leader's rendezvous port accepts
connections (the worker may start first, before the leader's name resolves), then runs `vllm serve`
headless with its rank: --node-rank with the leader as --master-addr for tensor and pipeline
parallelism, or --data-parallel-start-rank (rank x ranks per pod) with the leader as
--data-parallel-address for data parallelism.
*/}}
{{- define "vllm.nativeWorkerScript" -}}
set -euo pipefail
leader="${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS:-}}"
if [ -z "${leader}" ]; then
  echo "[vllm-worker] ERROR: no leader address: neither MULTINODE_LEADER_ADDRESS nor LWS_LEADER_ADDRESS is set" >&2
  exit 2
fi
rank="${MULTINODE_NODE_RANK:?MULTINODE_NODE_RANK must hold the rank of this pod in the group}"
port="${MULTINODE_RENDEZVOUS_PORT}"
deadline=$(( SECONDS + MULTINODE_LEADER_WAIT_TIMEOUT_SECONDS ))
until timeout 5 bash -c 'exec 3<>"/dev/tcp/${1}/${2}"' tcp-check "${leader}" "${port}" 2>/dev/null; do
  if (( SECONDS >= deadline )); then
    echo "[vllm-worker] ERROR: the leader at ${leader}:${port} did not accept a connection within ${MULTINODE_LEADER_WAIT_TIMEOUT_SECONDS}s (launcher.leaderWaitTimeoutSeconds); check the leader pod and that ${leader} resolves from this pod" >&2
    exit 2
  fi
  echo "[vllm-worker] waiting for the leader at ${leader}:${port}"
  sleep 2
done
if [ "${MULTINODE_DATA_PARALLEL_SIZE_LOCAL:-0}" -gt 0 ]; then
  start=$(( rank * MULTINODE_DATA_PARALLEL_SIZE_LOCAL ))
  echo "[vllm-worker] joining ${leader}:${port} as data-parallel ranks from ${start}"
  exec "$@" --headless --data-parallel-start-rank "${start}" --data-parallel-address "${leader}"
fi
echo "[vllm-worker] joining ${leader}:${port} as node rank ${rank}"
exec "$@" --headless --node-rank "${rank}" --master-addr "${leader}"
{{- end -}}

{{/* Settings of the native worker script, and the rank every native pod reads. */}}
{{- define "vllm.nativeEnv" -}}
{{- $v := .Values -}}
{{- $dp := int (include "mnc.dataParallelSize" .) -}}
{{ include "mnc.nodeRankEnv" (dict "root" . "name" "MULTINODE_NODE_RANK") }}
- name: MULTINODE_RENDEZVOUS_PORT
  value: {{ ternary $v.launcher.dataParallelRpcPort $v.launcher.masterPort (gt $dp 1) | quote }}
- name: MULTINODE_LEADER_WAIT_TIMEOUT_SECONDS
  value: {{ $v.launcher.leaderWaitTimeoutSeconds | quote }}
{{- if gt $dp 1 }}
- name: MULTINODE_DATA_PARALLEL_SIZE_LOCAL
  value: {{ include "vllm.dataParallelLocal" . | quote }}
{{- end }}
{{- end -}}

{{/*
The leader's liveness under the native launcher: "progress or proof", for every data-parallel rank.
vLLM's /health stays 200 while a worker is dead or hung (it learns of a lost rank only when a request
fails), so the check asks for proof that each engine computes: a rank whose generated-token counter
(/metrics, vllm:generation_tokens_total, labelled engine="<rank>") grew since the last check is working,
and no request is added under load; every other rank must finish a one-token completion within the
probe's timeout, sent to it with vLLM's X-data-parallel-rank header (vllm-project/vllm v0.32.0
vllm/entrypoints/generate/base/serving.py _get_data_parallel_rank), all at once, so one hung rank
fails the probe whichever rank the load balancer would pick. The counters at the last check lie in
/tmp. Arguments: the API port, the served model name, the time budget, the data-parallel size.
*/}}
{{- define "vllm.progressCheck" -}}
import json
import os
import re
import sys
import threading
import urllib.request

port, model, budget, ranks = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
base = "http://127.0.0.1:{}".format(port)
state = os.environ.get("MULTINODE_PROBE_STATE", "/tmp/.multinode-liveness-tokens")


def generated():
    text = urllib.request.urlopen(base + "/metrics", timeout=budget).read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("vllm:generation_tokens_total"):
            engine = re.search(r'engine="([^"]*)"', line)
            key = engine.group(1) if engine else "0"
            counts[key] = counts.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts


def prove(rank, failures):
    body = json.dumps({"model": model, "prompt": "ping", "max_tokens": 1, "temperature": 0}).encode()
    headers = {"Content-Type": "application/json"}
    if ranks > 1:
        headers["X-data-parallel-rank"] = str(rank)
    try:
        request = urllib.request.Request(base + "/v1/completions", data=body, headers=headers)
        urllib.request.urlopen(request, timeout=budget).close()
    except Exception as error:
        failures.append("rank {}: {}".format(rank, error))


try:
    with open(state) as saved:
        before = json.load(saved)
except (OSError, ValueError):
    before = {}
now = generated()
# A rank proves itself unless its counter grew since a previous check (the first check proves them all).
idle = [rank for rank in range(ranks)
        if str(rank) not in before or now.get(str(rank), 0.0) <= before[str(rank)]]
failures = []
threads = [threading.Thread(target=prove, args=(rank, failures), daemon=True) for rank in idle]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(budget)
if failures or any(thread.is_alive() for thread in threads):
    sys.exit("[vllm-probe] no tokens since the last check, and a one-token completion failed or hung: {}".format(
        "; ".join(failures) or "no answer within {:.0f}s".format(budget)))
with open(state, "w") as out:
    json.dump(generated() if idle else now, out)
{{- end -}}

{{/* vllm.progressCheck as an exec command, bounded one second under the probe's timeout. */}}
{{- define "vllm.progressCheckCommand" -}}
{{- $bound := max 1 (sub (int .Values.probes.liveness.timeoutSeconds) 1) -}}
- bash
- -c
- |
  exec timeout {{ $bound }} python3 - {{ .Values.server.port }} {{ default .Values.model.name .Values.model.servedModelName | squote }} {{ $bound }} {{ include "mnc.dataParallelSize" . }} <<'PROGRESS_CHECK'
  {{- include "vllm.progressCheck" . | nindent 2 }}
  PROGRESS_CHECK
{{- end -}}

{{/*
A native worker's check of its group: the leader's API answers /health. A worker whose leader is gone
fails it and is restarted, and with the LeaderWorkerSet's restart policy the whole group is recreated.
Returned as one shell command (the Indexed Job's member probes embed it).
*/}}
{{- define "vllm.leaderHealthShell" -}}
python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3).close()' "http://${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS}}:{{ .Values.server.port }}/health"
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

{{/* The leader: `vllm serve` with the API server (rank 0 under the native launcher, Ray head under ray). */}}
{{- define "vllm.leaderContainer" -}}
{{- $serve := include "vllm.serveCommand" . | fromYamlArray -}}
{{- $launcher := include "vllm.launcher" . -}}
{{- $env := include "vllm.env" . | fromYamlArray -}}
{{- $c := dict "name" "vllm" "health" "/health" -}}
{{- if eq $launcher "ray" -}}
{{- $_ := set $c "command" (list "bash" "-c" (include "mnc.rayLeaderScript" .) "ray-leader") -}}
{{- $_ := set $c "args" $serve -}}
{{- $_ := set $c "ports" (list (dict "name" "ray-gcs" "containerPort" (int .Values.ray.port) "protocol" "TCP")) -}}
{{- else if eq $launcher "native" -}}
{{- $_ := set $c "command" (concat $serve (include "vllm.nativeLeaderArgs" . | fromYamlArray)) -}}
{{- $env = concat $env (include "vllm.nativeEnv" . | fromYamlArray) -}}
{{- $_ := set $c "launcher" "native" -}}
{{- $rendezvous := ternary .Values.launcher.dataParallelRpcPort .Values.launcher.masterPort (gt (int (include "mnc.dataParallelSize" .)) 1) -}}
{{- $_ := set $c "ports" (list (dict "name" "rendezvous" "containerPort" (int $rendezvous) "protocol" "TCP")) -}}
{{- if .Values.probes.groupCheck -}}
{{- $_ := set $c "livenessCommand" (include "vllm.progressCheckCommand" . | fromYamlArray) -}}
{{- end -}}
{{- $_ := set $c "workerCheckShell" (include "vllm.leaderHealthShell" .) -}}
{{- else -}}
{{- $_ := set $c "command" $serve -}}
{{- end -}}
{{- $_ := set $c "env" $env -}}
{{- toYaml $c -}}
{{- end -}}

{{/* A worker: joins the leader's Ray cluster (ray), or runs `vllm serve --headless` with its rank (native). */}}
{{- define "vllm.workerContainer" -}}
{{- $env := include "vllm.env" . | fromYamlArray -}}
{{- $c := dict "name" "vllm" -}}
{{- if eq (include "vllm.launcher" .) "native" -}}
{{- $_ := set $c "command" (concat (list "bash" "-c" (include "vllm.nativeWorkerScript" .) "vllm-worker") (include "vllm.serveCommand" . | fromYamlArray)) -}}
{{- $env = concat $env (include "vllm.nativeEnv" . | fromYamlArray) -}}
{{- $_ := set $c "launcher" "native" -}}
{{- $_ := set $c "workerCheckShell" (include "vllm.leaderHealthShell" .) -}}
{{- else -}}
{{- $_ := set $c "command" (list "bash" "-c" (include "mnc.rayWorkerScript" .) "ray-worker") -}}
{{- end -}}
{{- $_ := set $c "env" $env -}}
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
{{- if and (eq (include "vllm.launcher" .) "ray") (not (include "vllm.imageCarriesRay" .)) -}}
{{- $i := .Values.image -}}
{{- fail (printf "image %s:%s may not carry Ray, which a multi-pod group (topology.podsPerGroup %d) with launcher.kind ray runs to form: vLLM images carry none from v0.18.0 on. Use launcher.kind native (vLLM's own multi-node launcher, no Ray), set image.tag to a vllm/vllm-openai release before v0.18.0, or set ray.imageCarriesRay=true for an image that holds Ray (check `ray --version` in it)." $i.repository (ternary $i.digest $i.tag (ne $i.digest "")) (int .Values.topology.podsPerGroup)) -}}
{{- end -}}
{{- end -}}


{{/*
Data and expert parallelism, checked where vLLM would refuse only at startup: data-parallel ranks of
tensorParallelSize GPUs each, spread evenly over the pods (pipeline parallelism inside a data-parallel
rank is not offered), formed across pods by the native launcher (the Ray launcher's data parallelism is
not offered); expert parallelism only for a model with experts, which the group's GPUs divide.
*/}}
{{- define "vllm.validateLayout" -}}
{{- $t := .Values.topology -}}
{{- $dp := int (include "mnc.dataParallelSize" .) -}}
{{- $pods := int $t.podsPerGroup -}}
{{- if gt $dp 1 -}}
{{- if gt (int $t.pipelineParallelSize) 1 -}}
{{- fail (printf "topology.dataParallelSize %d needs topology.pipelineParallelSize 1 (got %d): each data-parallel rank runs on tensorParallelSize GPUs of one pod" $dp (int $t.pipelineParallelSize)) -}}
{{- end -}}
{{- if ne (mod $dp $pods) 0 -}}
{{- fail (printf "topology.dataParallelSize %d is not a multiple of topology.podsPerGroup %d: every pod runs the same number of data-parallel ranks (--data-parallel-size-local)" $dp $pods) -}}
{{- end -}}
{{- if and (gt $pods 1) (ne .Values.launcher.kind "native") -}}
{{- fail (printf "topology.dataParallelSize %d across %d pods needs launcher.kind native (got %s): the chart forms data-parallel groups with vLLM's own launcher only" $dp $pods .Values.launcher.kind) -}}
{{- end -}}
{{- end -}}
{{- if $t.expertParallel -}}
{{- $experts := int (($t.modelShape | default dict).experts | default 0) -}}
{{- if eq $experts 0 -}}
{{- fail "topology.expertParallel needs topology.modelShape.experts (the model's routed experts from its config.json): expert parallelism splits a mixture-of-experts model's experts, and a dense model has none" -}}
{{- end -}}
{{- $gpus := int (include "mnc.groupGPUs" .) -}}
{{- if ne (mod $experts $gpus) 0 -}}
{{- fail (printf "topology.expertParallel: the group's %d GPUs do not divide the model's %d experts (topology.modelShape.experts); every GPU must hold the same number of experts" $gpus $experts) -}}
{{- end -}}
{{- end -}}
{{- end -}}
