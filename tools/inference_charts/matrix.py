"""The values matrix: every supported combination of topology, replicas, fabric and cache that the
tests and the benchmark render. Each case is built from the choices it stands for, so a test can
assert what the rendered objects must mean from the same choices."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from .cases import Case


@dataclass(frozen=True)
class Topology:
    name: str
    pods: int
    gpus: int
    tensor: int
    pipeline: int


TOPOLOGIES = (
    Topology("1x8-tp8", 1, 8, 8, 1),
    Topology("2x8-tp8-pp2", 2, 8, 8, 2),
    Topology("2x8-tp16-pp1", 2, 8, 16, 1),
    Topology("4x8-tp8-pp4", 4, 8, 8, 4),
    Topology("2x4-tp4-pp2", 2, 4, 4, 2),
    Topology("2x4-tp8-pp1", 2, 4, 8, 1),
)
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


def _values(topology: Topology, replicas: int, fabric: str, cache: str, shm: str) -> dict[str, Any]:
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
    cases = []
    for topology, replicas, cache in itertools.product(TOPOLOGIES, REPLICAS, CACHE_TYPES):
        fabrics = ("nvlink",) if topology.pods == 1 else MULTI_NODE_FABRICS
        for fabric in fabrics:
            shm = f"{16 * topology.gpus}Gi"
            name = f"vllm-{topology.name}-r{replicas}-{fabric}-{cache}"
            release = f"m{len(cases)}"
            case = Case(chart="vllm-multinode", values=_values(topology, replicas, fabric, cache, shm),
                        release=release, namespace="inference", name=name)
            cases.append(MatrixCase(case, topology, replicas, fabric, cache, shm))
    return cases


def all_cases() -> list[MatrixCase]:
    return vllm_matrix()
