{{/*
Pod-level pieces shared by every pod the charts run with the group's placement (the serving group, the
preflight, the image pre-pull): image references, pull secrets, identity, placement, annotations.
*/}}

{{/*
An image reference with global.imageRegistry applied: the registry part of the reference (the first
path component when it holds a '.' or ':' or is localhost) is replaced, or the registry is prefixed to
a Docker Hub name. Takes (dict "root" $ "image" "repo/name:tag").
*/}}
{{- define "mnc.registryImage" -}}
{{- $registry := "" -}}
{{- with .root.Values.global }}{{ $registry = .imageRegistry | default "" }}{{ end -}}
{{- if not $registry -}}
{{- .image -}}
{{- else -}}
{{- $parts := splitList "/" .image -}}
{{- $first := first $parts -}}
{{- if and (gt (len $parts) 1) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
{{- printf "%s/%s" (trimSuffix "/" $registry) (join "/" (rest $parts)) -}}
{{- else -}}
{{- printf "%s/%s" (trimSuffix "/" $registry) .image -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets: the chart's and global.imagePullSecrets, each name once. */}}
{{- define "mnc.imagePullSecrets" -}}
{{- $names := .Values.imagePullSecrets | default list -}}
{{- with .Values.global }}{{ $names = concat $names (.imagePullSecrets | default list) }}{{ end -}}
{{- with uniq $names }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
The pod securityContext from securityContext, Pod Security Standards "restricted": seccomp
RuntimeDefault always, runAsNonRoot unless turned off; openshift leaves the IDs to the SCC.
*/}}
{{- define "mnc.podSecurityContext" -}}
{{- $s := .Values.securityContext | default dict -}}
{{- $out := dict "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- if not $s.openshift -}}
{{- range $key := list "runAsUser" "runAsGroup" "fsGroup" -}}
{{- if not (kindIs "invalid" (index $s $key)) }}{{ $_ := set $out $key (index $s $key) }}{{ end -}}
{{- end -}}
{{- if hasKey $out "fsGroup" }}{{ $_ := set $out "fsGroupChangePolicy" "OnRootMismatch" }}{{ end -}}
{{- end -}}
{{- if $s.runAsNonRoot }}{{ $_ := set $out "runAsNonRoot" true }}{{ end -}}
{{- with $out }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* nodeSelector with placement.gpuProduct added. */}}
{{- define "mnc.nodeSelector" -}}
{{- $selector := deepCopy (.Values.nodeSelector | default dict) -}}
{{- with .Values.placement }}{{ with .gpuProduct }}{{ $_ := set $selector "nvidia.com/gpu.product" . }}{{ end }}{{ end -}}
{{- with $selector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Scheduling of a group-shaped pod: node selector, tolerations, affinity, scheduler, priority, runtime, spread. */}}
{{- define "mnc.podPlacement" -}}
{{- $v := .Values -}}
{{- $p := $v.placement | default dict -}}
{{- include "mnc.nodeSelector" . }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $p.schedulerName }}
schedulerName: {{ . | quote }}
{{- end }}
{{- with $p.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $p.runtimeClassName }}
runtimeClassName: {{ . | quote }}
{{- end }}
{{- with $p.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotations: podAnnotations and the Multus network attachment. */}}
{{- define "mnc.podAnnotations" -}}
{{- $annotations := deepCopy (.Values.podAnnotations | default dict) -}}
{{- with .Values.fabric.multus }}{{ with .networks }}{{ $_ := set $annotations "k8s.v1.cni.cncf.io/networks" . }}{{ end }}{{ end -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* True (non-empty) when the fabric uses RDMA (infiniband, roce). */}}
{{- define "mnc.usesRdma" -}}
{{- if has .Values.fabric.profile (list "infiniband" "roce") -}}true{{- end -}}
{{- end -}}

{{/*
A container's securityContext: no privilege escalation, every capability dropped, a read-only root
filesystem (securityContext.readOnlyRootFilesystem). Engine containers on RDMA profiles get IPC_LOCK
back (fabric.rdma.ipcLock): RDMA pins memory. Takes (dict "root" $ "engine" bool).
*/}}
{{- define "mnc.containerSecurityContext" -}}
{{- $v := .root.Values -}}
{{- $s := $v.securityContext | default dict -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: {{ $s.readOnlyRootFilesystem | default false }}
  capabilities:
    drop:
      - ALL
    {{- if and .engine (include "mnc.usesRdma" .root) $v.fabric.rdma.ipcLock }}
    add:
      - IPC_LOCK
    {{- end }}
{{- end -}}

{{/* emptyDir volumes for securityContext.writableDirs (only with a read-only root filesystem). */}}
{{- define "mnc.writableVolumes" -}}
{{- $s := .Values.securityContext | default dict -}}
{{- if $s.readOnlyRootFilesystem -}}
{{- range $i, $dir := $s.writableDirs }}
- name: {{ printf "writable-%d" $i }}
  emptyDir: {}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "mnc.writableMounts" -}}
{{- $s := .Values.securityContext | default dict -}}
{{- if $s.readOnlyRootFilesystem -}}
{{- range $i, $dir := $s.writableDirs }}
- name: {{ printf "writable-%d" $i }}
  mountPath: {{ $dir | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Who the engine process is, for libraries that ask: HOME in a writable directory (the first of
securityContext.writableDirs with a read-only root filesystem, else /tmp/home), USER and LOGNAME. Pods
run as a UID the image's /etc/passwd need not list (securityContext.runAsUser, or the range OpenShift
assigns), and Python's getpass.getuser() reads LOGNAME, USER, LNAME, USERNAME and only then
pwd.getpwuid(), which raises KeyError for such a UID (CPython 3.12 Lib/getpass.py getuser). torch's
inductor calls it on import (pytorch v2.9.0 torch/_inductor/codecache.py, via vLLM's compilation
config; vllm-project/vllm#44548 is that crash).
*/}}
{{- define "mnc.identityEnv" -}}
{{- $s := .Values.securityContext | default dict -}}
{{- $home := "/tmp/home" -}}
{{- if and $s.readOnlyRootFilesystem $s.writableDirs -}}
{{- $home = printf "%s/home" (trimSuffix "/" (first $s.writableDirs)) -}}
{{- end -}}
- name: HOME
  value: {{ $home | quote }}
- name: USER
  value: {{ include "mnc.processUser" . | quote }}
- name: LOGNAME
  value: {{ include "mnc.processUser" . | quote }}
{{- end -}}

{{/* The user name the engine containers report (USER, LOGNAME): no account needs to exist for it. */}}
{{- define "mnc.processUser" -}}inference{{- end -}}

{{- define "mnc.automountToken" -}}
automountServiceAccountToken: {{ (.Values.securityContext | default dict).automountServiceAccountToken | default false }}
{{- end -}}
