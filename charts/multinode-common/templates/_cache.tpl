{{/*
The model cache, mounted at cache.mountPath on the leader and on every worker, under the same name,
so every pod of a group sees the same files at the same path. cache.type chooses the volume:
  pvc            a new ReadWriteMany claim made by this chart, shared by every pod of every group
  existingClaim  a claim that already exists (ReadWriteMany for a shared cache)
  nfs            an NFS export, mounted directly
  hostPath       a directory on each node (pre-loaded by the platform)
  emptyDir       scratch space per pod: each pod downloads the model itself
  perPodClaim    one claim per pod through LeaderWorkerSet volumeClaimTemplates (local NVMe)
*/}}

{{- define "mnc.cacheClaimName" -}}
{{- printf "%s-model-cache" (include "mnc.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The pod volume; empty for perPodClaim, whose volume comes from the claim template. */}}
{{- define "mnc.cacheVolume" -}}
{{- $c := .Values.cache -}}
{{- if eq $c.type "pvc" -}}
- name: model-cache
  persistentVolumeClaim:
    claimName: {{ include "mnc.cacheClaimName" . }}
{{- else if eq $c.type "existingClaim" -}}
- name: model-cache
  persistentVolumeClaim:
    claimName: {{ $c.existingClaim.name | quote }}
{{- else if eq $c.type "nfs" -}}
- name: model-cache
  nfs:
    server: {{ $c.nfs.server | quote }}
    path: {{ $c.nfs.path | quote }}
    readOnly: {{ $c.nfs.readOnly }}
{{- else if eq $c.type "hostPath" -}}
- name: model-cache
  hostPath:
    path: {{ $c.hostPath.path | quote }}
    type: {{ $c.hostPath.type }}
{{- else if eq $c.type "emptyDir" -}}
- name: model-cache
  {{- with $c.emptyDir.sizeLimit }}
  emptyDir:
    sizeLimit: {{ . | quote }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- else if ne $c.type "perPodClaim" -}}
{{- fail (printf "cache.type: unknown cache type %q; choose one of pvc, existingClaim, nfs, hostPath, emptyDir, perPodClaim" $c.type) }}
{{- end }}
{{- end -}}

{{- define "mnc.cacheVolumeMount" -}}
- name: model-cache
  mountPath: {{ .Values.cache.mountPath | quote }}
  {{- if and (eq .Values.cache.type "nfs") .Values.cache.nfs.readOnly }}
  readOnly: true
  {{- end }}
{{- end -}}

{{/* The shared ReadWriteMany claim for cache.type pvc. */}}
{{- define "mnc.cacheClaim" -}}
{{- if eq .Values.cache.type "pvc" -}}
{{- $p := .Values.cache.pvc -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "mnc.cacheClaimName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mnc.labels" . | nindent 4 }}
  {{- if $p.keep }}
  annotations:
    helm.sh/resource-policy: keep
  {{- end }}
spec:
  accessModes:
    - ReadWriteMany
  {{- if $p.storageClassName }}
  storageClassName: {{ $p.storageClassName | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ $p.size | quote }}
{{- end -}}
{{- end -}}

{{/* LeaderWorkerSet volumeClaimTemplates for cache.type perPodClaim: one claim per pod. */}}
{{- define "mnc.cacheClaimTemplates" -}}
{{- if eq .Values.cache.type "perPodClaim" -}}
{{- $p := .Values.cache.perPodClaim -}}
- metadata:
    name: model-cache
  spec:
    accessModes:
      - ReadWriteOnce
    {{- if $p.storageClassName }}
    storageClassName: {{ $p.storageClassName | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ $p.size | quote }}
{{- end -}}
{{- end -}}
