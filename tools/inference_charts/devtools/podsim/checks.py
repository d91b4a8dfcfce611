"""The assertions about a group run, each a function that returns the problems it found (empty: holds).

They read GroupSim's own observations: container start and exit times and logs, the main process's
execs seen in /proc, and the GCS node table polled from outside the pods (gcs_observer.py). The engine
stand-in's record is only ever a cross-check beside them, never the evidence itself.

Times from the GCS observer are bracketed: a change it reports happened after the previous reply
("prev") and before the reply that showed it ("t"). Each check takes the end of the bracket that makes
it stricter, so a pass never rests on the observer's resolution.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from inference_charts.devtools.podsim.group import GroupSim

_HEALTH_CHECK_BOUND = re.compile(r"timeout (\d+) ray health-check")


def alive_gpus(record: dict[str, Any]) -> int:
    return int(sum(n["gpus"] for n in record.get("nodes", []) if n["alive"]))


def first_seen(sim: GroupSim, condition: Any) -> dict[str, Any] | None:
    """The first observation (with its bracket) for which condition(record) holds."""
    return next((r for r in sim.observations() if "nodes" in r and condition(r)), None)


_JOB_DISPATCH = re.compile(r"^leader_argc=(\d+)\n")


def leader_argv(argv: list[str]) -> list[str]:
    """The leader's own command line in a container's argv. An Indexed Job's container runs
    `bash -c <dispatch> group-member <leader argv...> <worker argv...>`, the dispatch execing the first
    leader_argc arguments at completion index 0; an LWS leader's argv is the leader's own."""
    if argv[:2] == ["bash", "-c"] and len(argv) > 3 and (match := _JOB_DISPATCH.match(argv[2])):
        return argv[4:4 + int(match.group(1))]
    return argv


def rendered_engine_argv(sim: GroupSim) -> list[str]:
    """The engine command line the leader's script execs, expanded: what follows the script's $0
    (`bash -c <script> ray-leader <engine argv...>`, as the charts render the leader)."""
    run = sim.runs[sim.leader]
    assert run.container is not None
    argv = leader_argv(run.container.argv)
    if argv[:2] != ["bash", "-c"] or len(argv) < 5:
        raise ValueError(f"the leader's command line is not `bash -c <script> <name> <engine...>`: {argv[:4]}")
    return argv[4:]


def parallel_gpus(argv: list[str]) -> int:
    """TP x PP read from an engine command line (not from the chart's MULTINODE_* variables)."""
    def flag(name: str) -> int:
        return int(argv[argv.index(name) + 1]) if name in argv else 1
    return flag("--tensor-parallel-size") * flag("--pipeline-parallel-size")


def engine_starts_after_every_gpu(sim: GroupSim, bound: float = 2.0) -> list[str]:
    """(a) The leader execs the engine only after every GPU joined Ray, and within bound seconds of the
    last join."""
    engine = rendered_engine_argv(sim)
    want = parallel_gpus(engine)
    started = sim.engine_started(sim.leader)
    if started is None:
        complete = first_seen(sim, lambda r: alive_gpus(r) >= want)
        if complete is not None and sim.observed_until() - complete["prev"] > bound:
            return [f"the engine had not started {sim.observed_until() - complete['prev']:.1f} s after the last "
                    f"GPU joined (at most {bound} s allowed)"]
        return [f"the leader never started the engine (exit code {sim.runs[sim.leader].returncode})"]
    sim.observe_past(started)
    problems = []
    argv = next(a for t, a in sim.runs[sim.leader].execs if t == started)
    tail = argv[-(len(engine) - 1):] if len(engine) > 1 else []
    if tail != engine[1:] or not any(os.path.basename(part) == engine[0] for part in argv):
        problems.append(f"the leader exec'd {argv[:4]}..., not the rendered engine command line {engine[:4]}...")
    complete = first_seen(sim, lambda r: alive_gpus(r) >= want)
    if complete is None:
        most = max((alive_gpus(r) for r in sim.observations() if "nodes" in r), default=0)
        return [*problems, f"the engine started before every GPU joined: the Ray cluster never held all "
                           f"{want} (at most {most})"]
    sim.facts["engine_after_last_join_s"] = round(started - complete["prev"], 3)
    if started < complete["prev"]:
        problems.append(f"the engine started {complete['prev'] - started:.2f} s before every GPU joined "
                        f"(the cluster held all {want} only after {complete['prev'] - sim.t0:.2f} s)")
    elif started - complete["prev"] > bound:
        problems.append(f"the engine started {started - complete['prev']:.2f} s after the last GPU joined "
                        f"(at most {bound} s allowed)")
    record = sim.standin_record(sim.leader) or {}
    if "cluster_gpus" in record and record["cluster_gpus"] != want:
        problems.append(f"the engine stand-in saw {record['cluster_gpus']} GPUs when it connected, not {want}")
    return problems


def workers_retry_and_join(sim: GroupSim) -> list[str]:
    """(b) Workers started before the leader's pod existed wait for it and join (none gives up)."""
    sim.observe_past(time.time())
    leader = sim.runs[sim.leader]
    problems = []
    for name in sim.workers:
        run = sim.runs[name]
        if run.started is None:
            problems.append(f"worker {name} never started")
            continue
        if leader.scheduled is not None and run.started >= leader.scheduled:
            problems.append(f"worker {name} started after the leader's pod existed: nothing to retry")
        joined = first_seen(sim, lambda r, ip=run.net.ip: any(n["ip"] == ip and n["alive"] for n in r["nodes"]))
        if run.exited is not None and (joined is None or run.exited < joined["t"]):
            last = run.log().strip().splitlines()[-1:] or ["(no output)"]
            problems.append(f"worker {name} exited with code {run.returncode} before joining: {last[0]}")
        elif joined is None:
            problems.append(f"worker {name} ({run.net.ip}) never joined the Ray cluster")
        elif "waiting for the Ray head" not in run.log():
            problems.append(f"worker {name} joined without ever waiting: the test did not exercise a retry")
    return problems


def leader_gives_up_clearly(sim: GroupSim, timeout: float, slack: float = 5.0) -> list[str]:
    """(c) With GPUs missing, the leader exits non-zero within timeout + slack seconds of its container's
    start, saying how many GPUs joined of how many (both compared with what the test saw itself)."""
    run = sim.runs[sim.leader]
    if run.started is None:
        return ["the leader never started"]
    want = parallel_gpus(rendered_engine_argv(sim))
    deadline = run.started + timeout + slack
    if run.exited is not None:
        sim.facts["leader_gave_up_after_s"] = round(run.exited - run.started, 3)
    if run.exited is None or run.exited > deadline:
        state = "is still running" if run.exited is None else f"exited only after {run.exited - run.started:.1f} s"
        return [f"the leader {state}; it should have given up within {timeout:.0f} + {slack:.0f} s of its start"]
    sim.observe_past(run.exited)
    problems = []
    if run.returncode == 0:
        problems.append("the leader exited with code 0")
    before = [r for r in sim.observations() if "nodes" in r and r["t"] <= run.exited]
    have = alive_gpus(before[-1]) if before else 0
    said = re.search(r"(\d+) of (\d+) GPUs joined the Ray cluster", run.log())
    if said is None:
        problems.append("the leader's message does not say how many GPUs joined of how many")
    elif (int(said.group(1)), int(said.group(2))) != (have, want):
        problems.append(f"the leader said {said.group(0)!r}, but {have} of {want} had joined")
    return problems


def worker_fails_clearly(sim: GroupSim, worker: str, address: str, head_wait: float) -> list[str]:
    """(d) A worker pointed at a wrong leader address exits non-zero, naming the address, within
    head_wait plus one bounded head check (as rendered), one poll and 5 s."""
    run = sim.runs[worker]
    assert run.container is not None and run.started is not None
    script = " ".join(run.container.argv)
    bound = _HEALTH_CHECK_BOUND.search(script)
    poll = float(run.container.env.get("MULTINODE_POLL_SECONDS", "1"))
    allowed = head_wait + (int(bound.group(1)) if bound else 0) + poll + 5
    if run.exited is not None:
        sim.facts["worker_failed_after_s"] = round(run.exited - run.started, 3)
    if run.exited is None or run.exited - run.started > allowed:
        state = "is still running" if run.exited is None else f"exited only after {run.exited - run.started:.1f} s"
        return [f"worker {worker} {state}; with a wrong leader address it should fail within {allowed:.0f} s"]
    problems = []
    if run.returncode == 0:
        problems.append(f"worker {worker} exited with code 0")
    if address not in run.log():
        problems.append(f"worker {worker}'s output does not name the address {address}")
    return problems


def probes_notice_lost_pod(sim: GroupSim, killed: str, slack: float = 2.0) -> list[str]:
    """(e) After a pod is killed, every other pod's liveness probe (as rendered, run as the kubelet runs
    it) fails within periodSeconds x failureThreshold + timeoutSeconds + slack; each had passed before."""
    killed_at = sim.runs[killed].killed
    if killed_at is None:
        return [f"{killed} was not killed"]
    problems = []
    for name, run in sim.runs.items():
        if name == killed:
            continue
        if run.prober is None or "livenessProbe" not in run.prober.states:
            problems.append(f"{name} has no liveness probe")
            continue
        state = run.prober.states["livenessProbe"]
        if not any(t < killed_at for t in state.passed_at):
            problems.append(f"{name}'s liveness probe never passed before {killed} was killed")
            continue
        allowed = state.period * state.failure_threshold + state.timeout + slack
        failed = [t for t in state.failed_at if t > killed_at]
        if failed:
            sim.facts[f"liveness_failed_after_kill_s[{name}]"] = round(failed[0] - killed_at, 3)
        if not failed or failed[0] - killed_at > allowed:
            latest = state.checks[-1].output if state.checks else ""
            when = f"only after {failed[0] - killed_at:.1f} s" if failed else "not at all"
            problems.append(f"{name}'s liveness probe reported the loss of {killed} {when} (allowed "
                            f"{allowed:.0f} s = {state.period:.0f} x {state.failure_threshold} + "
                            f"{state.timeout:.0f} + {slack:.0f}); last check: {latest[:160]!r}")
    return problems
