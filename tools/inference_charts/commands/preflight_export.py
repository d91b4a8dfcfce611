"""The NCCL preflight outside Kubernetes: the program and its settings exactly as a chart renders them,
written to a folder so the check can run on any host with PyTorch and GPUs (one process per pod)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from inference_charts.checks import runtime
from inference_charts.checks.harness import Harness
from inference_charts.render.cases import Case


class NoPreflight(Exception):
    pass


def preflight_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    jobs = [o for o in objects if o.get("kind") == "Job" and runtime.is_hook(o)
            and o["metadata"]["name"].endswith("-preflight")]
    if not jobs:
        raise NoPreflight("the rendered release has no preflight Job: set preflight.enabled=true")
    container: dict[str, Any] = jobs[0]["spec"]["template"]["spec"]["containers"][0]
    return container


def export(case: Case, folder: Path, harness: Harness | None = None) -> tuple[Path, Path]:
    """Writes preflight.py and preflight.env (shell assignments of the literal variables) into folder.
    Variables the pod gets from its own metadata (the node rank) are left for the caller to set."""
    result = (harness or Harness()).evaluate(case)
    if result.render_error:
        raise NoPreflight(result.render_error)
    container = preflight_container(result.objects)
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / "preflight.py"
    program.write_text(container["command"][2] + "\n")
    literal = [(e["name"], e["value"]) for e in container.get("env", []) if "value" in e]
    settings = folder / "preflight.env"
    settings.write_text("".join(f"{name}={shlex.quote(str(value))}\n" for name, value in literal))
    return program, settings
