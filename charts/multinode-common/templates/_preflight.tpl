{{/*
The NCCL preflight (preflight.enabled): before the serving group exists, a Job of the group's shape
(same pod count, GPUs, image, NCCL environment, placement, pod annotations such as network attachments)
runs an all-reduce over every GPU and checks the transport and bandwidth NCCL gets (see
_preflight_script.tpl). It is a Helm pre-install hook, so Helm creates the serving group only after the
preflight passed and the GPUs are free again; before-hook-creation keeps the last run's pods and logs
until the next run replaces them. With preflight.only the chart renders the preflight alone.
Argo CD runs pre-install hooks as PreSync hooks on every sync, while the group holds the GPUs: turn the
preflight off in the Application's values once the group is up.
*/}}

{{- define "mnc.preflightName" -}}
{{- printf "%s-preflight" (include "mnc.fullname" .) -}}
{{- end -}}

{{/* True (non-empty) unless preflight.only: whether the serving objects are rendered. */}}
{{- define "mnc.servingEnabled" -}}
{{- include "mnc.applyGlobals" . -}}
{{- if not (and .Values.preflight .Values.preflight.only) -}}true{{- end -}}
{{- end -}}

{{/* Takes (dict "root" $ "weight" "-5"). */}}
{{- define "mnc.preflightHookAnnotations" -}}
helm.sh/hook: {{ ternary "pre-install,pre-upgrade" "pre-install" .root.Values.preflight.onUpgrade }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}

{{- define "mnc.preflightLabels" -}}
{{ include "mnc.selectorLabels" . }}
app.kubernetes.io/component: preflight
{{- end -}}

{{/* The preflight's NCCL environment: the profile's, with NCCL_DEBUG forced to INFO for the log reader. */}}
{{- define "mnc.preflightEnv" -}}
{{- $v := .Values -}}
{{- $p := $v.preflight -}}
- name: PREFLIGHT_FABRIC_PROFILE
  value: {{ $v.fabric.profile | quote }}
- name: PREFLIGHT_NODES
  value: {{ $v.topology.podsPerGroup | quote }}
- name: PREFLIGHT_PROCESSES_PER_NODE
  value: {{ $v.topology.gpusPerPod | quote }}
- name: PREFLIGHT_NODE_RANK
  valueFrom:
    fieldRef:
      fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
- name: PREFLIGHT_MASTER_ADDRESS
  value: {{ printf "%s-0.%s.%s.svc" (include "mnc.preflightName" .) (include "mnc.preflightName" .) .Release.Namespace | quote }}
- name: PREFLIGHT_PORT
  value: {{ $p.port | quote }}
- name: PREFLIGHT_MAX_BYTES
  value: {{ $p.maxMessageBytes | int64 | toString | quote }}
- name: PREFLIGHT_ITERATIONS
  value: {{ $p.iterations | quote }}
- name: PREFLIGHT_WARMUP_ITERATIONS
  value: {{ $p.warmupIterations | quote }}
- name: PREFLIGHT_MIN_BUSBW_GBPS
  value: {{ $p.minBusBandwidthGBps | toString | quote }}
- name: PREFLIGHT_REQUIRE_GPUDIRECT
  value: {{ $p.requireGpuDirect | toString | quote }}
{{- range (include "mnc.ncclEnv" . | fromYamlArray) }}
{{- if ne .name "NCCL_DEBUG" }}
- {{ toYaml . | nindent 2 | trim }}
{{- end }}
{{- end }}
- name: NCCL_DEBUG
  value: INFO
{{- range $v.extraEnv }}
{{- if not (has .name (list "NCCL_DEBUG" "NCCL_DEBUG_FILE")) }}
- {{ toYaml . | nindent 2 | trim }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Headless Service for the preflight pods' DNS names (the rendezvous is index 0). No ports: DNS only. */}}
{{- define "mnc.preflightService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mnc.preflightName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    app.kubernetes.io/component: preflight
  annotations:
    {{- include "mnc.preflightHookAnnotations" (dict "root" . "weight" "-10") | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "mnc.preflightLabels" . | nindent 4 }}
{{- end -}}

{{- define "mnc.preflightJob" -}}
{{- $v := .Values -}}
{{- $p := $v.preflight -}}
{{- $size := int $v.topology.podsPerGroup -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "mnc.preflightName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    app.kubernetes.io/component: preflight
  annotations:
    {{- include "mnc.preflightHookAnnotations" (dict "root" . "weight" "-5") | nindent 4 }}
spec:
  completionMode: Indexed
  completions: {{ $size }}
  parallelism: {{ $size }}
  backoffLimit: 0
  activeDeadlineSeconds: {{ $p.timeoutSeconds }}
  template:
    metadata:
      labels:
        {{- include "mnc.preflightLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- include "mnc.podAnnotations" . | nindent 6 }}
    spec:
      restartPolicy: Never
      subdomain: {{ include "mnc.preflightName" . }}
      {{- include "mnc.automountToken" . | nindent 6 }}
      {{- include "mnc.podSecurityContext" . | nindent 6 }}
      {{- include "mnc.imagePullSecrets" . | nindent 6 }}
      {{- include "mnc.podPlacement" . | nindent 6 }}
      containers:
        - name: preflight
          image: {{ (ternary (include "mnc.registryImage" (dict "root" . "image" (printf "%s:%s" $p.image.repository $p.image.tag))) (include "mnc.image" .) (ne $p.image.repository "")) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          command:
            - python3
            - -c
            - {{ include "mnc.preflightScript" . | quote }}
          env:
            {{- include "mnc.preflightEnv" . | nindent 12 }}
            {{- with include "mnc.identityEnv" . }}
            {{- . | nindent 12 }}
            {{- end }}
          ports:
            - name: rendezvous
              containerPort: {{ $p.port }}
              protocol: TCP
          resources:
            {{- include "mnc.resources" . | nindent 12 }}
          {{- include "mnc.containerSecurityContext" (dict "root" . "engine" true) | nindent 10 }}
          volumeMounts:
            {{- include "mnc.shmVolumeMount" . | nindent 12 }}
            {{- with include "mnc.writableMounts" . }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "mnc.shmVolume" . | nindent 8 }}
        {{- with include "mnc.writableVolumes" . }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}

{{- define "mnc.preflight" -}}
{{- include "mnc.applyGlobals" . -}}
{{- if .Values.preflight.enabled -}}
{{ include "mnc.preflightService" . }}
---
{{ include "mnc.preflightNetworkPolicy" . }}
---
{{ include "mnc.preflightJob" . }}
{{- else if .Values.preflight.only -}}
{{- fail "preflight.only renders the preflight alone, but preflight.enabled is false; set preflight.enabled=true" -}}
{{- end -}}
{{- end -}}
