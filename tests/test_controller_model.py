"""The model of the controllers and of cluster DNS (runtime, cluster_dns) and the two invariants built on
it: no rendered object takes a name a controller creates, and every group's leader address resolves.

The first case is the defect the model exists for: the API Service named like the LeaderWorkerSet took
the name of the headless Service the LWS controller makes, so the leader's DNS name never existed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from helpers import one
from inference_charts.checks import invariants, runtime
from inference_charts.checks.cluster_dns import ClusterDNS
from inference_charts.checks.harness import Harness
from inference_charts.render.cases import Case, load_case

EXAMPLES = Path(__file__).parents[1] / "examples"
LWS_EXAMPLE = EXAMPLES / "vllm-llama-405b-tp8-pp2.yaml"


@pytest.fixture(scope="module")
def objects(harness: Harness) -> list[dict]:
    result = harness.evaluate(load_case(LWS_EXAMPLE))
    assert result.ok, result.problems()
    return result.objects


def _api_service(objects: list[dict]) -> dict:
    return next(o for o in objects if o["kind"] == "Service" and o["spec"].get("clusterIP") != "None")


def _old_naming(objects: list[dict]) -> list[dict]:
    """The charts before this model: the LeaderWorkerSet named exactly like the API Service."""
    broken = copy.deepcopy(objects)
    one(broken, "LeaderWorkerSet")["metadata"]["name"] = _api_service(broken)["metadata"]["name"]
    return broken


def _worker(objects: list[dict]) -> runtime.RuntimePod:
    return next(p for p in runtime.pods(objects) if not p.is_leader)


def _leader_address(pod: runtime.RuntimePod) -> str:
    env = {e["name"]: e.get("value") for e in pod.container_env(pod.containers[0])}
    return str(env["LWS_LEADER_ADDRESS"])


def test_old_naming_leaves_the_leader_without_a_dns_name_and_names_the_service(objects) -> None:
    broken = _old_naming(objects)
    service = _api_service(broken)["metadata"]["name"]
    # The LWS controller skips its headless Service: the name is taken.
    assert runtime.controller_services(broken) == []
    worker = _worker(broken)
    address = _leader_address(worker)
    dns = ClusterDNS(broken)
    assert dns.resolve(address, worker.namespace) is None
    why = dns.why_unresolved(address, worker.namespace)
    assert f"Service {service} (not headless)" in why and "skips an existing one" in why
    findings = [str(f) for f in invariants.check(broken, "infiniband")]
    assert any(f.startswith(f"[names] Service/{service}") and "LeaderWorkerSet" in f for f in findings), findings
    assert any(f.startswith("[discovery]") and f"Service {service}" in f for f in findings), findings


def test_rendered_groups_resolve_their_leader_before_it_is_ready(objects) -> None:
    dns = ClusterDNS(objects)
    pods = runtime.pods(objects)
    leader = next(p for p in pods if p.is_leader)
    workers = [p for p in pods if not p.is_leader]
    assert workers
    for worker in workers:
        assert dns.resolve(_leader_address(worker), worker.namespace) == leader.name
    # The LWS made its headless Service under its own name, which differs from the API Service's.
    made = runtime.controller_services(objects)
    assert [s.name for s in made] == [one(objects, "LeaderWorkerSet")["metadata"]["name"]]
    assert made[0].name != _api_service(objects)["metadata"]["name"]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_passes_the_name_and_discovery_invariants(harness: Harness, example: str) -> None:
    result = harness.evaluate(load_case(EXAMPLES / example))
    assert result.ok, result.problems()
    findings = list(invariants.check_controller_names(result.objects))
    findings += invariants.check_discovery(result.objects, runtime.pods(result.objects))
    assert findings == []
    for pod in runtime.pods(result.objects):
        if pod.workload.startswith("LeaderWorkerSet") and len(pod.name) > 0:
            assert len(pod.hostname) <= 63, pod.hostname


def test_unique_per_replica_gives_each_group_its_own_subdomain(harness: Harness) -> None:
    values = load_case(LWS_EXAMPLE).values
    values = {**values, "topology": {**values["topology"], "replicas": 2},
              "group": {**values.get("group", {}), "subdomainPolicy": "UniquePerReplica"}}
    result = harness.evaluate(Case("vllm-multinode", values, name="unique"))
    assert result.ok, result.problems()
    lws = one(result.objects, "LeaderWorkerSet")["metadata"]["name"]
    assert sorted(s.name for s in runtime.controller_services(result.objects)) == [f"{lws}-0", f"{lws}-1"]
    dns = ClusterDNS(result.objects)
    for pod in runtime.pods(result.objects):
        assert pod.subdomain == f"{lws}-{pod.group}"
        assert dns.resolve(_leader_address(pod), pod.namespace) == f"{lws}-{pod.group}"
    # A rendered Service under a group's headless name takes it from the controller.
    taken = copy.deepcopy(result.objects)
    grabber = copy.deepcopy(_api_service(taken))
    grabber["metadata"]["name"] = f"{lws}-1"
    taken.append(grabber)
    findings = [str(f) for f in invariants.check_controller_names(taken)]
    assert findings == [f"[names] Service/{lws}-1: takes the name of the Service that LeaderWorkerSet/{lws} creates"]
    assert [s.name for s in runtime.controller_services(taken)] == [f"{lws}-0"]


def test_a_rendered_pod_named_like_a_group_pod_is_caught(objects) -> None:
    broken = copy.deepcopy(objects)
    test_pod = next(o for o in broken if o["kind"] == "Pod")
    test_pod["metadata"]["name"] = _worker(objects).name
    findings = [str(f) for f in invariants.check_controller_names(broken)]
    assert len(findings) == 1 and "takes the name of the Pod" in findings[0]


def test_lws_variables_replace_the_containers_own(objects) -> None:
    broken = copy.deepcopy(objects)
    worker_template = one(broken, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["workerTemplate"]
    worker_template["spec"]["containers"][0]["env"].append({"name": "LWS_LEADER_ADDRESS", "value": "elsewhere"})
    worker = _worker(broken)
    env = worker.container_env(worker.containers[0])
    assert [e["name"] for e in env].count("LWS_LEADER_ADDRESS") == 1
    assert _leader_address(worker) != "elsewhere"
    assert [e["name"] for e in env[:3]] == ["LWS_LEADER_ADDRESS", "LWS_GROUP_SIZE", "LWS_WORKER_INDEX"]


def test_indexed_job_pods_resolve_through_the_chart_headless_service(harness: Harness) -> None:
    values = load_case(LWS_EXAMPLE).values
    result = harness.evaluate(Case("vllm-multinode", {**values, "workload": {"kind": "IndexedJob"}}, name="job"))
    assert result.ok, result.problems()
    pods = runtime.pods(result.objects)
    job = pods[0].workload.split("/", 1)[1]
    dns = ClusterDNS(result.objects)
    for pod in pods:
        assert pod.hostname == f"{job}-{pod.index}"
        assert dns.resolve(f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc", pod.namespace) == pod.name
    # Without publishNotReadyAddresses the leader has no record until it is Ready, and it becomes Ready
    # only after its workers joined: the group could never form.
    strict = copy.deepcopy(result.objects)
    headless = next(o for o in strict if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None")
    headless["spec"]["publishNotReadyAddresses"] = False
    leader = next(p for p in pods if p.is_leader)
    name = f"{leader.hostname}.{leader.subdomain}.{leader.namespace}"
    assert ClusterDNS(strict).resolve(name, leader.namespace) is None
    assert ClusterDNS(strict).resolve(name, leader.namespace, ready=frozenset({leader.name})) == leader.name
    assert any(f.check == "discovery" for f in invariants.check(strict, "infiniband"))


def test_names_resolve_only_through_the_search_path_of_their_namespace(objects) -> None:
    worker = _worker(objects)
    address = _leader_address(worker)  # <leader>.<subdomain>.<namespace>, no .svc
    dns = ClusterDNS(objects)
    assert dns.resolve(address, worker.namespace) is not None
    assert dns.resolve(address + ".svc.cluster.local", "elsewhere") is not None
    short = address.rsplit(".", 1)[0]  # <leader>.<subdomain>: only from the same namespace
    assert dns.resolve(short, worker.namespace) is not None
    assert dns.resolve(short, "elsewhere") is None


@pytest.mark.parametrize("kind", ["LeaderWorkerSet", "IndexedJob"])
def test_the_longest_names_stay_within_the_controllers_limits(harness: Harness, kind: str) -> None:
    values = load_case(LWS_EXAMPLE).values
    values = {**values, "fullnameOverride": "a" * 52, "workload": {"kind": kind},
              "topology": {**values["topology"], "replicas": 12}}
    result = harness.evaluate(Case("vllm-multinode", values, name="long"))
    assert result.ok, result.problems()
    assert list(invariants.check_controller_name_limits(result.objects)) == []


def test_a_worker_statefulset_name_over_52_characters_is_caught(objects) -> None:
    """The old naming capped the LWS name at 52: its worker StatefulSet <lws>-<g> then had 54 characters,
    too many for the revision label of its pods."""
    broken = copy.deepcopy(objects)
    one(broken, "LeaderWorkerSet")["metadata"]["name"] = "a" * 52
    findings = [str(f) for f in invariants.check_controller_name_limits(broken)]
    assert findings == [f"[names] LeaderWorkerSet/{'a' * 52}: its StatefulSet {'a' * 52}-0 has 54 characters; its "
                        "pods' controller-revision-hash label needs at most 52"]
