"""Each value outside the matrix's axes, set on its own: the release still passes every check, and the
rendered objects carry exactly the effect the value documents."""

from __future__ import annotations

import pytest
from helpers import command_line, env_of, one
from inference_charts.checks import runtime
from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import BASE_VALUES
from inference_charts.render.cases import Case
from inference_charts.render.merging import deep_merge


@pytest.fixture(scope="module")
def render(harness: Harness):
    def run(**changes) -> list[dict]:
        values = deep_merge(BASE_VALUES, changes)
        result = harness.evaluate(Case(chart="vllm-multinode", values=values, release="feat"))
        assert result.ok, result.problems()
        return result.objects

    return run


#: The Ray launcher, with an image that carries Ray (the default launcher is vLLM's native one).
RAY = {"launcher": {"kind": "ray"}, "image": {"tag": "v0.12.0"}}


def _lws(objects):
    return one(objects, "LeaderWorkerSet")


def _templates(objects):
    template = _lws(objects)["spec"]["leaderWorkerTemplate"]
    return template["leaderTemplate"], template["workerTemplate"]


def _containers(objects):
    return [t["spec"]["containers"][0] for t in _templates(objects)]


def test_exclusive_topology_annotation(render) -> None:
    lws = _lws(render(group={"exclusiveTopology": "nvidia.com/gpu.clique"}))
    assert lws["metadata"]["annotations"] == {"leaderworkerset.sigs.k8s.io/exclusive-topology": "nvidia.com/gpu.clique"}
    assert "annotations" not in _lws(render())["metadata"]


def test_unique_subdomain_per_replica_keeps_leader_only_service(render) -> None:
    objects = render(group={"subdomainPolicy": "UniquePerReplica"}, topology={"replicas": 2})
    assert _lws(objects)["spec"]["networkConfig"] == {"subdomainPolicy": "UniquePerReplica"}
    service = one(objects, "Service")
    selected = [p.name for p in runtime.pods(objects) if runtime.selects(service["spec"]["selector"], p)]
    assert selected == ["feat-vllm-multinode-group-0", "feat-vllm-multinode-group-1"]


def test_restart_and_rollout_policies(render) -> None:
    spec = _lws(render(group={"restartPolicy": "RecreateGroupAfterStart",
                              "rollout": {"maxSurge": "25%", "maxUnavailable": 0}}))["spec"]
    assert spec["leaderWorkerTemplate"]["restartPolicy"] == "RecreateGroupAfterStart"
    assert spec["rolloutStrategy"] == {"type": "RollingUpdate",
                                       "rollingUpdateConfiguration": {"maxSurge": "25%", "maxUnavailable": 0}}


def test_leader_ready_is_allowed_for_one_pod(render) -> None:
    objects = render(group={"startupPolicy": "LeaderReady"}, fabric={"profile": "nvlink"},
                     topology={"podsPerGroup": 1, "pipelineParallelSize": 1})
    assert _lws(objects)["spec"]["startupPolicy"] == "LeaderReady"


def test_image_digest_pins_every_container(render) -> None:
    digest = "sha256:" + "ab" * 32
    # A digest says nothing of Ray: the multi-pod group needs ray.imageCarriesRay said explicitly.
    for container in _containers(render(image={"digest": digest}, ray={"imageCarriesRay": True})):
        assert container["image"] == f"vllm/vllm-openai@{digest}"


def test_fabric_env_replaces_profile_values(render) -> None:
    for container in _containers(render(fabric={"env": {"NCCL_IB_HCA": "mlx5_2", "NCCL_IB_TIMEOUT": "22"}})):
        names = [e["name"] for e in container["env"]]
        assert names.count("NCCL_IB_HCA") == 1
        assert env_of(container)["NCCL_IB_HCA"] == "mlx5_2"
        assert env_of(container)["NCCL_IB_TIMEOUT"] == "22"


def test_extra_env_wins_over_chart_variables(render) -> None:
    for container in _containers(render(extraEnv=[{"name": "NCCL_DEBUG", "value": "INFO"},
                                                  {"name": "CUSTOM", "value": "1"}])):
        names = [e["name"] for e in container["env"]]
        assert names.count("NCCL_DEBUG") == 1 and env_of(container)["NCCL_DEBUG"] == "INFO"
        assert env_of(container)["CUSTOM"] == "1"


def test_nccl_debug_level(render) -> None:
    for container in _containers(render(fabric={"ncclDebug": "INFO"})):
        assert env_of(container)["NCCL_DEBUG"] == "INFO"


def test_offline_mode_and_token(render) -> None:
    for container in _containers(render(model={"offline": True})):
        env = env_of(container)
        assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
        assert "HF_TOKEN" not in env
    for container in _containers(render(model={"hfToken": {"secretName": "hf", "secretKey": "tok"}})):
        env = env_of(container)
        assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "hf", "key": "tok"}}
        assert "HF_HUB_OFFLINE" not in env


def test_serve_arguments(render) -> None:
    leader, _ = _containers(render(model={"servedModelName": "llama", "maxModelLen": 0,
                                          "extraArgs": ["--enable-prefix-caching"]}))
    arguments = command_line(leader)
    assert arguments[arguments.index("--served-model-name") + 1] == "llama"
    assert "--max-model-len" not in arguments
    # The user's arguments come after the chart's shared ones, before the leader's own (--node-rank ...).
    assert arguments.count("--enable-prefix-caching") == 1
    assert arguments.index("--enable-prefix-caching") > arguments.index("--gpu-memory-utilization")


def test_service_type_and_annotations(render) -> None:
    service = one(render(service={"type": "LoadBalancer", "port": 80,
                                  "annotations": {"lb.example.com/internal": "true"}}), "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {"lb.example.com/internal": "true"}


def test_ingress_tls_class_and_annotation_override(render) -> None:
    ingress = one(render(ingress={"enabled": True, "className": "nginx", "host": "llm.example.com",
                                  "tls": {"secretName": "llm-tls"}, "proxyTimeoutSeconds": 600,
                                  "annotations": {"nginx.ingress.kubernetes.io/proxy-send-timeout": "30"}}),
                  "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["llm.example.com"], "secretName": "llm-tls"}]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "30"


def test_startup_budget_becomes_failure_threshold(render) -> None:
    for container in _containers(render(probes={"startup": {"budgetSeconds": 3600, "periodSeconds": 20}})):
        assert container["startupProbe"]["periodSeconds"] == 20
        assert container["startupProbe"]["failureThreshold"] == 180
    leader, worker = _containers(render(**RAY))
    assert leader["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert leader["livenessProbe"]["exec"]["command"][2].startswith("exec timeout 9 python3 - leader 8000 '/health' ")
    assert worker["livenessProbe"]["exec"]["command"][2].startswith("exec timeout 9 python3 - worker ")
    leader, worker = _containers(render(probes={"rayGroupCheck": False}, **RAY))
    assert leader["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert "ray health-check" in " ".join(worker["livenessProbe"]["exec"]["command"])


def test_placement_and_pod_metadata(render) -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "rack", "operator": "In", "values": ["a"]}]}]}}}
    objects = render(nodeSelector={"gpu": "h100"}, tolerations=[{"key": "gpu", "operator": "Exists"}],
                     affinity=affinity, podLabels={"team": "ml"}, podAnnotations={"a": "b"},
                     imagePullSecrets=["regcred"], terminationGracePeriodSeconds=120)
    for template in _templates(objects):
        spec = template["spec"]
        assert spec["nodeSelector"] == {"gpu": "h100"}
        assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
        assert spec["affinity"] == affinity
        assert spec["imagePullSecrets"] == [{"name": "regcred"}]
        assert spec["terminationGracePeriodSeconds"] == 120
        assert template["metadata"]["labels"]["team"] == "ml"
        assert template["metadata"]["annotations"] == {"a": "b"}


def test_resources_merge_with_gpus(render) -> None:
    for container in _containers(render(resources={"requests": {"cpu": "16", "memory": "256Gi"},
                                                   "limits": {"memory": "512Gi"}},
                                        topology={"gpuResourceName": "nvidia.com/gpu"})):
        # The default fabric is infiniband, which adds its RDMA device (fabric.rdma) beside the GPUs.
        rdma = {"rdma/rdma_shared_device_a": "1"}
        assert container["resources"] == {"requests": {"cpu": "16", "memory": "256Gi", "nvidia.com/gpu": "8", **rdma},
                                          "limits": {"memory": "512Gi", "nvidia.com/gpu": "8", **rdma}}


def test_ray_settings_reach_both_scripts(render) -> None:
    leader, worker = _containers(render(ray={"port": 6380, "gpuWaitTimeoutSeconds": 600,
                                             "headWaitTimeoutSeconds": 300, "pollSeconds": 2},
                                        launcher=RAY["launcher"], image=RAY["image"]))
    assert env_of(leader)["MULTINODE_RAY_PORT"] == "6380" and env_of(worker)["MULTINODE_RAY_PORT"] == "6380"
    assert env_of(leader)["MULTINODE_GPU_WAIT_TIMEOUT_SECONDS"] == "600"
    assert env_of(worker)["MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS"] == "300"
    assert env_of(leader)["MULTINODE_POLL_SECONDS"] == "2"
    assert {"name": "ray-gcs", "containerPort": 6380, "protocol": "TCP"} in leader["ports"]


def test_names_can_be_overridden(render) -> None:
    objects = render(fullnameOverride="llm")
    assert _lws(objects)["metadata"]["name"] == "llm-group"
    assert one(objects, "Service")["metadata"]["name"] == "llm"
    assert one(objects, "PersistentVolumeClaim")["metadata"]["name"] == "llm-model-cache"
    assert _lws(render(nameOverride="vllm"))["metadata"]["name"] == "feat-vllm-group"


def test_cache_options(render) -> None:
    claim = one(render(cache={"pvc": {"keep": False}}), "PersistentVolumeClaim")
    assert "annotations" not in claim["metadata"]
    objects = render(cache={"type": "nfs", "nfs": {"server": "nfs", "path": "/m", "readOnly": True},
                            "mountPath": "/models"})
    for container in _containers(objects):
        assert {"name": "model-cache", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]
        assert env_of(container)["HF_HOME"] == "/models"


def test_extra_volumes(render) -> None:
    objects = render(extraVolumes=[{"name": "certs", "secret": {"secretName": "ca"}}],
                     extraVolumeMounts=[{"name": "certs", "mountPath": "/etc/ca"}])
    for template in _templates(objects):
        assert {"name": "certs", "secret": {"secretName": "ca"}} in template["spec"]["volumes"]
        assert {"name": "certs", "mountPath": "/etc/ca"} in template["spec"]["containers"][0]["volumeMounts"]


def test_worker_probes_bound_the_head_check_under_their_timeout(render) -> None:
    _, worker = _containers(render(probes={"startup": {"timeoutSeconds": 5}, "liveness": {"timeoutSeconds": 10}},
                                   **RAY))
    assert worker["startupProbe"]["exec"]["command"][2].startswith("exec timeout 4 python3 - worker ")
    assert worker["livenessProbe"]["exec"]["command"][2].startswith("exec timeout 9 python3 - worker ")
    _, worker = _containers(render(probes={"liveness": {"timeoutSeconds": 1}}, **RAY))
    assert worker["livenessProbe"]["exec"]["command"][2].startswith("exec timeout 1 python3 - worker ")
    _, worker = _containers(render(probes={"rayGroupCheck": False, "startup": {"timeoutSeconds": 5},
                                           "liveness": {"timeoutSeconds": 10}}, **RAY))
    assert worker["startupProbe"]["exec"]["command"][2].startswith("timeout 4 ray health-check ")
    assert worker["livenessProbe"]["exec"]["command"][2].startswith("timeout 9 ray health-check ")


def _job_probes(objects) -> dict[str, str]:
    container = one(objects, "Job")["spec"]["template"]["spec"]["containers"][0]
    return {name: container[name]["exec"]["command"][2] for name in ("startupProbe", "readinessProbe", "livenessProbe")}


def test_indexed_job_probes_check_the_ray_group(render) -> None:
    """Every pod of a multi-pod Indexed Job runs the Ray group check as role member in its startup and
    liveness probes (the engine's endpoint first on index 0); readiness stays the role's own check."""
    probes = _job_probes(render(workload={"kind": "IndexedJob"},
                                probes={"startup": {"timeoutSeconds": 5}, "liveness": {"timeoutSeconds": 10}}, **RAY))
    assert probes["startupProbe"].startswith("exec timeout 4 python3 - member 8000 '/health' <<'RAY_GROUP_CHECK'")
    assert probes["livenessProbe"].startswith("exec timeout 9 python3 - member 8000 '/health' <<'RAY_GROUP_CHECK'")
    assert "RAY_GROUP_CHECK" not in probes["readinessProbe"]
    assert "ray health-check" in probes["readinessProbe"] and "/health" in probes["readinessProbe"]
    for probe in _job_probes(render(workload={"kind": "IndexedJob"}, probes={"rayGroupCheck": False}, **RAY)).values():
        assert "RAY_GROUP_CHECK" not in probe and "ray health-check" in probe
    single = render(workload={"kind": "IndexedJob"}, model={"name": "meta-llama/Llama-3.1-8B-Instruct"},
                    topology={"podsPerGroup": 1, "gpusPerPod": 8, "tensorParallelSize": 8, "pipelineParallelSize": 1})
    assert all("RAY_GROUP_CHECK" not in probe for probe in _job_probes(single).values())
