{{/*
Image pre-pull: a DaemonSet on the group's nodes (nodeSelector, placement.gpuProduct, tolerations, node
affinity) whose init container is the engine image doing nothing, so the kubelet pulls it before a
group needs it; a pause container then keeps the pod (and so the image) in place. It requests no GPU.
*/}}

{{- define "mnc.prepull" -}}
{{- $v := .Values -}}
{{- if $v.prepull.enabled -}}
{{- $p := $v.prepull -}}
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ printf "%s-prepull" (include "mnc.fullname" .) }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
    app.kubernetes.io/component: prepull
spec:
  selector:
    matchLabels:
      {{- include "mnc.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: prepull
  template:
    metadata:
      labels:
        {{- include "mnc.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: prepull
    spec:
      automountServiceAccountToken: false
      {{- include "mnc.podSecurityContext" . | nindent 6 }}
      {{- include "mnc.imagePullSecrets" . | nindent 6 }}
      {{- include "mnc.nodeSelector" . | nindent 6 }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ($v.affinity | default dict).nodeAffinity }}
      affinity:
        nodeAffinity:
          {{- toYaml . | nindent 10 }}
      {{- end }}
      initContainers:
        - name: pull-engine-image
          image: {{ include "mnc.image" . | quote }}
          imagePullPolicy: IfNotPresent
          command:
            - sh
            - -c
            - "true"
          {{- include "mnc.containerSecurityContext" (dict "root" . "engine" false) | nindent 10 }}
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              cpu: 100m
              memory: 64Mi
      containers:
        - name: hold
          image: {{ include "mnc.registryImage" (dict "root" . "image" (printf "%s:%s" $p.pauseImage.repository $p.pauseImage.tag)) | quote }}
          {{- include "mnc.containerSecurityContext" (dict "root" . "engine" false) | nindent 10 }}
          resources:
            requests:
              cpu: 1m
              memory: 8Mi
            limits:
              cpu: 10m
              memory: 16Mi
{{- end -}}
{{- end -}}
