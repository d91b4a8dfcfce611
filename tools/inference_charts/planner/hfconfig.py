"""A ModelSpec from a local Hugging Face config.json, for models the catalog lacks.

config.json has the shape but not the parameter count, so that is given separately. Key names differ
between architectures (Llama/Mistral/Qwen use num_hidden_layers, DBRX n_layers and attn_config); the
first key present wins. Multimodal configs keep the language model under text_config.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from inference_charts.planner.catalog import Mla, ModelSpec


class ConfigError(ValueError):
    pass


def _first(config: dict[str, Any], *paths: str) -> Any:
    for path in paths:
        node: Any = config
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def _native_dtype(config: dict[str, Any]) -> str:
    if _first(config, "quantization_config.quant_method") == "fp8":
        return "fp8"
    torch_dtype = _first(config, "torch_dtype", "dtype") or "bfloat16"
    # vLLM serves float32 checkpoints in float16 unless told otherwise.
    return "bf16" if torch_dtype == "bfloat16" else "fp16"


def parse_count(text: str) -> float:
    """A parameter count: 70e9, 70000000000, 70B or 671b."""
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([bBmM]?)\s*", text)
    if not match:
        raise ConfigError(f"not a parameter count: {text!r} (write 70e9 or 70B)")
    scale = {"b": 1e9, "m": 1e6, "": 1.0}[match.group(2).lower()]
    return float(match.group(1)) * scale


def model_from_config(path: Path, params: float, model_id: str = "") -> ModelSpec:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    config: dict[str, Any] = {**loaded, **loaded.get("text_config", {})}
    layers = _first(config, "num_hidden_layers", "n_layers", "num_layers")
    heads = _first(config, "num_attention_heads", "n_heads")
    hidden = _first(config, "hidden_size", "d_model")
    if not (layers and heads and hidden):
        raise ConfigError(f"{path}: needs num_hidden_layers, num_attention_heads and hidden_size (or n_layers, "
                          "n_heads, d_model)")
    kv_heads = _first(config, "num_key_value_heads", "attn_config.kv_n_heads", "num_query_groups") or heads
    rank, rope = _first(config, "kv_lora_rank"), _first(config, "qk_rope_head_dim")
    experts = int(_first(config, "num_local_experts", "n_routed_experts", "num_experts",
                         "ffn_config.moe_num_experts") or 0)
    hf_id = model_id or str(config.get("_name_or_path") or path.resolve().parent.name)
    return ModelSpec(
        key=hf_id.rsplit("/", 1)[-1].lower(), title=hf_id, hf_id=hf_id, params=params, layers=int(layers),
        attention_heads=int(heads), kv_heads=int(kv_heads), hidden_size=int(hidden),
        head_dim=int(_first(config, "head_dim") or hidden // heads),
        max_context=int(_first(config, "max_position_embeddings", "max_seq_len", "seq_length") or 4096),
        native_dtype=_native_dtype(config),
        experts=experts,
        experts_per_token=int(_first(config, "num_experts_per_tok", "ffn_config.moe_top_k") or 0),
        mla=Mla(int(rank), int(rope)) if rank and rope else None,
        expert_ffn=_expert_ffn(config) if experts else 0,
        moe_layers=_moe_layers(config, int(layers)) if experts else 0,
        shared_experts=int(_first(config, "n_shared_experts") or 0),
    )


def _expert_ffn(config: dict[str, Any]) -> int:
    """One routed expert's FFN width: moe_intermediate_size (DeepSeek, Qwen MoE), DBRX's ffn_hidden_size,
    or Mixtral's intermediate_size (its experts are the whole FFN). 0 when the config says none of these."""
    width = _first(config, "moe_intermediate_size", "ffn_config.ffn_hidden_size")
    if width is None and "num_local_experts" in config:
        width = config.get("intermediate_size")
    return int(width or 0)


def _moe_layers(config: dict[str, Any], layers: int) -> int:
    """Layers with routed experts: DeepSeek's first first_k_dense_replace layers are dense (and only every
    moe_layer_freq-th after them has experts); Qwen MoE has experts where (i + 1) % decoder_sparse_step == 0,
    outside mlp_only_layers."""
    first_dense = int(config.get("first_k_dense_replace") or 0)
    frequency = int(config.get("moe_layer_freq") or 1)
    step = int(config.get("decoder_sparse_step") or 1)
    dense_only = set(config.get("mlp_only_layers") or [])
    return sum(1 for i in range(layers) if i >= first_dense and i % frequency == 0
               and (i + 1) % step == 0 and i not in dense_only)
