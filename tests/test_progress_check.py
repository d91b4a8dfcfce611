"""The native launcher's leader liveness check (vllm.progressCheck), run as rendered against a small
HTTP server that answers like vLLM's /metrics and /v1/completions, with one data-parallel rank that
can hang or fail. The real engine runs it in tests/integration/test_real_engine.py; this covers the
cases a real engine cannot be made to show on demand (progress under load with a hung rank)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import one
from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import BASE_VALUES
from inference_charts.render.cases import Case
from inference_charts.render.merging import deep_merge


class FakeEngine:
    """Per-rank token counters and per-rank behaviour of a one-token completion: ok, hang or fail."""

    def __init__(self) -> None:
        self.tokens = {"0": 10.0, "1": 10.0}
        self.behaviour = {"0": "ok", "1": "ok"}
        self.asked: list[str] = []
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lines = [f'vllm:generation_tokens_total{{engine="{r}",model_name="tiny"}} {v}'
                         for r, v in engine.tokens.items()]
                self._reply(200, ("\n".join(lines) + "\n").encode())

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                rank = self.headers.get("X-data-parallel-rank", "0")
                engine.asked.append(rank)
                behaviour = engine.behaviour[rank]
                if behaviour == "hang":
                    time.sleep(8)
                self._reply(500 if behaviour == "fail" else 200, b"{}")

            def _reply(self, code: int, body: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the check gave up on a hung rank, as it should

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@pytest.fixture(scope="module")
def script(harness: Harness) -> str:
    values = deep_merge(BASE_VALUES, {"topology": {"tensorParallelSize": 8, "pipelineParallelSize": 1,
                                                   "dataParallelSize": 2}})
    result = harness.evaluate(Case(chart="vllm-multinode", values=values, release="probe"))
    assert result.ok, result.problems()
    leader = one(result.objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["leaderTemplate"]
    command = leader["spec"]["containers"][0]["livenessProbe"]["exec"]["command"][2]
    first, _, rest = command.partition("\n")
    assert first.rstrip().endswith("2 <<'PROGRESS_CHECK'"), first  # the data-parallel size is passed
    return rest.rsplit("PROGRESS_CHECK", 1)[0]


def _check(script: str, engine: FakeEngine, state: Path, budget: float = 3) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MULTINODE_PROBE_STATE": str(state)}
    return subprocess.run([sys.executable, "-", str(engine.port), "tiny", str(budget), "2"], input=script,
                          capture_output=True, text=True, env=env, timeout=30)


def test_idle_healthy_ranks_each_answer_a_completion(script: str, tmp_path: Path) -> None:
    engine = FakeEngine()
    done = _check(script, engine, tmp_path / "state")
    assert done.returncode == 0, done.stderr
    assert sorted(engine.asked) == ["0", "1"]
    assert json.loads((tmp_path / "state").read_text()) == engine.tokens


@pytest.mark.parametrize("behaviour", ["hang", "fail"])
def test_an_idle_rank_that_hangs_or_fails_fails_the_check_in_time(script: str, tmp_path: Path,
                                                                  behaviour: str) -> None:
    engine = FakeEngine()
    engine.behaviour["1"] = behaviour
    started = time.monotonic()
    done = _check(script, engine, tmp_path / "state")
    assert done.returncode != 0 and "no tokens since the last check" in done.stderr
    assert time.monotonic() - started < 3 + 3  # the budget, not the hang


def test_progress_spares_the_working_rank_and_proves_only_the_idle_one(script: str, tmp_path: Path) -> None:
    engine = FakeEngine()
    state = tmp_path / "state"
    assert _check(script, engine, state).returncode == 0
    engine.asked.clear()
    engine.tokens["0"] += 5  # rank 0 generated under load since the last check; rank 1 did not
    engine.behaviour["1"] = "hang"
    done = _check(script, engine, state)
    assert engine.asked == ["1"]  # no request added to the busy rank
    assert done.returncode != 0  # the hung idle rank is found although tokens flow elsewhere
    engine.behaviour["1"] = "ok"
    engine.tokens["1"] += 1
    engine.tokens["0"] += 1
    engine.asked.clear()
    assert _check(script, engine, state).returncode == 0 and engine.asked == []
