"""Production knobs on both charts and every multi-node fabric: each renders clean, validates (the
ServiceMonitor, PodMonitor and ScaledObject against schemas/crds), and does what it says on every pod."""

from __future__ import annotations

import pytest
from helpers import env_of, of_kind, one
from inference_charts.checks import runtime
from inference_charts.devtools.matrix import PRODUCTION_KNOBS, KnobCase, production_matrix

CASES = production_matrix()
RDMA_PROFILES = ("infiniband", "roce")


def test_every_knob_on_both_charts_and_every_fabric() -> None:
    assert {c.knob for c in CASES} == set(PRODUCTION_KNOBS)
    assert {(c.chart, c.fabric) for c in CASES} == {(chart, fabric) for chart in ("vllm-multinode", "nim-multinode")
                                                    for fabric in ("infiniband", "roce", "ethernet")}


def _engine_containers(objects: list[dict]) -> list[tuple[runtime.RuntimePod, dict]]:
    """Every engine container of the serving group, with its pod."""
    return [(pod, c) for pod in runtime.pods(objects) for c in pod.containers]


@pytest.mark.parametrize("k", CASES, ids=lambda k: k.case.name)
def test_knob_renders_clean(k: KnobCase, evaluated_case) -> None:
    result = evaluated_case(k.case)
    assert result.ok, "\n".join(result.problems())


@pytest.mark.parametrize("k", CASES, ids=lambda k: k.case.name)
def test_rdma_devices_and_ipc_lock_follow_the_profile(k: KnobCase, evaluated_case) -> None:
    resource, count = "rdma/rdma_shared_device_a", "1"
    if k.knob == "rdma-sriov":
        resource, count = "openshift.io/mellanoxnics", "2"
    for pod, container in _engine_containers(evaluated_case(k.case).objects):
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        capabilities = container["securityContext"]["capabilities"].get("add", [])
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        if k.fabric in RDMA_PROFILES:
            assert limits[resource] == requests[resource] == count, pod.name
            assert capabilities == ["IPC_LOCK"], pod.name
        else:
            assert not any(name.startswith(("rdma/", "openshift.io/")) for name in limits), pod.name
            assert capabilities == [], pod.name


@pytest.mark.parametrize("k", [c for c in CASES if c.knob in ("multus", "nccl-debug")], ids=lambda k: k.case.name)
def test_multus_network_and_nccl_debug(k: KnobCase, evaluated_case) -> None:
    for _pod, container in _engine_containers(evaluated_case(k.case).objects):
        env = env_of(container)
        if k.knob == "multus":
            assert env["NCCL_SOCKET_IFNAME"] == env["GLOO_SOCKET_IFNAME"] == "net1"
        else:
            assert env["NCCL_DEBUG"] == "INFO" and env["NCCL_DEBUG_SUBSYS"] == "INIT,NET"
            assert env["NCCL_SOCKET_IFNAME"] == "eth0"
    templates = _pod_templates(evaluated_case(k.case).objects)
    for template in templates:
        networks = template["metadata"].get("annotations", {}).get("k8s.v1.cni.cncf.io/networks")
        assert networks == ("net-attach/rdma-net" if k.knob == "multus" else None)


def _pod_templates(objects: list[dict]) -> list[dict]:
    lws = one(objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]
    return [lws["leaderTemplate"], lws["workerTemplate"]]


@pytest.mark.parametrize("k", [c for c in CASES if c.knob == "placement"], ids=lambda k: k.case.name)
def test_placement_on_every_pod(k: KnobCase, evaluated_case) -> None:
    wanted = PRODUCTION_KNOBS["placement"]["placement"]
    for template in _pod_templates(evaluated_case(k.case).objects):
        spec = template["spec"]
        assert spec["nodeSelector"]["nvidia.com/gpu.product"] == wanted["gpuProduct"]
        assert spec["schedulerName"] == wanted["schedulerName"]
        assert spec["priorityClassName"] == wanted["priorityClassName"]
        assert spec["runtimeClassName"] == wanted["runtimeClassName"]
        assert spec["topologySpreadConstraints"] == wanted["topologySpreadConstraints"]
        assert spec["tolerations"] == PRODUCTION_KNOBS["placement"]["tolerations"]


@pytest.mark.parametrize("k", [c for c in CASES if c.knob in ("non-root", "openshift")], ids=lambda k: k.case.name)
def test_identity(k: KnobCase, evaluated_case) -> None:
    objects = evaluated_case(k.case).objects
    smoke = one(objects, "Pod")["spec"]["securityContext"]
    for template in _pod_templates(objects):
        context = template["spec"]["securityContext"]
        if k.knob == "openshift":
            assert context == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
            assert "runAsUser" not in smoke and smoke["runAsNonRoot"] is True
        else:
            assert context == {"runAsUser": 1001, "runAsGroup": 1001, "fsGroup": 1001,
                               "fsGroupChangePolicy": "OnRootMismatch", "runAsNonRoot": True,
                               "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize("k", [c for c in CASES if c.knob == "air-gapped"], ids=lambda k: k.case.name)
def test_air_gapped(k: KnobCase, evaluated_case) -> None:
    objects = evaluated_case(k.case).objects
    images = [c["image"] for pod in runtime.pods(objects) + runtime.auxiliary_pods(objects)
              for c in pod.init_containers + pod.containers]
    assert images and all(image.startswith("registry.corp.internal:5000/") for image in images), images
    engine = "vllm/vllm-openai"
    if k.chart == "nim-multinode":
        engine = k.case.values["image"]["repository"].split("/", 1)[-1]
    assert any(image.startswith(f"registry.corp.internal:5000/{engine}:") for image in images)
    for pod, container in _engine_containers(objects):
        env = env_of(container)
        assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"
        if k.chart == "nim-multinode":
            assert env["NIM_DISABLE_MODEL_DOWNLOAD"] == "1"
            assert "NGC_API_KEY" not in env
        assert {s["name"] for s in pod.spec["imagePullSecrets"]} >= {"corp-registry"}


@pytest.mark.parametrize("k", [c for c in CASES if c.knob in ("service-monitor", "pod-monitor")],
                         ids=lambda k: k.case.name)
def test_metrics_scraped_from_leaders_only(k: KnobCase, evaluated_case) -> None:
    objects = evaluated_case(k.case).objects
    path = "/v1/metrics" if k.chart == "nim-multinode" else "/metrics"
    pods = runtime.pods(objects)
    if k.knob == "service-monitor":
        monitor = one(objects, "ServiceMonitor")
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        wanted = monitor["spec"]["selector"]["matchLabels"].items()
        chosen = [s for s in of_kind(objects, "Service") if all(s["metadata"]["labels"].get(a) == b for a, b in wanted)]
        (service,) = chosen
        assert service["spec"].get("clusterIP") != "None"
        selected = [p for p in pods if runtime.selects(service["spec"]["selector"], p)]
        assert selected and all(p.is_leader for p in selected)
        assert monitor["spec"]["endpoints"][0]["path"] == path
        assert of_kind(objects, "PodMonitor") == []
    else:
        monitor = one(objects, "PodMonitor")
        selected = [p for p in pods if runtime.selects(monitor["spec"]["selector"]["matchLabels"], p)]
        assert [p.name for p in selected] == [p.name for p in pods if p.is_leader]
        assert monitor["spec"]["podMetricsEndpoints"][0] == {"port": "http", "path": path, "interval": "30s"}


@pytest.mark.parametrize("k", [c for c in CASES if c.knob in ("hpa", "keda")], ids=lambda k: k.case.name)
def test_autoscaler_owns_the_group_count(k: KnobCase, evaluated_case) -> None:
    objects = evaluated_case(k.case).objects
    lws = one(objects, "LeaderWorkerSet")
    assert "replicas" not in lws["spec"]
    metric = "num_requests_waiting" if k.chart == "nim-multinode" else "vllm:num_requests_waiting"
    if k.knob == "hpa":
        hpa = one(objects, "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "leaderworkerset.x-k8s.io/v1",
                                                 "kind": "LeaderWorkerSet", "name": lws["metadata"]["name"]}
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 4)
        (pods_metric,) = hpa["spec"]["metrics"]
        assert pods_metric["pods"]["metric"]["name"] == metric.replace(":", "_")
        assert pods_metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "5"}
    else:
        scaled = one(objects, "ScaledObject")
        assert scaled["spec"]["scaleTargetRef"]["name"] == lws["metadata"]["name"]
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "prometheus"
        assert trigger["metadata"]["query"].startswith(f"sum({metric}{{namespace=\"prod\"")
        assert trigger["metadata"]["threshold"] == "8"


@pytest.mark.parametrize("k", [c for c in CASES if c.knob == "prepull"], ids=lambda k: k.case.name)
def test_prepull_runs_on_the_group_nodes_without_gpus(k: KnobCase, evaluated_case) -> None:
    objects = evaluated_case(k.case).objects
    daemon = one(objects, "DaemonSet")["spec"]["template"]["spec"]
    leader = _pod_templates(objects)[0]["spec"]
    assert daemon["nodeSelector"] == leader["nodeSelector"] == {"pool": "gpu"}
    (init,) = daemon["initContainers"]
    assert init["image"] == leader["containers"][0]["image"]
    for container in daemon["initContainers"] + daemon["containers"]:
        assert not any("gpu" in name for name in container["resources"].get("limits", {}))


@pytest.mark.parametrize("k", [c for c in CASES if c.knob == "subgroups"], ids=lambda k: k.case.name)
def test_subgroups(k: KnobCase, evaluated_case) -> None:
    template = one(evaluated_case(k.case).objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 4
    assert template["subGroupPolicy"] == {"subGroupPolicyType": "LeaderWorker", "subGroupSize": 2}


def test_names_that_yaml_reads_as_booleans_stay_strings(harness) -> None:
    """Secret, claim, class and pull-secret names are quoted: "n", "no" or "on" must not become false."""
    from inference_charts.render.cases import Case

    values = {"model": {"name": "m", "hfToken": {"secretName": "n", "secretKey": "on"}},
              "imagePullSecrets": ["no"], "cache": {"type": "existingClaim", "existingClaim": {"name": "yes"}},
              "placement": {"priorityClassName": "off", "schedulerName": "y", "runtimeClassName": "true"},
              "ingress": {"enabled": True, "tls": {"secretName": "n"}, "host": "a.example.com"}}
    result = harness.evaluate(Case(chart="vllm-multinode", values=values))
    assert result.ok, result.problems()
    spec = one(result.objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]
    assert env_of(spec["containers"][0])["HF_TOKEN"] == {"secretKeyRef": {"name": "n", "key": "on"}}
    assert spec["imagePullSecrets"] == [{"name": "no"}]
    assert (spec["priorityClassName"], spec["schedulerName"], spec["runtimeClassName"]) == ("off", "y", "true")
    claim = next(v for v in spec["volumes"] if v["name"] == "model-cache")
    assert claim["persistentVolumeClaim"]["claimName"] == "yes"
    assert one(result.objects, "Ingress")["spec"]["tls"][0]["secretName"] == "n"
