{{/*
Ray cluster formation inside one group. The leader runs the Ray head, waits until the cluster holds
exactly the GPUs the engine will split the model over (TP x PP, counted in GPUs, not nodes), and only
then execs the engine given as its arguments. Workers wait for the head's GCS to answer, then join it
and block. Both give Ray their own pod IP: on multi-NIC nodes Ray otherwise may pick another address.
Every wait is bounded; a timeout exits non-zero with a message, and the group restart policy takes over.
Settings arrive as MULTINODE_* environment variables (see mnc.rayEnv), so the scripts never change
between releases and can be run as-is by the integration tests.
*/}}

{{- define "mnc.rayLeaderScript" -}}
set -euo pipefail
: "${POD_IP:?POD_IP must hold the IP of this pod}"
echo "[ray-leader] starting the Ray head on ${POD_IP}:${MULTINODE_RAY_PORT} with ${MULTINODE_GPUS_PER_POD} GPUs"
ray start --head \
  --port="${MULTINODE_RAY_PORT}" \
  --node-ip-address="${POD_IP}" \
  --num-gpus="${MULTINODE_GPUS_PER_POD}" \
  --include-dashboard=false \
  --disable-usage-stats
MULTINODE_WAITED_SECONDS="${SECONDS}" python3 - <<'WAIT_FOR_GPUS'
import os
import sys
import time

# ray.gpuWaitTimeoutSeconds counts from the container's start (bash's SECONDS), not from here: starting
# the head is part of the wait, so the leader gives up on time however long `ray start` took.
started = time.monotonic() - float(os.environ["MULTINODE_WAITED_SECONDS"])

import ray

want = int(os.environ["MULTINODE_EXPECTED_GPUS"])
timeout = float(os.environ["MULTINODE_GPU_WAIT_TIMEOUT_SECONDS"])
interval = float(os.environ["MULTINODE_POLL_SECONDS"])
address = "{}:{}".format(os.environ["POD_IP"], os.environ["MULTINODE_RAY_PORT"])
ray.init(address=address, logging_level="ERROR", log_to_driver=False)
seen = -1
while True:
    have = int(ray.cluster_resources().get("GPU", 0))
    if have != seen:
        print("[ray-leader] {} of {} GPUs joined".format(have, want), flush=True)
        seen = have
    if have == want:
        break
    if have > want:
        sys.exit("[ray-leader] ERROR: {} GPUs joined but the engine splits the model over exactly {} "
                 "(tensor x pipeline parallel size); a pod declares more GPUs than the group has".format(have, want))
    if time.monotonic() - started >= timeout:
        sys.exit("[ray-leader] ERROR: only {} of {} GPUs joined the Ray cluster at {} within {:.0f}s "
                 "(ray.gpuWaitTimeoutSeconds); check that every worker pod runs and reaches the head".format(
                     have, want, address, timeout))
    time.sleep(interval)
# The engine waits on this exit: leave at once rather than through ray.shutdown() and the interpreter's
# teardown (a few tenths of a second); Ray notices by itself that this driver is gone.
sys.stdout.flush()
os._exit(0)
WAIT_FOR_GPUS
echo "[ray-leader] all ${MULTINODE_EXPECTED_GPUS} GPUs joined; starting the engine"
exec "$@"
{{- end -}}

{{- define "mnc.rayWorkerScript" -}}
set -euo pipefail
: "${POD_IP:?POD_IP must hold the IP of this pod}"
leader="${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS:-}}"
if [ -z "${leader}" ]; then
  echo "[ray-worker] ERROR: no leader address: neither MULTINODE_LEADER_ADDRESS nor LWS_LEADER_ADDRESS is set" >&2
  exit 2
fi
head="${leader}:${MULTINODE_RAY_PORT}"
deadline=$(( SECONDS + MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS ))
# One check takes about 40 s to fail while the head is down: bound it so the deadline holds.
until timeout 10 ray health-check --address "${head}" >/dev/null 2>&1; do
  if (( SECONDS >= deadline )); then
    echo "[ray-worker] ERROR: the Ray head at ${head} did not answer within ${MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS}s (ray.headWaitTimeoutSeconds); check the leader pod and that ${leader} resolves from this pod" >&2
    exit 2
  fi
  echo "[ray-worker] waiting for the Ray head at ${head}"
  sleep "${MULTINODE_POLL_SECONDS}"
done
echo "[ray-worker] joining ${head} as ${POD_IP} with ${MULTINODE_GPUS_PER_POD} GPUs"
exec ray start \
  --address="${head}" \
  --node-ip-address="${POD_IP}" \
  --num-gpus="${MULTINODE_GPUS_PER_POD}" \
  --disable-usage-stats \
  --block
{{- end -}}

{{/* The pod's own IP, which Ray and the engines advertise to their peers. */}}
{{- define "mnc.podIPEnv" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end -}}

{{/* Settings of the scripts above. Takes (dict "root" $ "role" "leader"|"worker"|"member"); a member (Indexed Job pod) gets both. */}}
{{- define "mnc.rayEnv" -}}
{{- $v := .root.Values -}}
- name: MULTINODE_RAY_PORT
  value: {{ $v.ray.port | quote }}
- name: MULTINODE_GPUS_PER_POD
  value: {{ $v.topology.gpusPerPod | quote }}
- name: MULTINODE_POLL_SECONDS
  value: {{ $v.ray.pollSeconds | quote }}
{{- /* Every role: the leader waits for these GPUs, and every pod's group check (mnc.rayGroupCheck) wants them. */}}
- name: MULTINODE_EXPECTED_GPUS
  value: {{ include "mnc.parallelGPUs" .root | quote }}
{{- if ne .role "worker" }}
- name: MULTINODE_GPU_WAIT_TIMEOUT_SECONDS
  value: {{ $v.ray.gpuWaitTimeoutSeconds | quote }}
{{- end }}
{{- if ne .role "leader" }}
- name: MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS
  value: {{ $v.ray.headWaitTimeoutSeconds | quote }}
{{- end }}
{{- end -}}
