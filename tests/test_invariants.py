"""Each invariant and the schema validation catch the breakage they exist for: the default example is
rendered, one thing is broken in the rendered objects, and the check must name it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from helpers import one
from inference_charts.checks import invariants, kube_schemas
from inference_charts.checks.harness import Harness
from inference_charts.render.cases import Case, load_case

EXAMPLE = Path(__file__).parents[1] / "examples" / "vllm-llama-405b-tp8-pp2.yaml"


@pytest.fixture(scope="module")
def objects(harness: Harness) -> list[dict]:
    result = harness.evaluate(load_case(EXAMPLE))
    assert result.ok, result.problems()
    return result.objects


@pytest.fixture(scope="module")
def ray_objects(harness: Harness) -> list[dict]:
    """The example with the Ray launcher (and an image that carries Ray)."""
    case = load_case(EXAMPLE)
    values = {**case.values, "launcher": {"kind": "ray"}, "image": {"tag": "v0.12.0"}}
    result = harness.evaluate(Case(case.chart, values, release=case.release, namespace=case.namespace))
    assert result.ok, result.problems()
    return result.objects


def _template(objects: list[dict], role: str) -> dict:
    key = "leaderTemplate" if role == "leader" else "workerTemplate"
    return one(objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"][key]


def _container(objects: list[dict], role: str) -> dict:
    return _template(objects, role)["spec"]["containers"][0]


def _findings(objects: list[dict], profile: str = "infiniband") -> list[str]:
    return [str(f) for f in invariants.check(objects, profile)]


def _broken(objects: list[dict]) -> list[dict]:
    return copy.deepcopy(objects)


def test_intact_example_has_no_findings(objects) -> None:
    assert _findings(objects) == []


def test_service_selecting_workers_is_caught(objects) -> None:
    broken = _broken(objects)
    selector = one(broken, "Service")["spec"]["selector"]
    del selector["leaderworkerset.sigs.k8s.io/worker-index"]
    del selector["app.kubernetes.io/component"]
    assert any("selects worker pods llama-405b-vllm-multinode-group-0-1" in f for f in _findings(broken))


def test_service_selecting_nothing_is_caught(objects) -> None:
    broken = _broken(objects)
    one(broken, "Service")["spec"]["selector"]["app.kubernetes.io/component"] = "head"
    assert any("matches no pod" in f for f in _findings(broken))


def test_ray_port_on_service_is_caught(ray_objects) -> None:
    broken = _broken(ray_objects)
    one(broken, "Service")["spec"]["ports"].append({"name": "gcs", "port": 6379, "targetPort": "ray-gcs"})
    assert any("Ray, NCCL or rendezvous port" in f for f in _findings(broken))


def test_rendezvous_port_on_service_is_caught(objects) -> None:
    broken = _broken(objects)
    one(broken, "Service")["spec"]["ports"].append({"name": "dist", "port": 9000, "targetPort": "rendezvous"})
    assert any("9000 -> rendezvous" in f and "Ray, NCCL or rendezvous port" in f for f in _findings(broken))


def test_ingress_to_unknown_service_is_caught(objects) -> None:
    broken = _broken(objects)
    broken.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"},
                   "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                       "service": {"name": "llama-405b-vllm-multinode-0", "port": {"number": 6379}}}}]}}]}})
    assert any("not a leader-only Service" in f for f in _findings(broken))


def test_missing_shared_memory_is_caught(objects) -> None:
    broken = _broken(objects)
    spec = _template(broken, "worker")["spec"]
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "dshm"]
    findings = _findings(broken)
    assert any("shared-memory" in f and "llama-405b-vllm-multinode-group-0-1" in f for f in findings)
    assert not any("shared-memory" in f and "pod llama-405b-vllm-multinode-group-0 " in f for f in findings)


def test_wrong_tensor_parallel_size_is_caught(objects) -> None:
    broken = _broken(objects)
    args = _container(broken, "leader")["command"]
    args[args.index("--tensor-parallel-size") + 1] = "4"
    assert any("TP x PP x DP = 4 x 2 x 1 = 8" in f and "16 GPUs" in f for f in _findings(broken))


def test_wait_target_disagreeing_with_layout_is_caught(ray_objects) -> None:
    broken = _broken(ray_objects)
    for entry in _container(broken, "leader")["env"]:
        if entry["name"] == "MULTINODE_EXPECTED_GPUS":
            entry["value"] = "8"
    assert any("waits for 8 GPUs" in f for f in _findings(broken))


def test_missing_fabric_variable_is_caught(objects) -> None:
    broken = _broken(objects)
    container = _container(broken, "worker")
    container["env"] = [e for e in container["env"] if e["name"] != "NCCL_IB_HCA"]
    assert any("needs NCCL_IB_HCA" in f for f in _findings(broken))


def test_contradicting_fabric_variable_is_caught(objects) -> None:
    broken = _broken(objects)
    _container(broken, "leader")["env"].append({"name": "NCCL_NET", "value": "Socket"})
    assert any("NCCL_NET contradicts the infiniband profile" in f for f in _findings(broken))


def test_profile_mismatch_is_caught(objects) -> None:
    assert any("ethernet needs NCCL_IB_DISABLE=1, found 0" in f for f in _findings(objects, "ethernet"))


def test_duplicate_variable_is_caught(objects) -> None:
    broken = _broken(objects)
    _container(broken, "leader")["env"].append({"name": "NCCL_IB_HCA", "value": "mlx5_1"})
    assert any("NCCL_IB_HCA is set 2 times" in f for f in _findings(broken))


def test_cache_mounted_differently_is_caught(objects) -> None:
    broken = _broken(objects)
    for mount in _container(broken, "worker")["volumeMounts"]:
        if mount["name"] == "model-cache":
            mount["mountPath"] = "/elsewhere"
    assert any("different model caches" in f for f in _findings(broken))


@pytest.mark.parametrize("version", kube_schemas.SUPPORTED_KUBERNETES)
def test_typo_inside_lws_pod_template_is_caught(objects, version: str) -> None:
    broken = _broken(objects)
    _container(broken, "worker")["imagePullPolicyy"] = "Always"
    errors = [str(e) for e in kube_schemas.validate(broken, (version,))]
    assert any("workerTemplate/spec/containers/0" in e and "imagePullPolicyy" in e for e in errors), errors


@pytest.mark.parametrize("version", kube_schemas.SUPPORTED_KUBERNETES)
def test_wrong_type_in_service_is_caught(objects, version: str) -> None:
    broken = _broken(objects)
    one(broken, "Service")["spec"]["ports"][0]["port"] = "eight thousand"
    errors = [str(e) for e in kube_schemas.validate(broken, (version,))]
    assert any("/spec/ports/0/port" in e for e in errors), errors


def test_bad_lws_field_is_caught(objects) -> None:
    broken = _broken(objects)
    one(broken, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["restartPolicy"] = "Always"
    errors = [str(e) for e in kube_schemas.validate(broken)]
    assert any("restartPolicy" in e and "Always" in e for e in errors), errors


def test_unknown_kind_is_reported() -> None:
    errors = kube_schemas.validate([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])
    assert errors and "no schema" in str(errors[0])


def test_validation_leaves_objects_unchanged(objects) -> None:
    before = copy.deepcopy(objects)
    kube_schemas.validate(objects)
    assert objects == before


NIM_EXAMPLE = Path(__file__).parents[1] / "examples" / "nim-deepseek-r1-tp16-pp1.yaml"
JOB_EXAMPLE = Path(__file__).parents[1] / "examples" / "nim-indexed-job.yaml"


@pytest.fixture(scope="module")
def nim_objects(harness: Harness) -> list[dict]:
    result = harness.evaluate(load_case(NIM_EXAMPLE))
    assert result.ok, result.problems()
    return result.objects


@pytest.fixture(scope="module")
def job_objects(harness: Harness) -> list[dict]:
    result = harness.evaluate(load_case(JOB_EXAMPLE))
    assert result.ok, result.problems()
    return result.objects


@pytest.mark.parametrize("value", ["1", "true", None])
def test_nim_json_logging_on_a_worker_is_caught(nim_objects, value) -> None:
    broken = _broken(nim_objects)
    env = _container(broken, "worker")["env"]
    entry = next(e for e in env if e["name"] == "NIM_JSONL_LOGGING")
    if value is None:
        env.remove(entry)
    else:
        entry["value"] = value
    assert any("[logging]" in f and "-0-1 container nim" in f for f in _findings(broken))


def test_nim_json_logging_in_an_init_container_is_caught(job_objects) -> None:
    broken = _broken(job_objects)
    init = one(broken, "Job")["spec"]["template"]["spec"]["initContainers"][0]
    next(e for e in init["env"] if e["name"] == "NIM_JSONL_LOGGING")["value"] = "1"
    assert any("[logging]" in f and "container download-model" in f for f in _findings(broken))


def test_nim_layout_disagreeing_with_gpus_is_caught(nim_objects) -> None:
    broken = _broken(nim_objects)
    env = _container(broken, "leader")["env"]
    next(e for e in env if e["name"] == "NIM_TENSOR_PARALLEL_SIZE")["value"] = "8"
    assert any("TP x PP x DP = 8 x 1 x 1 = 8" in f for f in _findings(broken))


def test_indexed_job_service_selecting_every_index_is_caught(job_objects) -> None:
    broken = _broken(job_objects)
    service = next(s for s in broken if s["kind"] == "Service" and s["spec"].get("clusterIP") != "None")
    del service["spec"]["selector"]["batch.kubernetes.io/job-completion-index"]
    assert any("selects worker pods deepseek-r1-job-nim-multinode-0-1" in f for f in _findings(broken))


def test_port_on_the_chart_headless_service_is_caught(job_objects) -> None:
    broken = _broken(job_objects)
    headless = next(s for s in broken if s["kind"] == "Service" and s["spec"].get("clusterIP") == "None")
    headless["spec"]["ports"] = [{"name": "ray-gcs", "port": 6379}]
    assert any("pod DNS only and may carry no port" in f for f in _findings(broken, "infiniband"))


def test_service_selecting_the_test_pod_is_caught(job_objects) -> None:
    broken = _broken(job_objects)
    headless = next(s for s in broken if s["kind"] == "Service" and s["spec"].get("clusterIP") == "None")
    del headless["spec"]["selector"]["app.kubernetes.io/component"]
    wanted = "selects deepseek-r1-job-nim-multinode-smoke-test, a pod that serves nothing"
    assert any(wanted in f for f in _findings(broken))


EXAMPLES_DIR = Path(__file__).parents[1] / "examples"


def _example_objects(harness: Harness, name: str) -> list[dict]:
    result = harness.evaluate(load_case(EXAMPLES_DIR / name))
    assert result.ok, result.problems()
    return copy.deepcopy(result.objects)


def test_service_monitor_on_a_worker_reaching_service_is_caught(harness: Harness) -> None:
    objects = _example_objects(harness, "vllm-roce-multus.yaml")
    selector = one(objects, "ServiceMonitor")["spec"]["selector"]["matchLabels"]
    del selector["app.kubernetes.io/component"]  # now every Service of the release matches, the headless ones too
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "all-pods", "labels": dict(selector)},
                    "spec": {"selector": {"app.kubernetes.io/instance": "llama-70b-roce"},
                             "ports": [{"name": "http", "port": 80}]}})
    assert any("[monitoring]" in f and "Service/all-pods, which is not a leader-only Service" in f
               for f in _findings(objects, "roce"))


def test_pod_monitor_on_workers_is_caught(harness: Harness) -> None:
    case = load_case(EXAMPLES_DIR / "vllm-roce-multus.yaml")
    values = copy.deepcopy(case.values)
    values["metrics"] = {"podMonitor": {"enabled": True}}
    result = harness.evaluate(type(case)(chart=case.chart, values=values, release=case.release))
    assert result.ok, result.problems()
    objects = copy.deepcopy(result.objects)
    monitor = one(objects, "PodMonitor")["spec"]["selector"]["matchLabels"]
    del monitor["leaderworkerset.sigs.k8s.io/worker-index"], monitor["app.kubernetes.io/component"]
    assert any("[monitoring]" in f and "selects worker pods" in f for f in _findings(objects, "roce"))


def test_autoscaler_and_fixed_replicas_are_caught(harness: Harness) -> None:
    objects = _example_objects(harness, "nim-infiniband-rdma-shared.yaml")
    one(objects, "LeaderWorkerSet")["spec"]["replicas"] = 2
    assert any("[scaling]" in f and "would fight" in f for f in _findings(objects))
    one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = "other"
    assert any("[scaling]" in f and "not a LeaderWorkerSet of the release" in f for f in _findings(objects))


def test_prepull_pod_selected_by_a_service_is_caught(harness: Harness) -> None:
    objects = _example_objects(harness, "vllm-roce-multus.yaml")
    service = next(o for o in objects if o["kind"] == "Service" and o["spec"].get("clusterIP") != "None")
    service["spec"]["selector"] = {"app.kubernetes.io/instance": "llama-70b-roce",
                                   "app.kubernetes.io/component": "prepull"}
    findings = _findings(objects, "roce")
    assert any("selects llama-70b-roce-vllm-multinode-prepull-node, a pod that serves nothing" in f for f in findings)
