"""What the rendered workloads become in a cluster: the pods, Services and StatefulSets the controllers
make from them, with the names, labels, annotations and environment the controllers give them.

A Service's selector is matched against these pods, not against the templates, because the labels that
tell a leader from a worker (LeaderWorkerSet's worker-index) exist only on the running pods. Everything
here is written from the controllers' source at a pinned version; each function cites what it models.

LeaderWorkerSet: kubernetes-sigs/lws v0.10.0 (LWS below).
  - The LWS controller server-side-applies a leader StatefulSet named like the LWS, serviceName the
    LWS's name, from leaderTemplate (workerTemplate when there is none); its pods are the leaders
    <lws>-<g> (pkg/controllers/leaderworkerset_controller.go constructLeaderStatefulSetApplyConfiguration).
  - For each leader pod the pod controller applies a worker StatefulSet named like the leader pod, with
    size-1 replicas and ordinals starting at 1: pods <lws>-<g>-1 .. <lws>-<g>-(size-1); none when size
    is 1 (pkg/controllers/pod_controller.go Reconcile, constructWorkerStatefulSetApplyConfiguration).
  - A StatefulSet pod's hostname is its name and its subdomain the set's serviceName (kubernetes/kubernetes
    v1.34.0 pkg/controller/statefulset/stateful_set_utils.go initIdentity). The worker set's serviceName
    is the LWS's name with subdomainPolicy Shared (or no networkConfig), the leader pod's name with
    UniquePerReplica; for the leader of a UniquePerReplica LWS the pod webhook sets the subdomain to the
    pod's name (pkg/webhooks/pod_webhook.go Default).
  - Headless Services: with Shared, one named like the LWS selecting leaderworkerset.sigs.k8s.io/name
    (leaderworkerset_controller.go reconcileHeadlessServices); with UniquePerReplica, one per group
    named like its leader pod, selecting name and group-index (pod_controller.go Reconcile). Both go
    through CreateHeadlessServiceIfNotExists (pkg/utils/controller/controller_utils.go): clusterIP None,
    publishNotReadyAddresses true, no ports, and nothing at all when a Service of that name already
    exists in the namespace (no ownership check, no update, no log line).
  - Labels and annotations: api/leaderworkerset/v1/leaderworkerset_types.go and the pod webhook.
  - Environment: pkg/utils/pod/pod_utils.go AddLWSVariables (see lws_env).

Indexed Job (batch/v1, completionMode Indexed): kubernetes/kubernetes v1.34.0 pkg/controller/job. A Job
named J with C completions runs pods J-i-<random> for i in 0..C-1, each labelled
batch.kubernetes.io/job-completion-index=i, job-name=J and batch.kubernetes.io/job-name=J, with the index
also in the same-named annotation (indexed_job_utils.go addCompletionIndexAnnotation,
addCompletionIndexLabel; job_controller.go). Its hostname is J-i and its subdomain the template's
(indexed_job_utils.go). The charts make index 0 the leader. The Job controller creates no Service.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

LWS = "leaderworkerset.sigs.k8s.io"
JOB_INDEX = "batch.kubernetes.io/job-completion-index"


@dataclass(frozen=True)
class RuntimePod:
    """A pod as its controller creates it. env_first goes before each container's own variables and
    replaces those of the same name (LWS), env_last after them (the Job controller's index)."""

    name: str
    namespace: str
    labels: dict[str, str]
    spec: dict[str, Any]
    workload: str
    group: int
    index: int
    annotations: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    subdomain: str = ""
    env_first: tuple[tuple[str, str], ...] = ()
    env_last: tuple[dict[str, Any], ...] = ()

    @property
    def is_leader(self) -> bool:
        return self.index == 0

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.spec.get("containers", []))

    @property
    def init_containers(self) -> list[dict[str, Any]]:
        return list(self.spec.get("initContainers", []))

    def container_env(self, container: dict[str, Any]) -> list[dict[str, Any]]:
        """The container's env list as the API server stores it after the controllers' changes."""
        first = [{"name": name, "value": value} for name, value in self.env_first]
        names = {name for name, _ in self.env_first}
        own = [e for e in container.get("env", []) if e["name"] not in names]
        last = [e for e in self.env_last if e["name"] not in {o["name"] for o in own}]
        return [*first, *own, *last]


@dataclass(frozen=True)
class RuntimeService:
    """A Service that a controller creates at run time (not rendered by the chart)."""

    name: str
    selector: dict[str, str]
    headless: bool
    ports: list[dict[str, Any]] = field(default_factory=list)
    publish_not_ready: bool = False
    namespace: str = ""
    made_by: str = ""


@dataclass(frozen=True)
class ControllerObject:
    """An object a controller will create for the rendered workloads, by kind, namespace and name."""

    kind: str
    namespace: str
    name: str
    made_by: str


def _subdomain_policy(lws: dict[str, Any]) -> str:
    """A missing networkConfig counts as Shared (leaderworkerset_controller.go reconcileHeadlessServices:
    `lws.Spec.NetworkConfig == nil || ... == SubdomainShared`; the LWS webhook defaults it to Shared)."""
    return str((lws["spec"].get("networkConfig") or {}).get("subdomainPolicy") or "Shared")


def lws_env(lws_name: str, group: int, subdomain: str, namespace: str, size: int, index: int) -> tuple[
        tuple[str, str], ...]:
    """LWS pkg/utils/pod/pod_utils.go AddLWSVariables: LWS_LEADER_ADDRESS is
    fmt.Sprintf("%s-%s.%s.%s", lwsName, groupIndex, pod.Spec.Subdomain, namespace) (no .svc suffix: it
    resolves through the pod's DNS search path), then LWS_GROUP_SIZE (the size annotation) and
    LWS_WORKER_INDEX (the worker-index label). They go first in every container and init container and
    replace the container's own variables of the same names."""
    return (("LWS_LEADER_ADDRESS", f"{lws_name}-{group}.{subdomain}.{namespace}"),
            ("LWS_GROUP_SIZE", str(size)), ("LWS_WORKER_INDEX", str(index)))


def _lws_pods(lws: dict[str, Any]) -> list[RuntimePod]:
    name = lws["metadata"]["name"]
    namespace = lws["metadata"].get("namespace", "default")
    spec = lws["spec"]
    template = spec["leaderWorkerTemplate"]
    size = int(template.get("size", 1))
    unique = _subdomain_policy(lws) == "UniquePerReplica"
    exclusive = lws["metadata"].get("annotations", {}).get(f"{LWS}/exclusive-topology")
    pods = []
    for group in range(int(spec.get("replicas", 1))):
        leader_name = f"{name}-{group}"
        # group-key: Sha1Hash("<namespace>/<leader pod name>") set by the pod webhook on the leader and
        # copied to its workers (pkg/webhooks/pod_webhook.go Default, pkg/utils/utils.go Sha1Hash).
        group_key = hashlib.sha1(f"{namespace}/{leader_name}".encode()).hexdigest()
        # Shared: both StatefulSets have serviceName <lws>. UniquePerReplica: the worker set's is the
        # leader pod's name, and the webhook gives the leader that same subdomain.
        subdomain = leader_name if unique else name
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
            annotations = dict(pod_template.get("metadata", {}).get("annotations", {}))
            annotations[f"{LWS}/size"] = str(size)
            if index > 0:
                annotations[f"{LWS}/leader-name"] = leader_name
            elif unique:
                annotations[f"{LWS}/subdomainPolicy"] = "UniquePerReplica"
            if exclusive:
                annotations[f"{LWS}/exclusive-topology"] = exclusive
            pod_name = leader_name if index == 0 else f"{leader_name}-{index}"
            pods.append(RuntimePod(
                name=pod_name, namespace=namespace, labels=labels, spec=pod_template["spec"],
                workload=f"LeaderWorkerSet/{name}", group=group, index=index, annotations=annotations,
                hostname=pod_name, subdomain=subdomain,
                env_first=lws_env(name, group, subdomain, namespace, size, index),
            ))
    return pods


def is_hook(obj: dict[str, Any]) -> bool:
    """Helm hooks (tests, preflights) run outside the serving groups."""
    return "helm.sh/hook" in obj.get("metadata", {}).get("annotations", {})


def _indexed_job_pods(job: dict[str, Any], group: int) -> list[RuntimePod]:
    """kubernetes v1.34.0 pkg/controller/job: the pod of index i gets the labels job-name,
    batch.kubernetes.io/job-name, controller-uid, batch.kubernetes.io/controller-uid and
    batch.kubernetes.io/job-completion-index (the job-name and controller-uid labels are the API
    server's, pkg/registry/batch/job/strategy.go), the index annotation, the hostname <job>-<i> whatever
    the template says (job_controller.go: `template.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name,
    completionIndex)`; the template's subdomain stays), and JOB_COMPLETION_INDEX appended to every
    container's env unless it defines one, read from the annotation (indexed_job_utils.go
    addCompletionIndexEnvVariables)."""
    name = job["metadata"]["name"]
    namespace = job["metadata"].get("namespace", "default")
    template = job["spec"]["template"]
    uid = hashlib.sha1(f"{namespace}/{name}".encode()).hexdigest()
    index_env = {"name": "JOB_COMPLETION_INDEX",
                 "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{JOB_INDEX}']"}}}
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
            hostname=f"{name}-{index}",
            subdomain=str(template["spec"].get("subdomain", "")), env_last=(index_env,),
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


def _rendered_service_names(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["metadata"].get("namespace", "default"), o["metadata"]["name"])
            for o in objects if o.get("kind") == "Service"}


def wanted_headless_services(objects: list[dict[str, Any]]) -> list[RuntimeService]:
    """The headless Services the LWS controllers set out to create, whether or not a Service of the same
    name is in their way (see controller_services)."""
    services = []
    for obj in objects:
        if obj.get("kind") != "LeaderWorkerSet":
            continue
        name = obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace", "default")
        if _subdomain_policy(obj) == "UniquePerReplica":
            # pod_controller.go Reconcile: one per leader pod, named like it, made when the leader is.
            for group in range(int(obj["spec"].get("replicas", 1))):
                services.append(RuntimeService(
                    f"{name}-{group}", {f"{LWS}/name": name, f"{LWS}/group-index": str(group)}, True,
                    publish_not_ready=True, namespace=namespace, made_by=f"LeaderWorkerSet/{name}"))
        else:
            services.append(RuntimeService(name, {f"{LWS}/name": name}, True, publish_not_ready=True,
                                           namespace=namespace, made_by=f"LeaderWorkerSet/{name}"))
    return services


def controller_services(objects: list[dict[str, Any]]) -> list[RuntimeService]:
    """Services that controllers create for the rendered workloads. CreateHeadlessServiceIfNotExists
    creates nothing when a Service of that name exists, whoever made it: a rendered Service that takes the
    name leaves the pods without the headless Service their subdomain names."""
    taken = _rendered_service_names(objects)
    return [s for s in wanted_headless_services(objects) if (s.namespace, s.name) not in taken]


def controller_objects(objects: list[dict[str, Any]]) -> list[ControllerObject]:
    """Every object the controllers create for the rendered workloads, by name: the LWS's StatefulSets
    (the leader set <lws>, a worker set <lws>-<g> per group when size > 1), its headless Services, and
    the pods of every group (their names are their hostnames; an Indexed Job's pod name has a random
    suffix, so its hostname <job>-<i> is what a name can collide with)."""
    found: list[ControllerObject] = []
    for obj in objects:
        if obj.get("kind") != "LeaderWorkerSet":
            continue
        name = obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace", "default")
        made_by = f"LeaderWorkerSet/{name}"
        found.append(ControllerObject("StatefulSet", namespace, name, made_by))
        if int(obj["spec"]["leaderWorkerTemplate"].get("size", 1)) > 1:
            found += [ControllerObject("StatefulSet", namespace, f"{name}-{group}", made_by)
                      for group in range(int(obj["spec"].get("replicas", 1)))]
    found += [ControllerObject("Service", s.namespace, s.name, s.made_by) for s in wanted_headless_services(objects)]
    found += [ControllerObject("Pod", p.namespace, p.hostname, p.workload) for p in pods(objects)]
    return found


def selects(selector: dict[str, str], pod: RuntimePod) -> bool:
    """Kubernetes equality-based selection: every selector label present with the same value."""
    return bool(selector) and all(pod.labels.get(key) == value for key, value in selector.items())
