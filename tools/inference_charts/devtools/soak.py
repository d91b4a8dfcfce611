"""make soak: the integration suites several runs in a row with a CPU-heavy process beside them, to show
that their waits are event-driven and bounded rather than tuned to a quiet machine (a flaky test is a
defect). Each run is a fresh pytest process; the soak stops at the first failing run.

    python -m inference_charts.devtools.soak [--runs 3] [--burners 1] [pytest arguments ...]

The default pytest arguments are the real-engine suite. A burner is a busy loop in a process of its own
that takes a core for the whole soak (this machine has two).
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time

DEFAULT_TESTS = ["tests/integration/test_real_engine.py"]


def _burn() -> None:
    while True:
        pass


def soak(runs: int, burners: int, pytest_args: list[str]) -> int:
    workers = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(burners)]
    for worker in workers:
        worker.start()
    print(f"soak: {runs} runs of pytest {' '.join(pytest_args)} with {burners} busy process(es) beside them",
          flush=True)
    try:
        for run in range(1, runs + 1):
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
                                  capture_output=True, text=True)
            summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            print(f"  run {run}: exit {done.returncode} after {time.monotonic() - started:.0f} s: {summary}",
                  flush=True)
            if done.returncode != 0:
                print(done.stdout[-8000:], done.stderr[-2000:], sep="\n")
                return done.returncode
    finally:
        for worker in workers:
            worker.kill()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burners", type=int, default=1)
    parser.add_argument("pytest_args", nargs="*", default=DEFAULT_TESTS)
    args = parser.parse_args()
    sys.exit(soak(args.runs, args.burners, args.pytest_args))


if __name__ == "__main__":
    main()
