"""Every case of the values matrix renders, validates and keeps every invariant, and the rendered objects
mean what the case asked for. Expectations come from the case's choices, never from the output."""

from __future__ import annotations

import subprocess

import pytest
from helpers import command_line, env_of, flag, of_kind, one
from inference_charts.checks import runtime
from inference_charts.devtools.matrix import MatrixCase, vllm_matrix

# The vLLM chart as LeaderWorkerSets; Indexed Jobs and NIM are in test_nim_and_jobs.py.
CASES = vllm_matrix()


def test_matrix_is_large_and_covers_every_choice() -> None:
    assert len(CASES) >= 200
    assert {c.topology.name for c in CASES} >= {"1x8-tp8", "2x8-tp8-pp2", "2x8-tp16-pp1", "4x8-tp8-pp4"}
    assert {c.fabric for c in CASES} == {"infiniband", "roce", "ethernet", "nvlink"}
    assert {c.cache for c in CASES} == {"pvc", "existingClaim", "nfs", "hostPath", "emptyDir", "perPodClaim"}
    assert {c.replicas for c in CASES} == {1, 2, 3}
    multi_pod = [c for c in CASES if c.topology.pods > 1 and c.topology.data == 1]
    for launcher in ("native", "ray"):
        chosen = [c for c in multi_pod if c.launcher == launcher]
        assert {c.topology.name for c in chosen} == {c.topology.name for c in multi_pod}, launcher
        assert {c.fabric for c in chosen} == {"infiniband", "roce", "ethernet"}, launcher
        assert {c.cache for c in chosen} == {c.cache for c in CASES}, launcher
    assert {(c.topology.data, c.topology.expert) for c in CASES} >= {(1, False), (2, False), (16, True), (8, True)}


def _lws(result) -> dict:
    return one(result.objects, "LeaderWorkerSet")


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_case_renders_clean(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    assert result.ok, "\n".join(result.problems())


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_group_shape_and_parallelism(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    lws = _lws(result)
    assert lws["spec"]["replicas"] == m.replicas
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == m.topology.pods
    assert lws["spec"]["leaderWorkerTemplate"]["restartPolicy"] == "RecreateGroupOnPodRestart"
    pods = runtime.pods(result.objects)
    assert len(pods) == m.replicas * m.topology.pods
    for pod in pods:
        (container,) = pod.containers
        gpus = container["resources"]["limits"]["nvidia.com/gpu"]
        assert int(gpus) == m.topology.gpus
        assert container["resources"]["requests"]["nvidia.com/gpu"] == gpus
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
    arguments = command_line(leader)
    assert flag(arguments, "--tensor-parallel-size") == str(m.topology.tensor)
    assert flag(arguments, "--pipeline-parallel-size") == str(m.topology.pipeline)
    backend = flag(arguments, "--distributed-executor-backend")
    assert backend == ("ray" if m.launcher == "ray" else "mp")
    if m.topology.data > 1:
        assert flag(arguments, "--data-parallel-size") == str(m.topology.data)
    else:
        assert "--data-parallel-size" not in arguments
    assert ("--enable-expert-parallel" in arguments) == m.topology.expert


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_ray_wiring(m: MatrixCase, evaluated) -> None:
    lws = _lws(evaluated(m))
    template = lws["spec"]["leaderWorkerTemplate"]
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    leader_script = " ".join(leader["command"])
    if m.launcher != "ray":
        assert "ray" not in leader_script
        assert not [name for name in env_of(leader) if name.startswith("MULTINODE_RAY")]
        if m.launcher == "native":
            assert "ray " not in " ".join(worker["command"])
        return
    assert "ray start --head" in leader_script
    assert leader["args"][:2] == ["vllm", "serve"] and leader_script.rstrip().endswith('exec "$@" ray-leader')
    assert env_of(leader)["MULTINODE_EXPECTED_GPUS"] == str(m.topology.tensor * m.topology.pipeline)
    assert env_of(leader)["MULTINODE_GPUS_PER_POD"] == str(m.topology.gpus)
    worker_script = " ".join(worker["command"])
    assert "exec ray start" in worker_script and "--block" in worker_script
    assert "LWS_LEADER_ADDRESS" in worker_script
    for container in (leader, worker):
        env = env_of(container)
        assert env["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
        assert env["VLLM_HOST_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
        assert '--node-ip-address="${POD_IP}"' in " ".join(container["command"])


@pytest.mark.parametrize("m", [c for c in CASES if c.launcher == "native"], ids=lambda m: m.case.name)
def test_native_launcher_wiring(m: MatrixCase, evaluated) -> None:
    """Every pod runs `vllm serve` itself: the leader binds its own IP, each worker dials the leader by
    the name LWS gives it and runs headless with its rank (from the worker-index label)."""
    template = _lws(evaluated(m))["spec"]["leaderWorkerTemplate"]
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    arguments = command_line(leader)
    assert arguments[:2] == ["vllm", "serve"] and "--headless" not in arguments
    worker_argv = command_line(worker)
    assert worker_argv[:2] == ["bash", "-c"] and worker_argv[4:6] == ["vllm", "serve"]
    script = worker_argv[2]
    assert env_of(leader)["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    rank = {"fieldRef": {"fieldPath": "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']"}}
    assert env_of(worker)["MULTINODE_NODE_RANK"] == rank
    if m.topology.data > 1:
        local = m.topology.data // m.topology.pods
        assert flag(arguments, "--data-parallel-size-local") == str(local)
        assert flag(arguments, "--data-parallel-address") == "$(POD_IP)"
        assert flag(worker_argv, "--data-parallel-rpc-port") == env_of(worker)["MULTINODE_RENDEZVOUS_PORT"]
        assert env_of(worker)["MULTINODE_DATA_PARALLEL_SIZE_LOCAL"] == str(local)
        assert '--headless --data-parallel-start-rank "${start}" --data-parallel-address "${leader}"' in script
        assert "--nnodes" not in arguments
    else:
        assert flag(arguments, "--nnodes") == str(m.topology.pods) == flag(worker_argv, "--nnodes")
        assert flag(arguments, "--node-rank") == "0" and flag(arguments, "--master-addr") == "$(POD_IP)"
        assert flag(worker_argv, "--master-port") == env_of(worker)["MULTINODE_RENDEZVOUS_PORT"]
        assert '--headless --node-rank "${rank}" --master-addr "${leader}"' in script
    # Group health: the leader's liveness asks for proof the group computes; workers ask the leader.
    assert "PROGRESS_CHECK" in leader["livenessProbe"]["exec"]["command"][2]
    for probe in ("startupProbe", "livenessProbe"):
        assert "/health" in worker[probe]["exec"]["command"][2]


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_every_rendered_shell_script_parses(m: MatrixCase, evaluated) -> None:
    """bash -n on each `bash -c` script of every container and probe, as bash will run it."""
    scripts = []
    for pod in runtime.pods(evaluated(m).objects):
        container = pod.containers[0]
        commands = [container["command"]]
        commands += [container[p]["exec"]["command"] for p in ("startupProbe", "livenessProbe")
                     if "exec" in container.get(p, {})]
        scripts += [c[2] for c in commands if c[:2] == ["bash", "-c"]]
    if m.launcher == "ray":
        # leader: its script + the Ray group liveness check; each worker: its script + 2 probes
        assert len(scripts) == m.replicas * (3 * m.topology.pods - 1)
    elif m.launcher == "native":
        # leader: the progress check; each worker: its script + 2 probes
        assert len(scripts) == m.replicas * (1 + 3 * (m.topology.pods - 1))
    for script in set(scripts):
        checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_only_leaders_are_exposed(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    service = one(result.objects, "Service")
    pods = runtime.pods(result.objects)
    selected = sorted(p.name for p in pods if runtime.selects(service["spec"]["selector"], p))
    lws_name = _lws(result)["metadata"]["name"]
    assert selected == sorted(f"{lws_name}-{group}" for group in range(m.replicas))
    assert [p["port"] for p in service["spec"]["ports"]] == [8000]
    ingresses = of_kind(result.objects, "Ingress")
    if m.replicas == 2:
        (ingress,) = ingresses
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    else:
        assert ingresses == []


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_shared_memory_on_every_pod(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        shm = [v for v in pod.spec["volumes"] if v.get("emptyDir", {}).get("medium") == "Memory"]
        assert [v["emptyDir"]["sizeLimit"] for v in shm] == [m.shm]
        mounts = pod.containers[0]["volumeMounts"]
        assert {"name": shm[0]["name"], "mountPath": "/dev/shm"} in mounts


# The documented contract of each fabric profile (charts/multinode-common/templates/_nccl.tpl).
FABRIC_ENV = {
    "infiniband": {"NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": "mlx5", "NCCL_NET_GDR_LEVEL": "SYS",
                   "NCCL_SOCKET_IFNAME": "eth0", "GLOO_SOCKET_IFNAME": "eth0"},
    "roce": {"NCCL_IB_DISABLE": "0", "NCCL_IB_HCA": "mlx5", "NCCL_IB_GID_INDEX": "3",
             "NCCL_NET_GDR_LEVEL": "SYS", "NCCL_SOCKET_IFNAME": "eth0", "GLOO_SOCKET_IFNAME": "eth0"},
    "ethernet": {"NCCL_IB_DISABLE": "1", "NCCL_NET": "Socket", "NCCL_SOCKET_IFNAME": "eth0",
                 "GLOO_SOCKET_IFNAME": "eth0"},
    "nvlink": {"NCCL_IB_DISABLE": "1", "NCCL_P2P_LEVEL": "NVL"},
}


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_fabric_environment(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        env = env_of(pod.containers[0])
        nccl = {k: v for k, v in env.items() if k.startswith(("NCCL_", "GLOO_")) and k != "NCCL_DEBUG"}
        assert nccl == FABRIC_ENV[m.fabric]


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_model_cache(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    lws = _lws(result)
    claims = of_kind(result.objects, "PersistentVolumeClaim")
    templates = lws["spec"]["leaderWorkerTemplate"].get("volumeClaimTemplates", [])
    for pod in runtime.pods(result.objects):
        mounts = [mt for mt in pod.containers[0]["volumeMounts"] if mt["name"] == "model-cache"]
        assert [mt["mountPath"] for mt in mounts] == ["/models"]
        volume = next((v for v in pod.spec["volumes"] if v["name"] == "model-cache"), None)
        if m.cache == "pvc":
            assert volume["persistentVolumeClaim"]["claimName"] == claims[0]["metadata"]["name"]
        elif m.cache == "existingClaim":
            assert volume["persistentVolumeClaim"]["claimName"] == "models-rwx"
        elif m.cache == "nfs":
            assert volume["nfs"] == {"server": "nfs.storage.svc", "path": "/exports/models", "readOnly": False}
        elif m.cache == "hostPath":
            assert volume["hostPath"]["path"] == "/mnt/models"
        elif m.cache == "emptyDir":
            assert volume["emptyDir"] == {"sizeLimit": "1Ti"}
        else:
            assert volume is None
    if m.cache == "pvc":
        assert claims[0]["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"] == "2Ti"
    else:
        assert claims == []
    if m.cache == "perPodClaim":
        assert [t["metadata"]["name"] for t in templates] == ["model-cache"]
        assert templates[0]["spec"]["storageClassName"] == "local-nvme"
    else:
        assert templates == []
