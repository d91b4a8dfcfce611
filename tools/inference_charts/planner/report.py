"""Views of a plan: the human-readable report and a JSON document with the same facts."""

from __future__ import annotations

from typing import Any

from inference_charts.planner import memory
from inference_charts.planner.catalog import DTYPE_BYTES
from inference_charts.planner.memory import gb
from inference_charts.planner.plan import Candidate, Plan, nodes_text


def verdict(plan: Plan, candidate: Candidate) -> str:
    if candidate.broken:
        return "refused: " + "; ".join(candidate.broken)
    if not candidate.fits:
        return "does not fit: " + candidate.shortfall()
    chosen, lay = plan.chosen.layout, candidate.layout
    room = f"room for {candidate.sequences(plan.workload.context)} sequences"
    if lay.data_parallel:
        where = "across nodes" if lay.nodes > 1 else "over NVLink"
        idle = ("" if plan.workload.concurrency >= lay.dp
                else f", {plan.workload.concurrency} sequences leave ranks idle")
        more = "one more node, " if lay.nodes > chosen.nodes else ""
        return f"fits; {more}data + expert parallel, all-to-all per MoE layer {where}{idle}: {room}"
    if lay.nodes > chosen.nodes:
        return f"fits; one more node: {room}"
    if lay.gpus > chosen.gpus:
        return f"fits; more GPUs: {room}, less time per token"
    if lay.spans_nodes:
        return f"fits; TP across nodes, all-reduce per layer on the fabric: {room}"
    if lay.pp > chosen.pp:
        return f"fits; more pipeline stages, more latency: {room}"
    return f"fits: {room}"


def _model_lines(plan: Plan) -> list[str]:
    m, w = plan.model, plan.workload
    per_token = memory.kv_bytes_per_token(m, w.kv_bytes)
    attention = (f"MLA latent {m.mla.kv_lora_rank}+{m.mla.rope_dim}" if m.mla
                 else f"{m.kv_heads} KV heads x {m.head_dim}")
    moe = f", {m.experts} experts ({m.experts_per_token} per token)" if m.is_moe else ""
    if m.expert_params:
        moe += f": {m.expert_params / 1e9:.1f}e9 in routed experts, {m.dense_params / 1e9:.1f}e9 the rest"
    kv_name = "fp8" if w.kv_dtype == "fp8" else "bf16"
    return [
        f"Model     {m.title} ({m.hf_id}): {m.params / 1e9:g}e9 parameters x {DTYPE_BYTES[w.dtype]:g} B "
        f"({w.dtype}) = {gb(memory.weight_bytes(m, w.dtype))}",
        f"          {m.layers} layers, {m.attention_heads} attention heads, {attention}{moe}; KV cache "
        f"{per_token / 1e3:.1f} KB per token ({kv_name}); context up to {m.max_context}",
    ]


def _weight_lines(plan: Plan) -> list[str]:
    m, w, lay, mem = plan.model, plan.workload, plan.chosen.layout, plan.chosen.memory
    if not lay.data_parallel:
        return [f"  weights   {gb(mem.weights):>9}  {gb(memory.weight_bytes(m, w.dtype))} x "
                f"{mem.stage_layers}/{m.layers} layers / TP{lay.tp}",
                f"  KV cache  {gb(mem.kv_cache):>9}  {w.tokens} tokens x {mem.kv_per_token / 1e3:.1f} KB on this GPU"]
    width = DTYPE_BYTES[w.dtype]
    rank_tokens = w.context * w.rank_sequences(lay.dp)
    return [f"  weights   {gb(mem.weights):>9}  rest {gb(m.dense_params * width)} / TP{lay.tp} (copied on each of "
            f"{lay.dp} ranks) + experts {gb(m.expert_params * width)} / {lay.gpus} GPUs",
            f"  KV cache  {gb(mem.kv_cache):>9}  {rank_tokens} tokens of this rank x {mem.kv_per_token / 1e3:.1f} KB "
            "on this GPU"]


def render_text(plan: Plan) -> str:
    c, w, best = plan.cluster, plan.workload, plan.chosen
    lay, mem = best.layout, best.memory
    lines = _model_lines(plan)
    lines += [
        f"Cluster   nodes of {c.gpus_per_node} x {c.gpu_title} ({gb(c.gpu_memory)} each as CUDA sees it), "
        f"fabric {c.fabric} {c.fabric_gbps:g} Gb/s, up to {c.max_nodes} nodes",
        f"Workload  {w.context}-token context x {w.concurrency} sequences = {w.tokens} KV tokens; "
        f"GPU memory utilisation {w.utilization:g}",
        "",
        f"Plan      {nodes_text(lay.nodes)} x {lay.gpus_per_node} GPUs = {lay.gpus} GPUs, {lay.product} "
        f"(podsPerGroup {lay.nodes}, gpusPerPod {lay.gpus_per_node}"
        f"{f', dataParallelSize {lay.dp}, expertParallel' if lay.data_parallel else ''})",
        "",
        f"Per-GPU memory (largest pipeline stage: {mem.stage_layers} of {plan.model.layers} layers; GB = 1e9 bytes)",
        *_weight_lines(plan),
        f"  reserve   {gb(mem.reserve):>9}  CUDA context, NCCL buffers, CUDA graphs, activation peak (assumed)",
        f"  total     {gb(mem.total):>9}  of {gb(best.budget)} ({w.utilization:g} x {gb(c.gpu_memory)}), "
        f"{gb(best.budget - mem.total)} spare",
        f"  KV room   {best.capacity_tokens} tokens = {best.sequences(w.context)} sequences of {w.context}"
        + (f" ({lay.dp} ranks x {best.rank_capacity_tokens})" if lay.data_parallel else ""),
        "",
        "Why",
    ]
    lines += [f"  - {reason}" for reason in plan.reasons]
    if plan.alternatives:
        lines += ["", "Alternatives, best first", f"  {'layout':<18} {'GPUs':>4}  {'per GPU':>9}  verdict"]
        lines += [f"  {a.layout.label:<18} {a.layout.gpus:>4}  {gb(a.memory.total):>9}  {verdict(plan, a)}"
                  for a in plan.alternatives]
    return "\n".join(lines) + "\n"


def _candidate(plan: Plan, candidate: Candidate) -> dict[str, Any]:
    lay, mem = candidate.layout, candidate.memory
    return {
        "nodes": lay.nodes, "gpusPerNode": lay.gpus_per_node, "gpus": lay.gpus,
        "tensorParallelSize": lay.tp, "pipelineParallelSize": lay.pp, "dataParallelSize": lay.dp,
        "expertParallel": lay.ep,
        "perGpuBytes": {"weights": round(mem.weights), "expertWeights": round(mem.expert_weights),
                        "kvCache": round(mem.kv_cache),
                        "reserve": round(mem.reserve), "total": round(mem.total),
                        "budget": round(candidate.budget)},
        "stageLayers": mem.stage_layers, "kvBytesPerToken": round(mem.kv_per_token, 1),
        "kvCapacityTokens": candidate.capacity_tokens,
        "sequencesAtContext": candidate.sequences(plan.workload.context),
        "feasible": candidate.feasible, "brokenRules": list(candidate.broken),
        "verdict": verdict(plan, candidate) if candidate is not plan.chosen else "chosen",
    }


def render_json(plan: Plan, values_document: dict[str, Any] | None) -> dict[str, Any]:
    m, c, w = plan.model, plan.cluster, plan.workload
    doc: dict[str, Any] = {
        "model": {"key": m.key, "hfId": m.hf_id, "params": m.params, "layers": m.layers,
                  "attentionHeads": m.attention_heads, "kvHeads": m.kv_heads, "headDim": m.head_dim,
                  "mla": bool(m.mla), "experts": m.experts, "expertsPerToken": m.experts_per_token,
                  "expertParams": m.expert_params, "dtype": w.dtype},
        "cluster": {"gpu": c.gpu_title, "gpuMemoryBytes": c.gpu_memory, "gpusPerNode": c.gpus_per_node,
                    "fabric": c.fabric, "fabricGbps": c.fabric_gbps, "maxNodes": c.max_nodes},
        "workload": {"context": w.context, "concurrency": w.concurrency, "kvCacheDtype": w.kv_dtype,
                     "gpuMemoryUtilization": w.utilization, "reserveBytes": round(w.reserve)},
        "chosen": _candidate(plan, plan.chosen),
        "reasons": list(plan.reasons),
        "alternatives": [_candidate(plan, a) for a in plan.alternatives],
    }
    if values_document is not None:
        doc["valuesFile"] = values_document
    return doc
