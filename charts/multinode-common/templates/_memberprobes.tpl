{{/*
Probes of an Indexed Job pod, whose template serves the leader and the workers alike: each probe is an
exec check that does what the role's own probe does, chosen by the completion index. Index 0 asks the
engine's HTTP endpoint (like the leader's httpGet probes); the others ask the Ray head (like the
workers' probes). Every check is bounded one second under the probe's own timeout.
Takes (dict "root" $ "path" <readiness path> "livenessPath" <liveness path>).
*/}}

{{- define "mnc.memberCheckCommand" -}}
{{- $bound := max 1 (sub (int .timeout) 1) -}}
- bash
- -c
- |
  if [ "${MULTINODE_NODE_RANK}" = "0" ]; then
    exec timeout {{ $bound }} python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout={{ $bound }})' "http://127.0.0.1:{{ .port }}{{ .path }}"
  fi
  exec timeout {{ $bound }} ray health-check --address "${MULTINODE_LEADER_ADDRESS}:${MULTINODE_RAY_PORT}"
{{- end -}}

{{- define "mnc.memberProbes" -}}
{{- $p := .root.Values.probes -}}
{{- $port := .root.Values.server.port -}}
startupProbe:
  exec:
    command:
      {{- include "mnc.memberCheckCommand" (dict "timeout" $p.startup.timeoutSeconds "port" $port "path" .path) | nindent 6 }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" .root }}
readinessProbe:
  exec:
    command:
      {{- include "mnc.memberCheckCommand" (dict "timeout" $p.readiness.timeoutSeconds "port" $port "path" .path) | nindent 6 }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  exec:
    command:
      {{- include "mnc.memberCheckCommand" (dict "timeout" $p.liveness.timeoutSeconds "port" $port "path" .livenessPath) | nindent 6 }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}
