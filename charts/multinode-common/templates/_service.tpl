{{/*
Exposure. Only the leader of each group serves the engine's API, so the Service selects the leader
through LeaderWorkerSet's worker-index label ("0" is the leader) and this chart's role label, or
through the Job's completion-index label for the Indexed Job kind. It carries
the API port alone: Ray and NCCL ports stay on LeaderWorkerSet's own headless Service.
*/}}

{{/*
Labels that pick exactly the leader pods of this release: LeaderWorkerSet's worker-index "0" with the
leader role label, or, for Indexed Jobs (one template for every pod), the completion-index label "0".
*/}}
{{- define "mnc.leaderSelector" -}}
{{ include "mnc.selectorLabels" . }}
{{- if include "mnc.isIndexedJob" . }}
{{ include "mnc.roleLabel" (dict "role" "member") }}
batch.kubernetes.io/job-completion-index: "0"
{{- else }}
{{ include "mnc.roleLabel" (dict "role" "leader") }}
leaderworkerset.sigs.k8s.io/worker-index: "0"
{{- end }}
{{- end -}}

{{/* Marks the leader-only Service among the release's Services (a ServiceMonitor selects by it). */}}
{{- define "mnc.apiServiceLabel" -}}
app.kubernetes.io/component: api
{{- end -}}

{{- define "mnc.leaderService" -}}
{{- $s := .Values.service -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    {{- include "mnc.apiServiceLabel" . | nindent 4 }}
  {{- with $s.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $s.type }}
  selector:
    {{- include "mnc.leaderSelector" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $s.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "mnc.ingress" -}}
{{- $i := .Values.ingress -}}
{{- if $i.enabled -}}
{{- $timeout := toString $i.proxyTimeoutSeconds -}}
{{- $annotations := merge (deepCopy ($i.annotations | default dict)) (dict
    "nginx.ingress.kubernetes.io/proxy-read-timeout" $timeout
    "nginx.ingress.kubernetes.io/proxy-send-timeout" $timeout
    "nginx.ingress.kubernetes.io/proxy-body-size" $i.maxBodySize) -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "mnc.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
  annotations:
    {{- toYaml $annotations | nindent 4 }}
spec:
  {{- with $i.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if $i.tls.secretName }}
  tls:
    - hosts:
        - {{ $i.host | quote }}
      secretName: {{ $i.tls.secretName | quote }}
  {{- end }}
  rules:
    - {{- with $i.host }}
      host: {{ . | quote }}
      {{- end }}
      http:
        paths:
          - path: {{ $i.path | quote }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "mnc.fullname" . }}
                port:
                  name: http
{{- end -}}
{{- end -}}
