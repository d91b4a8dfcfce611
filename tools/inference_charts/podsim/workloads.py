"""From rendered objects to the pods a cluster would run, with what the controllers add to them.

runtime.pods() (the harness's model of the running pods) gives each pod's name, labels and spec; an
injector per workload kind adds what that kind's controller or webhook adds at run time: environment
variables, annotations, the hostname and subdomain that give the pod its DNS names. A new workload
kind (an Indexed Job, say) needs only register_injector().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import runtime
from ..runtime import LWS, RuntimePod


@dataclass(frozen=True)
class Injection:
    """What a controller adds to one pod: env goes before every container's own variables (as LWS
    puts its variables), env_last after them (as the Job controller appends JOB_COMPLETION_INDEX)."""

    env: list[dict[str, Any]] = field(default_factory=list)
    env_last: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    subdomain: str = ""


@dataclass(frozen=True)
class SimPod:
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: dict[str, Any]
    group: int
    index: int
    injected_env: list[dict[str, Any]]
    appended_env: list[dict[str, Any]]
    hostname: str
    subdomain: str

    @property
    def is_leader(self) -> bool:
        return self.index == 0

    @property
    def container(self) -> dict[str, Any]:
        """The engine container (every chart pod has exactly one)."""
        containers = self.spec["containers"]
        if len(containers) != 1:
            raise ValueError(f"pod {self.name}: the simulation runs one container, found {len(containers)}")
        return dict(containers[0])

    @property
    def dns_names(self) -> tuple[str, ...]:
        """The names cluster DNS would answer for this pod (hosts files have no search domains)."""
        if not self.subdomain:
            return (self.hostname,)
        short = f"{self.hostname}.{self.subdomain}.{self.namespace}"
        return (f"{short}.svc.cluster.local", f"{short}.svc", short, self.hostname)


Injector = Callable[[RuntimePod, list[RuntimePod], list[dict[str, Any]]], Injection]
"""(the pod, every pod of its group, all rendered objects) -> what its controller adds to it."""

_INJECTORS: dict[str, Injector] = {}


def register_injector(kind: str, injector: Injector) -> None:
    """kind: the part of RuntimePod.workload before the slash (LeaderWorkerSet, Job, ...)."""
    _INJECTORS[kind] = injector


def _lws_injection(pod: RuntimePod, group: list[RuntimePod], objects: list[dict[str, Any]]) -> Injection:
    """kubernetes-sigs/lws, pkg/utils/pod AddLWSVariables: LWS_LEADER_ADDRESS, LWS_GROUP_SIZE and
    LWS_WORKER_INDEX go first in every container's env, and the leader's address is
    <lws>-<group>.<subdomain>.<namespace>. The pod's hostname is its name and its subdomain the headless
    Service LWS made for it (one per LWS, or one per group with subdomainPolicy UniquePerReplica)."""
    lws = pod.labels[f"{LWS}/name"]
    subdomain = next((s.name for s in runtime.controller_services(objects)
                      if s.headless and runtime.selects(s.selector, pod)), lws)
    leader = f"{lws}-{pod.group}"
    return Injection(
        env=[
            {"name": "LWS_LEADER_ADDRESS", "value": f"{leader}.{subdomain}.{pod.namespace}"},
            {"name": "LWS_GROUP_SIZE", "value": str(len(group))},
            {"name": "LWS_WORKER_INDEX", "value": str(pod.index)},
        ],
        annotations={f"{LWS}/size": str(len(group))},
        hostname=pod.name,
        subdomain=subdomain,
    )


register_injector("LeaderWorkerSet", _lws_injection)


def _indexed_job_injection(pod: RuntimePod, group: list[RuntimePod], objects: list[dict[str, Any]]) -> Injection:
    """kubernetes/kubernetes, pkg/controller/job: an Indexed Job's pod gets the hostname <job>-<index>
    (its subdomain is the template's, a headless Service the chart renders) and JOB_COMPLETION_INDEX,
    appended to every container's env, read from its completion-index annotation."""
    del group, objects
    job = pod.workload.split("/", 1)[1]
    index = {"name": "JOB_COMPLETION_INDEX",
             "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{runtime.JOB_INDEX}']"}}}
    return Injection(env_last=[index], annotations={runtime.JOB_INDEX: str(pod.index)},
                     hostname=f"{job}-{pod.index}", subdomain=str(pod.spec.get("subdomain", "")))


register_injector("Job", _indexed_job_injection)


def sim_pods(objects: list[dict[str, Any]]) -> list[SimPod]:
    """Every pod of every group the rendered workloads would run, as the simulation starts them."""
    found = runtime.pods(objects)
    groups: dict[tuple[str, int], list[RuntimePod]] = {}
    for pod in found:
        groups.setdefault((pod.workload, pod.group), []).append(pod)
    result = []
    for pod in found:
        kind = pod.workload.split("/", 1)[0]
        if kind not in _INJECTORS:
            raise ValueError(f"no injector for workload kind {kind}: see podsim.workloads.register_injector")
        injection = _INJECTORS[kind](pod, groups[(pod.workload, pod.group)], objects)
        result.append(SimPod(
            name=pod.name, namespace=pod.namespace, labels=dict(pod.labels),
            annotations={**pod.annotations, **injection.annotations}, spec=pod.spec, group=pod.group,
            index=pod.index, injected_env=injection.env, appended_env=injection.env_last,
            hostname=injection.hostname or pod.name, subdomain=injection.subdomain,
        ))
    return result
