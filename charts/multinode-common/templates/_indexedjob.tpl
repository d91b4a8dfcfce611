{{/*
Groups as Indexed Jobs, for clusters without the LeaderWorkerSet controller. Group g is the Job
<fullname>-g; its pods are named <fullname>-g-<index> by the Job controller and, through the headless
Service <fullname>-pods (subdomain), resolve as <fullname>-g-<index>.<fullname>-pods.<namespace>.svc.
Every pod of a Job shares one template, so the container decides its role from its completion index
at start: index 0 runs the leader's command line, the others the worker's, both exactly as the
LeaderWorkerSet kind renders them. The Job never completes while the engine serves; a failed
container restarts in place (restartPolicy OnFailure) until workload.indexedJob.backoffLimit.
*/}}

{{- define "mnc.headlessServiceName" -}}
{{- printf "%s-pods" (include "mnc.fullname" .) -}}
{{- end -}}

{{- define "mnc.groupJobName" -}}
{{- printf "%s-%d" (include "mnc.fullname" .root) (int .group) -}}
{{- end -}}

{{/* The stable DNS name of the leader (completion index 0) of group .group. */}}
{{- define "mnc.indexedLeaderAddress" -}}
{{- printf "%s-0.%s.%s.svc" (include "mnc.groupJobName" .) (include "mnc.headlessServiceName" .root) .root.Release.Namespace -}}
{{- end -}}

{{/*
The container of every pod of an Indexed Job: the leader's and the worker's command lines side by
side, the first one run on completion index 0. A variable the two roles set to different plain values
(NIM_LEADER_ROLE) cannot sit in the shared env: the dispatch exports the value of the pod's role before
the exec. When the leader has no command (the engine keeps its image's entrypoint), the dispatch goes
into args, so the entrypoint still runs first. Takes (dict "root" $ "leader" <dict> "worker" <dict>
"group" <int>) and returns a container dict for "mnc.container" with role "member".
*/}}
{{- define "mnc.memberSpec" -}}
{{- $leaderArgv := concat (.leader.command | default list) (.leader.args | default list) -}}
{{- $workerArgv := concat (.worker.command | default list) (.worker.args | default list) -}}
{{- $leaderValues := dict -}}
{{- range .leader.env }}{{ if hasKey . "value" }}{{ $_ := set $leaderValues .name (toString .value) }}{{ end }}{{ end -}}
{{- $byRole := dict -}}
{{- range .worker.env -}}
{{- if and (hasKey . "value") (hasKey $leaderValues .name) (ne (toString .value) (index $leaderValues .name)) -}}
{{- $_ := set $byRole .name (list (index $leaderValues .name) (toString .value)) -}}
{{- end -}}
{{- end -}}
{{- $leaderExports := "" -}}
{{- $workerExports := "" -}}
{{- range $name := keys $byRole | sortAlpha -}}
{{- $values := index $byRole $name -}}
{{- $leaderExports = printf "%s  export %s=%s\n" $leaderExports $name (first $values | squote) -}}
{{- $workerExports = printf "%sexport %s=%s\n" $workerExports $name (last $values | squote) -}}
{{- end -}}
{{- $dispatch := printf "leader_argc=%d\nif [ \"${MULTINODE_NODE_RANK:?MULTINODE_NODE_RANK must hold the completion index}\" = \"0\" ]; then\n%s  exec \"${@:1:leader_argc}\"\nfi\n%sexec \"${@:leader_argc+1}\"\n" (len $leaderArgv) $leaderExports $workerExports -}}
{{- $env := list (dict "name" "MULTINODE_LEADER_ADDRESS" "value" (include "mnc.indexedLeaderAddress" .)) -}}
{{- $env = append $env (dict "name" "MULTINODE_NODE_RANK" "valueFrom" (dict "fieldRef" (dict "fieldPath" (include "mnc.nodeRankFieldPath" .root)))) -}}
{{- $names := list "MULTINODE_LEADER_ADDRESS" "MULTINODE_NODE_RANK" -}}
{{- range .leader.env -}}
{{- if not (or (hasKey $byRole .name) (has .name $names)) }}{{ $env = append $env . }}{{ $names = append $names .name }}{{ end -}}
{{- end -}}
{{- range .worker.env -}}
{{- if not (or (has .name $names) (hasKey $byRole .name)) }}{{ $env = append $env . }}{{ end -}}
{{- end -}}
{{- $spec := dict "name" .leader.name "env" $env "health" .leader.health "liveness" .leader.liveness "headCheck" .worker.headCheck -}}
{{- range $key := list "launcher" "livenessCommand" "workerCheckShell" -}}
{{- with index $.leader $key }}{{ $_ := set $spec $key . }}{{ end -}}
{{- end -}}
{{- $argv := concat (list "bash" "-c" $dispatch "group-member") $leaderArgv $workerArgv -}}
{{- if .leader.command -}}
{{- $_ := set $spec "command" $argv -}}
{{- else -}}
{{- $_ := set $spec "args" $argv -}}
{{- end -}}
{{- $_ := set $spec "ports" (.leader.ports | default list) -}}
{{- $_ := set $spec "initContainers" (.leader.initContainers | default list) -}}
{{- toYaml $spec -}}
{{- end -}}

{{/* The headless Service that gives each pod of each group's Job a stable DNS name. No ports: DNS only. */}}
{{- define "mnc.headlessService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mnc.headlessServiceName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    app.kubernetes.io/component: pods
spec:
  clusterIP: None
  # Workers resolve the leader before it is ready (it becomes ready only after they joined).
  publishNotReadyAddresses: true
  selector:
    {{- include "mnc.selectorLabels" . | nindent 4 }}
    {{- include "mnc.roleLabel" (dict "role" "member") | nindent 4 }}
{{- end -}}

{{/* Takes (dict "root" $ "leader" <container dict> "worker" <container dict>). */}}
{{- define "mnc.indexedJobs" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $size := int $v.topology.podsPerGroup -}}
{{ include "mnc.headlessService" $root }}
{{- range $group := until (int $v.topology.replicas) }}
{{- $member := include "mnc.memberSpec" (dict "root" $root "leader" $.leader "worker" $.worker "group" $group) | fromYaml }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "mnc.groupJobName" (dict "root" $root "group" $group) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
spec:
  completionMode: Indexed
  completions: {{ $size }}
  parallelism: {{ $size }}
  backoffLimit: {{ $v.workload.indexedJob.backoffLimit }}
  template:
    {{- include "mnc.podTemplate" (dict "root" $root "role" "member" "spec" $member) | nindent 4 }}
{{- end }}
{{- end -}}
