{{/*
Probes. Loading a model of hundreds of GB can take hours, so the leader's startup probe allows
probes.startup.budgetSeconds before giving up; Kubernetes runs no liveness or readiness probe until the
startup probe has passed, so liveness cannot kill a pod that is still loading. Workers serve no HTTP:
their probes ask the Ray head's GCS whether it still answers, so a worker whose head died is restarted
(and, with RecreateGroupOnPodRestart, the whole group with it).

An engine keeps answering its health endpoint after one of its Ray workers is lost (it notices only when
the next request fails), so with probes.rayGroupCheck a multi-pod group's liveness probes check the
whole group instead (mnc.rayGroupCheck): the leader's, besides the engine's endpoint, and the workers'.
A lost pod then fails every other pod's liveness within periodSeconds x failureThreshold, and the group
is recreated. The workers' startup probe is the same check, so their liveness begins only once the
group has formed (which may take up to ray.gpuWaitTimeoutSeconds), as the leader's does.
*/}}

{{- define "mnc.startupFailureThreshold" -}}
{{- $p := .Values.probes.startup -}}
{{- max 1 (div (add (int $p.budgetSeconds) (sub (int $p.periodSeconds) 1)) (int $p.periodSeconds)) -}}
{{- end -}}

{{/*
Takes (dict "root" $ "path" "/health" "livenessPath" "/health" "livenessCommand" <list> "native" <bool>);
livenessPath defaults to path. livenessCommand, when given, is the liveness check (the engine's own
group check under its native launcher); the Ray group check applies to Ray groups only.
*/}}
{{- define "mnc.leaderProbes" -}}
{{- $p := .root.Values.probes -}}
startupProbe:
  httpGet:
    path: {{ .path }}
    port: http
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" .root }}
readinessProbe:
  httpGet:
    path: {{ .path }}
    port: http
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  {{- if .livenessCommand }}
  exec:
    command:
      {{- toYaml .livenessCommand | nindent 6 }}
  {{- else if and (include "mnc.isMultiPod" .root) $p.rayGroupCheck (not .native) }}
  exec:
    command:
      {{- include "mnc.rayGroupCheckCommand" (dict "timeout" $p.liveness.timeoutSeconds "role" "leader" "port" .root.Values.server.port "path" (.livenessPath | default .path)) | nindent 6 }}
  {{- else }}
  httpGet:
    path: {{ .livenessPath | default .path }}
    port: http
  {{- end }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}

{{/*
The worker's check of its head, through Ray's command line: `ray health-check` by default, `ray status`
where the engine chart asks for it (NIM, as NVIDIA's operator probes its Ray workers: NVIDIA/k8s-nim-operator
v3.1.2 internal/controller/platform/standalone/nimservice.go, exec "ray status"). Either takes tens of
seconds to fail when the head is gone, longer than any probe timeout, so it is bounded one second under
the probe's own timeout: the probe then ends with the check's exit status rather than a kubelet timeout.
Takes (dict "timeout" <timeoutSeconds> "cli" "health-check"|"status").
*/}}
{{- define "mnc.rayHeadCheckCommand" -}}
- bash
- -c
- timeout {{ max 1 (sub (int .timeout) 1) }} {{ include "mnc.rayHeadCheckCli" .cli }} --address "${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS}}:${MULTINODE_RAY_PORT}"
{{- end -}}

{{/* The Ray subcommand a head check runs: "status" or, by default, "health-check". */}}
{{- define "mnc.rayHeadCheckCli" -}}
{{- if eq (toString .) "status" }}ray status{{ else }}ray health-check{{ end -}}
{{- end -}}

{{/*
Is every GPU of the group on a Ray node that is alive and reachable? Asks the head's GCS for its node
table directly (as `ray health-check` does: no driver joins the cluster), counts the GPUs of the nodes
it lists as alive whose raylet accepts a TCP connection, and wants exactly MULTINODE_EXPECTED_GPUS with
this pod's own node among them. The connection matters: the GCS lists a killed node as alive until its
own health checks give up (about 15 s by Ray's defaults), a refused connection shows it at once.
Arguments: the role (leader, worker, or member: an Indexed Job pod, leader on index 0); for the leader,
optionally the engine's port and health path, checked first.
*/}}
{{- define "mnc.rayGroupCheck" -}}
import os
import socket
import sys
import urllib.request

role = sys.argv[1]
if role == "member":
    role = "leader" if os.environ.get("MULTINODE_NODE_RANK") == "0" else "worker"
pod_ip = os.environ["POD_IP"]
if role == "leader" and len(sys.argv) > 3:
    url = "http://127.0.0.1:{}{}".format(sys.argv[2], sys.argv[3])
    try:
        urllib.request.urlopen(url, timeout=3).close()
    except Exception as error:
        sys.exit("[ray-probe] the engine does not answer {}: {}".format(url, error))

from ray._raylet import GcsClient

head = pod_ip if role == "leader" else os.environ.get("MULTINODE_LEADER_ADDRESS") or os.environ["LWS_LEADER_ADDRESS"]
address = "{}:{}".format(head, os.environ["MULTINODE_RAY_PORT"])
want = int(os.environ["MULTINODE_EXPECTED_GPUS"])
have, lost, mine = 0, [], False
for node in GcsClient(address=address).get_all_node_info(timeout=3).values():
    if node.state != 0:  # GcsNodeState ALIVE
        continue
    try:
        socket.create_connection((node.node_manager_address, node.node_manager_port), timeout=1).close()
    except OSError:
        lost.append(node.node_manager_address)
        continue
    have += int(node.resources_total.get("GPU", 0))
    mine = mine or node.node_manager_address == pod_ip
if have != want or lost or not mine:
    sys.exit("[ray-probe] {} of {} GPUs on reachable Ray nodes at {}; unreachable: {}; this pod's node: {}".format(
        have, want, address, ", ".join(lost) or "none", "ok" if mine else "missing"))
{{- end -}}

{{/*
mnc.rayGroupCheck as an exec command, bounded one second under the probe's timeout (importing Ray and
a GCS that does not answer take longer than a probe may). Takes (dict "timeout" <probe timeoutSeconds>
"role" <role> "port" <engine port> "path" <engine health path>); port and path for the leader only.
*/}}
{{- define "mnc.rayGroupCheckCommand" -}}
- bash
- -c
- |
  exec timeout {{ max 1 (sub (int .timeout) 1) }} python3 - {{ .role }}{{ if .port }} {{ .port }} {{ .path | squote }}{{ end }} <<'RAY_GROUP_CHECK'
  {{- include "mnc.rayGroupCheck" . | nindent 2 }}
  RAY_GROUP_CHECK
{{- end -}}

{{/*
Takes (dict "root" $ "cli" <the head check's Ray subcommand, see mnc.rayHeadCheckCommand> "workerCheck"
<one shell command>); workerCheck, when given, replaces the Ray checks (an engine's native launcher).
*/}}
{{- define "mnc.workerProbes" -}}
{{- $p := .root.Values.probes -}}
{{- $cli := .cli -}}
{{- if .workerCheck -}}
{{- $bound := max 1 (sub (int $p.startup.timeoutSeconds) 1) -}}
{{- $liveBound := max 1 (sub (int $p.liveness.timeoutSeconds) 1) -}}
startupProbe:
  exec:
    command:
      - bash
      - -c
      - {{ printf "exec timeout %d %s" $bound .workerCheck | quote }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" .root }}
livenessProbe:
  exec:
    command:
      - bash
      - -c
      - {{ printf "exec timeout %d %s" $liveBound .workerCheck | quote }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- else -}}
startupProbe:
  exec:
    command:
      {{- if $p.rayGroupCheck }}
      {{- include "mnc.rayGroupCheckCommand" (dict "timeout" $p.startup.timeoutSeconds "role" "worker") | nindent 6 }}
      {{- else }}
      {{- include "mnc.rayHeadCheckCommand" (dict "timeout" $p.startup.timeoutSeconds "cli" $cli) | nindent 6 }}
      {{- end }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" .root }}
livenessProbe:
  exec:
    command:
      {{- if $p.rayGroupCheck }}
      {{- include "mnc.rayGroupCheckCommand" (dict "timeout" $p.liveness.timeoutSeconds "role" "worker") | nindent 6 }}
      {{- else }}
      {{- include "mnc.rayHeadCheckCommand" (dict "timeout" $p.liveness.timeoutSeconds "cli" $cli) | nindent 6 }}
      {{- end }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end }}
{{- end -}}
