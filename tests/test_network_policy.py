"""The rendered NetworkPolicies, evaluated against the rendered pods (with their run-time labels) for every
matrix case: Ray and NCCL flow inside a group on any port, the API port only from the ingress controller,
the helm test pod and (with a monitor) Prometheus; nothing from another group, release or namespace.

The rules are checks/reachability.py's, which the harness runs for every case; these tests hold it to
them: clean on every matrix case, a finding naming the rule and the value for each way to break one."""

from __future__ import annotations

import copy

import pytest
from helpers import of_kind, one
from inference_charts.checks import netpol, reachability, runtime
from inference_charts.checks.invariants import pods_by_group
from inference_charts.devtools.matrix import MatrixCase, all_cases
from inference_charts.render.cases import Case

CASES = all_cases()
RAY_GCS, NCCL_SOCKET, API = 6379, 45123, 8000


def _endpoint(pod: runtime.RuntimePod, namespace: str) -> netpol.Endpoint:
    ports = {p["name"]: p["containerPort"] for c in pod.containers for p in c.get("ports", []) if "name" in p}
    return netpol.pod(pod.name, namespace, dict(pod.labels), ports=ports)


def _stranger(name: str, namespace: str, labels: dict[str, str]) -> netpol.Endpoint:
    return netpol.pod(name, namespace, labels)


def _reachability(objects, namespace: str, values) -> list:
    return reachability.findings(objects, namespace, lambda _: ("", values))


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_policies_admit_the_group_and_the_api_clients_only(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    objects = result.objects
    policies = of_kind(objects, "NetworkPolicy")
    assert policies, "networkPolicy.enabled is on by default"
    namespace = m.case.namespace
    assert _reachability(objects, namespace, result.values) == []

    # The default apiFrom, spelled out: the ingress controller's namespace reaches the leaders' API port
    # and nothing else; no monitor is on in the matrix, so Prometheus stays out.
    groups = list(pods_by_group(runtime.pods(objects)).values())
    endpoints = [[_endpoint(pod, namespace) for pod in group] for group in groups]
    leaders = [members[0] for members in endpoints]
    ingress = _stranger("controller", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    for leader in leaders:
        assert netpol.allowed(policies, ingress, leader, API)
        assert not netpol.allowed(policies, ingress, leader, RAY_GCS)
    if m.topology.pods > 1:
        assert not netpol.allowed(policies, ingress, endpoints[0][1], API), "a worker accepts API traffic"
    smoke = one(objects, "Pod")
    tester = _stranger(smoke["metadata"]["name"], namespace, smoke["metadata"]["labels"])
    assert netpol.allowed(policies, tester, leaders[0], API) and not netpol.allowed(policies, tester, leaders[0],
                                                                                     RAY_GCS)
    prometheus = _stranger("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
    assert not netpol.allowed(policies, prometheus, leaders[0], API), "no monitor is on in the matrix"


def _two_groups(harness, **changes):
    m = next(c for c in CASES if c.topology.pods == 2 and c.replicas == 2 and c.chart == "vllm-multinode")
    values = copy.deepcopy(m.case.values)
    values.update(changes)
    result = harness.evaluate(Case(chart=m.case.chart, values=values, release="r", namespace="inference"))
    return result


def _rules(findings) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in findings:
        assert finding.check == reachability.CHECK
        found.setdefault(finding.rule, set()).add(finding.value)
    return found


def test_no_policy_opens_ray_nccl_and_the_api_to_everyone(harness) -> None:
    result = _two_groups(harness, networkPolicy={"enabled": False})
    assert not of_kind(result.objects, "NetworkPolicy")
    rules = _rules(_reachability(result.objects, "inference", result.values))
    assert rules == {rule: {"networkPolicy.enabled"} for rule in (
        reachability.GROUPS_ISOLATED, reachability.RAY_NCCL_CLOSED, reachability.API_NOT_OPEN,
        reachability.API_LEADERS_ONLY)}
    assert not result.ok


def test_an_api_peer_for_every_namespace_opens_the_api_only(harness) -> None:
    result = _two_groups(harness, networkPolicy={"apiFrom": [{"namespaceSelector": {}}]})
    findings = _reachability(result.objects, "inference", result.values)
    # Every pod may call the API now, the other group's too; Ray and NCCL stay closed.
    assert _rules(findings) == {reachability.API_NOT_OPEN: {"networkPolicy.apiFrom"},
                                reachability.GROUPS_ISOLATED: {"networkPolicy.apiFrom"}}
    messages = [f.message for f in findings if f.rule == reachability.API_NOT_OPEN]
    assert "an unrelated pod in another namespace -> r-vllm-multinode-group-0 on 8000" in messages[0]
    assert all(" on 8000" in f.message and "6379" not in f.message for f in findings)


def test_an_api_peer_that_selects_nothing_leaves_the_api_unreachable(harness) -> None:
    result = _two_groups(harness, networkPolicy={"apiFrom": [
        {"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"app": "gw"}}}]})
    assert _reachability(result.objects, "inference", result.values) == []  # the probe pod matches it
    policies = [p for p in result.objects if p["kind"] == "NetworkPolicy" and p["metadata"]["name"].endswith("-api")]
    assert len(policies) == 1
    # The same values against an API policy that lost its peers: the apiFrom client is shut out.
    tampered = copy.deepcopy(result.objects)
    api = next(p for p in tampered if p["kind"] == "NetworkPolicy" and p["metadata"]["name"].endswith("-api"))
    api["spec"]["ingress"][0]["from"] = api["spec"]["ingress"][0]["from"][1:]
    rules = _rules(_reachability(tampered, "inference", result.values))
    assert rules == {reachability.API_REACHABLE: {"networkPolicy.apiFrom"}}


def test_group_policies_that_shut_members_out_or_let_everyone_in_are_found(harness) -> None:
    result = _two_groups(harness)
    shut = copy.deepcopy(result.objects)
    for policy in shut:
        if policy["kind"] == "NetworkPolicy" and "-group-" in policy["metadata"]["name"]:
            policy["spec"]["ingress"] = []
    assert set(_rules(_reachability(shut, "inference", result.values))) == {reachability.GROUP_MEMBERS_CONNECT}
    open_ = copy.deepcopy(result.objects)
    for policy in open_:
        if policy["kind"] == "NetworkPolicy" and "-group-" in policy["metadata"]["name"]:
            policy["spec"]["ingress"] = [{}]
    assert set(_rules(_reachability(open_, "inference", result.values))) == {
        reachability.GROUPS_ISOLATED, reachability.RAY_NCCL_CLOSED, reachability.API_NOT_OPEN,
        reachability.API_LEADERS_ONLY}


def test_monitor_opens_the_api_port_to_prometheus(evaluated_case) -> None:
    from inference_charts.devtools.matrix import production_matrix

    case = next(k for k in production_matrix() if k.knob == "service-monitor").case
    result = evaluated_case(case)
    objects = result.objects
    assert _reachability(objects, case.namespace, result.values) == []  # metricsFrom is an API client now
    leader = next(p for p in runtime.pods(objects) if p.is_leader)
    destination = _endpoint(leader, case.namespace)
    prometheus = _stranger("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
    policies = of_kind(objects, "NetworkPolicy")
    assert netpol.allowed(policies, prometheus, destination, API)
    assert not netpol.allowed(policies, prometheus, destination, RAY_GCS)


def test_preflight_pods_only_talk_to_each_other(harness) -> None:
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
    # The rules see the preflight as a group of its own: a preflight policy that admits nobody is found.
    shut = copy.deepcopy(result.objects)
    next(p for p in shut if p["kind"] == "NetworkPolicy" and runtime.is_hook(p))["spec"]["ingress"] = []
    (finding,) = _reachability(shut, "inference", result.values)
    assert finding.rule == reachability.GROUP_MEMBERS_CONNECT and finding.subject.startswith("Job/pf-")
