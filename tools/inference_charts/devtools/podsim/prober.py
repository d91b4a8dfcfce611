"""The kubelet's prober, for the rendered probes of one container.

Semantics kept from the kubelet (pkg/kubelet/prober): the startup probe runs first, and liveness and
readiness begin only once it has passed; each probe waits initialDelaySeconds, then runs every
periodSeconds; a check longer than timeoutSeconds fails (exec probes included); failureThreshold
failures in a row make the probe fail (liveness: the kubelet would restart the container; readiness:
the pod leaves its Services' endpoints), successThreshold successes in a row make it pass again.
Exec probes run inside the container with its environment (Container.exec); HTTP and TCP probes go
from the node (the hub namespace) to the pod's IP, and HTTP counts 200-399 as success.

Every check is recorded; the prober restarts nothing, so tests read when a probe would have acted.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inference_charts.devtools.podsim.kubelet import Container

KINDS = ("startupProbe", "livenessProbe", "readinessProbe")

# Run in the hub namespace: one HTTP GET as the kubelet makes it (no proxy, redirects not followed).
_HTTP_GET = """
import sys, urllib.request, urllib.error
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
request = urllib.request.Request(sys.argv[1], headers={"User-Agent": "kube-probe/podsim"})
try:
    code = opener.open(request, timeout=float(sys.argv[2])).status
except urllib.error.HTTPError as error:
    code = error.code
except Exception as error:
    sys.exit("GET {}: {}".format(sys.argv[1], error))
print(code)
sys.exit(0 if 200 <= code < 400 else 1)
"""
_TCP = """
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
"""


@dataclass
class Check:
    kind: str
    started: float
    seconds: float
    ok: bool
    output: str


@dataclass
class ProbeState:
    """A probe's verdict over time: when it turned failed (failureThreshold in a row) and passed."""

    kind: str
    spec: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    passed_at: list[float] = field(default_factory=list)
    failed_at: list[float] = field(default_factory=list)

    @property
    def period(self) -> float:
        return float(self.spec.get("periodSeconds", 10))

    @property
    def timeout(self) -> float:
        return float(self.spec.get("timeoutSeconds", 1))

    @property
    def failure_threshold(self) -> int:
        return int(self.spec.get("failureThreshold", 3))

    @property
    def success_threshold(self) -> int:
        return int(self.spec.get("successThreshold", 1))


class Prober:
    def __init__(self, container: Container, pod_ip: str, hub_argv: Callable[..., list[str]]) -> None:
        self.container, self.pod_ip, self.hub_argv = container, pod_ip, hub_argv
        self.states = {kind: ProbeState(kind, container.spec[kind]) for kind in KINDS if kind in container.spec}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = threading.Event()

    def start(self) -> None:
        startup = self.states.get("startupProbe")
        if startup is None:
            self._started.set()
        else:
            self._spawn(startup)
        for kind in ("livenessProbe", "readinessProbe"):
            if kind in self.states:
                self._spawn(self.states[kind], after_startup=True)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _spawn(self, state: ProbeState, after_startup: bool = False) -> None:
        thread = threading.Thread(target=self._loop, args=(state, after_startup), daemon=True,
                                  name=f"probe-{state.kind}")
        self._threads.append(thread)
        thread.start()

    def _loop(self, state: ProbeState, after_startup: bool) -> None:
        if after_startup:
            while not self._started.wait(0.1):
                if self._stop.is_set():
                    return
        if self._stop.wait(float(state.spec.get("initialDelaySeconds", 0))):
            return
        failures = successes = 0
        passing: bool | None = None
        next_run = time.monotonic()
        while not self._stop.is_set():
            check = self.run_once(state)
            state.checks.append(check)
            failures, successes = (0, successes + 1) if check.ok else (failures + 1, 0)
            if passing is not True and successes >= state.success_threshold:
                passing = True
                state.passed_at.append(check.started + check.seconds)
                if state.kind == "startupProbe":
                    self._started.set()
                    return  # a passed startup probe is not run again
            if passing is not False and failures >= state.failure_threshold:
                passing = False
                state.failed_at.append(check.started + check.seconds)
            next_run += state.period
            if self._stop.wait(max(0.0, next_run - time.monotonic())):
                return

    def run_once(self, state: ProbeState) -> Check:
        spec = state.spec
        started = time.time()
        if "exec" in spec:
            result = self.container.exec([str(x) for x in spec["exec"]["command"]], timeout=state.timeout)
            ok = result.returncode == 0
            output = result.output if result.returncode is not None else f"timed out after {state.timeout}s"
        elif "httpGet" in spec:
            get = spec["httpGet"]
            url = f"{get.get('scheme', 'HTTP').lower()}://{get.get('host') or self.pod_ip}:" \
                  f"{self._port(get['port'])}{get.get('path', '/')}"
            ok, output = self._from_node([sys.executable, "-c", _HTTP_GET, url, str(state.timeout)], state.timeout)
        elif "tcpSocket" in spec:
            port = self._port(spec["tcpSocket"]["port"])
            ok, output = self._from_node([sys.executable, "-c", _TCP, self.pod_ip, str(port), str(state.timeout)],
                                         state.timeout)
        else:
            raise ValueError(f"{state.kind}: only exec, httpGet and tcpSocket probes are simulated")
        return Check(state.kind, started, time.time() - started, ok, output.strip()[-500:])

    def _port(self, port: int | str) -> int:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for entry in self.container.spec.get("ports", []):
            if entry.get("name") == port:
                return int(entry["containerPort"])
        raise ValueError(f"probe port {port!r} names no container port")

    def _from_node(self, argv: list[str], timeout: float) -> tuple[bool, str]:
        # The interpreter's own start is not the pod's fault: allow it a few seconds over timeout.
        try:
            done = subprocess.run(self.hub_argv(*argv), capture_output=True, text=True, timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout}s"
        return done.returncode == 0, (done.stdout + done.stderr)
