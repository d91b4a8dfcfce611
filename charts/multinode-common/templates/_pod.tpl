{{/*
Containers and pod templates of a group. Engine charts describe their container with a dict:
  name      container name
  command   list: the entrypoint; empty: the image's own (ENTRYPOINT)
  args      list: its arguments
  env       list: the engine's own EnvVars
  ports     list: extra ContainerPorts (the API port "http" is added to the leader here)
  health    HTTP path of the engine's readiness endpoint (leader startup and readiness probes)
  liveness  HTTP path of the engine's liveness endpoint; empty: the health path
  headCheck the Ray subcommand workers' probes check their head with: "status" or "health-check" (empty)
  launcher  "native" when the engine forms the group itself (no Ray settings, no Ray probes); empty: Ray
  livenessCommand  list: the leader's liveness exec command, replacing the HTTP or Ray check
  workerCheckShell one shell command: the workers' startup and liveness check, replacing the Ray one
  initContainers  list: complete init containers of this pod (the engine chart builds them)
The role is "leader", "worker", or "member" for the Indexed Job kind, whose single pod template
serves both roles and picks one at start from its completion index.
and the library adds what every pod of a group needs: the image, POD_IP, Ray settings, NCCL variables,
extraEnv, GPUs and resources, /dev/shm, the model cache, probes, placement.
*/}}

{{/* resources with the GPU count of topology.gpusPerPod (and the RDMA device on infiniband and roce) in both requests and limits. */}}
{{- define "mnc.resources" -}}
{{- $v := .Values -}}
{{- $gpus := dict $v.topology.gpuResourceName (toString $v.topology.gpusPerPod) -}}
{{- if and (include "mnc.usesRdma" .) $v.fabric.rdma.resourceName -}}
{{- $_ := set $gpus $v.fabric.rdma.resourceName (toString $v.fabric.rdma.count) -}}
{{- end -}}
{{- $requests := merge (deepCopy ($v.resources.requests | default dict)) $gpus -}}
{{- $limits := merge (deepCopy ($v.resources.limits | default dict)) $gpus -}}
requests:
  {{- toYaml $requests | nindent 2 }}
limits:
  {{- toYaml $limits | nindent 2 }}
{{- end -}}

{{- define "mnc.image" -}}
{{- $i := .Values.image -}}
{{- $ref := ternary (printf "%s@%s" $i.repository $i.digest) (printf "%s:%s" $i.repository $i.tag) (ne $i.digest "") -}}
{{- include "mnc.registryImage" (dict "root" . "image" $ref) -}}
{{- end -}}

{{/* Takes (dict "root" $ "role" "leader"|"worker" "spec" <container dict>). */}}
{{- define "mnc.container" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $spec := .spec -}}
{{- $multiPod := include "mnc.isMultiPod" $root -}}
- name: {{ $spec.name }}
  image: {{ include "mnc.image" $root | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- with $spec.command }}
  command:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $spec.args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  env:
    {{- include "mnc.podIPEnv" $root | nindent 4 }}
    {{- with include "mnc.identityEnv" $root }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- if and $multiPod (ne (toString $spec.launcher) "native") }}
    {{- include "mnc.rayEnv" (dict "root" $root "role" .role) | nindent 4 }}
    {{- end }}
    {{- with $spec.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with include "mnc.ncclEnv" $root }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $serves := has .role (list "leader" "member") }}
  {{- if or $serves $spec.ports }}
  ports:
    {{- if $serves }}
    - name: http
      containerPort: {{ $v.server.port }}
      protocol: TCP
    {{- end }}
    {{- with $spec.ports }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  resources:
    {{- include "mnc.resources" $root | nindent 4 }}
  {{- include "mnc.containerSecurityContext" (dict "root" $root "engine" true) | nindent 2 }}
  volumeMounts:
    {{- include "mnc.shmVolumeMount" $root | nindent 4 }}
    {{- include "mnc.cacheVolumeMount" $root | nindent 4 }}
    {{- with include "mnc.writableMounts" $root }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if eq .role "leader" }}
  {{- include "mnc.leaderProbes" (dict "root" $root "path" $spec.health "livenessPath" ($spec.liveness | default $spec.health) "livenessCommand" $spec.livenessCommand "native" (eq (toString $spec.launcher) "native")) | nindent 2 }}
  {{- else if eq .role "member" }}
  {{- include "mnc.memberProbes" (dict "root" $root "path" $spec.health "livenessPath" ($spec.liveness | default $spec.health) "cli" $spec.headCheck "livenessCommand" $spec.livenessCommand "workerCheck" $spec.workerCheckShell) | nindent 2 }}
  {{- else }}
  {{- include "mnc.workerProbes" (dict "root" $root "cli" $spec.headCheck "workerCheck" $spec.workerCheckShell) | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* A pod template of the group. Takes (dict "root" $ "role" "leader"|"worker" "spec" <container dict>). */}}
{{- define "mnc.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
metadata:
  labels:
    {{- include "mnc.selectorLabels" $root | nindent 4 }}
    {{- include "mnc.roleLabel" (dict "role" .role) | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- include "mnc.podAnnotations" $root | nindent 2 }}
spec:
  {{- if eq .role "member" }}
  restartPolicy: OnFailure
  subdomain: {{ include "mnc.headlessServiceName" $root }}
  {{- end }}
  {{- include "mnc.automountToken" $root | nindent 2 }}
  {{- include "mnc.podSecurityContext" $root | nindent 2 }}
  {{- include "mnc.imagePullSecrets" $root | nindent 2 }}
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  {{- include "mnc.podPlacement" $root | nindent 2 }}
  {{- with .spec.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    {{- include "mnc.container" . | nindent 4 }}
  volumes:
    {{- include "mnc.shmVolume" $root | nindent 4 }}
    {{- with include "mnc.cacheVolume" $root }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with include "mnc.writableVolumes" $root }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $v.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
