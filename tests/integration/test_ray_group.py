"""The Ray group forms, for real: the leader and worker containers as the vLLM chart renders them, run
with the real `ray` package, each pod a Linux network namespace with its own address, the engine a
stand-in (tools/inference_charts/devtools/podsim/standin/vllm). See tests/integration/ray_scenarios.py for the runs
and tools/inference_charts/devtools/podsim/checks.py for what each assertion reads.

Each assertion is shown to fail: a deliberately broken values case per assertion, for which the test
requires the same check to report a problem.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim import net
from inference_charts.devtools.podsim.group import GroupSim, leftovers
from ray_scenarios import BY_NAME, Outcome, merged, render, topology

pytestmark = pytest.mark.integration

LAYOUTS = ["tp8-pp2-2x8", "tp16-pp1-2x8", "tp8-pp4-4x8", "job-tp8-pp2-2x8"]


def _problems(outcome: Outcome, check: str) -> list[str]:
    assert not outcome.error, f"{outcome.scenario} did not run: {outcome.error}\n{_logs(outcome)}"
    assert check in outcome.problems, f"{outcome.scenario} ran no {check} check"
    return outcome.problems[check]


def _logs(outcome: Outcome) -> str:
    """The tail of every container log of a scenario, for failure messages."""
    parts = [f"logs under {outcome.workdir}"]
    for log in sorted(outcome.workdir.glob("pods/*/container.log")):
        tail = log.read_text(errors="replace").strip().splitlines()[-6:]
        parts.append(f"--- {log.parent.name}\n" + "\n".join(tail))
    return "\n".join(parts)


def _holds(outcomes: dict[str, Outcome], scenario: str, check: str) -> None:
    outcome = outcomes[scenario]
    problems = _problems(outcome, check)
    assert problems == [], "\n".join(problems) + "\n" + _logs(outcome)


@pytest.mark.parametrize("scenario", LAYOUTS)
def test_engine_starts_only_after_every_gpu_joined_and_within_2s(outcomes: dict[str, Outcome], scenario: str) -> None:
    _holds(outcomes, scenario, "engine_after_every_gpu")


@pytest.mark.parametrize("scenario", ["tp16-pp1-2x8", "tp8-pp4-4x8", "job-tp8-pp2-2x8"])
def test_workers_started_before_the_head_retry_and_join(outcomes: dict[str, Outcome], scenario: str) -> None:
    _holds(outcomes, scenario, "workers_retry_and_join")


def test_a_missing_worker_makes_the_leader_give_up_saying_how_many_gpus_joined(
        outcomes: dict[str, Outcome]) -> None:
    _holds(outcomes, "missing-worker", "leader_gives_up_clearly")


def test_a_wrong_leader_address_makes_the_worker_fail_clearly(outcomes: dict[str, Outcome]) -> None:
    _holds(outcomes, "wrong-leader-address", "worker_fails_clearly")


@pytest.mark.parametrize("scenario", ["tp8-pp4-4x8", "job-tp8-pp2-2x8"])
def test_probes_as_rendered_report_a_killed_worker(outcomes: dict[str, Outcome], scenario: str) -> None:
    _holds(outcomes, scenario, "probes_notice_lost_pod")


@pytest.mark.parametrize(("scenario", "check", "reported"), [
    ("broken-slow-poll", "engine_after_every_gpu", "after the last GPU joined"),
    ("broken-expects-fewer-gpus", "engine_after_every_gpu", "before every GPU joined"),
    ("broken-impatient-workers", "workers_retry_and_join", "before joining"),
    ("broken-unbounded-gpu-wait", "leader_gives_up_clearly", "is still running"),
    ("broken-unbounded-head-wait", "worker_fails_clearly", "is still running"),
    ("broken-no-group-check", "probes_notice_lost_pod", "reported the loss of"),
    ("broken-job-no-group-check", "probes_notice_lost_pod", "reported the loss of"),
])
def test_each_check_reports_its_broken_case(outcomes: dict[str, Outcome], scenario: str, check: str,
                                            reported: str) -> None:
    """The checks above are not vacuous: values that break the rendered scripts or probes in the way
    a check exists to catch make that check report a problem."""
    outcome = outcomes[scenario]
    problems = _problems(outcome, check)
    assert any(reported in p for p in problems), \
        f"{check} did not report {BY_NAME[scenario].about!r}: {problems}\n{_logs(outcome)}"


def test_no_scenario_leaves_a_namespace_or_process_behind(outcomes: dict[str, Outcome]) -> None:
    left = {name: o.leftovers for name, o in outcomes.items() if o.leftovers}
    assert left == {}
    assert net.list_namespaces(f"{net.session_prefix()}-") == []


def test_cleanup_when_the_run_fails_midway(podsim: None, harness: Harness, tmp_path: Path) -> None:
    """(f) An exception inside a run (a failing assertion, say) still kills every process of every pod
    (the Ray daemons included) and deletes every namespace; the leftover check sees them while they
    exist, so its empty answer afterwards means something."""
    objects = render(harness, merged(topology(2, 8, 2)))
    sim = GroupSim(objects, tmp_path)
    with pytest.raises(RuntimeError, match="deliberate"), sim:
        sim.start_observer()
        sim.start_schedule({sim.leader: 0, sim.workers[0]: 0.5})
        assert sim.wait_until(lambda: sim.gpus_seen() >= 8, 60), "the Ray head never came up"
        during = leftovers([sim])
        assert any("network namespace" in item for item in during)
        assert any("raylet" in item or "gcs_server" in item for item in during), during
        raise RuntimeError("deliberate failure inside the run")
    assert leftovers([sim]) == []


_CHILD = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path
    from inference_charts.devtools.podsim import group
    objects = json.load(open(sys.argv[1]))
    group.install_signal_cleanup()
    sim = group.GroupSim(objects, Path(sys.argv[2])).__enter__()   # never left: cleanup is atexit's job
    sim.start(sim.leader)
    sim.start_observer()
    while sim.gpus_seen() < 8:
        time.sleep(0.1)
    print(json.dumps({"inodes": sim.inodes, "pid_namespaces": sorted(sim.pid_namespaces)}), flush=True)
    if sys.argv[3] == "exit":
        sys.exit(3)
    time.sleep(600)
""")


def _child_leftovers(prefix: str, seen: dict[str, Any]) -> list[str]:
    """What a child run left: namespaces with its prefix, processes in the namespaces it reported."""
    left = [f"network namespace {n}" for n in net.list_namespaces(prefix)]
    inodes = {f"net:[{i}]" for i in seen["inodes"].values()}
    named_now = {f"net:[{net.namespace_inode(n)}]" for n in net.list_namespaces("")}
    pid_namespaces = set(seen["pid_namespaces"])
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (os.readlink(f"/proc/{entry}/ns/net") in inodes - named_now
                    or os.readlink(f"/proc/{entry}/ns/pid") in pid_namespaces):
                left.append(f"process {entry}")
        except OSError:
            continue
    return left


@pytest.mark.parametrize("ending", ["exit", "sigterm", "sigkill"])
def test_cleanup_when_the_process_running_the_pods_ends(podsim: None, harness: Harness, tmp_path: Path,
                                                        ending: str) -> None:
    """(f) A run whose process exits without leaving its with block, or is sent SIGTERM (a CI timeout),
    cleans up at exit. SIGKILL leaves everything behind, which the leftover check reports (its broken
    case); the next run's sweep_stale then removes it."""
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps(render(harness, merged(topology(2, 8, 2)))))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(objects), str(tmp_path / "run"), ending],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert child.stdout is not None
    seen = json.loads(child.stdout.readline())
    prefix = f"{net.PREFIX}{child.pid}-"
    assert _child_leftovers(prefix, seen), "the child's pods should exist while it runs"
    if ending != "exit":
        child.send_signal(signal.SIGTERM if ending == "sigterm" else signal.SIGKILL)
    child.wait(timeout=60)
    deadline = time.monotonic() + 10
    while _child_leftovers(prefix, seen) and time.monotonic() < deadline and ending != "sigkill":
        time.sleep(0.1)
    left = _child_leftovers(prefix, seen)
    if ending == "sigkill":
        assert left, "a SIGKILLed run cannot clean up, and the check should say so"
        assert any(n.startswith(prefix) for n in net.sweep_stale())
        deadline = time.monotonic() + 10
        while _child_leftovers(prefix, seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _child_leftovers(prefix, seen)
    assert left == []


def test_the_skip_reason_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs everywhere: where pods cannot be simulated, the suite is skipped saying why (never passed)."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "needs root" in (net.unavailable_reason() or "") and "uid 1000" in (net.unavailable_reason() or "")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(net.shutil, "which", lambda tool: None if tool == "ip" else f"/usr/bin/{tool}")
    assert net.unavailable_reason() == "needs `ip` on PATH"
