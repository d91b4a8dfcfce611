{{/*
/dev/shm for NCCL and PyTorch: a memory-backed emptyDir with an explicit size limit on every pod of the
group. Container runtimes give 64 MiB by default, which makes NCCL hang or crash on multi-GPU pods.
*/}}

{{- define "mnc.shmVolume" -}}
- name: dshm
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.sharedMemory.sizeLimit | quote }}
{{- end -}}

{{- define "mnc.shmVolumeMount" -}}
- name: dshm
  mountPath: /dev/shm
{{- end -}}
