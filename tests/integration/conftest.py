"""Fixtures of the integration suite: the availability check, and every scenario run once per session,
several at a time (each scenario has its own network, so they do not interfere; the number at once is
PODSIM_PARALLEL, 4 by default, which keeps a two-core machine busy without starving the timed checks)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim import group, net
from ray_scenarios import SCENARIOS, Outcome, Scenario, execute, render

STAGGER_SECONDS = 3.0


@pytest.fixture(scope="session")
def podsim() -> None:
    """Skips (never passes silently) where pods cannot be simulated: not root, or no `ip netns`."""
    reason = net.unavailable_reason()
    if reason is not None:
        pytest.skip(f"integration tests need pods as network namespaces: {reason}")
    net.sweep_stale()
    group.install_signal_cleanup()


@pytest.fixture(scope="session")
def outcomes(podsim: None, harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    parallel = int(os.environ.get("PODSIM_PARALLEL", "4"))
    rendered = {s.name: render(harness, s.values) for s in SCENARIOS}
    gate = threading.Lock()
    last_start = [0.0]

    def staggered(scenario: Scenario) -> Outcome:
        # Scenarios start STAGGER_SECONDS apart: Ray nodes starting all at once would starve the
        # first scenarios' timed checks of CPU.
        with gate:
            time.sleep(max(0.0, last_start[0] + STAGGER_SECONDS - time.monotonic()))
            last_start[0] = time.monotonic()
        return execute(scenario, rendered[scenario.name], tmp_path_factory.mktemp(scenario.name))

    with ThreadPoolExecutor(max_workers=parallel) as pool:  # SCENARIOS lists the longest first
        futures = {s.name: pool.submit(staggered, s) for s in SCENARIOS}
        results = {name: future.result() for name, future in futures.items()}
    _REPORT.update(results)
    return results


_REPORT: dict[str, Outcome] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures the group runs measured (seconds), under the test results."""
    if not _REPORT:
        return
    terminalreporter.section("Ray group runs (seconds)")
    for name, outcome in _REPORT.items():
        facts = ", ".join(f"{k} {v:.2f}" for k, v in outcome.facts.items())
        terminalreporter.write_line(f"{name:28} ran {outcome.seconds:5.1f}  {facts}")
