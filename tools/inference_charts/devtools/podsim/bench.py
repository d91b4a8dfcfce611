"""make bench, group formation: how long a rendered group takes to start its engine once its last pod
started, for 2- and 4-pod groups, on this machine, with real Ray (see podsim.group).

Every pod starts at once (as LeaderWorkerSet creates a group's pods); the figure runs from the last
container start to the leader's exec of the engine, and includes the Ray head's start, the workers'
joins and the leader's noticing the last one. The anchor is the same group with ray.pollSeconds 5, the
`until ...; do sleep 5; done` loop of many hand-written launch scripts. Medians of several runs; the
runs go one at a time, so they do not compete for CPU.

    python -m inference_charts.devtools.podsim.bench [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim import checks, net
from inference_charts.devtools.podsim.group import GroupSim, install_signal_cleanup
from inference_charts.render.cases import Case

SIZES = (2, 4)
ANCHOR_POLL_SECONDS = 5


def _values(pods: int, poll: int) -> dict[str, object]:
    return {"model": {"name": "meta-llama/Llama-3.1-405B-Instruct"},
            "topology": {"podsPerGroup": pods, "gpusPerPod": 8, "tensorParallelSize": 8, "pipelineParallelSize": pods},
            "ray": {"pollSeconds": poll}, "launcher": {"kind": "ray"}, "image": {"tag": "v0.12.0"}}


def run_once(harness: Harness, pods: int, poll: int, workdir: Path) -> tuple[float, float]:
    """(last pod start -> engine start, last GPU join -> engine start), in seconds."""
    result = harness.evaluate(Case(chart="vllm-multinode", values=_values(pods, poll), release="bench"))
    if not result.ok:
        raise RuntimeError(f"the bench case does not render cleanly: {result.problems()[:3]}")
    with GroupSim(result.objects, workdir) as sim:
        sim.start_observer()
        sim.start_schedule({name: 0 for name in sim.pods})
        if not sim.wait_until(lambda: sim.engine_started(sim.leader) is not None, 120):
            raise RuntimeError(f"the {pods}-pod group did not start its engine; logs under {workdir}")
        formation = sim.formation_seconds()
        problems = checks.engine_starts_after_every_gpu(sim, bound=float("inf"))
        if formation is None or problems:
            raise RuntimeError(f"the {pods}-pod group formed wrongly: {problems}")
        return formation, sim.facts["engine_after_last_join_s"]


def report(runs: int = 3) -> None:
    reason = net.unavailable_reason()
    if reason is not None:
        print(f"group formation: skipped, pods cannot be simulated here: {reason}")
        return
    net.sweep_stale()
    install_signal_cleanup()
    harness = Harness()
    print(f"group formation: real Ray, pods as network namespaces, engine stand-in; median of {runs} runs. "
          "Seconds from the last pod start to the engine start (of which: from the last GPU join), with the "
          f"chart's 1 s poll and with the anchor, a {ANCHOR_POLL_SECONDS} s polling loop (which adds up to "
          f"{ANCHOR_POLL_SECONDS} s whenever the last join comes after the leader's first poll):")
    with tempfile.TemporaryDirectory(prefix="podsim-bench-") as tmp:
        for pods in SIZES:
            row = []
            for poll in (1, ANCHOR_POLL_SECONDS):
                samples = [run_once(harness, pods, poll, Path(tmp) / f"{pods}-{poll}-{i}") for i in range(runs)]
                row.append((statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)))
            (ours, ours_join), (anchor, anchor_join) = row
            print(f"  {pods} pods x 8 GPUs: {ours:5.2f} s ({ours_join:4.2f} s)   anchor: {anchor:5.2f} s "
                  f"({anchor_join:4.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    report(parser.parse_args().runs)


if __name__ == "__main__":
    main()
