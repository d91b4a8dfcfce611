"""What the rendered workloads become in a cluster: the pods, with the labels controllers add at run time.

A Service's selector is matched against these pods, not against the templates, because the labels that
tell a leader from a worker (LeaderWorkerSet's worker-index) exist only on the running pods.

LeaderWorkerSet (kubernetes-sigs/lws, v1): group g of an LWS named N has the leader pod N-g and the
workers N-g-1 .. N-g-(size-1). Every pod carries leaderworkerset.sigs.k8s.io/name=N, group-index=g,
worker-index (0 on the leader), group-key and template-revision-hash. The leader is created from
leaderTemplate when there is one, else from workerTemplate. The controller also makes a headless
Service named N selecting name=N (or one per group, N-g, with subdomainPolicy UniquePerReplica).

Indexed Job (batch/v1, completionMode Indexed): a Job named J with C completions runs pods J-i-<random>
for i in 0..C-1, each labelled batch.kubernetes.io/job-completion-index=i (Kubernetes 1.28+), job-name=J
and batch.kubernetes.io/job-name=J, with the index also in the same-named annotation. The charts make
index 0 the leader. The Job controller creates no Service.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

LWS = "leaderworkerset.sigs.k8s.io"
JOB_INDEX = "batch.kubernetes.io/job-completion-index"


@dataclass(frozen=True)
class RuntimePod:
    name: str
    namespace: str
    labels: dict[str, str]
    spec: dict[str, Any]
    workload: str
    group: int
    index: int
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_leader(self) -> bool:
        return self.index == 0

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.spec.get("containers", []))

    @property
    def init_containers(self) -> list[dict[str, Any]]:
        return list(self.spec.get("initContainers", []))


@dataclass(frozen=True)
class RuntimeService:
    """A Service that a controller creates at run time (not rendered by the chart)."""

    name: str
    selector: dict[str, str]
    headless: bool
    ports: list[dict[str, Any]] = field(default_factory=list)


def _lws_pods(lws: dict[str, Any]) -> list[RuntimePod]:
    name = lws["metadata"]["name"]
    namespace = lws["metadata"].get("namespace", "default")
    spec = lws["spec"]
    template = spec["leaderWorkerTemplate"]
    size = int(template.get("size", 1))
    pods = []
    for group in range(int(spec.get("replicas", 1))):
        leader_name = f"{name}-{group}"
        group_key = hashlib.sha1(f"{namespace}/{leader_name}".encode()).hexdigest()
        for index in range(size):
            pod_template = template.get("leaderTemplate") if index == 0 else None
            pod_template = pod_template or template["workerTemplate"]
            labels = dict(pod_template.get("metadata", {}).get("labels", {}))
            labels.update({
                f"{LWS}/name": name,
                f"{LWS}/group-index": str(group),
                f"{LWS}/worker-index": str(index),
                f"{LWS}/group-key": group_key,
                f"{LWS}/template-revision-hash": "rendered",
            })
            pods.append(RuntimePod(
                name=leader_name if index == 0 else f"{leader_name}-{index}",
                namespace=namespace, labels=labels, spec=pod_template["spec"],
                workload=f"LeaderWorkerSet/{name}", group=group, index=index,
            ))
    return pods


def is_hook(obj: dict[str, Any]) -> bool:
    """Helm hooks (tests, preflights) run outside the serving groups."""
    return "helm.sh/hook" in obj.get("metadata", {}).get("annotations", {})


def _indexed_job_pods(job: dict[str, Any], group: int) -> list[RuntimePod]:
    name = job["metadata"]["name"]
    namespace = job["metadata"].get("namespace", "default")
    template = job["spec"]["template"]
    uid = hashlib.sha1(f"{namespace}/{name}".encode()).hexdigest()
    pods = []
    for index in range(int(job["spec"].get("completions", 1))):
        labels = dict(template.get("metadata", {}).get("labels", {}))
        labels.update({
            JOB_INDEX: str(index),
            "job-name": name,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "batch.kubernetes.io/controller-uid": uid,
        })
        annotations = dict(template.get("metadata", {}).get("annotations", {}))
        annotations[JOB_INDEX] = str(index)
        pods.append(RuntimePod(
            name=f"{name}-{index}", namespace=namespace, labels=labels, spec=template["spec"],
            workload=f"Job/{name}", group=group, index=index, annotations=annotations,
        ))
    return pods


def is_indexed_job(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Job" and obj.get("spec", {}).get("completionMode") == "Indexed" and not is_hook(obj)


def hook_job_pods(objects: list[dict[str, Any]]) -> list[RuntimePod]:
    """Pods of Indexed Jobs that are Helm hooks (the NCCL preflight): group-shaped, but not serving."""
    result: list[RuntimePod] = []
    hooks = [o for o in objects if o.get("kind") == "Job" and is_hook(o)
             and o.get("spec", {}).get("completionMode") == "Indexed"]
    for number, job in enumerate(hooks):
        result.extend(_indexed_job_pods(job, number))
    return result


def auxiliary_pods(objects: list[dict[str, Any]]) -> list[RuntimePod]:
    """Pods that serve nothing: hook pods and the pods of DaemonSets (the image pre-pull), one per node."""
    daemons = [RuntimePod(f"{o['metadata']['name']}-node", o["metadata"].get("namespace", ""),
                          o["spec"]["template"]["metadata"].get("labels", {}), o["spec"]["template"]["spec"],
                          f"DaemonSet/{o['metadata']['name']}", 0, -1)
               for o in objects if o.get("kind") == "DaemonSet"]
    return hook_pods(objects) + daemons


def hook_pods(objects: list[dict[str, Any]]) -> list[RuntimePod]:
    """Every pod a Helm hook runs: hook Pods (helm test) and the pods of hook Jobs."""
    pods = [RuntimePod(o["metadata"]["name"], o["metadata"].get("namespace", ""), o["metadata"].get("labels", {}),
                       o["spec"], "hook", 0, -1) for o in objects if o.get("kind") == "Pod" and is_hook(o)]
    return pods + hook_job_pods(objects)


def pods(objects: list[dict[str, Any]]) -> list[RuntimePod]:
    """Every pod the rendered workloads would run (hooks excepted)."""
    result: list[RuntimePod] = []
    jobs = 0
    for obj in objects:
        if obj.get("kind") == "LeaderWorkerSet":
            result.extend(_lws_pods(obj))
        elif is_indexed_job(obj):
            result.extend(_indexed_job_pods(obj, jobs))
            jobs += 1
    return result


def controller_services(objects: list[dict[str, Any]]) -> list[RuntimeService]:
    """Services that controllers create for the rendered workloads."""
    services = []
    for obj in objects:
        if obj.get("kind") != "LeaderWorkerSet":
            continue
        name = obj["metadata"]["name"]
        policy = obj["spec"].get("networkConfig", {}).get("subdomainPolicy", "Shared")
        if policy == "UniquePerReplica":
            for group in range(int(obj["spec"].get("replicas", 1))):
                services.append(RuntimeService(
                    f"{name}-{group}", {f"{LWS}/name": name, f"{LWS}/group-index": str(group)}, True))
        else:
            services.append(RuntimeService(name, {f"{LWS}/name": name}, True))
    return services


def selects(selector: dict[str, str], pod: RuntimePod) -> bool:
    """Kubernetes equality-based selection: every selector label present with the same value."""
    return bool(selector) and all(pod.labels.get(key) == value for key, value in selector.items())
