"""A rendered group run for real on this machine: pods as network namespaces, containers as processes.

    with GroupSim(result.objects, workdir) as sim:
        sim.start_observer()
        for pod in sim.pods: sim.start(pod)
        sim.wait_until(lambda: sim.engine_started(sim.leader) is not None, 60)

GroupSim records a timeline that the checks read: when each container started and ended (with its
exit code and log), each exec of each container's main process (seen in /proc: when the leader's
script hands over to the engine), and the GCS observer's view of the Ray nodes. Leaving the with block
(normally, by an exception, or at interpreter exit through atexit) kills every process of every pod and
deletes every namespace; the logs stay in workdir.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_charts.devtools.podsim import net as netmod
from inference_charts.devtools.podsim.kubelet import (
    LAUNCHERS,
    Container,
    Image,
    Sandbox,
    cmdline,
    container_env,
    container_identity,
)
from inference_charts.devtools.podsim.prober import Prober
from inference_charts.devtools.podsim.workloads import SimPod, sim_pods

STANDIN_DIR = Path(__file__).with_name("standin")

#: The node's environment (the image ENV of the simulated containers), each with why it is set. None of
#: it changes what the rendered scripts do; it keeps five Ray nodes on two cores light and predictable.
NODE_ENV: dict[str, str] = {
    # Ray's OOM killer reads the host's memory, which every simulated node shares: one node's
    # monitor would kill workers for another node's usage.
    "RAY_memory_monitor_refresh_ms": "0",
    # A driver's first connection makes the raylet start one idle Python worker per CPU, in case tasks
    # follow. None do here (the engine stand-in only reserves GPUs), and each costs a CPU-second or two
    # that the timed checks of parallel scenarios would pay for.
    "RAY_prestart_worker_first_driver": "0",
}

#: Secrets the rendered env may reference (values are placeholders; nothing leaves the machine).
SECRETS: dict[str, dict[str, str]] = {"hf-token": {"token": "podsim-placeholder"}}

_LIVE: set[GroupSim] = set()
_COUNTER = iter(range(1, 1_000_000))
_COUNTER_LOCK = threading.Lock()


def _cleanup_all() -> None:
    for sim in list(_LIVE):
        sim.close()


atexit.register(_cleanup_all)


def install_signal_cleanup() -> None:
    """SIGTERM/SIGHUP end the interpreter through SystemExit, so atexit cleanup runs (a CI timeout sends
    SIGTERM). Left alone if someone else installed a handler."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, lambda number, _frame: sys.exit(128 + number))


@dataclass
class PodRun:
    pod: SimPod
    net: netmod.PodNet
    sandbox: Sandbox | None = None
    container: Container | None = None
    prober: Prober | None = None
    scheduled: float | None = None
    started: float | None = None
    exited: float | None = None
    returncode: int | None = None
    killed: float | None = None
    execs: list[tuple[float, list[str]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.pod.name

    def log(self) -> str:
        return self.container.log() if self.container else ""


class GroupSim:
    def __init__(self, objects: list[dict[str, Any]], workdir: Path, image: Image | None = None,
                 secrets: Mapping[str, Mapping[str, str]] = SECRETS, group: int = 0) -> None:
        with _COUNTER_LOCK:
            index = next(_COUNTER)
        self.t0 = time.time()
        self.workdir = workdir
        self.network = netmod.Network(index, workdir / "net")
        self.image = image or Image(path_first=(str(STANDIN_DIR),), env=NODE_ENV)
        self.secrets = secrets
        pods = [p for p in sim_pods(objects) if p.group == group]
        if not pods:
            raise ValueError(f"the rendered objects hold no group {group}")
        self.runs = {p.name: PodRun(p, self.network.allocate(p.name, p.dns_names, p.own_names)) for p in pods}
        self.observer: subprocess.Popen[bytes] | None = None
        self.observer_out = workdir / "gcs-observer.jsonl"
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="podsim-watch")
        self.inodes: dict[str, int] = {}
        self.facts: dict[str, float] = {}  # figures the checks measured, for reports
        self.pid_namespaces: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> GroupSim:
        _LIVE.add(self)
        try:
            self.network.up()
        except Exception:
            self.close()
            raise
        self.inodes.update(self.network.inodes())
        self._watcher.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops probes, the observer, every pod; deletes the namespaces. Safe to call twice."""
        if self._closed.is_set():
            return
        self._closed.set()
        for run in self.runs.values():
            if run.prober:
                run.prober.stop()
        if self.observer is not None:
            _kill_group(self.observer)
        with open(self.workdir / "timeline.json", "w") as out:
            json.dump(self.timeline(), out, indent=1)
        for run in self.runs.values():
            if run.container:
                run.container.kill()
            if run.sandbox:
                run.sandbox.kill()
        # SIGKILL is delivered, not awaited: give the kernel a moment to end what is left before the
        # namespaces go (deleting a namespace kills what still runs in it anyway).
        deadline = time.monotonic() + 10
        while _processes_in([self]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.network.down()
        _LIVE.discard(self)

    # -- pods ------------------------------------------------------------------------------------------

    @property
    def pods(self) -> list[str]:
        return list(self.runs)

    @property
    def leader(self) -> str:
        return next(name for name, run in self.runs.items() if run.pod.is_leader)

    @property
    def workers(self) -> list[str]:
        return [name for name, run in self.runs.items() if not run.pod.is_leader]

    def schedule(self, name: str) -> None:
        """The pod gets its namespace and address, and its names resolve (no container yet)."""
        run = self.runs[name]
        run.scheduled = time.time()
        self.network.attach(name)
        self.inodes.update(self.network.inodes())
        self.network.publish(name)
        run.sandbox = Sandbox(run.pod, run.net, self.network.hosts_file(name), self.workdir / "pods" / name,
                              self.image.files)
        run.sandbox.start()
        with contextlib.suppress(OSError):
            self.pid_namespaces.add(os.readlink(f"/proc/{run.sandbox.pid}/ns/pid"))

    def start(self, name: str, env: Mapping[str, str] | None = None) -> float:
        """Schedules the pod if needed and starts its container; returns the start time. env: extra
        variables after the rendered ones (the simulation's own, e.g. where the stand-in records)."""
        run = self.runs[name]
        if run.sandbox is None:
            self.schedule(name)
        assert run.sandbox is not None
        spec = run.pod.container
        resolved = container_env(spec, run.pod, run.net, self.network.hub_ip, self.secrets, self.image)
        resolved["PODSIM_STANDIN_RECORD"] = "/tmp/podsim-standin.json"
        resolved.update(env or {})
        container = Container(run.sandbox, spec, resolved, container_identity(spec, run.pod.spec))
        container.start()
        with self._lock:
            run.container, run.started = container, container.started
            run.execs.append((container.started, container.argv))
        return container.started

    def kill(self, name: str) -> float:
        """Kills every process of the pod at once (as a node crash or an OOM kill of the pod would); the
        pod keeps its address, so peers see connections refused, not silence."""
        run = self.runs[name]
        when = time.time()
        if run.sandbox:
            run.sandbox.kill()
        run.killed = when
        if run.prober:
            run.prober.stop()  # its exec probes could only fail to enter a pod that is gone
        return when

    def start_probes(self, name: str) -> Prober:
        run = self.runs[name]
        assert run.container is not None
        run.prober = Prober(run.container, run.net.ip, self.network.hub_argv)
        run.prober.start()
        return run.prober

    def standin_record(self, name: str) -> dict[str, Any] | None:
        path = self.workdir / "pods" / name / "tmp" / "podsim-standin.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None

    def timeline(self) -> dict[str, Any]:
        """What happened to each pod, in seconds since the simulation was made (for reading failures)."""
        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - self.t0, 3)
        with self._lock:
            return {name: {"ip": run.net.ip, "scheduled": rel(run.scheduled), "started": rel(run.started),
                           "exited": rel(run.exited), "returncode": run.returncode, "killed": rel(run.killed),
                           "execs": [[rel(t), argv[:3]] for t, argv in run.execs]}
                    for name, run in self.runs.items()}

    # -- the test's own observations --------------------------------------------------------------------

    def start_observer(self, interval: float = 0.1) -> None:
        """Polls the leader's GCS from the hub namespace (see gcs_observer.py)."""
        leader = self.runs[self.leader]
        port = _env_value(leader.pod, "MULTINODE_RAY_PORT") or "6379"
        argv = self.network.hub_argv(sys.executable, "-m", "inference_charts.devtools.podsim.gcs_observer",
                                     f"{leader.net.ip}:{port}", str(self.observer_out), "--interval", str(interval))
        with open(self.workdir / "gcs-observer.log", "w") as log:  # the child keeps its own descriptor
            self.observer = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                                             start_new_session=True)

    def observations(self) -> list[dict[str, Any]]:
        try:
            lines = self.observer_out.read_text().splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def observed_until(self) -> float:
        """The time of the observer's latest reply: its view of the cluster reaches that far."""
        records = self.observations()
        return records[-1]["t"] if records else 0.0

    def observe_past(self, moment: float, timeout: float = 10) -> bool:
        """Waits until the observer's view reaches past moment (it polls every 0.1 s, but a loaded
        machine may hold it back): a check must not judge a moment the observer has not seen yet."""
        return self.wait_until(lambda: self.observed_until() > moment, timeout, step=0.1)

    def gpus_seen(self) -> int:
        """GPUs on alive nodes in the latest observation."""
        records = [r for r in self.observations() if "nodes" in r]
        return int(sum(n["gpus"] for n in records[-1]["nodes"] if n["alive"])) if records else 0

    def engine_started(self, name: str) -> float | None:
        """When the container's main process first became something other than its entrypoint and other
        than a shell: an Indexed Job's container first execs the leader's own bash script (its role by
        completion index), which is not yet the engine."""
        run = self.runs[name]
        with self._lock:
            later = [t for t, argv in run.execs[1:] if argv != run.execs[0][1]
                     and os.path.basename(argv[0]) not in ("bash", "sh")]
        return later[0] if later else None

    def start_schedule(self, schedule: Mapping[str, float], probes: bool = False) -> None:
        """Starts each named pod's container the given number of seconds from now, in that order."""
        base = time.monotonic()
        for name, offset in sorted(schedule.items(), key=lambda item: item[1]):
            time.sleep(max(0.0, base + offset - time.monotonic()))
            self.start(name)
            if probes:
                self.start_probes(name)

    def formation_seconds(self) -> float | None:
        """From the last pod start to the engine start (None while the engine has not started)."""
        engine = self.engine_started(self.leader)
        starts = [run.started for run in self.runs.values() if run.started is not None]
        return None if engine is None or not starts else engine - max(starts)

    def wait_until(self, condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(step)
        return condition()

    def _watch(self) -> None:
        """Polls each running container's main process every 20 ms: exec (a new command line) and exit."""
        while not self._closed.wait(0.02):
            with self._lock:
                runs = [r for r in self.runs.values() if r.container is not None and r.exited is None]
            for run in runs:
                assert run.container is not None
                current = cmdline(run.container.main_pid)
                now = time.time()
                with self._lock:
                    if is_new_exec(current, run.execs[-1][1]):
                        run.execs.append((now, current))
                    code = run.container.poll()
                    if code is not None:
                        run.exited, run.returncode = now, code


def is_new_exec(current: list[str], last: list[str]) -> bool:
    """Whether a container's main process now runs a command line of its own that differs from the last
    one recorded: not an empty read (the process is gone) and not podsim's own launcher before its exec."""
    return bool(current) and current != last and os.path.basename(current[0]) not in LAUNCHERS


def _env_value(pod: SimPod, name: str) -> str | None:
    values = [e.get("value") for e in pod.container.get("env", []) if e["name"] == name]
    return values[-1] if values else None


def _kill_group(process: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _processes_in(sims: list[GroupSim]) -> list[str]:
    """Processes inside one of these simulations' network or pid namespaces, found through /proc (not
    through what the simulation believes it started). Namespace inode numbers are reused once freed, so
    namespaces that now exist under a name of their own, or belong to another live simulation, are
    left out."""
    names = {netns for sim in sims for netns in sim.inodes}
    named_now = {f"net:[{inode}]" for n in netmod.list_namespaces("")
                 if n not in names and (inode := netmod.namespace_inode(n))}
    inodes = {f"net:[{inode}]" for sim in sims for inode in sim.inodes.values()} - named_now
    others = {ns for sim in _LIVE if sim not in sims for ns in sim.pid_namespaces}
    pid_namespaces = {ns for sim in sims for ns in sim.pid_namespaces} - others
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            in_net = os.readlink(f"/proc/{entry}/ns/net") in inodes
            in_pid = os.readlink(f"/proc/{entry}/ns/pid") in pid_namespaces
        except OSError:
            continue
        if in_net or in_pid:
            found.append(f"process {entry}: {' '.join(cmdline(int(entry)) or ['?'])[:120]}")
    return found


def leftovers(sims: list[GroupSim]) -> list[str]:
    """What of these simulations still exists: their network namespaces, and processes inside them."""
    names = {netns for sim in sims for netns in sim.inodes}
    found = [f"network namespace {n}" for n in netmod.list_namespaces() if n in names]
    return found + _processes_in(sims)
