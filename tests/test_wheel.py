"""The package as a platform repository installs it: the wheel built from this repository, installed
with its dependencies into a fresh virtual environment outside the repository, runs `inference-charts
check` on a values file against a packaged chart, from a folder outside the repository, with nothing
of the checkout on its path. About a minute: building, installing the dependencies from pip's index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import helm_python
import pytest
import yaml
from inference_charts import paths
from inference_charts.render.engine import prepare

pytestmark = pytest.mark.wheel

#: What the wheel is built from: the package sources and what setup.py copies into it.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "tools", "schemas/crds")
GOOD = {"model": {"name": "meta-llama/Llama-3.1-8B-Instruct"}}
BAD = {**GOOD, "securityContext": {"runAsUser": 0, "runAsNonRoot": False}, "networkPolicy": {"enabled": False}}


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("platform")
    assert not folder.resolve().is_relative_to(paths.REPO_ROOT)
    return folder


@pytest.fixture(scope="module")
def wheel(outside: Path) -> Path:
    """Built from a copy of the sources, so the build leaves nothing in the checkout (build/, egg-info)."""
    source = outside / "source"
    for name in SOURCES:
        origin = paths.REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(outside / "dist")],
                 cwd=outside)
    assert built.returncode == 0, built.stderr
    (wheel,) = (outside / "dist").glob("inference_charts-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(outside: Path, wheel: Path) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel and its dependencies."""
    venv = outside / "venv"
    created = _run([sys.executable, "-m", "venv", str(venv)], cwd=outside)
    assert created.returncode == 0, created.stderr
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=outside)
    assert done.returncode == 0, done.stderr
    return venv


def _environment(outside: Path) -> dict[str, str]:
    """No trace of the checkout: no PYTHONPATH, a HOME of the platform's own, the venv's bin first."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "XDG_CACHE_HOME", "PYTHONHOME")}
    env["HOME"] = str(outside / "home")
    env["PATH"] = f"{outside / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_wheel_carries_the_runtime_files_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for schema in sorted(paths.CRD_SCHEMAS_DIR.glob("*.schema.json")):
            assert archive.read(f"inference_charts/crds/{schema.name}") == schema.read_bytes(), schema.name
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "inference-charts = inference_charts.commands.cli:main" in archive.read(entry_points).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for module in ("checks/pod_security.py", "checks/reachability.py", "commands/check.py", "render/charts.py"):
        assert f"inference_charts/{module}" in names
    # The harness's own dependencies, not the test extra's (torch, Ray) unless asked for.
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert all("extra ==" in line for line in requires if "torch" in line or "ray" in line), requires


def test_installed_check_against_a_packaged_chart_outside_the_repository(installed: Path, outside: Path) -> None:
    archive = Path(helm_python.package(prepare("vllm-multinode"), destination=outside / "charts"))
    work = outside / "work"
    work.mkdir()
    (work / "good-values.yaml").write_text(yaml.safe_dump(GOOD))
    (work / "bad-values.yaml").write_text(yaml.safe_dump(BAD))
    env = _environment(outside)
    command = [str(installed / "bin" / "inference-charts"), "check", "--chart", str(archive),
               "good-values.yaml", "bad-values.yaml", "--junit", "reports/check.xml", "--json", "reports/check.json"]
    done = _run(command, cwd=work, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"ok     good-values.yaml (vllm-multinode 0.2.0 from {archive})" in done.stdout
    assert "pod-security [Running as Non-root user] LeaderWorkerSet/demo-vllm-multinode-group" in done.stdout
    assert "(value securityContext.runAsUser)" in done.stdout
    assert "network-policy [ray-nccl-closed] LeaderWorkerSet/demo-vllm-multinode-group" in done.stdout
    assert "(value networkPolicy.enabled)" in done.stdout

    suites = {s.get("name"): s for s in ET.parse(work / "reports" / "check.xml").getroot().iter("testsuite")}
    failed = {case.get("name") for case in suites["bad-values.yaml"].iter("testcase")
              if case.find("failure") is not None}
    assert failed == {"pod-security", "network-policy"}
    assert suites["good-values.yaml"].get("failures") == "0"
    report = json.loads((work / "reports" / "check.json").read_text())
    checks = {c["name"]: c["status"] for c in report["files"][1]["checks"]}
    # The LeaderWorkerSet was validated against the schema the wheel carries, not skipped.
    assert checks["custom-resource-schema"] == "passed" and checks["kubernetes-schema"] == "passed"

    # Installed, the package knows it has no checkout, and caches its validators in the user's cache.
    probe = _run([str(installed / "bin" / "python"), "-c",
                  "from inference_charts import paths; print(paths.checkout(), paths.crd_schemas_dir())"],
                 cwd=work, env=env)
    assert probe.stdout.split()[0] == "None" and str(installed) in probe.stdout.split()[1], probe.stdout + probe.stderr
    assert list((outside / "home" / ".cache" / "inference-charts" / "validators").glob("*.py"))
    assert not list(installed.glob("lib/python*/.cache"))

    by_name = _run([str(installed / "bin" / "inference-charts"), "check", "--chart", "vllm-multinode",
                    "good-values.yaml"], cwd=work, env=env)
    assert by_name.returncode == 2
    assert "has no checkout of it" in by_name.stderr
