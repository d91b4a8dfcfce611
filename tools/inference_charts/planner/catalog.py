"""Architecture facts of the models the planner knows, and memory of the GPUs it knows.

Every model entry names where its numbers come from. Parameter counts are total parameters (every
expert of a mixture-of-experts model is resident in GPU memory, though only a few run per token).

A mixture-of-experts entry also carries what splitting its experts needs: the routed experts, how many
run per token (top-k), the layers that have them and each expert's FFN width, all from config.json. A
routed expert is a gated FFN (gate, up and down projections: 3 x hidden x expert FFN parameters), so
the routed-expert parameters are MoE layers x experts x 3 x hidden x expert FFN; everything else
(attention, embeddings, dense layers, shared experts, routers) is the rest. Expert parallelism shards
the first and copies the second onto every data-parallel rank.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bytes per parameter of the weight formats the planner sizes. int4 carries one fp16 scale and one
#: fp16 zero point per group of 128 weights (AWQ/GPTQ with group size 128): 0.5 + 4/128 bytes.
DTYPE_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5 + 4 / 128}


@dataclass(frozen=True)
class Mla:
    """Multi-head latent attention (DeepSeek-V2/V3/R1): the KV cache holds one compressed latent of
    kv_lora_rank values plus the rope_dim values of the decoupled rotary key, per token and layer,
    shared by all heads."""

    kv_lora_rank: int
    rope_dim: int


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    hf_id: str
    params: float
    layers: int
    attention_heads: int
    kv_heads: int
    hidden_size: int
    head_dim: int
    max_context: int
    native_dtype: str
    experts: int = 0  # routed experts (n_routed_experts, num_local_experts, num_experts); 0: dense
    experts_per_token: int = 0  # top-k (num_experts_per_tok, moe_top_k)
    mla: Mla | None = None
    expert_ffn: int = 0  # one routed expert's FFN width (moe_intermediate_size); 0: unknown
    moe_layers: int = 0  # layers with routed experts (DeepSeek's first_k_dense_replace layers are dense)
    shared_experts: int = 0  # always-active experts (n_shared_experts): part of the rest, not sharded
    note: str = ""

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def expert_params(self) -> float:
        """Routed-expert parameters: MoE layers x experts x 3 x hidden x expert FFN (0 when unknown)."""
        if not self.is_moe or not self.expert_ffn:
            return 0.0
        return float(self.moe_layers * self.experts * 3 * self.hidden_size * self.expert_ffn)

    @property
    def dense_params(self) -> float:
        """Everything but the routed experts: attention, embeddings, dense layers, shared experts, routers."""
        return self.params - self.expert_params

    @property
    def active_params(self) -> float:
        """Parameters one token runs through: the rest plus top-k of the routed experts."""
        if not self.expert_params:
            return self.params
        return self.dense_params + self.expert_params * self.experts_per_token / self.experts


@dataclass(frozen=True)
class GpuSpec:
    key: str
    title: str
    memory_bytes: int
    source: str


GIB = 1024**3

GPUS: dict[str, GpuSpec] = {
    gpu.key: gpu
    for gpu in (
        # torch.cuda.get_device_properties(0).total_memory read on an H100 80GB HBM3 (nvidia-smi: 81559 MiB,
        # 480 MiB of it reserved by the driver); this is what vLLM's --gpu-memory-utilization multiplies.
        GpuSpec("h100-80gb", "H100 80GB", 85_017_493_504, "measured: torch total_memory on H100 80GB HBM3"),
        # The same reading on an H200 (nvidia-smi: 143771 MiB).
        GpuSpec("h200-141gb", "H200 141GB", 150_109_880_320, "measured: torch total_memory on H200"),
        # Not measured here: nominal 80 GiB / 40 GiB as nvidia-smi lists the A100s. CUDA sees a few hundred
        # MiB less (the driver's reservation, 480 MiB on the H100), which the planner's reserve absorbs.
        GpuSpec("a100-80gb", "A100 80GB", 80 * GIB, "nominal (nvidia-smi 81920 MiB)"),
        GpuSpec("a100-40gb", "A100 40GB", 40 * GIB, "nominal (nvidia-smi 40960 MiB)"),
    )
}


MODELS: dict[str, ModelSpec] = {
    model.key: model
    for model in (
        # huggingface.co/meta-llama/Llama-3.1-8B-Instruct config.json: hidden_size 4096, num_hidden_layers 32,
        # num_attention_heads 32, num_key_value_heads 8, max_position_embeddings 131072, bfloat16;
        # 8.03e9 parameters (the model card's safetensors count).
        ModelSpec("llama-3.1-8b", "Llama 3.1 8B Instruct", "meta-llama/Llama-3.1-8B-Instruct", 8.03e9,
                  layers=32, attention_heads=32, kv_heads=8, hidden_size=4096, head_dim=128,
                  max_context=131072, native_dtype="bf16"),
        # meta-llama/Llama-3.1-70B-Instruct config.json: hidden_size 8192, 80 layers, 64 heads, 8 KV heads,
        # max_position_embeddings 131072; 70.6e9 parameters (model card).
        ModelSpec("llama-3.1-70b", "Llama 3.1 70B Instruct", "meta-llama/Llama-3.1-70B-Instruct", 70.6e9,
                  layers=80, attention_heads=64, kv_heads=8, hidden_size=8192, head_dim=128,
                  max_context=131072, native_dtype="bf16"),
        # meta-llama/Llama-3.1-405B-Instruct config.json: hidden_size 16384, 126 layers, 128 heads, 8 KV heads,
        # max_position_embeddings 131072; 405.9e9 parameters (model card: 406B).
        ModelSpec("llama-3.1-405b", "Llama 3.1 405B Instruct", "meta-llama/Llama-3.1-405B-Instruct", 405.9e9,
                  layers=126, attention_heads=128, kv_heads=8, hidden_size=16384, head_dim=128,
                  max_context=131072, native_dtype="bf16"),
        # meta-llama/Llama-3.3-70B-Instruct config.json: the Llama 3.1 70B architecture (same numbers).
        ModelSpec("llama-3.3-70b", "Llama 3.3 70B Instruct", "meta-llama/Llama-3.3-70B-Instruct", 70.6e9,
                  layers=80, attention_heads=64, kv_heads=8, hidden_size=8192, head_dim=128,
                  max_context=131072, native_dtype="bf16"),
        # deepseek-ai/DeepSeek-R1 config.json: hidden_size 7168, num_hidden_layers 61, num_attention_heads 128,
        # kv_lora_rank 512, qk_rope_head_dim 64, n_routed_experts 256 (+1 shared), num_experts_per_tok 8,
        # max_position_embeddings 163840, quantization_config fp8 (e4m3, 128x128 blocks). 671e9 parameters
        # (DeepSeek-V3 report); the checkpoint's extra 14e9 are the multi-token-prediction layer, which
        # vLLM loads only for speculative decoding. Embeddings and norms stay bf16 (~1% more), left to
        # the reserve.
        # Experts (same config.json): moe_intermediate_size 2048, first_k_dense_replace 3 (layers 0-2 dense,
        # 58 MoE layers), n_shared_experts 1: 58 x 256 x 3 x 7168 x 2048 = 653.9e9 routed-expert parameters,
        # 17.1e9 the rest; active 17.1e9 + 653.9e9 x 8/256 = 37.5e9 (the V3 report: 37B activated).
        ModelSpec("deepseek-r1", "DeepSeek-R1", "deepseek-ai/DeepSeek-R1", 671e9,
                  layers=61, attention_heads=128, kv_heads=128, hidden_size=7168, head_dim=128,
                  max_context=163840, native_dtype="fp8", experts=256, experts_per_token=8,
                  mla=Mla(kv_lora_rank=512, rope_dim=64), expert_ffn=2048, moe_layers=58, shared_experts=1),
        # mistralai/Mixtral-8x22B-Instruct-v0.1 config.json: hidden_size 6144, 56 layers, 48 heads, 8 KV heads,
        # num_local_experts 8, num_experts_per_tok 2, max_position_embeddings 65536; 140.6e9 parameters
        # (model card: 141B, 39B active). Experts: intermediate_size 16384 is each expert's FFN, every layer
        # is MoE: 56 x 8 x 3 x 6144 x 16384 = 135.3e9 routed, 5.3e9 the rest; active 39.1e9.
        ModelSpec("mixtral-8x22b", "Mixtral 8x22B Instruct", "mistralai/Mixtral-8x22B-Instruct-v0.1", 140.6e9,
                  layers=56, attention_heads=48, kv_heads=8, hidden_size=6144, head_dim=128,
                  max_context=65536, native_dtype="bf16", experts=8, experts_per_token=2,
                  expert_ffn=16384, moe_layers=56),
        # Nemotron-4 340B technical report (arXiv:2406.11704), architecture table: 96 layers, hidden 18432,
        # 96 attention heads, 8 KV heads, sequence length 4096; 9.4e9 embedding + 331.6e9 other parameters.
        # Head size 18432/96 = 192 (Megatron's default kv_channels).
        ModelSpec("nemotron-4-340b", "Nemotron-4 340B Instruct", "nvidia/Nemotron-4-340B-Instruct", 341e9,
                  layers=96, attention_heads=96, kv_heads=8, hidden_size=18432, head_dim=192,
                  max_context=4096, native_dtype="bf16",
                  note="the nvidia/ checkpoint is in NeMo format; vLLM needs a Hugging Face conversion "
                       "(give it with --model-id)"),
        # databricks/dbrx-instruct config.json: d_model 6144, n_layers 40, n_heads 48, attn_config.kv_n_heads 8,
        # ffn_config.moe_num_experts 16, moe_top_k 4, max_seq_len 32768; 132e9 parameters (36e9 active).
        # Experts: ffn_config.ffn_hidden_size 10752, every layer MoE: 40 x 16 x 3 x 6144 x 10752 = 126.8e9
        # routed, 5.2e9 the rest; active 36.9e9.
        ModelSpec("dbrx-132b", "DBRX Instruct", "databricks/dbrx-instruct", 132e9,
                  layers=40, attention_heads=48, kv_heads=8, hidden_size=6144, head_dim=128,
                  max_context=32768, native_dtype="bf16", experts=16, experts_per_token=4,
                  expert_ffn=10752, moe_layers=40),
        # Qwen/Qwen2.5-72B-Instruct config.json: hidden_size 8192, 80 layers, 64 heads, 8 KV heads,
        # max_position_embeddings 32768 (131072 only with YaRN rope scaling); 72.7e9 parameters.
        ModelSpec("qwen2.5-72b", "Qwen2.5 72B Instruct", "Qwen/Qwen2.5-72B-Instruct", 72.7e9,
                  layers=80, attention_heads=64, kv_heads=8, hidden_size=8192, head_dim=128,
                  max_context=32768, native_dtype="bf16"),
        # Qwen/Qwen3-235B-A22B config.json: hidden_size 4096, 94 layers, 64 heads, 4 KV heads, head_dim 128,
        # num_experts 128, num_experts_per_tok 8, max_position_embeddings 40960; 235e9 parameters (22e9 active).
        # Experts: moe_intermediate_size 1536, decoder_sparse_step 1 and mlp_only_layers [] (every layer MoE):
        # 94 x 128 x 3 x 4096 x 1536 = 227.0e9 routed, 8.0e9 the rest; active 22.2e9.
        ModelSpec("qwen3-235b-a22b", "Qwen3 235B-A22B", "Qwen/Qwen3-235B-A22B", 235e9,
                  layers=94, attention_heads=64, kv_heads=4, hidden_size=4096, head_dim=128,
                  max_context=40960, native_dtype="bf16", experts=128, experts_per_token=8,
                  expert_ffn=1536, moe_layers=94),
    )
}


class UnknownModelError(LookupError):
    pass


def find_model(name: str) -> ModelSpec:
    """A catalog model by key or Hugging Face id, case-insensitively."""
    wanted = name.strip().lower()
    for model in MODELS.values():
        if wanted in (model.key, model.hf_id.lower()):
            return model
    raise UnknownModelError(
        f"unknown model {name!r}; the catalog has {', '.join(MODELS)} "
        "(or give --config path/to/config.json --params N for any other)")


def find_gpu(name: str) -> GpuSpec:
    wanted = name.strip().lower()
    if wanted not in GPUS:
        raise UnknownModelError(f"unknown GPU {name!r}; known: {', '.join(GPUS)} (or give --gpu-memory-gib)")
    return GPUS[wanted]
