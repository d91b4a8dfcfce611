{{/*
NCCL environment per fabric profile. Each profile is a fixed set of variables:
  infiniband  IB verbs between nodes, GPUDirect RDMA at fabric.gdrLevel, HCAs from fabric.ibHca
  roce        as infiniband, plus the RoCE v2 GID index (fabric.gidIndex)
  ethernet    TCP sockets only: IB transport disabled, socket transport forced
  nvlink      one node: no network transport, peer-to-peer over NVLink
The socket interface is fabric.multus.interface when a Multus secondary network carries NCCL's traffic,
else fabric.socketInterface. Variables in fabric.env replace the profile's value of the same name; names given in extraEnv are left
out here, so a user-given variable always wins and no name appears twice.
*/}}

{{/* The profile's variables as a dict (name -> string value). */}}
{{- define "mnc.ncclProfileEnv" -}}
{{- $f := .Values.fabric -}}
{{- $env := dict "NCCL_DEBUG" $f.ncclDebug -}}
{{- with $f.ncclDebugSubsys }}{{ $_ := set $env "NCCL_DEBUG_SUBSYS" . }}{{ end -}}
{{- $ifname := $f.socketInterface -}}
{{- with $f.multus }}{{ with .interface }}{{ $ifname = . }}{{ end }}{{ end -}}
{{- if eq $f.profile "infiniband" -}}
{{- $_ := set $env "NCCL_IB_DISABLE" "0" -}}
{{- $_ := set $env "NCCL_IB_HCA" $f.ibHca -}}
{{- $_ := set $env "NCCL_NET_GDR_LEVEL" $f.gdrLevel -}}
{{- $_ := set $env "NCCL_SOCKET_IFNAME" $ifname -}}
{{- $_ := set $env "GLOO_SOCKET_IFNAME" $ifname -}}
{{- else if eq $f.profile "roce" -}}
{{- $_ := set $env "NCCL_IB_DISABLE" "0" -}}
{{- $_ := set $env "NCCL_IB_HCA" $f.ibHca -}}
{{- $_ := set $env "NCCL_IB_GID_INDEX" (toString $f.gidIndex) -}}
{{- $_ := set $env "NCCL_NET_GDR_LEVEL" $f.gdrLevel -}}
{{- $_ := set $env "NCCL_SOCKET_IFNAME" $ifname -}}
{{- $_ := set $env "GLOO_SOCKET_IFNAME" $ifname -}}
{{- else if eq $f.profile "ethernet" -}}
{{- $_ := set $env "NCCL_IB_DISABLE" "1" -}}
{{- $_ := set $env "NCCL_NET" "Socket" -}}
{{- $_ := set $env "NCCL_SOCKET_IFNAME" $ifname -}}
{{- $_ := set $env "GLOO_SOCKET_IFNAME" $ifname -}}
{{- else if eq $f.profile "nvlink" -}}
{{- $_ := set $env "NCCL_IB_DISABLE" "1" -}}
{{- $_ := set $env "NCCL_P2P_LEVEL" "NVL" -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* Names that extraEnv sets, as a list. */}}
{{- define "mnc.extraEnvNames" -}}
{{- $names := list -}}
{{- range .Values.extraEnv -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}

{{/* NCCL env entries for a container: profile, then fabric.env on top, minus names set in extraEnv. */}}
{{- define "mnc.ncclEnv" -}}
{{- $env := merge (deepCopy (.Values.fabric.env | default dict)) (include "mnc.ncclProfileEnv" . | fromYaml) -}}
{{- $taken := include "mnc.extraEnvNames" . | fromYamlArray -}}
{{- $entries := list -}}
{{- range $name, $value := $env -}}
{{- if not (has $name $taken) -}}
{{- $entries = append $entries (dict "name" $name "value" (toString $value)) -}}
{{- end -}}
{{- end -}}
{{- with $entries -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}
