"""The corpus of invalid values: each entry must be refused, with a message that names its key.

``layer`` says who refuses it: "schema" (values.schema.json, checked by Helm before rendering) or
"template" (a chart guard that fails the render, for rules a schema cannot express).
``key`` is the dotted path of the offending value; every segment of it must appear in Helm's message,
whatever the Helm version's wording ("/topology/gpusPerPod" or "topology.gpusPerPod").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference_charts.render.merging import deep_merge

BASE_VALUES: dict[str, Any] = {
    "model": {"name": "meta-llama/Llama-3.1-405B-Instruct"},
    "topology": {"replicas": 1, "podsPerGroup": 2, "gpusPerPod": 8, "tensorParallelSize": 8,
                 "pipelineParallelSize": 2},
}

NIM_BASE_VALUES: dict[str, Any] = {
    "image": {"repository": "nvcr.io/nim/deepseek-ai/deepseek-r1", "tag": "2.0.8"},
    "model": {"ngcApiKey": {"secretName": "ngc-api"}},
    "topology": {"replicas": 1, "podsPerGroup": 2, "gpusPerPod": 8, "tensorParallelSize": 16,
                 "pipelineParallelSize": 1},
}

UMBRELLA_BASE_VALUES: dict[str, Any] = {
    "vllm-multinode": {"enabled": True, **BASE_VALUES},
    "nim-multinode": {"enabled": True, **NIM_BASE_VALUES},
}

BASES: dict[str, dict[str, Any]] = {"vllm-multinode": BASE_VALUES, "nim-multinode": NIM_BASE_VALUES,
                                    "multinode-inference": UMBRELLA_BASE_VALUES}


@dataclass(frozen=True)
class BadValues:
    name: str
    chart: str
    layer: str
    key: str
    patch: dict[str, Any]
    also: tuple[str, ...] = ()  # further text the message must hold (the arithmetic, for example)

    def values(self) -> dict[str, Any]:
        merged: dict[str, Any] = deep_merge(BASES[self.chart], self.patch)
        return merged


def _schema(name: str, key: str, patch: dict[str, Any]) -> BadValues:
    return BadValues(name, "vllm-multinode", "schema", key, patch)


def _template(name: str, key: str, patch: dict[str, Any], *also: str) -> BadValues:
    return BadValues(name, "vllm-multinode", "template", key, patch, also)


def _nim_schema(name: str, key: str, patch: dict[str, Any]) -> BadValues:
    return BadValues(f"nim-{name}", "nim-multinode", "schema", key, patch)


def _nim_template(name: str, key: str, patch: dict[str, Any], *also: str) -> BadValues:
    return BadValues(f"nim-{name}", "nim-multinode", "template", key, patch, also)


VLLM_BAD_VALUES: tuple[BadValues, ...] = (
    _schema("gpus-per-pod-string", "topology.gpusPerPod", {"topology": {"gpusPerPod": "8"}}),
    _schema("tensor-parallel-zero", "topology.tensorParallelSize", {"topology": {"tensorParallelSize": 0}}),
    _schema("pods-per-group-huge", "topology.podsPerGroup", {"topology": {"podsPerGroup": 100}}),
    _schema("replicas-negative", "topology.replicas", {"topology": {"replicas": -1}}),
    _schema("unknown-topology-key", "topology.gpus", {"topology": {"gpus": 8}}),
    _schema("unknown-top-level-key", "modle", {"modle": {"name": "x"}}),
    _schema("fabric-profile-unknown", "fabric.profile", {"fabric": {"profile": "omnipath"}}),
    _schema("fabric-gid-index-string", "fabric.gidIndex", {"fabric": {"gidIndex": "three"}}),
    _schema("fabric-gdr-level-unknown", "fabric.gdrLevel", {"fabric": {"gdrLevel": "ALL"}}),
    _schema("fabric-env-bad-name", "fabric.env", {"fabric": {"env": {"bad-name": "1"}}}),
    _schema("fabric-env-number", "fabric.env.NCCL_IB_TIMEOUT", {"fabric": {"env": {"NCCL_IB_TIMEOUT": 22}}}),
    _schema("cache-type-unknown", "cache.type", {"cache": {"type": "s3"}}),
    _schema("cache-size-not-quantity", "cache.pvc.size", {"cache": {"pvc": {"size": "big"}}}),
    _schema("cache-mount-relative", "cache.mountPath", {"cache": {"mountPath": "models"}}),
    _schema("image-tag-latest", "image.tag", {"image": {"tag": "latest"}}),
    _schema("image-digest-malformed", "image.digest", {"image": {"digest": "sha256:xyz"}}),
    _schema("shm-not-quantity", "sharedMemory.sizeLimit", {"sharedMemory": {"sizeLimit": "lots"}}),
    _schema("restart-policy-unknown", "group.restartPolicy", {"group": {"restartPolicy": "Always"}}),
    _schema("startup-policy-unknown", "group.startupPolicy", {"group": {"startupPolicy": "Never"}}),
    _schema("subdomain-policy-unknown", "group.subdomainPolicy", {"group": {"subdomainPolicy": "Unique"}}),
    _schema("gpu-memory-over-one", "model.gpuMemoryUtilization", {"model": {"gpuMemoryUtilization": 1.5}}),
    _schema("max-model-len-negative", "model.maxModelLen", {"model": {"maxModelLen": -1}}),
    _schema("extra-args-not-strings", "model.extraArgs", {"model": {"extraArgs": [{"a": 1}]}}),
    _schema("ray-port-out-of-range", "ray.port", {"ray": {"port": 70000}}),
    _schema("ray-timeout-too-short", "ray.gpuWaitTimeoutSeconds", {"ray": {"gpuWaitTimeoutSeconds": 1}}),
    _schema("service-type-unknown", "service.type", {"service": {"type": "ExternalName"}}),
    _schema("ingress-enabled-string", "ingress.enabled", {"ingress": {"enabled": "yes"}}),
    _schema("startup-budget-too-short", "probes.startup.budgetSeconds", {"probes": {"startup": {"budgetSeconds": 10}}}),
    _schema("extra-env-without-name", "extraEnv", {"extraEnv": [{"value": "x"}]}),
    _schema("name-override-too-long", "nameOverride", {"nameOverride": "n" * 60}),
    _schema("resources-list-value", "resources.requests.cpu", {"resources": {"requests": {"cpu": [1]}}}),
    _schema("global-not-object", "global", {"global": "shared"}),
    _schema("enabled-not-boolean", "enabled", {"enabled": "true"}),
    _schema("gpu-resource-name-empty", "topology.gpuResourceName", {"topology": {"gpuResourceName": ""}}),
    _schema("socket-interface-empty", "fabric.socketInterface", {"fabric": {"socketInterface": ""}}),
    _schema("ib-hca-empty", "fabric.ibHca", {"fabric": {"ibHca": ""}}),
    _schema("nccl-debug-unknown", "fabric.ncclDebug", {"fabric": {"ncclDebug": "LOUD"}}),
    _schema("host-path-type-unknown", "cache.hostPath.type", {"cache": {"hostPath": {"type": "Socket"}}}),
    _schema("nfs-read-only-string", "cache.nfs.readOnly", {"cache": {"nfs": {"readOnly": "yes"}}}),
    _schema("empty-dir-size-not-quantity", "cache.emptyDir.sizeLimit", {"cache": {"emptyDir": {"sizeLimit": "1 TB"}}}),
    _schema("pull-policy-unknown", "image.pullPolicy", {"image": {"pullPolicy": "Sometimes"}}),
    _schema("pull-secret-not-string", "imagePullSecrets", {"imagePullSecrets": [{"name": "regcred"}]}),
    _schema("hf-token-key-empty", "model.hfToken.secretKey", {"model": {"hfToken": {"secretKey": ""}}}),
    _schema("server-port-zero", "server.port", {"server": {"port": 0}}),
    _schema("ingress-path-relative", "ingress.path", {"ingress": {"path": "v1"}}),
    _schema("ingress-body-size-malformed", "ingress.maxBodySize", {"ingress": {"maxBodySize": "64 MB"}}),
    _schema("readiness-threshold-zero", "probes.readiness.failureThreshold",
            {"probes": {"readiness": {"failureThreshold": 0}}}),
    _schema("grace-period-negative", "terminationGracePeriodSeconds", {"terminationGracePeriodSeconds": -5}),
    _schema("tolerations-not-list", "tolerations", {"tolerations": {"key": "gpu"}}),
    _schema("pod-label-number", "podLabels.team", {"podLabels": {"team": 7}}),
    _schema("exclusive-topology-malformed", "group.exclusiveTopology", {"group": {"exclusiveTopology": "rack name"}}),
    _schema("rollout-surge-malformed", "group.rollout.maxSurge", {"group": {"rollout": {"maxSurge": "lots"}}}),
    _schema("library-values-set", "multinode-common", {"multinode-common": {"x": 1}}),
    _template("tp-pp-below-gpus", "topology", {"topology": {"pipelineParallelSize": 1}},
              "tensorParallelSize x pipelineParallelSize = 8 x 1 = 8", "gpusPerPod x podsPerGroup = 8 x 2 = 16"),
    _template("tp-pp-above-gpus", "topology", {"topology": {"tensorParallelSize": 16}},
              "16 x 2 = 32", "8 x 2 = 16"),
    _template("leader-ready-with-ray", "group.startupPolicy", {"group": {"startupPolicy": "LeaderReady"}},
              "deadlocks"),
    _template("nvlink-across-nodes", "fabric.profile", {"fabric": {"profile": "nvlink"}}, "podsPerGroup is 2"),
    _template("no-model", "model.name", {"model": {"name": ""}}),
    _template("existing-claim-unnamed", "cache.existingClaim.name", {"cache": {"type": "existingClaim"}}),
    _template("nfs-without-server", "cache.nfs.server", {"cache": {"type": "nfs", "nfs": {"path": "/m"}}}),
    _template("host-path-empty", "cache.hostPath.path", {"cache": {"type": "hostPath"}}),
    _template("gpus-in-resources", "resources.limits", {"resources": {"limits": {"nvidia.com/gpu": "4"}}},
              "topology.gpusPerPod"),
    _schema("workload-kind-unknown", "workload.kind", {"workload": {"kind": "StatefulSet"}}),
    _schema("job-backoff-negative", "workload.indexedJob.backoffLimit",
            {"workload": {"indexedJob": {"backoffLimit": -1}}}),
    _schema("smoke-test-tag-latest", "smokeTest.image.tag", {"smokeTest": {"image": {"tag": "latest"}}}),
    _schema("smoke-test-max-tokens-zero", "smokeTest.maxTokens", {"smokeTest": {"maxTokens": 0}}),
    _schema("rdma-resource-malformed", "fabric.rdma.resourceName",
            {"fabric": {"rdma": {"resourceName": "rdma shared"}}}),
    _schema("rdma-count-zero", "fabric.rdma.count", {"fabric": {"rdma": {"count": 0}}}),
    _schema("multus-interface-malformed", "fabric.multus.interface", {"fabric": {"multus": {"interface": "net 1"}}}),
    _schema("nccl-debug-subsys-malformed", "fabric.ncclDebugSubsys", {"fabric": {"ncclDebugSubsys": "INIT NET"}}),
    _schema("sub-group-type-unknown", "group.subGroupPolicy.type", {"group": {"subGroupPolicy": {"type": "Leader"}}}),
    _schema("spread-not-list", "placement.topologySpreadConstraints",
            {"placement": {"topologySpreadConstraints": {"maxSkew": 1}}}),
    _schema("placement-unknown-key", "placement.nodeName", {"placement": {"nodeName": "gpu-1"}}),
    _schema("run-as-user-string", "securityContext.runAsUser", {"securityContext": {"runAsUser": "1000"}}),
    _schema("openshift-string", "securityContext.openshift", {"securityContext": {"openshift": "yes"}}),
    _schema("metrics-path-relative", "metrics.path", {"metrics": {"path": "metrics"}}),
    _schema("monitor-interval-malformed", "metrics.serviceMonitor.interval",
            {"metrics": {"serviceMonitor": {"interval": "30 seconds"}}}),
    _schema("monitor-label-number", "metrics.podMonitor.labels.release",
            {"metrics": {"podMonitor": {"labels": {"release": 1}}}}),
    _schema("autoscaling-kind-unknown", "autoscaling.kind", {"autoscaling": {"kind": "vpa"}}),
    _schema("autoscaling-max-zero", "autoscaling.maxReplicas", {"autoscaling": {"maxReplicas": 0}}),
    _schema("hpa-metric-with-colon", "autoscaling.hpaMetricName",
            {"autoscaling": {"hpaMetricName": "vllm:num_requests_waiting"}}),
    _schema("keda-server-not-url", "autoscaling.keda.serverAddress",
            {"autoscaling": {"keda": {"serverAddress": "prometheus:9090"}}}),
    _schema("prepull-pause-latest", "prepull.pauseImage.tag", {"prepull": {"pauseImage": {"tag": "latest"}}}),
    _template("multus-interface-without-network", "fabric.multus.interface",
              {"fabric": {"multus": {"interface": "net1"}}}, "fabric.multus.networks"),
    _template("sub-group-not-dividing", "group.subGroupPolicy.subGroupSize",
              {"group": {"subGroupPolicy": {"subGroupSize": 3}}}, "does not divide"),
    _template("sub-group-on-job", "group.subGroupPolicy.subGroupSize",
              {"workload": {"kind": "IndexedJob"}, "group": {"subGroupPolicy": {"subGroupSize": 1}}}, "IndexedJob"),
    _template("autoscaling-min-above-max", "autoscaling.minReplicas",
              {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 2}}, "autoscaling.maxReplicas"),
    _template("autoscaling-on-job", "autoscaling.enabled",
              {"autoscaling": {"enabled": True}, "workload": {"kind": "IndexedJob"}}, "IndexedJob"),
    _template("two-monitors", "metrics.serviceMonitor.enabled",
              {"metrics": {"serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True}}},
              "metrics.podMonitor.enabled"),
    _template("job-with-per-pod-claims", "cache.type",
              {"workload": {"kind": "IndexedJob"}, "cache": {"type": "perPodClaim"}}, "IndexedJob"),
    _template("job-with-exclusive-topology", "group.exclusiveTopology",
              {"workload": {"kind": "IndexedJob"}, "group": {"exclusiveTopology": "topology.kubernetes.io/zone"}}),
)

#: NIM: the parallel layout from exactly one place, JSON logging off across pods, credentials by reference.
NIM_BAD_VALUES: tuple[BadValues, ...] = (
    _nim_template("profile-and-tp-pp", "model.profile", {"model": {"profile": "vllm-bf16-tp16-pp1"}},
                  "topology.tensorParallelSize", "not both"),
    _nim_template("neither-profile-nor-tp-pp", "model.profile",
                  {"topology": {"tensorParallelSize": 0, "pipelineParallelSize": 0}},
                  "topology.tensorParallelSize", "topology.pipelineParallelSize"),
    _nim_template("tp-without-pp", "topology", {"topology": {"pipelineParallelSize": 0}}, "at least 1"),
    _nim_template("profile-layout-mismatch", "model.profile",
                  {"topology": {"tensorParallelSize": 0, "pipelineParallelSize": 0},
                   "model": {"profile": "vllm-bf16-tp8-pp1"}}, "tp8 x pp1 = 8", "8 x 2 = 16"),
    _nim_template("tp-pp-below-gpus", "topology", {"topology": {"tensorParallelSize": 8}}, "8 x 1 = 8"),
    _nim_template("model-free-without-path", "model.path",
                  {"image": {"repository": "nvcr.io/nim/nvidia/model-free-nim"}}, "model-free"),
    _nim_template("job-with-per-pod-claims", "cache.type",
                  {"workload": {"kind": "IndexedJob"}, "cache": {"type": "perPodClaim"}}),
    _nim_schema("json-logging-across-pods", "model.jsonLogging", {"model": {"jsonLogging": True}}),
    _nim_schema("json-logging-string", "model.jsonLogging", {"model": {"jsonLogging": "false"}}),
    _nim_schema("profile-with-spaces", "model.profile", {"model": {"profile": "tp 8"}}),
    _nim_schema("ngc-key-literal", "model.ngcApiKey", {"model": {"ngcApiKey": "nvapi-abc"}}),
    _nim_schema("ngc-key-inline-value", "model.ngcApiKey.value", {"model": {"ngcApiKey": {"value": "nvapi-abc"}}}),
    _nim_schema("hf-token-literal", "model.hfToken", {"model": {"hfToken": "hf_abc"}}),
    _nim_schema("log-level-unknown", "model.logLevel", {"model": {"logLevel": "TRACE"}}),
    _nim_schema("tensor-parallel-negative", "topology.tensorParallelSize", {"topology": {"tensorParallelSize": -8}}),
    _nim_schema("preload-enabled-string", "cache.preload.enabled", {"cache": {"preload": {"enabled": "yes"}}}),
    _nim_schema("run-as-user-negative", "securityContext.runAsUser", {"securityContext": {"runAsUser": -1}}),
    _nim_schema("workload-kind-unknown", "workload.kind", {"workload": {"kind": "Deployment"}}),
    _nim_schema("unknown-model-key", "model.name", {"model": {"name": "deepseek-r1"}}),
    _nim_schema("image-tag-latest", "image.tag", {"image": {"tag": "latest"}}),
)


def _secure(name: str, key: str, patch: dict[str, Any], layer: str = "schema", *also: str) -> BadValues:
    return BadValues(f"security-{name}", "vllm-multinode", layer, key, patch, also)


def _umbrella(name: str, key: str, patch: dict[str, Any]) -> BadValues:
    return BadValues(f"umbrella-{name}", "multinode-inference", "schema", key, patch)


#: Hardening: credentials in clear text, Ray exposure, pod security, policies and budgets.
SECURITY_BAD_VALUES: tuple[BadValues, ...] = (
    _secure("hf-token-literal-in-extra-env", "extraEnv", {"extraEnv": [{"name": "HF_TOKEN", "value": "hf_abc"}]}),
    _secure("ngc-key-literal-in-extra-env", "extraEnv", {"extraEnv": [{"name": "NGC_API_KEY", "value": "nvapi-x"}]}),
    _secure("aws-secret-literal-in-extra-env", "extraEnv",
            {"extraEnv": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "abc"}]}),
    _secure("password-literal-in-extra-env", "extraEnv", {"extraEnv": [{"name": "DB_PASSWORD", "value": "x"}]}),
    _secure("lowercase-token-literal", "extraEnv", {"extraEnv": [{"name": "hub_token", "value": "x"}]}),
    _secure("api-port-is-ray-port", "server.port", {"server": {"port": 6379}}, "template", "ray.port"),
    _secure("api-port-is-preflight-port", "server.port",
            {"server": {"port": 29500}, "preflight": {"enabled": True}}, "template", "preflight.port"),
    _secure("service-port-string", "service.port", {"service": {"port": "http"}}),
    _secure("run-as-non-root-string", "securityContext.runAsNonRoot", {"securityContext": {"runAsNonRoot": "true"}}),
    _secure("read-only-root-string", "securityContext.readOnlyRootFilesystem",
            {"securityContext": {"readOnlyRootFilesystem": "yes"}}),
    _secure("writable-dir-relative", "securityContext.writableDirs", {"securityContext": {"writableDirs": ["tmp"]}}),
    _secure("token-automount-string", "securityContext.automountServiceAccountToken",
            {"securityContext": {"automountServiceAccountToken": "no"}}),
    _secure("security-unknown-key", "securityContext.privileged", {"securityContext": {"privileged": True}}),
    _secure("fs-group-negative", "securityContext.fsGroup", {"securityContext": {"fsGroup": -1}}),
    _secure("network-policy-string", "networkPolicy.enabled", {"networkPolicy": {"enabled": "on"}}),
    _secure("api-from-not-list", "networkPolicy.apiFrom", {"networkPolicy": {"apiFrom": {"podSelector": {}}}}),
    _secure("metrics-from-strings", "networkPolicy.metricsFrom", {"networkPolicy": {"metricsFrom": ["monitoring"]}}),
    _secure("network-policy-unknown-key", "networkPolicy.egress", {"networkPolicy": {"egress": []}}),
    _secure("pdb-negative", "disruptionBudget.maxUnavailable", {"disruptionBudget": {"maxUnavailable": -1}}),
    _secure("pdb-percentage", "disruptionBudget.maxUnavailable", {"disruptionBudget": {"maxUnavailable": "50%"}}),
    _secure("preflight-enabled-string", "preflight.enabled", {"preflight": {"enabled": "yes"}}),
    _secure("preflight-tiny-message", "preflight.maxMessageBytes", {"preflight": {"maxMessageBytes": 1024}}),
    _secure("preflight-floor-negative", "preflight.minBusBandwidthGBps", {"preflight": {"minBusBandwidthGBps": -1}}),
    _secure("preflight-timeout-short", "preflight.timeoutSeconds", {"preflight": {"timeoutSeconds": 5}}),
    _secure("preflight-image-latest", "preflight.image.tag", {"preflight": {"image": {"tag": "latest"}}}),
    _secure("preflight-only-alone", "preflight.only", {"preflight": {"only": True}}, "template", "preflight.enabled"),
    _secure("ray-poll-zero", "ray.pollSeconds", {"ray": {"pollSeconds": 0}}),
    _secure("head-wait-string", "ray.headWaitTimeoutSeconds", {"ray": {"headWaitTimeoutSeconds": "600"}}),
    _secure("liveness-period-zero", "probes.liveness.periodSeconds", {"probes": {"liveness": {"periodSeconds": 0}}}),
    _secure("grace-period-string", "terminationGracePeriodSeconds", {"terminationGracePeriodSeconds": "60"}),
)

NIM_MORE_BAD_VALUES: tuple[BadValues, ...] = (
    _nim_schema("ngc-key-in-extra-env", "extraEnv", {"extraEnv": [{"name": "NGC_API_KEY", "value": "nvapi-x"}]}),
    _nim_schema("offline-string", "model.offline", {"model": {"offline": "true"}}),
    _nim_schema("served-name-number", "model.servedModelName", {"model": {"servedModelName": 405}}),
    _nim_schema("max-model-len-negative", "model.maxModelLen", {"model": {"maxModelLen": -1}}),
    _nim_schema("extra-args-not-list", "model.extraArgs", {"model": {"extraArgs": "--enforce-eager"}}),
    _nim_schema("ngc-secret-key-empty", "model.ngcApiKey.secretKey", {"model": {"ngcApiKey": {"secretKey": ""}}}),
    _nim_schema("autoscaling-metric-empty", "autoscaling.metric", {"autoscaling": {"metric": ""}}),
    _nim_template("api-port-is-ray-port", "server.port", {"server": {"port": 6379}}, "ray.port"),
    _nim_template("leader-ready-with-ray", "group.startupPolicy", {"group": {"startupPolicy": "LeaderReady"}},
                  "deadlocks"),
    _nim_template("nvlink-across-nodes", "fabric.profile", {"fabric": {"profile": "nvlink"}}),
)

UMBRELLA_BAD_VALUES: tuple[BadValues, ...] = (
    _umbrella("global-fabric-unknown", "global.fabric.profile", {"global": {"fabric": {"profile": "pigeon"}}}),
    _umbrella("global-registry-number", "global.imageRegistry", {"global": {"imageRegistry": 5000}}),
    _umbrella("global-pull-secrets-string", "global.imagePullSecrets", {"global": {"imagePullSecrets": "corp"}}),
    _umbrella("engine-enabled-string", "vllm-multinode.enabled", {"vllm-multinode": {"enabled": "yes"}}),
    _umbrella("unknown-top-level-key", "sglang-multinode", {"sglang-multinode": {"enabled": True}}),
    _umbrella("engine-value-wrong-type", "topology.gpusPerPod", {"vllm-multinode": {"topology": {"gpusPerPod": "8"}}}),
    _umbrella("nim-json-logging-through-umbrella", "model.jsonLogging",
              {"nim-multinode": {"model": {"jsonLogging": True}}}),
)


def _api(name: str, key: str, patch: dict[str, Any], layer: str = "schema", *also: str,
         chart: str = "vllm-multinode") -> BadValues:
    prefix = "nim-" if chart == "nim-multinode" else ""
    return BadValues(f"{prefix}api-{name}", chart, layer, key, patch, also)


def _bad_mount(path: str) -> dict[str, Any]:
    return {"extraVolumes": [{"name": "extra", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "extra", "mountPath": path}]}


#: Issue 14, item 6: values that passed the schema and the guards, then broke the render or the API.
#: null for a value with a default: Helm's coalescing deletes the key, the schema then misses it by name.
NULL_BAD_VALUES: tuple[BadValues, ...] = (
    _api("null-model", "model", {"model": None}),
    _api("null-max-surge", "group.rollout.maxSurge", {"group": {"rollout": {"maxSurge": None}}}),
    _api("null-gpus-per-pod", "topology.gpusPerPod", {"topology": {"gpusPerPod": None}}),
    _api("null-startup-probe", "probes.startup", {"probes": {"startup": None}}),
    _api("null-cache-mount-path", "cache.mountPath", {"cache": {"mountPath": None}}),
    _api("null-extra-args", "model.extraArgs", {"model": {"extraArgs": None}}),
    _api("null-log-level", "model.logLevel", {"model": {"logLevel": None}}, chart="nim-multinode"),
    _api("null-model", "model", {"model": None}, chart="nim-multinode"),
)

#: Strings and numbers the API server refuses (kubernetes/apimachinery pkg/util/validation and
#: kubernetes/kubernetes pkg/apis/core|networking/validation; the schema definitions cite each rule).
API_BAD_VALUES: tuple[BadValues, ...] = (
    _api("name-override-colon", "nameOverride", {"nameOverride": ":"}),
    _api("name-override-upper-case", "nameOverride", {"nameOverride": "Vllm"}),
    _api("fullname-override-digit-first", "fullnameOverride", {"fullnameOverride": "1llm"}),
    _api("fullname-override-dot", "fullnameOverride", {"fullnameOverride": "llm.prod"}),
    _api("gpu-product-space", "placement.gpuProduct", {"placement": {"gpuProduct": "NVIDIA H100 80GB"}}),
    _api("gpu-product-too-long", "placement.gpuProduct", {"placement": {"gpuProduct": "G" * 64}}),
    _api("ingress-host-underscore", "ingress.host", {"ingress": {"enabled": True, "host": "llm_api.example.com"}}),
    _api("ingress-host-ip", "ingress.host", {"ingress": {"enabled": True, "host": "10.0.0.1"}}),
    _api("ingress-tls-secret-upper-case", "ingress.tls.secretName",
         {"ingress": {"enabled": True, "tls": {"secretName": "LLM-Cert"}}}),
    _api("ingress-class-space", "ingress.className", {"ingress": {"enabled": True, "className": "nginx public"}}),
    _api("ingress-path-backstep", "ingress.path", {"ingress": {"enabled": True, "path": "/v1/../admin"}}),
    _api("storage-class-space", "cache.pvc.storageClassName", {"cache": {"pvc": {"storageClassName": "fast ssd"}}}),
    _api("per-pod-storage-class-underscore", "cache.perPodClaim.storageClassName",
         {"cache": {"type": "perPodClaim", "perPodClaim": {"storageClassName": "local_nvme"}}}),
    _api("existing-claim-upper-case", "cache.existingClaim.name",
         {"cache": {"type": "existingClaim", "existingClaim": {"name": "Models"}}}),
    _api("priority-class-space", "placement.priorityClassName", {"placement": {"priorityClassName": "high prio"}}),
    _api("runtime-class-slash", "placement.runtimeClassName", {"placement": {"runtimeClassName": "nvidia/gpu"}}),
    _api("gpu-resource-without-domain", "topology.gpuResourceName", {"topology": {"gpuResourceName": "gpu"}}),
    _api("gpu-resource-kubernetes-io", "topology.gpuResourceName",
         {"topology": {"gpuResourceName": "kubernetes.io/gpu"}}),
    _api("rdma-resource-kubernetes-io", "fabric.rdma.resourceName",
         {"fabric": {"rdma": {"resourceName": "kubernetes.io/rdma"}}}),
    _api("nfs-path-relative", "cache.nfs.path",
         {"cache": {"type": "nfs", "nfs": {"server": "nfs.example.com", "path": "exports/models"}}}),
    _api("host-path-backstep", "cache.hostPath.path",
         {"cache": {"type": "hostPath", "hostPath": {"path": "/data/../etc"}}}),
    _api("run-as-user-above-int32", "securityContext.runAsUser", {"securityContext": {"runAsUser": 2147483648}}),
    _api("run-as-group-above-int32", "securityContext.runAsGroup", {"securityContext": {"runAsGroup": 2**32}}),
    _api("fs-group-above-int32", "securityContext.fsGroup", {"securityContext": {"fsGroup": 2**31}}),
    _api("pull-secret-space", "imagePullSecrets", {"imagePullSecrets": ["registry creds"]}),
    _api("hf-token-secret-underscore", "model.hfToken.secretName", {"model": {"hfToken": {"secretName": "hf_token"}}}),
    _api("hf-token-key-space", "model.hfToken.secretKey",
         {"model": {"hfToken": {"secretName": "hf", "secretKey": "the token"}}}),
    _api("ngc-secret-upper-case", "model.ngcApiKey.secretName", {"model": {"ngcApiKey": {"secretName": "NGC"}}},
         chart="nim-multinode"),
    _api("pod-label-key-space", "podLabels", {"podLabels": {"team name": "llm"}}),
    _api("pod-label-value-space", "podLabels.team", {"podLabels": {"team": "llm serving"}}),
    _api("node-selector-value-too-long", "nodeSelector.pool", {"nodeSelector": {"pool": "p" * 64}}),
    _api("annotation-key-space", "podAnnotations", {"podAnnotations": {"my note": "x"}}),
    _api("monitor-label-value-slash", "metrics.serviceMonitor.labels.release",
         {"metrics": {"serviceMonitor": {"labels": {"release": "kube/prometheus"}}}}),
    _api("image-tag-trailing-space", "image.tag", {"image": {"tag": "v0.12.0 "}}),
    _api("extra-volume-name-upper-case", "extraVolumes", {"extraVolumes": [{"name": "Certs", "emptyDir": {}}]}),
    _api("writable-dirs-twice", "securityContext.writableDirs",
         {"securityContext": {"writableDirs": ["/tmp", "/tmp"]}}),
)

#: A value the chart sets itself, set again through model.extraArgs or extraEnv; two volumes or mounts
#: that take one name or path. Refused by the guards in multinode-common/templates/_validate_api.tpl.
DUPLICATE_BAD_VALUES: tuple[BadValues, ...] = (
    _api("extra-args-tensor-parallel", "model.extraArgs", {"model": {"extraArgs": ["--tensor-parallel-size", "4"]}},
         "template", "topology.tensorParallelSize"),
    _api("extra-args-pipeline-parallel-equals", "model.extraArgs",
         {"model": {"extraArgs": ["--pipeline-parallel-size=1"]}}, "template", "topology.pipelineParallelSize"),
    _api("extra-args-underscore-abbreviation", "model.extraArgs", {"model": {"extraArgs": ["--tensor_parallel", "4"]}},
         "template", "topology.tensorParallelSize"),
    _api("extra-args-short-tp", "model.extraArgs", {"model": {"extraArgs": ["-tp", "16"]}},
         "template", "topology.tensorParallelSize"),
    _api("extra-args-short-pp-glued", "model.extraArgs", {"model": {"extraArgs": ["-pp=1"]}},
         "template", "topology.pipelineParallelSize"),
    _api("extra-args-data-parallel", "model.extraArgs", {"model": {"extraArgs": ["--data-parallel-size", "2"]}},
         "template", "topology.dataParallelSize"),
    _api("extra-args-headless", "model.extraArgs", {"model": {"extraArgs": ["--headless"]}},
         "template", "the chart (every pod but the leader)"),
    _api("extra-args-master-port", "model.extraArgs", {"model": {"extraArgs": ["--master-port=1234"]}},
         "template", "launcher.masterPort"),
    _api("extra-args-expert-parallel", "model.extraArgs", {"model": {"extraArgs": ["-ep"]}},
         "template", "topology.expertParallel"),
    _api("extra-args-port", "model.extraArgs", {"model": {"extraArgs": ["--port", "9000"]}}, "template", "server.port"),
    _api("extra-args-served-model-name", "model.extraArgs", {"model": {"extraArgs": ["--served-model-name=llm"]}},
         "template", "model.servedModelName"),
    _api("extra-args-max-model-len", "model.extraArgs", {"model": {"extraArgs": ["--max-model-len", "8192"]}},
         "template", "model.maxModelLen"),
    _api("extra-args-tensor-parallel", "model.extraArgs", {"model": {"extraArgs": ["--tensor-parallel-size", "8"]}},
         "template", "topology.tensorParallelSize", chart="nim-multinode"),
    _api("extra-args-head-address", "model.extraArgs", {"model": {"extraArgs": ["--head-address", "x:6379"]}},
         "template", "topology.podsPerGroup", chart="nim-multinode"),
    _api("extra-env-hf-home", "extraEnv", {"extraEnv": [{"name": "HF_HOME", "value": "/data"}]}, "template", "HF_HOME"),
    _api("extra-env-ray-variable", "extraEnv", {"extraEnv": [{"name": "MULTINODE_EXPECTED_GPUS", "value": "8"}],
                                                   "launcher": {"kind": "ray"}, "image": {"tag": "v0.12.0"}},
         "template", "MULTINODE_EXPECTED_GPUS"),
    _api("extra-env-pod-ip", "extraEnv", {"extraEnv": [{"name": "POD_IP", "value": "10.0.0.1"}]}, "template", "POD_IP"),
    _api("extra-env-twice", "extraEnv", {"extraEnv": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
         "template"),
    _api("extra-env-nim-layout", "extraEnv", {"extraEnv": [{"name": "NIM_TENSOR_PARALLEL_SIZE", "value": "8"}]},
         "template", "NIM_TENSOR_PARALLEL_SIZE", chart="nim-multinode"),
    _api("extra-mount-at-cache", "extraVolumeMounts", _bad_mount("/models/"), "template", "cache.mountPath"),
    _api("extra-mount-at-shm", "extraVolumeMounts", _bad_mount("/dev/shm"), "template", "/dev/shm"),
    _api("extra-mount-at-writable-dir", "extraVolumeMounts", _bad_mount("/tmp"), "template",
         "securityContext.writableDirs"),
    _api("extra-mounts-same-path", "extraVolumeMounts",
         {"extraVolumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}],
          "extraVolumeMounts": [{"name": "a", "mountPath": "/etc/x"}, {"name": "b", "mountPath": "/etc/x"}]},
         "template"),
    _api("extra-mount-without-volume", "extraVolumeMounts",
         {"extraVolumeMounts": [{"name": "nowhere", "mountPath": "/etc/x"}]}, "template", "extraVolumes"),
    _api("extra-volume-takes-cache-name", "extraVolumes",
         {"extraVolumes": [{"name": "model-cache", "emptyDir": {}}]}, "template", "model-cache"),
    _api("service-port-is-ray-port", "service.port", {"service": {"port": 6379}}, "template", "ray.port"),
    _api("api-port-is-ray-client-port", "server.port", {"server": {"port": 10001}}, "template", "10001"),
    _api("writable-dir-at-cache", "securityContext.writableDirs",
         {"securityContext": {"writableDirs": ["/tmp", "/models"]}}, "template", "cache.mountPath"),
    _api("extra-mount-at-cache", "extraVolumeMounts", _bad_mount("/opt/nim/.cache"), "template", "cache.mountPath",
         chart="nim-multinode"),
)


#: Issue 15: the launchers and the data- and expert-parallel layouts.
_DP2 = {"tensorParallelSize": 8, "pipelineParallelSize": 1, "dataParallelSize": 2}
LAUNCHER_BAD_VALUES: tuple[BadValues, ...] = (
    _schema("launcher-unknown", "launcher.kind", {"launcher": {"kind": "mpi"}}),
    _schema("data-parallel-zero", "topology.dataParallelSize", {"topology": {"dataParallelSize": 0}}),
    _template("data-parallel-product", "topology.dataParallelSize",
              {"topology": {"tensorParallelSize": 8, "pipelineParallelSize": 2, "dataParallelSize": 2}},
              "8 x 2 x 2 = 32", "16"),
    _template("data-parallel-with-pipeline", "topology.pipelineParallelSize",
              {"topology": {"tensorParallelSize": 4, "pipelineParallelSize": 2, "dataParallelSize": 2}},
              "topology.dataParallelSize"),
    _template("data-parallel-uneven-over-pods", "topology.podsPerGroup",
              {"topology": {"podsPerGroup": 4, "gpusPerPod": 4, **_DP2}}, "topology.dataParallelSize"),
    _template("data-parallel-on-ray", "launcher.kind",
              {"launcher": {"kind": "ray"}, "image": {"tag": "v0.12.0"}, "topology": _DP2},
              "topology.dataParallelSize"),
    _template("expert-parallel-dense-model", "topology.modelShape.experts", {"topology": {"expertParallel": True}},
              "topology.expertParallel"),
    _template("expert-parallel-uneven-experts", "topology.modelShape.experts",
              {"topology": {"expertParallel": True, "modelShape": {"experts": 10}}}, "16"),
    _template("ray-launcher-image-without-ray", "ray.imageCarriesRay", {"launcher": {"kind": "ray"}},
              "launcher.kind", "image.tag"),
)


def all_bad_values() -> tuple[BadValues, ...]:
    return (VLLM_BAD_VALUES + NIM_BAD_VALUES + SECURITY_BAD_VALUES + NIM_MORE_BAD_VALUES + UMBRELLA_BAD_VALUES
            + NULL_BAD_VALUES + API_BAD_VALUES + DUPLICATE_BAD_VALUES + LAUNCHER_BAD_VALUES)


def names_key(message: str, key: str) -> bool:
    """Whether a message names every segment of a dotted key path."""
    return all(segment in message for segment in key.split("."))
