"""Per-GPU memory arithmetic for one parallel layout.

What a GPU holds while serving:
- weights: parameters x bytes per parameter, split evenly over the TP ranks of a stage; a pipeline
  stage holds ceil(layers / PP) layers, so the largest stage sets the need (embeddings and norms are
  spread with the layers: they are ~1-2% of a large model);
- KV cache: tokens x (stage layers) x per-layer bytes on that GPU, where a grouped-query layer stores
  K and V for its KV heads (2 x heads x head size x bytes) and a latent-attention (MLA) layer one
  compressed latent (kv_lora_rank + rope dims) x bytes;
- a reserve for what is neither: CUDA context, NCCL buffers, CUDA graphs and the activation peak of
  vLLM's profiling pass. It is an assumption, given explicitly.

vLLM allots gpu_memory_utilization x total memory to all three and gives the KV cache what is left
after the weights and the reserve, so the budget below is that product.

How TP splits the KV cache:
- grouped-query attention splits the KV heads over the TP ranks; when TP exceeds the KV heads vLLM
  copies each KV head onto TP / kv_heads ranks, so every rank still caches one whole head: per-GPU KV
  stops shrinking at TP = kv_heads;
- MLA's latent is shared by all heads, and vLLM keeps the whole latent on every TP rank: TP does not
  shrink it at all, only PP does.
The seeds' rule "KV = batch x length x hidden x layers x 2 x 2 bytes" is the multi-head case
(hidden = heads x head size); grouped-query models cache kv_heads / heads of that.

Data parallelism with expert parallelism (a mixture-of-experts model over DP ranks of TP GPUs each,
vLLM's --data-parallel-size with --enable-expert-parallel):
- the routed experts are spread over all TP x DP GPUs of the group, whole experts on each;
- everything else (attention, embeddings, dense layers, shared experts) is copied onto every DP rank
  and split over that rank's TP GPUs;
- each rank serves its own requests, so its GPUs cache only its share of the sequences: with MLA,
  whose latent TP cannot split, that is the difference between every GPU caching every token (TP16)
  and every GPU caching 1/16 of them (DP16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inference_charts.planner.catalog import DTYPE_BYTES, ModelSpec


def weight_bytes(model: ModelSpec, dtype: str) -> float:
    return model.params * DTYPE_BYTES[dtype]


def stage_layers(model: ModelSpec, pp: int) -> int:
    """Layers of the largest pipeline stage (vLLM splits layers as evenly as it can)."""
    return math.ceil(model.layers / pp)


def kv_heads_per_gpu(model: ModelSpec, tp: int) -> int:
    """KV heads each TP rank caches: its share, or one copied head once TP exceeds the KV heads."""
    return max(1, math.ceil(model.kv_heads / tp))


def kv_bytes_per_token_layer(model: ModelSpec, tp: int, kv_bytes: float) -> float:
    """KV cache bytes one GPU stores per token and per layer it holds."""
    if model.mla is not None:
        return (model.mla.kv_lora_rank + model.mla.rope_dim) * kv_bytes
    return 2 * kv_heads_per_gpu(model, tp) * model.head_dim * kv_bytes


def kv_bytes_per_token(model: ModelSpec, kv_bytes: float) -> float:
    """KV cache bytes of one token over the whole model on one GPU (TP 1, PP 1)."""
    return model.layers * kv_bytes_per_token_layer(model, 1, kv_bytes)


@dataclass(frozen=True)
class GpuMemory:
    """What the busiest GPU of a layout holds, in bytes."""

    weights: float
    kv_cache: float
    reserve: float
    stage_layers: int
    kv_per_token: float  # on this GPU
    expert_weights: float = 0.0  # the part of weights that is routed experts sharded by expert parallelism

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.reserve


def per_gpu(model: ModelSpec, dtype: str, kv_bytes: float, tp: int, pp: int, tokens: int,
            reserve: float) -> GpuMemory:
    layers = stage_layers(model, pp)
    per_token = layers * kv_bytes_per_token_layer(model, tp, kv_bytes)
    return GpuMemory(weights=weight_bytes(model, dtype) * layers / model.layers / tp,
                     kv_cache=tokens * per_token, reserve=reserve, stage_layers=layers,
                     kv_per_token=per_token)


def per_gpu_expert_parallel(model: ModelSpec, dtype: str, kv_bytes: float, tp: int, dp: int,
                            rank_tokens: int, reserve: float) -> GpuMemory:
    """One GPU of a DP x TP group with expert parallelism (PP 1): the rest of the model over TP, the
    routed experts over every GPU, and the KV cache of the tokens its own rank serves."""
    if not model.expert_params:
        raise ValueError(f"{model.title}: no routed-expert split known; expert parallelism cannot be sized")
    width = DTYPE_BYTES[dtype]
    experts = model.expert_params * width / (tp * dp)
    per_token = model.layers * kv_bytes_per_token_layer(model, tp, kv_bytes)
    return GpuMemory(weights=model.dense_params * width / tp + experts, kv_cache=rank_tokens * per_token,
                     reserve=reserve, stage_layers=model.layers, kv_per_token=per_token,
                     expert_weights=experts)


#: Bytes per value of the activations that cross between GPUs (bf16).
ACTIVATION_BYTES = 2


def all_to_all_fabric_bytes_per_token(model: ModelSpec, nodes: int) -> float:
    """Upper bound of what expert parallelism sends over the fabric per token: at every MoE layer the
    token's hidden state goes to its top-k experts and their outputs come back (dispatch + combine);
    with the experts spread evenly over the nodes and routing balanced, (nodes - 1) / nodes of those
    copies leave the node. Kernels that send a token once per remote node (DeepEP) send less."""
    if nodes <= 1:
        return 0.0
    per_layer = 2 * model.experts_per_token * model.hidden_size * ACTIVATION_BYTES * (nodes - 1) / nodes
    return per_layer * model.moe_layers


def stage_handoff_bytes_per_token(model: ModelSpec, pp: int) -> float:
    """What pipeline parallelism sends between stages per token: the hidden state and the residual at
    each of the pp - 1 boundaries."""
    return (pp - 1) * 2 * model.hidden_size * ACTIVATION_BYTES


def budget(gpu_memory: int, utilization: float) -> float:
    """The memory vLLM may use on one GPU."""
    return gpu_memory * utilization


def kv_token_capacity(memory: GpuMemory, budget_bytes: float) -> int:
    """Tokens the KV cache can hold once weights and reserve are placed (0 when they do not fit)."""
    room = budget_bytes - memory.weights - memory.reserve
    return max(0, math.floor(room / memory.kv_per_token))


def gb(n: float) -> str:
    """Bytes as decimal gigabytes, the unit model sizes are quoted in (70B x 2 bytes = 140 GB)."""
    return f"{n / 1e9:.1f} GB"
