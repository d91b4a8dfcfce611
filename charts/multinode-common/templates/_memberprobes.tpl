{{/*
Probes of an Indexed Job pod, whose template serves the leader and the workers alike: each probe is an
exec check chosen by the completion index. Readiness does what the role's own probe does: index 0 asks
the engine's HTTP endpoint (like the leader's httpGet probe), the others ask the Ray head (like the
workers' probes). On a multi-pod group with probes.rayGroupCheck, startup and liveness run the Ray
group check as role "member" (mnc.rayGroupCheck; index 0 asks the engine's endpoint first), as the
LeaderWorkerSet's pods do: a lost pod fails every other pod's liveness, so the kubelet restarts them in
place (a worker container that restarts in place and rejoins the old head before the leader's liveness
fails is not caught: docs/workloads.md). Every check is bounded one second under the probe's own timeout.
Takes (dict "root" $ "path" <readiness path> "livenessPath" <liveness path> "cli" <the head check's Ray
subcommand, see mnc.rayHeadCheckCommand>).
*/}}

{{- define "mnc.memberCheckCommand" -}}
{{- $bound := max 1 (sub (int .timeout) 1) -}}
- bash
- -c
- |
  if [ "${MULTINODE_NODE_RANK}" = "0" ]; then
    exec timeout {{ $bound }} python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout={{ $bound }})' "http://127.0.0.1:{{ .port }}{{ .path }}"
  fi
  exec timeout {{ $bound }} {{ include "mnc.rayHeadCheckCli" .cli }} --address "${MULTINODE_LEADER_ADDRESS}:${MULTINODE_RAY_PORT}"
{{- end -}}

{{/*
A member probe under an engine's native launcher: index 0 runs leaderScript (a bash script, the
engine's own liveness check) when given, else asks the engine's HTTP path; the others run workerCheck.
*/}}
{{- define "mnc.memberNativeCommand" -}}
{{- $bound := max 1 (sub (int .timeout) 1) -}}
- bash
- -c
- |
  if [ "${MULTINODE_NODE_RANK}" = "0" ]; then
  {{- if .leaderScript }}
  {{- .leaderScript | nindent 2 }}
  {{- else }}
    exec timeout {{ $bound }} python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout={{ $bound }})' "http://127.0.0.1:{{ .port }}{{ .path }}"
  {{- end }}
  fi
  exec timeout {{ $bound }} {{ .workerCheck }}
{{- end -}}

{{/* One member probe's exec command. Takes (dict "root" $ "timeout" <timeoutSeconds> "path" <path> "group" <bool>
"workerCheck" <shell command> "leaderScript" <bash script>); workerCheck selects the native form. */}}
{{- define "mnc.memberProbeCommand" -}}
{{- $port := .root.Values.server.port -}}
{{- if .workerCheck -}}
{{- include "mnc.memberNativeCommand" (dict "timeout" .timeout "port" $port "path" .path "workerCheck" .workerCheck "leaderScript" .leaderScript) -}}
{{- else if .group -}}
{{- include "mnc.rayGroupCheckCommand" (dict "timeout" .timeout "role" "member" "port" $port "path" .path) -}}
{{- else -}}
{{- include "mnc.memberCheckCommand" (dict "timeout" .timeout "port" $port "path" .path "cli" .cli) -}}
{{- end -}}
{{- end -}}

{{- define "mnc.memberProbes" -}}
{{- $p := .root.Values.probes -}}
{{- $group := false -}}
{{- if and (include "mnc.isMultiPod" .root) $p.rayGroupCheck (not .workerCheck) }}{{ $group = true }}{{ end -}}
startupProbe:
  exec:
    command:
      {{- include "mnc.memberProbeCommand" (dict "root" .root "timeout" $p.startup.timeoutSeconds "path" .path "group" $group "cli" .cli "workerCheck" .workerCheck) | nindent 6 }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" .root }}
readinessProbe:
  exec:
    command:
      {{- include "mnc.memberProbeCommand" (dict "root" .root "timeout" $p.readiness.timeoutSeconds "path" .path "group" false "cli" .cli "workerCheck" .workerCheck) | nindent 6 }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  exec:
    command:
      {{- include "mnc.memberProbeCommand" (dict "root" .root "timeout" $p.liveness.timeoutSeconds "path" .livenessPath "group" $group "cli" .cli "workerCheck" .workerCheck "leaderScript" (ternary (index (.livenessCommand | default (list "" "" "")) 2) "" (not (empty .livenessCommand)))) | nindent 6 }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}
