"""The NCCL preflight: the hook renders for every matrix case with the group's shape, its program runs
end-to-end (gloo on the CPU, taken from the rendered chart), and its NCCL log reader and verdict are
right on each transport line format NCCL prints."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
from helpers import env_of, of_kind
from inference_charts.checks import runtime
from inference_charts.checks.harness import Harness
from inference_charts.devtools.matrix import MatrixCase, all_cases
from inference_charts.render.cases import Case
from inference_charts.render.merging import deep_merge

CASES = all_cases()
HOOK = "helm.sh/hook"


def _with_preflight(m: MatrixCase, **settings: object) -> Case:
    values = copy.deepcopy(m.case.values)
    values["preflight"] = {"enabled": True, **settings}
    return Case(chart=m.case.chart, values=values, release=m.case.release, namespace=m.case.namespace,
                name=m.case.name)


def _preflight_job(objects: list[dict]) -> dict:
    (job,) = [o for o in of_kind(objects, "Job") if runtime.is_hook(o)]
    return job


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_preflight_hook_has_the_group_shape(m: MatrixCase, harness: Harness) -> None:
    result = harness.evaluate(_with_preflight(m))
    assert result.ok, "\n".join(result.problems())
    job = _preflight_job(result.objects)
    assert job["metadata"]["annotations"][HOOK] == "pre-install"
    assert job["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == "before-hook-creation"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == m.topology.pods
    assert spec["backoffLimit"] == 0
    (service,) = [o for o in of_kind(result.objects, "Service") if runtime.is_hook(o)]
    assert int(service["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"])
    preflight_pods = runtime.hook_job_pods(result.objects)
    assert all(runtime.selects(service["spec"]["selector"], pod) for pod in preflight_pods)
    serving = runtime.pods(result.objects)
    assert not any(runtime.selects(service["spec"]["selector"], pod) for pod in serving)
    template = spec["template"]["spec"]
    (container,) = template["containers"]
    serving_container = serving[0].containers[0]
    assert container["image"] == serving_container["image"]
    assert container["resources"] == serving_container["resources"]
    env = env_of(container)
    assert env["NCCL_DEBUG"] == "INFO"
    serving_nccl = {k: v for k, v in env_of(serving_container).items() if k.startswith(("NCCL_", "GLOO_"))}
    assert {k: env[k] for k in serving_nccl if k != "NCCL_DEBUG"} == {
        k: v for k, v in serving_nccl.items() if k != "NCCL_DEBUG"}
    assert env["PREFLIGHT_FABRIC_PROFILE"] == m.fabric
    assert env["PREFLIGHT_NODES"] == str(m.topology.pods)
    assert env["PREFLIGHT_PROCESSES_PER_NODE"] == str(m.topology.gpus)
    name = job["metadata"]["name"]
    assert env["PREFLIGHT_MASTER_ADDRESS"] == f"{name}-0.{service['metadata']['name']}.{m.case.namespace}.svc"
    assert template["subdomain"] == service["metadata"]["name"]
    for key in ("nodeSelector", "tolerations", "affinity", "securityContext", "imagePullSecrets"):
        assert template.get(key) == serving[0].spec.get(key), key


@pytest.mark.parametrize("m", [CASES[0], next(c for c in CASES if c.chart == "nim-multinode" and c.topology.pods == 2)],
                         ids=lambda m: m.case.name)
def test_preflight_only_renders_the_check_alone(m: MatrixCase, harness: Harness) -> None:
    result = harness.evaluate(_with_preflight(m, only=True, onUpgrade=True))
    assert result.ok, "\n".join(result.problems())
    assert sorted(o["kind"] for o in result.objects) == ["Job", "NetworkPolicy", "Service"]
    assert all(runtime.is_hook(o) for o in result.objects)
    assert _preflight_job(result.objects)["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"


def test_preflight_only_without_enabled_is_refused(harness: Harness) -> None:
    values = deep_merge(CASES[0].case.values, {"preflight": {"only": True}})
    result = harness.evaluate(Case(chart="vllm-multinode", values=values))
    assert "preflight.only" in result.render_error and "preflight.enabled" in result.render_error


# ---- the program, as the chart renders it ----

def _rendered_program(harness: Harness, fabric: str = "ethernet") -> tuple[list[str], dict[str, str]]:
    values = {"model": {"name": "m"}, "fabric": {"profile": fabric},
              "topology": {"podsPerGroup": 2, "gpusPerPod": 2, "tensorParallelSize": 2, "pipelineParallelSize": 2},
              "preflight": {"enabled": True}}
    result = harness.evaluate(Case(chart="vllm-multinode", values=values))
    assert result.ok, result.problems()
    (container,) = _preflight_job(result.objects)["spec"]["template"]["spec"]["containers"]
    env = {k: v for k, v in env_of(container).items() if isinstance(v, str)}
    return container["command"], env


@pytest.fixture(scope="module")
def program(harness: Harness) -> types.ModuleType:
    """The rendered program loaded as a module (its main() only runs as __main__)."""
    command, _ = _rendered_program(harness)
    assert command[:2] == ["python3", "-c"]
    module = types.ModuleType("preflight_program")
    exec(compile(command[2], "preflight_program", "exec"), module.__dict__)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_group(harness: Harness, tmp_path: Path, **overrides: str) -> list[subprocess.CompletedProcess]:
    """Both pods of a 2 x 2 group as local processes, each forking its two ranks, with gloo on the CPU."""
    command, env = _rendered_program(harness)
    env.update({"PREFLIGHT_BACKEND": "gloo", "PREFLIGHT_MASTER_ADDRESS": "127.0.0.1",
                "PREFLIGHT_PORT": str(_free_port()), "PREFLIGHT_MAX_BYTES": str(4 << 20),
                "PREFLIGHT_ITERATIONS": "3", "PREFLIGHT_WARMUP_ITERATIONS": "1",
                "GLOO_SOCKET_IFNAME": "lo", **overrides})
    python = [sys.executable, *command[1:]]
    pods = []
    for rank in range(2):
        pod_env = {**os.environ, **env, "PREFLIGHT_NODE_RANK": str(rank),
                   "PREFLIGHT_LOG_DIR": str(tmp_path / f"pod{rank}")}
        pods.append(subprocess.Popen(python, env=pod_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True))
    done = []
    for pod in pods:
        out, _ = pod.communicate(timeout=240)
        done.append(subprocess.CompletedProcess(pod.args, pod.returncode, out, ""))
    return done


def test_program_runs_end_to_end_on_cpu(harness: Harness, tmp_path: Path) -> None:
    leader, worker = _run_group(harness, tmp_path)
    assert leader.returncode == 0 and worker.returncode == 0, leader.stdout + worker.stdout
    lines = leader.stdout.splitlines()
    assert any("4 process(es) on 2 node(s), backend gloo, fabric profile ethernet" in line for line in lines)
    rows = [line.split() for line in lines if line.strip() and line.split()[0].isdigit()]
    assert [int(row[0]) for row in rows] == [1 << 20, 4 << 20]
    for size, micros, algbw, busbw in ((int(a), float(b), float(c), float(d)) for a, b, c, d in rows):
        assert abs(algbw - size / (micros / 1e6) / 1e9) <= 0.01 + algbw * 0.01
        assert abs(busbw - algbw * 2 * 3 / 4) <= 0.01 + busbw * 0.01
    assert "[preflight] verdict: PASS" in leader.stdout
    assert "verdict" not in worker.stdout  # only the first rank reports


def test_program_fails_below_the_bandwidth_floor(harness: Harness, tmp_path: Path) -> None:
    leader, worker = _run_group(harness, tmp_path, PREFLIGHT_MIN_BUSBW_GBPS="100000")
    assert leader.returncode != 0 and worker.returncode != 0
    assert "[preflight] verdict: FAIL" in leader.stdout
    assert "below the floor of 100000.0 GB/s (preflight.minBusBandwidthGBps)" in leader.stdout


# ---- NCCL's log lines, one excerpt per format ----

EXCERPTS = {
    "p2p-cumem": "gpu-0:1203:1290 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read",
    # As NCCL 2.28.9 printed them on two H200s (docs/preflight.md):
    "p2p-cumem-2.28": "vm:598:598 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM",
    "p2p-ipc": "gpu-0:88:150 [1] NCCL INFO Channel 01 : 1[1d000] -> 2[3d000] via P2P/IPC",
    "p2p-direct": "gpu-0:88:150 [0] NCCL INFO Channel 00 : 0[0] -> 1[1] via P2P/direct pointer",
    "shm": "gpu-0:88:150 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via SHM/direct/direct",
    "nvls": "gpu-0:88:150 [0] NCCL INFO Connected NVLS tree",
    "ib-gdr": "gpu-0:88:151 [7] NCCL INFO Channel 00/0 : 7[7] -> 8[0] [send] via NET/IB/0/GDRDMA",
    "ib": "gpu-1:90:152 [0] NCCL INFO Channel 00/0 : 15[7] -> 0[0] [receive] via NET/IB/3",
    "socket": "gpu-1:90:152 [0] NCCL INFO Channel 01/0 : 8[0] -> 7[7] [send] via NET/Socket/0",
}
NOISE = [
    "gpu-0:88:150 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB eth0:10.0.0.2<0>",
    "gpu-0:88:150 [0] NCCL INFO Using network IB",
    "gpu-0:88:150 [0] NCCL INFO Connected all rings",
]


@pytest.mark.parametrize(("excerpt", "kind", "name"), [
    ("p2p-cumem", "intra", "P2P/CUMEM"), ("p2p-cumem-2.28", "intra", "P2P/CUMEM"), ("p2p-ipc", "intra", "P2P/IPC"),
    ("p2p-direct", "intra", "P2P/direct"),
    ("shm", "intra", "SHM"), ("nvls", "intra", "NVLS"), ("ib-gdr", "inter", "NET/IB+GDRDMA"),
    ("ib", "inter", "NET/IB"), ("socket", "inter", "NET/Socket"),
])
def test_log_reader_names_each_transport(program, excerpt: str, kind: str, name: str) -> None:
    seen = program.read_transports([*NOISE, EXCERPTS[excerpt]], 8)
    other = "inter" if kind == "intra" else "intra"
    assert seen[kind] == {name} and seen[other] == set()


def _verdict(program, profile: str, excerpts: list[str], nodes: int = 2, busbw: float = 300.0,
             floor: float = 0.0, gdr: bool = False) -> tuple[bool, list[str]]:
    seen = program.read_transports([EXCERPTS[e] for e in excerpts], 8)
    return program.verdict(profile, seen, nodes, busbw, floor, "nccl", gdr)


@pytest.mark.parametrize(("profile", "excerpts", "nodes"), [
    ("infiniband", ["p2p-cumem", "ib-gdr"], 2), ("roce", ["shm", "ib"], 2), ("ethernet", ["p2p-ipc", "socket"], 2),
    ("nvlink", ["p2p-cumem", "nvls"], 1), ("nvlink", ["p2p-direct"], 1),
])
def test_verdict_passes_what_the_profile_expects(program, profile, excerpts, nodes) -> None:
    assert _verdict(program, profile, excerpts, nodes) == (True, [])


@pytest.mark.parametrize(("profile", "excerpts", "nodes", "says"), [
    ("infiniband", ["p2p-cumem", "socket"], 2, "between nodes NCCL used NET/Socket; the infiniband profile expects "
                                               "NET/IB, NET/IB+GDRDMA"),
    ("roce", ["socket"], 2, "NET/Socket; the roce profile expects NET/IB"),
    ("ethernet", ["ib"], 2, "between nodes NCCL used NET/IB; the ethernet profile expects NET/Socket"),
    ("nvlink", ["shm"], 1, "between GPUs of one node NCCL used SHM; the nvlink profile expects NVLS, P2P/CUMEM"),
    ("infiniband", ["p2p-cumem"], 2, "spans 2 nodes but NCCL reported no network transport"),
    ("infiniband", [], 2, "NCCL printed no transport line"),
])
def test_verdict_fails_naming_what_it_saw_and_expected(program, profile, excerpts, nodes, says) -> None:
    passed, reasons = _verdict(program, profile, excerpts, nodes)
    assert not passed
    assert any(says in reason for reason in reasons), reasons


def test_verdict_floor_and_gpudirect(program) -> None:
    passed, reasons = _verdict(program, "infiniband", ["ib"], busbw=40.0, floor=150.0, gdr=True)
    assert not passed
    assert any("40.0 GB/s at the largest size is below the floor of 150.0" in r for r in reasons)
    assert any("without GPUDirect RDMA" in r for r in reasons)
    assert _verdict(program, "infiniband", ["ib-gdr"], busbw=200.0, floor=150.0, gdr=True) == (True, [])


def test_network_transport_inside_one_node_counts_as_intra_node(program) -> None:
    """With P2P and SHM disabled, NCCL connects two GPUs of one node through the network plugin."""
    line = "h200:7:9 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via NET/Socket/0"
    seen = program.read_transports([line], 2)
    assert seen == {"intra": {"NET/Socket"}, "inter": set()}
    passed, reasons = program.verdict("nvlink", seen, 1, 300.0, 0.0, "nccl", False)
    assert not passed
    assert any("between GPUs of one node NCCL used NET/Socket; the nvlink profile expects" in r for r in reasons)


def test_message_sizes(program) -> None:
    assert program.sizes(1 << 30) == [1 << 20, 4 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30]
    assert program.sizes(3 << 20) == [1 << 20, 3 << 20]


def test_cli_writes_the_rendered_program_and_settings(tmp_path: Path, harness: Harness) -> None:
    from inference_charts.commands import cli
    from inference_charts.render.cases import load_case

    example = Path(__file__).parents[1] / "examples" / "vllm-preflight-nvlink-2gpu.yaml"
    assert cli.main(["preflight", str(example), "--out", str(tmp_path)]) == 0
    container = _preflight_job(harness.evaluate(load_case(example)).objects)["spec"]["template"]["spec"][
        "containers"][0]
    assert (tmp_path / "preflight.py").read_text() == container["command"][2] + "\n"
    settings = dict(line.split("=", 1) for line in (tmp_path / "preflight.env").read_text().splitlines())
    assert settings["PREFLIGHT_FABRIC_PROFILE"] == "nvlink"
    assert settings["PREFLIGHT_MIN_BUSBW_GBPS"] == "300"
    assert "PREFLIGHT_NODE_RANK" not in settings  # from the pod's metadata: the caller sets it


def test_cli_refuses_a_release_without_preflight(tmp_path: Path, capsys) -> None:
    from inference_charts.commands import cli

    example = Path(__file__).parents[1] / "examples" / "vllm-llama-405b-tp8-pp2.yaml"
    assert cli.main(["preflight", str(example), "--out", str(tmp_path)]) == 1
    assert "set preflight.enabled=true" in capsys.readouterr().err
