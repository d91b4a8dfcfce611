"""A short, human-readable account of a rendered release: what runs, where the GPUs go, what is exposed."""

from __future__ import annotations

from typing import Any

from inference_charts import paths
from inference_charts.checks import requirements, runtime, umbrella
from inference_charts.checks.harness import Result
from inference_charts.checks.invariants import (
    FABRIC_CONTRACTS,
    data_parallel,
    env_values,
    gpu_count,
    parallel_layout,
    pods_by_group,
)
from inference_charts.checks.kube_schemas import SUPPORTED_KUBERNETES


def _cache_line(result: Result, cache: dict[str, Any]) -> str:
    where = f"at {cache['mountPath']} on every pod"
    kind = cache["type"]
    if kind == "pvc":
        claim = next((o for o in result.objects if o["kind"] == "PersistentVolumeClaim"), None)
        if claim:
            size = claim["spec"]["resources"]["requests"]["storage"]
            modes = ",".join(claim["spec"]["accessModes"])
            return f"new claim {claim['metadata']['name']} ({modes}, {size}) {where}"
    if kind == "existingClaim":
        return f"existing claim {cache['existingClaim']['name']} {where}"
    if kind == "nfs":
        return f"NFS {cache['nfs']['server']}:{cache['nfs']['path']} {where}"
    if kind == "hostPath":
        return f"node directory {cache['hostPath']['path']} {where}"
    if kind == "perPodClaim":
        return f"one claim per pod ({cache['perPodClaim']['size']}) {where}"
    return f"per-pod emptyDir {where} (each pod downloads the model)"


def _exposure_lines(result: Result, pods: list[runtime.RuntimePod]) -> list[str]:
    lines = []
    for obj in result.objects:
        spec = obj.get("spec", {})
        if obj["kind"] == "Service" and spec.get("clusterIP") != "None":
            selected = [p.name for p in pods if runtime.selects(spec.get("selector") or {}, p)]
            ports = ", ".join(str(p["port"]) for p in spec.get("ports", []))
            lines.append(f"Service {obj['metadata']['name']} ({spec.get('type', 'ClusterIP')}) port {ports}"
                         f" -> {', '.join(selected) or 'no pod'}")
        if obj["kind"] == "Ingress":
            hosts = [r.get("host", "*") for r in spec.get("rules", [])]
            lines.append(f"Ingress {obj['metadata']['name']} host {', '.join(hosts)}")
    return lines or ["nothing"]


def _engine_values(result: Result) -> Any:
    """The values that describe the group: the chart's own, or, for the umbrella, the first enabled
    engine's with the umbrella's globals folded in (the summary describes one engine's groups)."""
    if result.case.chart != paths.UMBRELLA_CHART:
        return result.values
    engines = umbrella.enabled_engines(result.values)
    if not engines:
        return result.values
    return {section: umbrella.effective_section(result.values, engines[0], section)
            for section in ("fabric", "cache", "sharedMemory")}


def render_summary(result: Result) -> str:
    case, values = result.case, _engine_values(result)
    pods = runtime.pods(result.objects)
    groups = pods_by_group(pods)
    lines = [f"{case.release}: {case.chart} in namespace {case.namespace} ({result.renderer})"]

    def add(label: str, text: str) -> None:
        lines.append(f"  {label:<9} {text}")

    workloads = sorted({pod.workload for pod in pods})
    for workload in workloads:
        members = [g for (w, _), g in groups.items() if w == workload]
        size = len(members[0])
        leader = "completion index 0 leads" if workload.startswith("Job/") else "1 leader"
        add("workload", f"{workload}: {len(members)} group(s) x {size} pod(s) "
                        f"({leader} + {size - 1} worker(s))")
    if pods:
        first_group = next(iter(groups.values()))
        leader = first_group[0]
        per_pod = gpu_count(leader.containers[0])
        per_group = sum(gpu_count(c) for p in first_group for c in p.containers)
        add("GPUs", f"{per_pod} per pod, {per_group} per group, {per_group * len(groups)} in all")
        layout = parallel_layout(leader.containers[0])
        profile_name = env_values(leader.containers[0]).get("NIM_MODEL_PROFILE")
        if profile_name:
            add("profile", f"NIM_MODEL_PROFILE={profile_name}")
        if layout:
            tensor, pipeline = layout
            data = data_parallel(leader.containers[0])
            native = values.get("launcher", {}).get("kind") == "native"
            across = ("one pod" if len(first_group) == 1 else
                      "vLLM's native launcher across pods" if native else "Ray across pods")
            if data > 1:
                expert = ", expert parallel" if values.get("topology", {}).get("expertParallel") else ""
                add("parallel", f"TP {tensor} x PP {pipeline} x DP {data} = {tensor * pipeline * data} GPUs "
                                f"per group ({across}{expert})")
            else:
                add("parallel", f"TP {tensor} x PP {pipeline} = {tensor * pipeline} GPUs per group ({across})")
        profile = values.get("fabric", {}).get("profile", "")
        env = env_values(leader.containers[0])
        shown = sorted(set(FABRIC_CONTRACTS[profile].required) | {"NCCL_DEBUG"}) if profile in FABRIC_CONTRACTS else []
        add("fabric", f"{profile}: " + " ".join(f"{n}={env.get(n)}" for n in shown if n in env))
        add("cache", _cache_line(result, values["cache"]))
        add("shm", f"{values['sharedMemory']['sizeLimit']} memory-backed /dev/shm on every pod")
    exposure = _exposure_lines(result, pods)
    add("exposed", exposure[0])
    for line in exposure[1:]:
        add("", line)
    # Native groups meet at the leader's torch.distributed rendezvous (--master-addr); NIM and the Ray
    # launcher meet at the Ray head. NCCL carries the tensors in both.
    native = values.get("launcher", {}).get("kind") == "native"
    between = "vLLM's rendezvous and NCCL" if native else "Ray and NCCL"
    for service in runtime.controller_services(result.objects):
        add("internal", f"headless Service {service.name} (made by LeaderWorkerSet): {between} between pods")
    for obj in result.objects:
        if obj["kind"] == "Service" and obj.get("spec", {}).get("clusterIP") == "None" and not runtime.is_hook(obj):
            add("internal", f"headless Service {obj['metadata']['name']} (no ports): DNS names of the Job pods")
    for obj in result.objects:
        if runtime.is_hook(obj):
            hook = obj["metadata"]["annotations"]["helm.sh/hook"]
            add("hook", f"{obj['kind']}/{obj['metadata']['name']} runs on helm {hook}")
    kinds = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in result.objects)
    add("objects", kinds)
    needs = requirements.lws_minimum(result.objects)
    lws_line = f"; LeaderWorkerSet {needs[0]} or newer ({', '.join(needs[1])})" if needs else ""
    add("requires", f"Kubernetes {requirements.MIN_KUBERNETES} or newer{lws_line}")
    verdict = "no problems" if result.ok else f"{len(result.problems())} problem(s)"
    versions = " and ".join(SUPPORTED_KUBERNETES)
    add("checked", f"Kubernetes {versions} schemas, custom resource schemas, invariants: {verdict}")
    return "\n".join(lines)

