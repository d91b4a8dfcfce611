"""The group runs of the integration suite, each a rendered case and what happens to its pods.

A scenario renders the vLLM chart with its values, runs the group (podsim.group.GroupSim), and returns
the problems each of its checks found (podsim.checks). The "broken" scenarios render values that break
the rendered scripts or probes in the way one check exists to catch; the tests require that check to
report them. Scenarios are independent (each has its own network), so the suite runs several at once.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim import checks
from inference_charts.devtools.podsim.group import GroupSim, leftovers
from inference_charts.devtools.podsim.prober import ProbeState
from inference_charts.render.cases import Case

#: The Ray launcher with an image that carries Ray: the stand-in engine plays vLLM on the Ray path only.
BASE: dict[str, Any] = {"model": {"name": "meta-llama/Llama-3.1-405B-Instruct"}, "launcher": {"kind": "ray"},
                        "image": {"tag": "v0.12.0"}}

#: Short probe periods so that a lost pod shows within seconds (the chart's defaults allow minutes).
FAST_PROBES = {"startup": {"periodSeconds": 5, "timeoutSeconds": 6, "budgetSeconds": 120},
               "readiness": {"periodSeconds": 3, "timeoutSeconds": 3, "failureThreshold": 2},
               "liveness": {"periodSeconds": 3, "timeoutSeconds": 6, "failureThreshold": 2}}
INDEXED_JOB = {"workload": {"kind": "IndexedJob"}}
WRONG_LEADER = "no-such-leader.inference.svc.cluster.local"
# ray.gpuWaitTimeoutSeconds of the missing-worker scenarios: longer than the leader takes to start its
# head and first poll Ray on a loaded two-core machine, so that the bound tests the wait, not the start.
GPU_WAIT = 20
HEAD_WAIT = 10  # the schema's minimum ray.headWaitTimeoutSeconds
# Workers-first scenarios: the leader's pod exists only this long after the workers'. Longer than the
# worker script's own bound on one head check (10 s), so that its retry loop runs, not only the check's.
LEADER_DELAY = 12.0


def topology(pods: int, tp: int, pp: int) -> dict[str, Any]:
    return {"topology": {"podsPerGroup": pods, "gpusPerPod": 8, "tensorParallelSize": tp, "pipelineParallelSize": pp}}


def merged(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = copy.deepcopy(BASE)
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = {**out[key], **value}
            else:
                out[key] = copy.deepcopy(value)
    return out


#: A values key that is not a value: render() takes it out and applies it to the rendered objects.
ENV_OVERRIDES = "__env_overrides__"


def env(**variables: str) -> dict[str, Any]:
    """Variables that replace the chart's own in every rendered engine container, set after rendering
    (how the broken cases break a script): the chart refuses extraEnv for a variable it sets itself."""
    return {ENV_OVERRIDES: dict(variables)}


def with_env(objects: list[dict[str, Any]], variables: dict[str, str]) -> list[dict[str, Any]]:
    """The rendered objects with ``variables`` set in the containers of every LeaderWorkerSet and Job
    pod template: an entry of the same name is replaced in place, any other is appended."""
    out = copy.deepcopy(objects)
    for obj in out:
        spec = obj.get("spec", {})
        lwt = spec.get("leaderWorkerTemplate", {})
        templates = [lwt.get("leaderTemplate"), lwt.get("workerTemplate"), spec.get("template")]
        if obj.get("kind") not in ("LeaderWorkerSet", "Job"):
            continue
        for template in filter(None, templates):
            for container in template["spec"]["containers"]:
                entries = container.setdefault("env", [])
                for name, value in variables.items():
                    entry = {"name": name, "value": value}
                    found = [i for i, e in enumerate(entries) if e["name"] == name]
                    if found:
                        entries[found[-1]] = entry
                    else:
                        entries.append(entry)
    return out


Problems = dict[str, list[str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    values: dict[str, Any]
    run: Callable[[GroupSim], Problems]
    about: str = ""
    tags: tuple[str, ...] = field(default=())


@dataclass
class Outcome:
    scenario: str
    problems: Problems
    seconds: float
    workdir: Path
    leftovers: list[str]
    facts: dict[str, float] = field(default_factory=dict)
    error: str = ""


def render(harness: Harness, values: dict[str, Any]) -> list[dict[str, Any]]:
    chart_values = {k: v for k, v in values.items() if k != ENV_OVERRIDES}
    result = harness.evaluate(Case(chart="vllm-multinode", values=chart_values, release="llm"))
    if result.render_error:
        raise RuntimeError(result.render_error)
    return with_env(result.objects, values.get(ENV_OVERRIDES, {}))


def execute(scenario: Scenario, objects: list[dict[str, Any]], workdir: Path) -> Outcome:
    """Runs one scenario on objects rendered beforehand (rendering is not thread-safe: the embedded
    engine may rebuild the library chart, so the suite renders every scenario first, in one thread)."""
    started = time.monotonic()
    sim = GroupSim(objects, workdir)
    error = ""
    problems: Problems = {}
    try:
        with sim:
            sim.start_observer()
            problems = scenario.run(sim)
    except Exception as exc:  # reported by the test that reads this scenario, with the logs' place
        error = f"{type(exc).__name__}: {exc}"
    formation = sim.formation_seconds()
    if formation is not None:
        sim.facts["last_pod_start_to_engine_s"] = round(formation, 3)
    return Outcome(scenario.name, problems, time.monotonic() - started, workdir, leftovers([sim]), sim.facts, error)


# -- what happens to the pods ---------------------------------------------------------------------------

def _engine_up(sim: GroupSim, timeout: float = 90, bound: float = 2.0) -> None:
    """Until the engine starts, the leader exits, or the engine is overdue (every GPU joined more than
    bound + 1 s ago): the verdict of engine_starts_after_every_gpu is known then."""
    want = checks.parallel_gpus(checks.rendered_engine_argv(sim)) if sim.runs[sim.leader].container else 0

    def settled() -> bool:
        if sim.engine_started(sim.leader) is not None or sim.runs[sim.leader].exited is not None:
            return True
        complete = checks.first_seen(sim, lambda r: checks.alive_gpus(r) >= want)
        return complete is not None and time.time() - complete["prev"] > bound + 1

    sim.wait_until(settled, timeout, step=0.1)


def _standin_settles(sim: GroupSim) -> None:
    """The stand-in connects after the exec: gives it time to record what it saw (a cross-check only)."""
    if sim.engine_started(sim.leader) is not None:
        sim.wait_until(lambda: "cluster_gpus" in (sim.standin_record(sim.leader) or {})
                       or sim.runs[sim.leader].exited is not None, 15)


def leader_first(sim: GroupSim) -> Problems:
    """The leader starts; the workers start once it is waiting for them (it has polled Ray once), so
    the last join falls between two of its polls, however slow the machine."""
    sim.start(sim.leader)
    sim.wait_until(lambda: "GPUs joined" in sim.runs[sim.leader].log() or sim.runs[sim.leader].exited is not None, 60)
    sim.start_schedule({w: 0 for w in sim.workers})
    _engine_up(sim)
    _standin_settles(sim)
    return {"engine_after_every_gpu": checks.engine_starts_after_every_gpu(sim)}


def workers_first(sim: GroupSim) -> Problems:
    sim.start_schedule({**{w: 0 for w in sim.workers}, sim.leader: LEADER_DELAY})
    _engine_up(sim)
    _standin_settles(sim)
    return {"engine_after_every_gpu": checks.engine_starts_after_every_gpu(sim),
            "workers_retry_and_join": checks.workers_retry_and_join(sim)}


def early_workers_give_up(sim: GroupSim) -> Problems:
    """Workers first; the leader comes LEADER_DELAY later, unless every worker has given up by then."""
    sim.start_schedule({w: 0 for w in sim.workers})
    if not sim.wait_until(lambda: all(sim.runs[w].exited is not None for w in sim.workers), LEADER_DELAY):
        sim.start(sim.leader)
        _engine_up(sim)
    return {"workers_retry_and_join": checks.workers_retry_and_join(sim)}


def workers_first_then_kill(sim: GroupSim) -> Problems:
    """Forms the group with every probe running, then kills one worker pod."""
    sim.start_schedule({**{w: 0 for w in sim.workers}, sim.leader: LEADER_DELAY}, probes=True)
    _engine_up(sim)
    problems = {"engine_after_every_gpu": checks.engine_starts_after_every_gpu(sim),
                "workers_retry_and_join": checks.workers_retry_and_join(sim)}
    problems["probes_notice_lost_pod"] = kill_and_probe(sim)
    return problems


def kill_and_probe(sim: GroupSim) -> list[str]:
    """Once every liveness probe has passed, kills the middle worker and waits out the longest bound."""
    def liveness(names: list[str]) -> list[ProbeState]:
        return [run.prober.states["livenessProbe"] for name, run in sim.runs.items()
                if name in names and run.prober and "livenessProbe" in run.prober.states]

    if not sim.wait_until(lambda: all(s.passed_at for s in liveness(sim.pods)), 60):
        return ["not every liveness probe passed after the group formed; cannot test a loss"]
    victim = sim.workers[len(sim.workers) // 2]
    sim.kill(victim)
    survivors = liveness([name for name in sim.pods if name != victim])
    worst = max(s.period * s.failure_threshold + s.timeout + 2 for s in survivors)
    sim.wait_until(lambda: all(s.failed_at for s in survivors), worst + 1)
    return checks.probes_notice_lost_pod(sim, victim)


def leader_alone(sim: GroupSim) -> Problems:
    """One worker never starts (here: the group's only worker)."""
    sim.start(sim.leader)
    sim.wait_until(lambda: sim.runs[sim.leader].exited is not None, GPU_WAIT + 5 + 1)
    return {"leader_gives_up_clearly": checks.leader_gives_up_clearly(sim, GPU_WAIT)}


def wrong_address(sim: GroupSim) -> Problems:
    worker = sim.workers[0]
    sim.start(worker)
    sim.wait_until(lambda: sim.runs[worker].exited is not None, HEAD_WAIT + 10 + 1 + 5 + 2)
    return {"worker_fails_clearly": checks.worker_fails_clearly(sim, worker, WRONG_LEADER, HEAD_WAIT)}


SCENARIOS: list[Scenario] = [
    # Longest first, so that a slow one does not start last. Names starting with broken- break the
    # rendered scripts or probes on purpose: each must make its check report a problem.
    Scenario("tp8-pp4-4x8", merged(topology(4, 8, 4), {"probes": FAST_PROBES}), workers_first_then_kill,
             "4 pods x 8 GPUs, TP8 x PP4, workers first, probes running; then one worker is killed"),
    Scenario("job-tp8-pp2-2x8", merged(topology(2, 8, 2), INDEXED_JOB, {"probes": FAST_PROBES}),
             workers_first_then_kill,
             "2 pods x 8 GPUs, TP8 x PP2 as an Indexed Job (each pod runs the command line its completion "
             "index selects), the worker first, probes running; then the worker is killed"),
    Scenario("broken-job-no-group-check",
             merged(topology(2, 8, 2), INDEXED_JOB, {"probes": {**FAST_PROBES, "rayGroupCheck": False}}),
             workers_first_then_kill,
             "an Indexed Job with probes.rayGroupCheck false: index 0's liveness asks only the engine",
             ("broken",)),
    Scenario("tp16-pp1-2x8", merged(topology(2, 16, 1)), workers_first,
             "2 pods x 8 GPUs, TP16 x PP1, the worker before the leader's pod exists"),
    Scenario("broken-slow-poll", merged(topology(2, 8, 2), {"ray": {"pollSeconds": 60}}), leader_first,
             "ray.pollSeconds 60: the leader notices the last join late", ("broken",)),
    Scenario("broken-no-group-check",
             merged(topology(2, 8, 2), {"probes": {**FAST_PROBES, "rayGroupCheck": False}}),
             workers_first_then_kill,
             "probes.rayGroupCheck false: the leader's liveness asks only the engine", ("broken",)),
    Scenario("broken-unbounded-head-wait",
             merged(topology(2, 8, 2), {"ray": {"headWaitTimeoutSeconds": HEAD_WAIT}},
                    env(MULTINODE_LEADER_ADDRESS=WRONG_LEADER, MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS="600")),
             wrong_address,
             "a wrong leader address with the head wait overridden to 600 s", ("broken",)),
    Scenario("tp8-pp2-2x8", merged(topology(2, 8, 2)), leader_first,
             "2 pods x 8 GPUs, TP8 x PP2, the leader first"),
    Scenario("broken-expects-fewer-gpus", merged(topology(2, 8, 2), env(MULTINODE_EXPECTED_GPUS="8")),
             leader_first, "the leader's wait target overridden to 8 of 16 GPUs: it starts the engine early",
             ("broken",)),
    Scenario("missing-worker", merged(topology(2, 8, 2), {"ray": {"gpuWaitTimeoutSeconds": GPU_WAIT}}),
             leader_alone, "2 pods x 8 GPUs, the worker never starts"),
    Scenario("broken-unbounded-gpu-wait",
             merged(topology(2, 8, 2), {"ray": {"gpuWaitTimeoutSeconds": GPU_WAIT}},
                    env(MULTINODE_GPU_WAIT_TIMEOUT_SECONDS="600")),
             leader_alone, "the leader's wait overridden to 600 s while the values say 10 s", ("broken",)),
    Scenario("wrong-leader-address",
             merged(topology(2, 8, 2), {"ray": {"headWaitTimeoutSeconds": HEAD_WAIT}},
                    env(MULTINODE_LEADER_ADDRESS=WRONG_LEADER)),
             wrong_address, "the worker is given a leader address that does not resolve (no leader needed)"),
    Scenario("broken-impatient-workers",
             merged(topology(2, 16, 1), env(MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS="1")), early_workers_give_up,
             "workers' head wait overridden to 1 s: they give up before the leader exists", ("broken",)),
]
BY_NAME = {s.name: s for s in SCENARIOS}
