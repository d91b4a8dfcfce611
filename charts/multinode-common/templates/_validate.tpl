{{/*
Render-time guards for what the values schema cannot express. Each message names the values involved
and, where there is arithmetic, shows it. Engine charts call "mnc.validate" once from their workload.
*/}}

{{- define "mnc.validate" -}}
{{- include "mnc.applyGlobals" . -}}
{{- include "mnc.validateTopology" . -}}
{{- include "mnc.validateModelShape" . -}}
{{- include "mnc.validateWorkload" . -}}
{{- include "mnc.validateIntegration" . -}}
{{- include "mnc.validateGroupPolicy" . -}}
{{- include "mnc.validateFabric" . -}}
{{- include "mnc.validateCache" . -}}
{{- include "mnc.validateResources" . -}}
{{- include "mnc.validateNames" . -}}
{{- include "mnc.validateExtraArgs" . -}}
{{- end -}}

{{/* For engines that name the model in model.name (the NIM chart takes it from the image or model.path). */}}
{{- define "mnc.validateModel" -}}
{{- if not .Values.model.name -}}
{{- fail "model.name: no model given; set model.name to the model to serve (a Hugging Face repository id such as meta-llama/Llama-3.1-405B-Instruct, or a path inside cache.mountPath)" -}}
{{- end -}}
{{- end -}}

{{/* LeaderReady holds the workers back until the leader is ready, but the leader is ready only once the workers have joined Ray. */}}
{{- define "mnc.validateGroupPolicy" -}}
{{- if and (include "mnc.isMultiPod" .) (eq .Values.group.startupPolicy "LeaderReady") -}}
{{- fail (printf "group.startupPolicy: LeaderReady with podsPerGroup %d deadlocks: the workers are created only after the leader is ready, and the leader becomes ready only after the workers have joined its Ray cluster; use LeaderCreated" (int .Values.topology.podsPerGroup)) -}}
{{- end -}}
{{- end -}}

{{- define "mnc.validateFabric" -}}
{{- $profile := .Values.fabric.profile -}}
{{- if not (has $profile (list "infiniband" "roce" "ethernet" "nvlink")) -}}
{{- fail (printf "fabric.profile: unknown profile %q; choose one of infiniband, roce, ethernet, nvlink" $profile) -}}
{{- end -}}
{{- if and (eq $profile "nvlink") (include "mnc.isMultiPod" .) -}}
{{- fail (printf "fabric.profile: nvlink carries traffic inside one node only, but topology.podsPerGroup is %d; choose infiniband, roce or ethernet for a group that spans nodes" (int .Values.topology.podsPerGroup)) -}}
{{- end -}}
{{- end -}}

{{- define "mnc.validateCache" -}}
{{- $c := .Values.cache -}}
{{- if and (eq $c.type "existingClaim") (not $c.existingClaim.name) -}}
{{- fail "cache.existingClaim.name: cache.type is existingClaim but no claim name is given" -}}
{{- end -}}
{{- if and (eq $c.type "nfs") (or (not $c.nfs.server) (not $c.nfs.path)) -}}
{{- fail "cache.nfs.server, cache.nfs.path: cache.type is nfs but the server or the export path is empty" -}}
{{- end -}}
{{- if and (eq $c.type "hostPath") (not $c.hostPath.path) -}}
{{- fail "cache.hostPath.path: cache.type is hostPath but no path is given" -}}
{{- end -}}
{{- end -}}

{{/* The GPU count comes from topology.gpusPerPod alone, so it cannot disagree with the parallel layout. */}}
{{- define "mnc.validateResources" -}}
{{- $gpu := .Values.topology.gpuResourceName -}}
{{- range $kind := list "requests" "limits" -}}
{{- if hasKey (index $.Values.resources $kind | default dict) $gpu -}}
{{- fail (printf "resources.%s.%s: the GPU count is set by topology.gpusPerPod; remove it from resources" $kind $gpu) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* What only the LeaderWorkerSet kind can do. */}}
{{- define "mnc.validateWorkload" -}}
{{- if include "mnc.isIndexedJob" . -}}
{{- if eq .Values.cache.type "perPodClaim" -}}
{{- fail "cache.type: perPodClaim needs LeaderWorkerSet volumeClaimTemplates, which workload.kind IndexedJob does not have; use hostPath for a per-node local volume, or a shared claim (pvc, existingClaim, nfs)" -}}
{{- end -}}
{{- if .Values.group.exclusiveTopology -}}
{{- fail "group.exclusiveTopology: the exclusive-topology annotation is read by the LeaderWorkerSet controller only; with workload.kind IndexedJob place the group with affinity instead" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Fabric attachments, subgroups, autoscaling and monitoring: combinations the schema cannot refuse. */}}
{{- define "mnc.validateIntegration" -}}
{{- $v := .Values -}}
{{- if and $v.fabric.multus.interface (not $v.fabric.multus.networks) -}}
{{- fail (printf "fabric.multus.interface: %q is the interface of a Multus secondary network, but fabric.multus.networks is empty; name the NetworkAttachmentDefinition(s) there" $v.fabric.multus.interface) -}}
{{- end -}}
{{- if eq (int $v.server.port) (int $v.ray.port) -}}
{{- fail (printf "server.port %d is ray.port: the API port would expose the Ray head (GCS) through the leader Service; choose another port" (int $v.server.port)) -}}
{{- end -}}
{{- if and $v.preflight.enabled (eq (int $v.server.port) (int $v.preflight.port)) -}}
{{- fail (printf "server.port %d is preflight.port, the torch rendezvous port of the preflight; choose another port" (int $v.server.port)) -}}
{{- end -}}
{{- /*
Ports of Ray and torch.distributed that no Service may carry (the exposure invariant's list,
tools/inference_charts/invariants.py RAY_AND_NCCL_PORTS): ray.port (GCS), 10001 (Ray client server),
8265 and 52365 (Ray dashboard and its agent: ray-project/ray ray-2.60.0 python/ray/_private/ray_constants.py
DEFAULT_DASHBOARD_PORT, DEFAULT_DASHBOARD_AGENT_LISTEN_PORT; ray_client_server_port 10001 in
python/ray/_private/parameter.py) and 29500 (torch.distributed's default MASTER_PORT).
*/ -}}
{{- $internal := list (int $v.ray.port) 10001 8265 52365 29500 -}}
{{- range $key, $port := dict "server.port" $v.server.port "service.port" $v.service.port -}}
{{- if has (int $port) $internal -}}
{{- fail (printf "%s %d is a Ray or torch.distributed port (ray.port %d, 10001, 8265, 52365, 29500), which the leader Service would expose; choose another port" $key (int $port) (int $v.ray.port)) -}}
{{- end -}}
{{- end -}}
{{- $sub := int $v.group.subGroupPolicy.subGroupSize -}}
{{- if gt $sub 0 -}}
{{- $size := int $v.topology.podsPerGroup -}}
{{- $members := ternary (sub $size 1) $size (eq $v.group.subGroupPolicy.type "LeaderExcluded") -}}
{{- if include "mnc.isIndexedJob" . -}}
{{- fail "group.subGroupPolicy.subGroupSize: subgroups are a LeaderWorkerSet feature; workload.kind IndexedJob has none" -}}
{{- end -}}
{{- if or (gt $sub $size) (ne (mod $members $sub) 0) -}}
{{- fail (printf "group.subGroupPolicy.subGroupSize: %d does not divide the %d pods it splits (podsPerGroup %d, type %s)" $sub $members $size $v.group.subGroupPolicy.type) -}}
{{- end -}}
{{- end -}}
{{- $a := $v.autoscaling -}}
{{- if $a.enabled -}}
{{- if include "mnc.isIndexedJob" . -}}
{{- fail "autoscaling.enabled: autoscaling scales LeaderWorkerSet groups through their scale subresource; workload.kind IndexedJob has none" -}}
{{- end -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas %d is above autoscaling.maxReplicas %d" (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.metrics.serviceMonitor.enabled $v.metrics.podMonitor.enabled -}}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled: choose one, or Prometheus scrapes every leader twice" -}}
{{- end -}}
{{- end -}}
