{{/*
Probes. Loading a model of hundreds of GB can take hours, so the leader's startup probe allows
probes.startup.budgetSeconds before giving up; Kubernetes runs no liveness or readiness probe until the
startup probe has passed, so liveness cannot kill a pod that is still loading. Workers serve no HTTP:
their probes ask the Ray head's GCS whether it still answers, so a worker whose head died is restarted
(and, with RecreateGroupOnPodRestart, the whole group with it).
*/}}

{{- define "mnc.startupFailureThreshold" -}}
{{- $p := .Values.probes.startup -}}
{{- max 1 (div (add (int $p.budgetSeconds) (sub (int $p.periodSeconds) 1)) (int $p.periodSeconds)) -}}
{{- end -}}

{{/* Takes (dict "root" $ "path" "/health" "livenessPath" "/health"); livenessPath defaults to path. */}}
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
  httpGet:
    path: {{ .livenessPath | default .path }}
    port: http
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}

{{/*
The worker's check of its head. `ray health-check` takes about 40 s to fail when the head is gone, longer
than any probe timeout, so it is bounded one second under the probe's own timeout: the probe then ends
with the check's exit status rather than a kubelet timeout. Takes the probe's timeoutSeconds.
*/}}
{{- define "mnc.rayHeadCheckCommand" -}}
- bash
- -c
- timeout {{ max 1 (sub (int .) 1) }} ray health-check --address "${MULTINODE_LEADER_ADDRESS:-${LWS_LEADER_ADDRESS}}:${MULTINODE_RAY_PORT}"
{{- end -}}

{{- define "mnc.workerProbes" -}}
{{- $p := .Values.probes -}}
startupProbe:
  exec:
    command:
      {{- include "mnc.rayHeadCheckCommand" $p.startup.timeoutSeconds | nindent 6 }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ include "mnc.startupFailureThreshold" . }}
livenessProbe:
  exec:
    command:
      {{- include "mnc.rayHeadCheckCommand" $p.liveness.timeoutSeconds | nindent 6 }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}
