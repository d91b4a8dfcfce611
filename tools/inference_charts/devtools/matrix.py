"""The values matrix: every supported combination of topology, replicas, fabric and cache that the
tests and the benchmark render, for both engine charts and both workload kinds. Each case is built
from the choices it stands for, so a test can assert what the rendered objects must mean from the
same choices."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from inference_charts.render.cases import Case
from inference_charts.render.merging import deep_merge


@dataclass(frozen=True)
class Topology:
    name: str
    pods: int
    gpus: int
    tensor: int
    pipeline: int
    data: int = 1  # vLLM data-parallel ranks (topology.dataParallelSize)
    expert: bool = False  # vLLM expert parallelism (topology.expertParallel)


TOPOLOGIES = (
    Topology("1x8-tp8", 1, 8, 8, 1),
    Topology("2x8-tp8-pp2", 2, 8, 8, 2),
    Topology("2x8-tp16-pp1", 2, 8, 16, 1),
    Topology("4x8-tp8-pp4", 4, 8, 8, 4),
    Topology("2x4-tp4-pp2", 2, 4, 4, 2),
    Topology("2x4-tp8-pp1", 2, 4, 8, 1),
)
#: vLLM only: data-parallel layouts, with and without expert parallelism (DeepSeek-R1-like: 256 experts).
DATA_PARALLEL_TOPOLOGIES = (
    Topology("2x8-dp16-ep", 2, 8, 1, 1, 16, True),
    Topology("2x8-tp8-dp2", 2, 8, 8, 1, 2),
    Topology("1x8-dp8-ep", 1, 8, 1, 1, 8, True),
)
#: vLLM's launchers of a multi-pod group; one-pod groups have none.
LAUNCHERS = ("native", "ray")
#: The Ray launcher needs an image that carries Ray: vLLM's releases before v0.18.0 do.
RAY_IMAGE_TAG = "v0.12.0"
REPLICAS = (1, 2, 3)
MULTI_NODE_FABRICS = ("infiniband", "roce", "ethernet")
CACHE_TYPES = ("pvc", "existingClaim", "nfs", "hostPath", "emptyDir", "perPodClaim")

CACHE_SETTINGS: dict[str, dict[str, Any]] = {
    "pvc": {"type": "pvc", "pvc": {"size": "2Ti", "storageClassName": "cephfs"}},
    "existingClaim": {"type": "existingClaim", "existingClaim": {"name": "models-rwx"}},
    "nfs": {"type": "nfs", "nfs": {"server": "nfs.storage.svc", "path": "/exports/models"}},
    "hostPath": {"type": "hostPath", "hostPath": {"path": "/mnt/models"}},
    "emptyDir": {"type": "emptyDir", "emptyDir": {"sizeLimit": "1Ti"}},
    "perPodClaim": {"type": "perPodClaim", "perPodClaim": {"size": "2Ti", "storageClassName": "local-nvme"}},
}


@dataclass(frozen=True)
class MatrixCase:
    case: Case
    topology: Topology
    replicas: int
    fabric: str
    cache: str
    shm: str
    workload: str = "LeaderWorkerSet"
    #: NIM only: "values" (TP and PP given), "profile-name" (a profile that spells tpN-ppM) or
    #: "profile-hash" (an opaque profile id).
    layout: str = "values"
    #: NIM only: "model-specific" (the image's own model) or "model-free" (hf:// path).
    image: str = ""
    #: vLLM multi-pod groups only: "native" or "ray".
    launcher: str = ""

    @property
    def chart(self) -> str:
        return self.case.chart


def _values(topology: Topology, replicas: int, fabric: str, cache: str, shm: str,
            launcher: str = "") -> dict[str, Any]:
    values = _base_values(topology, replicas, fabric, cache, shm)
    if topology.data > 1 or topology.expert:
        values["topology"].update({"dataParallelSize": topology.data, "expertParallel": topology.expert,
                                   "modelShape": {"experts": 256}})
    if launcher:
        values["launcher"] = {"kind": launcher}
    if launcher == "ray":
        values["image"] = {"tag": RAY_IMAGE_TAG}
    return values


def _base_values(topology: Topology, replicas: int, fabric: str, cache: str, shm: str) -> dict[str, Any]:
    return {
        "model": {"name": "meta-llama/Llama-3.1-405B-Instruct", "maxModelLen": 8192,
                  "hfToken": {"secretName": "hf-token"}},
        "topology": {"replicas": replicas, "podsPerGroup": topology.pods, "gpusPerPod": topology.gpus,
                     "tensorParallelSize": topology.tensor, "pipelineParallelSize": topology.pipeline},
        "fabric": {"profile": fabric},
        "cache": CACHE_SETTINGS[cache],
        "sharedMemory": {"sizeLimit": shm},
        "ingress": {"enabled": replicas == 2, "host": "llm.example.com"},
    }


def vllm_matrix() -> list[MatrixCase]:
    """Every topology, replica count, cache and fabric; a multi-pod group's launcher taken in turn, so
    each launcher meets every topology, fabric and cache. Data-parallel layouts use the native launcher."""
    cases = []
    turn = 0
    for topology, replicas, cache in itertools.product(TOPOLOGIES + DATA_PARALLEL_TOPOLOGIES, REPLICAS, CACHE_TYPES):
        fabrics = ("nvlink",) if topology.pods == 1 else MULTI_NODE_FABRICS
        for fabric in fabrics:
            launcher = ""
            if topology.pods > 1:
                launcher = "native" if topology.data > 1 else LAUNCHERS[turn % 2]
                turn += 1
            shm = f"{16 * topology.gpus}Gi"
            name = f"vllm-{topology.name}-r{replicas}-{fabric}-{cache}" + (f"-{launcher}" if launcher else "")
            release = f"m{len(cases)}"
            case = Case(chart="vllm-multinode", values=_values(topology, replicas, fabric, cache, shm, launcher),
                        release=release, namespace="inference", name=name)
            cases.append(MatrixCase(case, topology, replicas, fabric, cache, shm, launcher=launcher))
    return cases


WORKLOAD_KINDS = ("LeaderWorkerSet", "IndexedJob")
#: Cache types a workload kind can use: Indexed Jobs have no volumeClaimTemplates.
KIND_CACHES = {"LeaderWorkerSet": CACHE_TYPES, "IndexedJob": tuple(c for c in CACHE_TYPES if c != "perPodClaim")}


def vllm_indexed_job_matrix() -> list[MatrixCase]:
    """vLLM groups as Indexed Jobs: every topology and cache, the fabrics taken in turn."""
    cases = []
    for number, (topology, cache) in enumerate(itertools.product(TOPOLOGIES, KIND_CACHES["IndexedJob"])):
        fabric = "nvlink" if topology.pods == 1 else MULTI_NODE_FABRICS[number % 3]
        replicas = 1 + number % 2
        launcher = "" if topology.pods == 1 else LAUNCHERS[(number // 2) % 2]
        shm = f"{16 * topology.gpus}Gi"
        values = _values(topology, replicas, fabric, cache, shm, launcher)
        values["workload"] = {"kind": "IndexedJob"}
        name = f"vllm-job-{topology.name}-r{replicas}-{fabric}-{cache}" + (f"-{launcher}" if launcher else "")
        case = Case(chart="vllm-multinode", values=values, release=f"j{number}", namespace="jobs", name=name)
        cases.append(MatrixCase(case, topology, replicas, fabric, cache, shm, workload="IndexedJob",
                                launcher=launcher))
    return cases


#: NIM layouts: (topology, how the layout is given). A profile name spells its layout; a hash does not.
NIM_LAYOUTS = (
    (TOPOLOGIES[0], "values"),
    (TOPOLOGIES[1], "values"),
    (TOPOLOGIES[2], "values"),
    (TOPOLOGIES[3], "values"),
    (TOPOLOGIES[2], "profile-name"),
    (TOPOLOGIES[1], "profile-hash"),
)
NIM_PROFILE_HASH = "07cd4f2bddd7a14ca84bab0a32602889fd0ae0eb76dc2eb0fc32594d065011a4"
NIM_IMAGES: dict[str, dict[str, str]] = {
    "model-specific": {"repository": "nvcr.io/nim/deepseek-ai/deepseek-r1", "tag": "2.0.8"},
    "model-free": {"repository": "nvcr.io/nim/nvidia/model-free-nim", "tag": "2.0.8"},
}


def nim_profile(topology: Topology, layout: str) -> str:
    if layout == "profile-name":
        return f"vllm-bf16-tp{topology.tensor}-pp{topology.pipeline}"
    return NIM_PROFILE_HASH if layout == "profile-hash" else ""


def _nim_values(topology: Topology, layout: str, image: str, replicas: int, fabric: str, cache: str,
                shm: str, workload: str) -> dict[str, Any]:
    model: dict[str, Any] = {"ngcApiKey": {"secretName": "ngc-api"}, "profile": nim_profile(topology, layout)}
    if image == "model-free":
        model.update({"path": "hf://deepseek-ai/DeepSeek-R1", "hfToken": {"secretName": "hf-token"},
                      "servedModelName": "deepseek-r1"})
    parallel = ({"tensorParallelSize": topology.tensor, "pipelineParallelSize": topology.pipeline}
                if layout == "values" else {})
    return {
        "image": NIM_IMAGES[image],
        "model": model,
        "workload": {"kind": workload},
        "topology": {"replicas": replicas, "podsPerGroup": topology.pods, "gpusPerPod": topology.gpus, **parallel},
        "fabric": {"profile": fabric},
        "cache": {**CACHE_SETTINGS[cache], "preload": {"enabled": cache in ("hostPath", "pvc")}},
        "sharedMemory": {"sizeLimit": shm},
        "ingress": {"enabled": replicas == 2, "host": "nim.example.com"},
    }


def nim_matrix() -> list[MatrixCase]:
    """NIM: every layout style, workload kind and cache; fabrics and images taken in turn; 1 or 2 groups."""
    cases = []
    number = 0
    for (topology, layout), workload, replicas in itertools.product(NIM_LAYOUTS, WORKLOAD_KINDS, (1, 2)):
        for cache in KIND_CACHES[workload]:
            fabric = "nvlink" if topology.pods == 1 else MULTI_NODE_FABRICS[number % 3]
            image = ("model-specific", "model-free")[number % 2]
            shm = f"{16 * topology.gpus}Gi"
            kind = "lws" if workload == "LeaderWorkerSet" else "job"
            name = f"nim-{kind}-{topology.name}-{layout}-r{replicas}-{fabric}-{cache}-{image}"
            values = _nim_values(topology, layout, image, replicas, fabric, cache, shm, workload)
            case = Case(chart="nim-multinode", values=values, release=f"n{number}", namespace="nim", name=name)
            cases.append(MatrixCase(case, topology, replicas, fabric, cache, shm, workload, layout, image))
            number += 1
    return cases


def all_cases() -> list[MatrixCase]:
    return vllm_matrix() + vllm_indexed_job_matrix() + nim_matrix()


#: Production knobs (fabric attachments, placement, identity, air gap, metrics, autoscaling, pre-pull),
#: each a values patch; the tests assert each one's effect.
PRODUCTION_KNOBS: dict[str, dict[str, Any]] = {
    "rdma-sriov": {"fabric": {"rdma": {"resourceName": "openshift.io/mellanoxnics", "count": 2}}},
    "multus": {"fabric": {"multus": {"networks": "net-attach/rdma-net", "interface": "net1"}}},
    "placement": {"placement": {"gpuProduct": "NVIDIA-H100-80GB-HBM3", "schedulerName": "runai-scheduler",
                                "priorityClassName": "inference-critical", "runtimeClassName": "nvidia",
                                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                                               "whenUnsatisfiable": "DoNotSchedule"}]},
                  "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
    "non-root": {"securityContext": {"runAsUser": 1001, "runAsGroup": 1001, "fsGroup": 1001, "runAsNonRoot": True}},
    "openshift": {"securityContext": {"openshift": True, "runAsNonRoot": True}},
    "air-gapped": {"global": {"imageRegistry": "registry.corp.internal:5000", "imagePullSecrets": ["corp-registry"]}},
    "service-monitor": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}}},
    "pod-monitor": {"metrics": {"podMonitor": {"enabled": True}}},
    "hpa": {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 4, "targetWaitingRequests": 5}},
    "keda": {"autoscaling": {"enabled": True, "kind": "keda", "maxReplicas": 3}},
    "prepull": {"prepull": {"enabled": True}, "nodeSelector": {"pool": "gpu"}},
    "subgroups": {"topology": {"podsPerGroup": 4, "tensorParallelSize": 8, "pipelineParallelSize": 4},
                  "group": {"subGroupPolicy": {"subGroupSize": 2}}},
    "nccl-debug": {"fabric": {"ncclDebug": "INFO", "ncclDebugSubsys": "INIT,NET"}},
}


@dataclass(frozen=True)
class KnobCase:
    case: Case
    knob: str
    fabric: str

    @property
    def chart(self) -> str:
        return self.case.chart


def production_matrix() -> list[KnobCase]:
    """Every knob on both charts and every multi-node fabric, over a 2 x 8 TP8 x PP2 group."""
    topology = TOPOLOGIES[1]
    cases = []
    for knob, patch in PRODUCTION_KNOBS.items():
        for chart, fabric in itertools.product(("vllm-multinode", "nim-multinode"), MULTI_NODE_FABRICS):
            shm = f"{16 * topology.gpus}Gi"
            if chart == "vllm-multinode":
                base = _values(topology, 1, fabric, "pvc", shm)
            else:
                base = _nim_values(topology, "values", "model-specific", 1, fabric, "pvc", shm, "LeaderWorkerSet")
            values = deep_merge(base, patch)
            if knob == "air-gapped":
                offline: dict[str, Any] = {"offline": True}
                if chart == "nim-multinode":
                    offline["ngcApiKey"] = {"secretName": ""}  # no NGC key in an air-gapped cluster
                values["model"] = deep_merge(values["model"], offline)
            name = f"{chart.split('-')[0]}-{knob}-{fabric}"
            cases.append(KnobCase(Case(chart=chart, values=values, release=f"p{len(cases)}", namespace="prod",
                                       name=name), knob, fabric))
    return cases
