"""The invariants every rendered release must satisfy, checked on the rendered objects themselves.

- parallelism: the engine's tensor x pipeline parallel size equals the GPUs of its group, and the
  leader's Ray wait expects that same number;
- exposure: every non-headless Service and every Ingress reaches leader pods only (with the labels
  controllers add at run time), selects at least one, and carries no Ray or NCCL port; no Service
  but a hook's own selects a pod that serves nothing (helm test, preflight, image pre-pull);
- shared memory: every pod has a memory-backed /dev/shm with a size limit, mounted in every container;
- fabric: every engine container carries the NCCL variables of the fabric profile, none that
  contradict it, and no variable twice;
- cache: every pod of a workload mounts the same model cache at the same path;
- monitoring and scaling: a ServiceMonitor selects the leader-only Service and a PodMonitor leader pods
  only, on a port they have; an autoscaler targets the release's LeaderWorkerSet, which then carries no
  replicas of its own;
- logging: in a group of several pods, every NIM container (init containers too) has NIM's JSON
  logging off, since the NIM JSON log formatter is missing in Ray worker processes and kills them;
- names: no rendered object takes a name a controller will create (the LWS's StatefulSets and headless
  Services, the group pods' hostnames), since the controller then skips its own object or fails;
- discovery: in every multi-pod group, the leader address every container is given (LWS_LEADER_ADDRESS,
  or the chart's MULTINODE_LEADER_ADDRESS) resolves to that group's leader under the cluster DNS model
  (cluster_dns), before any pod is Ready.

Workloads are LeaderWorkerSets and Indexed Jobs (see runtime); a Service the chart renders as
headless exists for pod DNS only and may carry no port.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inference_charts.checks import runtime
from inference_charts.checks.cluster_dns import ClusterDNS
from inference_charts.checks.kube_schemas import object_name
from inference_charts.checks.runtime import RuntimePod

#: Ports of Ray (GCS, client server, dashboard, dashboard agent) and of the torch/NCCL rendezvous.
RAY_AND_NCCL_PORTS = frozenset({6379, 10001, 8265, 52365, 29500})


@dataclass(frozen=True)
class Finding:
    """One broken rule: the check it belongs to, the object (kind/name, a pod, or "release"), why, and,
    where the checks can tell, the rule's own name within the check and the value responsible."""

    check: str
    subject: str
    message: str
    #: The value (dotted, as in a values file) whose setting breaks the rule; "" when no one value does.
    value: str = ""
    #: The rule within the check, for checks with several (a Pod Security control, a reachability rule).
    rule: str = ""

    def __str__(self) -> str:
        rule = f": {self.rule}" if self.rule else ""
        value = f" (value {self.value})" if self.value else ""
        return f"[{self.check}{rule}] {self.subject}: {self.message}{value}"


#: The invariants' checks, in the order check() runs them; each is a testcase of `check --junit`.
CHECKS = ("workload", "parallelism", "exposure", "shared-memory", "fabric", "cache", "logging", "monitoring",
          "scaling", "names", "discovery")


@dataclass(frozen=True)
class FabricContract:
    """What a fabric profile requires of every engine container's environment."""

    required: dict[str, str | None]  # name -> exact value, or None for any non-empty value
    absent: frozenset[str]


FABRIC_CONTRACTS: dict[str, FabricContract] = {
    "infiniband": FabricContract(
        required={"NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": None, "NCCL_NET_GDR_LEVEL": None,
                  "NCCL_SOCKET_IFNAME": None},
        absent=frozenset({"NCCL_NET"}),
    ),
    "roce": FabricContract(
        required={"NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": None, "NCCL_IB_GID_INDEX": None,
                  "NCCL_NET_GDR_LEVEL": None, "NCCL_SOCKET_IFNAME": None},
        absent=frozenset({"NCCL_NET"}),
    ),
    "ethernet": FabricContract(
        required={"NCCL_IB_DISABLE": "1", "NCCL_NET": "Socket", "NCCL_SOCKET_IFNAME": None},
        absent=frozenset({"NCCL_IB_HCA", "NCCL_IB_GID_INDEX", "NCCL_NET_GDR_LEVEL"}),
    ),
    "nvlink": FabricContract(
        required={"NCCL_IB_DISABLE": "1"},
        absent=frozenset({"NCCL_IB_HCA", "NCCL_IB_GID_INDEX", "NCCL_NET"}),
    ),
}


def env_values(container: dict[str, Any]) -> dict[str, str | None]:
    """A container's environment as Kubernetes resolves it: the last entry of a name wins.
    Entries taken from a source (valueFrom) map to None."""
    return {entry["name"]: entry.get("value") for entry in container.get("env", [])}


def gpu_count(container: dict[str, Any]) -> int:
    limits = container.get("resources", {}).get("limits", {})
    return sum(int(value) for key, value in limits.items() if key.endswith("/gpu"))


def _flag(arguments: list[str], flag: str) -> str | None:
    for position, argument in enumerate(arguments):
        if argument == flag and position + 1 < len(arguments):
            return arguments[position + 1]
        if argument.startswith(flag + "="):
            return argument.split("=", 1)[1]
    return None


#: NIM profile names spell their layout (vllm-bf16-tp8-pp2); profile hashes do not.
PROFILE_LAYOUT = re.compile(r"(?:^|-)tp(\d+)-pp(\d+)(?:-|$)")


def parallel_layout(container: dict[str, Any]) -> tuple[int, int] | None:
    """(TP, PP) the engine is started with: vLLM flags, NIM's environment variables, or the layout
    spelled in a NIM profile name."""
    arguments = [str(a) for a in container.get("command", []) + container.get("args", [])]
    tensor = _flag(arguments, "--tensor-parallel-size")
    if tensor is not None:
        return int(tensor), int(_flag(arguments, "--pipeline-parallel-size") or 1)
    env = env_values(container)
    if env.get("NIM_TENSOR_PARALLEL_SIZE"):
        return int(env["NIM_TENSOR_PARALLEL_SIZE"] or 1), int(env.get("NIM_PIPELINE_PARALLEL_SIZE") or 1)
    match = PROFILE_LAYOUT.search(env.get("NIM_MODEL_PROFILE") or "")
    if match:
        return int(match.group(1)), int(match.group(2))
    return None


def data_parallel(container: dict[str, Any]) -> int:
    """vLLM's --data-parallel-size the engine is started with (1 without it)."""
    arguments = [str(a) for a in container.get("command", []) + container.get("args", [])]
    return int(_flag(arguments, "--data-parallel-size") or 1)


def opaque_profile(container: dict[str, Any]) -> bool:
    """A NIM profile given by hash: the layout is inside the profile and cannot be read here."""
    profile = env_values(container).get("NIM_MODEL_PROFILE") or ""
    return bool(profile) and not PROFILE_LAYOUT.search(profile)


def pods_by_group(pods: list[RuntimePod]) -> dict[tuple[str, int], list[RuntimePod]]:
    groups: dict[tuple[str, int], list[RuntimePod]] = defaultdict(list)
    for pod in pods:
        groups[(pod.workload, pod.group)].append(pod)
    return groups


def check_parallelism(pods: list[RuntimePod]) -> Iterator[Finding]:
    for (workload, group), members in pods_by_group(pods).items():
        subject = f"{workload} group {group}"
        leader = next(pod for pod in members if pod.is_leader)
        layouts = [layout for c in leader.containers if (layout := parallel_layout(c))]
        if not layouts and any(opaque_profile(c) for c in leader.containers):
            continue
        if not layouts:
            yield Finding("parallelism", subject, "the leader starts no engine with a tensor-parallel size")
            continue
        tensor, pipeline = layouts[0]
        data = max(data_parallel(c) for c in leader.containers)
        gpus = sum(gpu_count(c) for pod in members for c in pod.containers)
        if tensor * pipeline * data != gpus:
            yield Finding("parallelism", subject,
                          f"TP x PP x DP = {tensor} x {pipeline} x {data} = {tensor * pipeline * data}, "
                          f"but the group's {len(members)} pods hold {gpus} GPUs")
        for container in leader.containers:
            expected = env_values(container).get("MULTINODE_EXPECTED_GPUS")
            if expected is not None and int(expected) != tensor * pipeline:
                yield Finding("parallelism", subject,
                              f"the leader waits for {expected} GPUs to join Ray, but TP x PP is "
                              f"{tensor * pipeline}")


def _container_port(pod: RuntimePod, target: Any) -> dict[str, Any] | None:
    for container in pod.containers:
        for port in container.get("ports", []):
            if target in (port.get("name"), port.get("containerPort")):
                return dict(port)
    return None


def internal_ports(pod: RuntimePod) -> set[int]:
    """Ray's, NCCL's and the rendezvous's ports on a pod: the well-known ones and those it declares."""
    ports = set(RAY_AND_NCCL_PORTS)
    for container in pod.containers:
        for variable in ("MULTINODE_RAY_PORT", "MULTINODE_RENDEZVOUS_PORT"):
            value = env_values(container).get(variable)
            if value:
                ports.add(int(value))
        for port in container.get("ports", []):
            if str(port.get("name", "")).startswith(("ray", "nccl", "rendezvous")):
                ports.add(int(port["containerPort"]))
    return ports


def _check_service(service: dict[str, Any], pods: list[RuntimePod]) -> Iterator[Finding]:
    subject = object_name(service)
    spec = service.get("spec", {})
    selector = spec.get("selector") or {}
    selected = [pod for pod in pods if runtime.selects(selector, pod)]
    if not selected:
        yield Finding("exposure", subject, f"selector {selector} matches no pod of the release")
        return
    workers = [pod.name for pod in selected if not pod.is_leader]
    if workers:
        yield Finding("exposure", subject, f"selects worker pods {', '.join(workers)}; only leaders may serve")
    for port in spec.get("ports", []):
        target = port.get("targetPort", port.get("port"))
        for pod in selected:
            resolved = _container_port(pod, target)
            if resolved is None:
                yield Finding("exposure", subject, f"port {port.get('port')} targets {target!r}, "
                                                   f"which pod {pod.name} does not expose")
                continue
            internal = internal_ports(pod)
            if int(resolved["containerPort"]) in internal or int(port["port"]) in internal:
                yield Finding("exposure", subject,
                              f"port {port['port']} -> {resolved.get('name', resolved['containerPort'])} "
                              f"on {pod.name} is a Ray, NCCL or rendezvous port")


def check_exposure(objects: list[dict[str, Any]], pods: list[RuntimePod]) -> Iterator[Finding]:
    leader_services = set()
    hooks = runtime.auxiliary_pods(objects)
    for obj in objects:
        if obj.get("kind") != "Service":
            continue
        selector = obj.get("spec", {}).get("selector") or {}
        for hook in hooks if not runtime.is_hook(obj) else []:
            if runtime.selects(selector, hook):
                yield Finding("exposure", object_name(obj),
                              f"selects {hook.name}, a pod that serves nothing (hook or pre-pull)")
        if obj.get("spec", {}).get("clusterIP") == "None":
            if obj["spec"].get("ports"):
                yield Finding("exposure", object_name(obj),
                              "a headless Service of the chart exists for pod DNS only and may carry no port")
            continue
        findings = list(_check_service(obj, pods))
        yield from findings
        if not findings:
            leader_services.add(obj["metadata"]["name"])
    for obj in objects:
        if obj.get("kind") != "Ingress":
            continue
        spec = obj.get("spec", {})
        backends = [spec["defaultBackend"]] if "defaultBackend" in spec else []
        for rule in spec.get("rules", []):
            backends += [path["backend"] for path in rule.get("http", {}).get("paths", [])]
        for backend in backends:
            name = backend.get("service", {}).get("name")
            if name not in leader_services:
                yield Finding("exposure", object_name(obj),
                              f"routes to Service {name!r}, which is not a leader-only Service of the release")


def check_shared_memory(pods: list[RuntimePod]) -> Iterator[Finding]:
    for pod in pods:
        shm_volumes = {
            volume["name"] for volume in pod.spec.get("volumes", [])
            if (volume.get("emptyDir") or {}).get("medium") == "Memory" and volume["emptyDir"].get("sizeLimit")
        }
        for container in pod.containers:
            mounted = any(m["mountPath"] == "/dev/shm" and m["name"] in shm_volumes
                          for m in container.get("volumeMounts", []))
            if not mounted:
                yield Finding("shared-memory", f"pod {pod.name} container {container['name']}",
                              "no memory-backed emptyDir with a sizeLimit at /dev/shm")


def check_fabric(pods: list[RuntimePod], profile: str) -> Iterator[Finding]:
    contract = FABRIC_CONTRACTS.get(profile)
    if contract is None:
        yield Finding("fabric", "release", f"unknown fabric profile {profile!r}")
        return
    for pod in pods:
        for container in pod.containers:
            subject = f"pod {pod.name} container {container['name']}"
            names = [entry["name"] for entry in container.get("env", [])]
            for name in sorted({n for n in names if names.count(n) > 1}):
                yield Finding("fabric", subject, f"{name} is set {names.count(name)} times")
            env = env_values(container)
            for name, expected in contract.required.items():
                actual = env.get(name)
                if not actual:
                    yield Finding("fabric", subject, f"{profile} needs {name}, which is not set")
                elif expected is not None and actual != expected:
                    yield Finding("fabric", subject, f"{profile} needs {name}={expected}, found {actual}")
            for name in sorted(contract.absent & env.keys()):
                yield Finding("fabric", subject, f"{name} contradicts the {profile} profile")


def _cache_source(pod: RuntimePod, claim_templates: set[str]) -> tuple[str, str] | None:
    """(mount path, volume source) of the model cache in a pod, or None when it has none."""
    mounts = {m["mountPath"] for c in pod.containers for m in c.get("volumeMounts", []) if m["name"] == "model-cache"}
    if len(mounts) != 1:
        return None
    volume = next((v for v in pod.spec.get("volumes", []) if v["name"] == "model-cache"), None)
    if volume is None:
        source = "per-pod claim" if "model-cache" in claim_templates else ""
    else:
        source = repr(sorted((k, repr(v)) for k, v in volume.items() if k != "name"))
    return (mounts.pop(), source) if source else None


def check_cache(objects: list[dict[str, Any]], pods: list[RuntimePod]) -> Iterator[Finding]:
    claim_templates: dict[str, set[str]] = {}
    for obj in objects:
        if obj.get("kind") == "LeaderWorkerSet":
            templates = obj["spec"]["leaderWorkerTemplate"].get("volumeClaimTemplates", [])
            claim_templates[f"LeaderWorkerSet/{obj['metadata']['name']}"] = {
                t["metadata"]["name"] for t in templates}
    by_workload: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for pod in pods:
        source = _cache_source(pod, claim_templates.get(pod.workload, set()))
        if source is None:
            yield Finding("cache", f"pod {pod.name}", "does not mount the model cache exactly once")
        else:
            by_workload[pod.workload].add(source)
    for workload, sources in by_workload.items():
        if len(sources) > 1:
            yield Finding("cache", workload, f"pods mount different model caches: {sorted(sources)}")


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def check_monitoring_and_scaling(objects: list[dict[str, Any]], pods: list[RuntimePod]) -> Iterator[Finding]:
    services = [o for o in objects if o.get("kind") == "Service" and not runtime.is_hook(o)]
    leader_services = {o["metadata"]["name"] for o in services if o["spec"].get("clusterIP") != "None"
                       and not list(_check_service(o, pods))}
    for monitor in (o for o in objects if o.get("kind") == "ServiceMonitor"):
        subject = object_name(monitor)
        chosen = [o for o in services if _matches(monitor["spec"]["selector"], o["metadata"].get("labels", {}))]
        if not chosen:
            yield Finding("monitoring", subject, "selects no Service of the release")
        for service in chosen:
            if service["metadata"]["name"] not in leader_services:
                yield Finding("monitoring", subject,
                              f"selects {object_name(service)}, which is not a leader-only Service")
            port_names = {p.get("name") for p in service["spec"].get("ports", [])}
            for endpoint in monitor["spec"].get("endpoints", []):
                if endpoint.get("port") not in port_names:
                    yield Finding("monitoring", subject, f"port {endpoint.get('port')!r} is not a port of "
                                                         f"{object_name(service)}")
    for monitor in (o for o in objects if o.get("kind") == "PodMonitor"):
        subject = object_name(monitor)
        chosen = [pod for pod in pods if _matches(monitor["spec"]["selector"], pod.labels)]
        if not chosen:
            yield Finding("monitoring", subject, "selects no pod of the release")
        workers = [pod.name for pod in chosen if not pod.is_leader]
        if workers:
            yield Finding("monitoring", subject, f"selects worker pods {', '.join(workers)}")
        for endpoint in monitor["spec"].get("podMetricsEndpoints", []):
            for pod in chosen:
                if _container_port(pod, endpoint.get("port")) is None:
                    yield Finding("monitoring", subject, f"port {endpoint.get('port')!r} is not a port of {pod.name}")
    groups = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "LeaderWorkerSet"}
    for scaler in (o for o in objects if o.get("kind") in ("HorizontalPodAutoscaler", "ScaledObject")):
        target = scaler["spec"]["scaleTargetRef"]
        lws = groups.get(target.get("name")) if target.get("kind") == "LeaderWorkerSet" else None
        if lws is None:
            yield Finding("scaling", object_name(scaler), f"targets {target.get('kind')}/{target.get('name')}, "
                                                         "which is not a LeaderWorkerSet of the release")
        elif "replicas" in lws["spec"]:
            yield Finding("scaling", object_name(scaler), f"{object_name(lws)} sets replicas too: Helm and the "
                                                         "autoscaler would fight over them")


FALSE_WORDS = frozenset({"0", "false", "False", "FALSE"})


def check_logging(pods: list[RuntimePod]) -> Iterator[Finding]:
    for members in pods_by_group(pods).values():
        if len(members) < 2:
            continue
        for pod in members:
            for container in pod.init_containers + pod.containers:
                env = env_values(container)
                if not any(name.startswith("NIM_") for name in env):
                    continue
                value = env.get("NIM_JSONL_LOGGING")
                if value not in FALSE_WORDS:
                    yield Finding("logging", f"pod {pod.name} container {container['name']}",
                                  f"NIM_JSONL_LOGGING is {value!r} in a multi-node group; it must be off "
                                  "(Ray worker processes lack the NIM JSON log formatter)")


def check_controller_names(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """A rendered object of the same kind and name as one a controller creates: for the LWS headless
    Service, CreateHeadlessServiceIfNotExists then makes nothing (runtime.controller_services)."""
    rendered = {(o.get("kind"), o["metadata"].get("namespace", "default"), o["metadata"]["name"]): o
                for o in objects if isinstance(o.get("metadata"), dict) and "name" in o["metadata"]}
    for made in runtime.controller_objects(objects):
        taken = rendered.get((made.kind, made.namespace, made.name))
        if taken is not None:
            yield Finding("names", object_name(taken),
                          f"takes the name of the {made.kind} that {made.made_by} creates")


#: A StatefulSet's pods carry controller-revision-hash=<set name>-<hash> (kubernetes v1.34.0
#: pkg/controller/history/controller_history.go ControllerRevisionName, a hash of up to 10 characters), a
#: label value of at most 63 characters (apimachinery v0.34.0 pkg/util/validation IsValidLabelValue).
STATEFULSET_NAME_MAX = 52
#: A pod's hostname is a DNS-1123 label (pkg/apis/core/validation ValidatePodSpec: Hostname).
HOSTNAME_MAX = 63
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_controller_name_limits(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Names the controllers derive from rendered names: a worker StatefulSet too long for its revision
    label, or a pod hostname that is no DNS label, fails only at run time, in the controller."""
    for made in runtime.controller_objects(objects):
        if made.kind == "StatefulSet" and len(made.name) > STATEFULSET_NAME_MAX:
            yield Finding("names", made.made_by, f"its StatefulSet {made.name} has {len(made.name)} characters; "
                                                 f"its pods' controller-revision-hash label needs at most "
                                                 f"{STATEFULSET_NAME_MAX}")
        if made.kind == "Pod" and (len(made.name) > HOSTNAME_MAX or not _LABEL.match(made.name)):
            yield Finding("names", made.made_by, f"its pod hostname {made.name} is not a DNS-1123 label of at "
                                                 f"most {HOSTNAME_MAX} characters")


LEADER_ADDRESS_VARIABLES = ("MULTINODE_LEADER_ADDRESS", "LWS_LEADER_ADDRESS")


def check_discovery(objects: list[dict[str, Any]], pods: list[RuntimePod]) -> Iterator[Finding]:
    """Each multi-pod group's leader address, as its pods' containers get it, names its leader in DNS."""
    dns = ClusterDNS(objects)
    for members in pods_by_group(pods).values():
        if len(members) < 2:
            continue
        leader = next((pod for pod in members if pod.is_leader), None)
        for pod in members:
            for container in pod.containers:
                env = {e["name"]: e.get("value") for e in pod.container_env(container)}
                name = next((env[v] for v in LEADER_ADDRESS_VARIABLES if env.get(v)), None)
                if name is None or "$(" in name:
                    continue
                resolved = dns.resolve(name, pod.namespace)
                if leader is None or resolved != leader.name:
                    why = dns.why_unresolved(name, pod.namespace) if resolved is None else f"it names {resolved}"
                    yield Finding("discovery", f"pod {pod.name} container {container['name']}",
                                  f"the leader address {name} does not resolve to the leader "
                                  f"{leader.name if leader else '?'} before it is Ready: {why}")


def check(objects: list[dict[str, Any]], fabric_profile: str) -> list[Finding]:
    """Every finding of every invariant for one rendered release."""
    pods = runtime.pods(objects)
    # The preflight's pods have the group's shape: they need shm and the fabric's NCCL variables too.
    preflight = runtime.hook_job_pods(objects)
    findings: list[Finding] = []
    if not pods and not preflight:
        findings.append(Finding("workload", "release", "renders no group of pods"))
    findings += check_parallelism(pods)
    findings += check_exposure(objects, pods)
    findings += check_shared_memory(pods + preflight)
    findings += check_fabric(pods + preflight, fabric_profile)
    findings += check_cache(objects, pods)
    findings += check_logging(pods)
    findings += check_monitoring_and_scaling(objects, pods)
    findings += check_controller_names(objects)
    findings += check_controller_name_limits(objects)
    findings += check_discovery(objects, pods)
    return findings
