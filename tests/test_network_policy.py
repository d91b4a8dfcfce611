"""The rendered NetworkPolicies, evaluated against the rendered pods (with their run-time labels) for every
matrix case: Ray and NCCL flow inside a group on any port, the API port only from the ingress controller,
the helm test pod and (with a monitor) Prometheus; nothing from another group, release or namespace."""

from __future__ import annotations

import pytest
from helpers import of_kind, one
from inference_charts.checks import netpol, runtime
from inference_charts.checks.invariants import pods_by_group
from inference_charts.devtools.matrix import MatrixCase, all_cases

CASES = all_cases()
RAY_GCS, NCCL_SOCKET, API = 6379, 45123, 8000


def _endpoint(pod: runtime.RuntimePod, namespace: str) -> netpol.Endpoint:
    ports = {p["name"]: p["containerPort"] for c in pod.containers for p in c.get("ports", []) if "name" in p}
    return netpol.pod(pod.name, namespace, dict(pod.labels), ports=ports)


def _stranger(name: str, namespace: str, labels: dict[str, str]) -> netpol.Endpoint:
    return netpol.pod(name, namespace, labels)


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_policies_admit_the_group_and_the_api_clients_only(m: MatrixCase, evaluated) -> None:
    objects = evaluated(m).objects
    policies = of_kind(objects, "NetworkPolicy")
    assert policies, "networkPolicy.enabled is on by default"
    namespace = m.case.namespace
    groups = list(pods_by_group(runtime.pods(objects)).values())
    endpoints = [[_endpoint(pod, namespace) for pod in group] for group in groups]

    def allowed(source: netpol.Endpoint, destination: netpol.Endpoint, port: int) -> bool:
        return netpol.allowed(policies, source, destination, port)

    for members in endpoints:
        for source in members:
            for destination in members:
                if source is not destination:
                    assert allowed(source, destination, RAY_GCS) and allowed(source, destination, NCCL_SOCKET), (
                        f"{source.name} -> {destination.name} inside a group is blocked")
    if len(endpoints) > 1:
        first, second = endpoints[0][0], endpoints[1][-1]
        for port in (RAY_GCS, NCCL_SOCKET, API):
            assert not allowed(first, second, port), f"group 0 reaches group 1 on {port}"

    leaders = [members[0] for members in endpoints]
    any_member = endpoints[0][-1]
    other_release = _stranger("other", namespace, {**any_member.labels, "app.kubernetes.io/instance": "other"})
    same_labels_elsewhere = _stranger("twin", "elsewhere", dict(any_member.labels))
    for intruder in (other_release, same_labels_elsewhere):
        for destination in (leaders[0], any_member):
            for port in (RAY_GCS, NCCL_SOCKET, API):
                assert not allowed(intruder, destination, port), f"{intruder.name}/{intruder.namespace} -> {port}"

    ingress = _stranger("controller", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    for leader in leaders:
        assert allowed(ingress, leader, API)
        assert not allowed(ingress, leader, RAY_GCS)
    if m.topology.pods > 1:
        assert not allowed(ingress, endpoints[0][1], API), "a worker accepts API traffic"

    smoke = one(objects, "Pod")
    tester = _stranger(smoke["metadata"]["name"], namespace, smoke["metadata"]["labels"])
    assert allowed(tester, leaders[0], API) and not allowed(tester, leaders[0], RAY_GCS)
    prometheus = _stranger("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
    assert not allowed(prometheus, leaders[0], API), "no monitor is on in the matrix: Prometheus stays out"


def test_monitor_opens_the_api_port_to_prometheus(evaluated_case) -> None:
    from inference_charts.devtools.matrix import production_matrix

    case = next(k for k in production_matrix() if k.knob == "service-monitor").case
    objects = evaluated_case(case).objects
    leader = next(p for p in runtime.pods(objects) if p.is_leader)
    destination = _endpoint(leader, case.namespace)
    prometheus = _stranger("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
    policies = of_kind(objects, "NetworkPolicy")
    assert netpol.allowed(policies, prometheus, destination, API)
    assert not netpol.allowed(policies, prometheus, destination, RAY_GCS)


def test_preflight_pods_only_talk_to_each_other(harness) -> None:
    import copy

    from inference_charts.render.cases import Case

    m = next(c for c in CASES if c.topology.pods == 2 and c.chart == "vllm-multinode")
    values = copy.deepcopy(m.case.values)
    values["preflight"] = {"enabled": True}
    result = harness.evaluate(Case(chart=m.case.chart, values=values, release="pf", namespace="inference"))
    assert result.ok, result.problems()
    policies = of_kind(result.objects, "NetworkPolicy")
    (policy,) = [p for p in policies if runtime.is_hook(p)]
    assert policy["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"
    a, b = (_endpoint(p, "inference") for p in runtime.hook_job_pods(result.objects))
    assert netpol.allowed(policies, a, b, 29500) and netpol.allowed(policies, b, a, NCCL_SOCKET)
    server = _endpoint(next(p for p in runtime.pods(result.objects) if p.is_leader), "inference")
    assert not netpol.allowed(policies, server, a, 29500)
