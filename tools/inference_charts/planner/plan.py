"""Topology search: the smallest group that holds the weights and the asked KV cache, with the reasons
for each choice and the alternatives ranked.

The rules, in the order they decide:
- fewest nodes first; on one node, the fewest GPUs (a layout that leaves GPUs free lets another
  replica use them);
- inside a node, tensor parallelism only (TP over NVLink); pipeline stages inside a node only when
  asked for with --pp, since a stage adds latency that TP on NVLink does not;
- a group that spans nodes takes whole nodes (each pod requests every GPU of its node, the way the
  charts lay out a group): TP inside each node and PP across them, which sends only the activations
  at a stage boundary over the fabric;
- TP across nodes puts an all-reduce per layer on the fabric: allowed on InfiniBand from 200 Gb/s,
  preferred from 400 Gb/s (where it costs about what it costs over NVLink), refused on RoCE, Ethernet
  and slower InfiniBand;
- TP must divide the attention heads, and divide or be a multiple of the KV heads (vLLM refuses any
  other split at startup); PP may not exceed the layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import memory
from .catalog import DTYPE_BYTES, GIB, ModelSpec
from .memory import GpuMemory, gb

FABRICS = ("infiniband", "roce", "ethernet")
TP_ACROSS_NODES_MIN_GBPS = 200.0
TP_ACROSS_NODES_PREFERRED_GBPS = 400.0
#: The charts' schema bound on pipelineParallelSize and podsPerGroup.
MAX_STAGES = 64
#: Spare memory below which a fit is called tight (the reserve is an estimate of about this size).
TIGHT_BYTES = 2 * GIB


class PlanningError(Exception):
    """The request cannot be met; the message says why, with the numbers."""


@dataclass(frozen=True)
class Cluster:
    gpu_title: str
    gpu_memory: int
    gpus_per_node: int
    fabric: str
    fabric_gbps: float
    max_nodes: int = 8

    @property
    def tp_across_nodes_allowed(self) -> bool:
        return self.fabric == "infiniband" and self.fabric_gbps >= TP_ACROSS_NODES_MIN_GBPS

    @property
    def tp_across_nodes_preferred(self) -> bool:
        return self.fabric == "infiniband" and self.fabric_gbps >= TP_ACROSS_NODES_PREFERRED_GBPS


@dataclass(frozen=True)
class Workload:
    context: int
    concurrency: int
    dtype: str
    kv_dtype: str = "auto"  # auto: the activation dtype, bf16, also for fp8-weight models
    utilization: float = 0.9
    reserve: float = 3 * GIB

    @property
    def tokens(self) -> int:
        return self.context * self.concurrency

    @property
    def kv_bytes(self) -> float:
        return 1.0 if self.kv_dtype == "fp8" else 2.0


@dataclass(frozen=True)
class Layout:
    nodes: int
    gpus_per_node: int
    tp: int
    pp: int

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def spans_nodes(self) -> bool:
        return self.tp > self.gpus_per_node

    @property
    def label(self) -> str:
        return f"{self.nodes}x{self.gpus_per_node} TP{self.tp}·PP{self.pp}"


@dataclass(frozen=True)
class Candidate:
    layout: Layout
    memory: GpuMemory
    budget: float
    broken: tuple[str, ...]  # rules the layout breaks, each with its numbers
    rank: tuple[int, ...]  # lower is better among layouts of one node count
    capacity_tokens: int  # KV tokens that fit once weights and reserve are placed

    @property
    def fits(self) -> bool:
        return self.memory.total <= self.budget

    @property
    def feasible(self) -> bool:
        return not self.broken and self.fits

    def sequences(self, context: int) -> int:
        return self.capacity_tokens // context

    def shortfall(self) -> str:
        m = self.memory
        return (f"needs {gb(m.total)} per GPU (weights {gb(m.weights)} + KV cache {gb(m.kv_cache)} + "
                f"reserve {gb(m.reserve)}) of a {gb(self.budget)} budget")


@dataclass(frozen=True)
class Plan:
    model: ModelSpec
    cluster: Cluster
    workload: Workload
    chosen: Candidate
    alternatives: tuple[Candidate, ...]
    reasons: tuple[str, ...]


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _layouts(cluster: Cluster, nodes: int, tp: int | None, pp: int | None) -> list[Layout]:
    gpn = cluster.gpus_per_node
    if nodes == 1:
        found = [Layout(1, g, t, g // t) for g in range(1, gpn + 1) for t in _divisors(g)
                 if g // t == 1 or pp is not None]
    else:
        total = nodes * gpn
        found = [Layout(nodes, gpn, t, total // t) for t in _divisors(total) if gpn % t == 0 or t % gpn == 0]
    return [lay for lay in found if (tp is None or lay.tp == tp) and (pp is None or lay.pp == pp)]


def broken_rules(model: ModelSpec, cluster: Cluster, layout: Layout) -> tuple[str, ...]:
    tp, pp = layout.tp, layout.pp
    broken = []
    if model.attention_heads % tp:
        broken.append(f"TP{tp} does not divide the {model.attention_heads} attention heads")
    if model.mla is None and model.kv_heads % tp and tp % model.kv_heads:
        broken.append(f"TP{tp} and the {model.kv_heads} KV heads do not divide one another "
                      "(vLLM refuses that split at startup)")
    if pp > model.layers:
        broken.append(f"PP{pp} exceeds the {model.layers} layers")
    if pp > MAX_STAGES or layout.nodes > MAX_STAGES:
        broken.append(f"PP{pp} on {layout.nodes} nodes is past the charts' limit of {MAX_STAGES}")
    if layout.spans_nodes and not cluster.tp_across_nodes_allowed:
        broken.append(f"TP{tp} spans {tp // layout.gpus_per_node} nodes: every layer's all-reduce would cross "
                      f"the {cluster.fabric} fabric at {cluster.fabric_gbps:g} Gb/s; tensor parallelism across "
                      f"nodes needs InfiniBand at {TP_ACROSS_NODES_MIN_GBPS:g} Gb/s or more")
    return tuple(broken)


def _rank(cluster: Cluster, layout: Layout) -> tuple[int, ...]:
    if layout.nodes == 1:
        return (int(layout.pp > 1), layout.gpus, layout.pp)
    if layout.spans_nodes:
        kind = 0 if cluster.tp_across_nodes_preferred else 2
    else:
        kind = 1 if layout.tp == layout.gpus_per_node else 3
    return (kind, layout.pp, -layout.tp)


def evaluate(model: ModelSpec, cluster: Cluster, workload: Workload, layout: Layout) -> Candidate:
    mem = memory.per_gpu(model, workload.dtype, workload.kv_bytes, layout.tp, layout.pp, workload.tokens,
                         workload.reserve)
    budget = memory.budget(cluster.gpu_memory, workload.utilization)
    return Candidate(layout=layout, memory=mem, budget=budget, broken=broken_rules(model, cluster, layout),
                     rank=_rank(cluster, layout), capacity_tokens=memory.kv_token_capacity(mem, budget))


def _order(candidate: Candidate) -> tuple[object, ...]:
    return (not candidate.feasible, bool(candidate.broken), candidate.rank)


def _check_request(model: ModelSpec, workload: Workload, cluster: Cluster) -> None:
    if workload.context > model.max_context:
        raise PlanningError(f"context {workload.context} exceeds {model.title}'s {model.max_context} tokens "
                            "(max_position_embeddings); lower --context")
    if workload.dtype not in DTYPE_BYTES:
        raise PlanningError(f"unknown dtype {workload.dtype!r}; one of {', '.join(DTYPE_BYTES)}")
    if cluster.fabric not in FABRICS:
        raise PlanningError(f"unknown fabric {cluster.fabric!r}; one of {', '.join(FABRICS)}")
    if min(workload.context, workload.concurrency, cluster.gpus_per_node, cluster.max_nodes) < 1:
        raise PlanningError("context, concurrency, GPUs per node and nodes must each be at least 1")
    if not 0 < workload.utilization <= 1:
        raise PlanningError(f"GPU memory utilisation {workload.utilization:g} is outside (0, 1]")


def make_plan(model: ModelSpec, cluster: Cluster, workload: Workload, nodes: int | None = None,
              tp: int | None = None, pp: int | None = None) -> Plan:
    """The smallest fitting layout (or the best one on exactly ``nodes`` nodes), with its reasons."""
    _check_request(model, workload, cluster)
    counts = [nodes] if nodes else list(range(1, cluster.max_nodes + 1))
    tried: dict[int, list[Candidate]] = {}
    for count in counts:
        candidates = sorted((evaluate(model, cluster, workload, lay) for lay in _layouts(cluster, count, tp, pp)),
                            key=_order)
        if not candidates:
            continue
        tried[count] = candidates
        if candidates[0].feasible:
            chosen = candidates[0]
            break
    else:
        raise PlanningError(_no_fit(model, cluster, workload, tried, nodes))
    alternatives = candidates[1:]
    if nodes is None and chosen.layout.nodes < cluster.max_nodes:
        bigger = [evaluate(model, cluster, workload, lay)
                  for lay in _layouts(cluster, chosen.layout.nodes + 1, tp, pp)]
        alternatives += sorted((c for c in bigger if c.feasible), key=_order)[:1]
    return Plan(model, cluster, workload, chosen, tuple(alternatives),
                tuple(_reasons(model, cluster, workload, chosen, tried)))


def nodes_text(count: int) -> str:
    return f"{count} node{'s' if count != 1 else ''}"


def _describe_nodes(count: int, cluster: Cluster) -> str:
    return f"{nodes_text(count)} of {cluster.gpus_per_node} x {cluster.gpu_title}"


def _no_fit(model: ModelSpec, cluster: Cluster, workload: Workload, tried: dict[int, list[Candidate]],
            nodes: int | None) -> str:
    everything = [c for cands in tried.values() for c in cands]
    allowed = [c for c in everything if not c.broken]
    scope = _describe_nodes(nodes, cluster) if nodes else f"up to {_describe_nodes(cluster.max_nodes, cluster)}"
    if not everything:
        return f"no layout on {scope} matches the asked TP/PP"
    if not allowed:
        rules = list(dict.fromkeys(rule for c in everything for rule in c.broken))
        return f"no allowed layout on {scope}: " + "; ".join(rules)
    best = min(allowed, key=lambda c: (-c.layout.nodes, c.memory.total))
    return (f"{model.title} at {workload.dtype} does not fit on {scope}: the least loaded allowed layout, "
            f"{best.layout.label}, {best.shortfall()} for {workload.tokens} KV tokens "
            f"({workload.context} x {workload.concurrency}); allow more nodes (--max-nodes), quantise "
            "(--dtype fp8, --kv-cache-dtype fp8), or lower --context / --concurrency")


def _reasons(model: ModelSpec, cluster: Cluster, workload: Workload, chosen: Candidate,
             tried: dict[int, list[Candidate]]) -> list[str]:
    lay = chosen.layout
    reasons = [_why_not_smaller(count, cands, cluster) for count, cands in tried.items() if count < lay.nodes]
    if lay.nodes == 1:
        smaller = [c for c in tried[1] if c.layout.gpus < lay.gpus and c.layout.pp == 1]
        if smaller:
            worst = max(smaller, key=lambda c: c.layout.gpus)
            why = "; ".join(worst.broken) if worst.broken else worst.shortfall()
            reasons.append(f"fewer GPUs do not do: {worst.layout.label} {why}")
        reasons.append(f"TP{lay.tp} on one node over NVLink: no traffic leaves the node (fabric.profile nvlink)")
        if lay.gpus < cluster.gpus_per_node:
            reasons.append(f"uses {lay.gpus} of the node's {cluster.gpus_per_node} GPUs, the fewest that hold it; "
                           "the others can serve another replica")
    else:
        reasons.append(_why_layout(cluster, lay))
        reasons += _fabric_comparison(cluster, chosen, tried[lay.nodes])
    reasons += _split_facts(model, lay)
    reasons.append(f"fits: {gb(chosen.memory.total)} of the {gb(chosen.budget)} per-GPU budget "
                   f"({workload.utilization:g} x {gb(cluster.gpu_memory)}); the KV cache has room for "
                   f"{chosen.capacity_tokens} tokens, {chosen.sequences(workload.context)} sequences of "
                   f"{workload.context} (asked: {workload.concurrency})")
    if chosen.budget - chosen.memory.total < TIGHT_BYTES:
        reasons.append(f"little headroom ({gb(chosen.budget - chosen.memory.total)} spare): the reserve is an "
                       "estimate; read the KV cache size vLLM reports at startup, or take the next alternative")
    if model.is_moe:
        reasons.append(f"mixture of experts: all {model.experts} experts are resident ({model.experts_per_token} "
                       "run per token); vLLM splits every expert over the TP ranks (no expert parallelism assumed)")
    if model.note:
        reasons.append(f"caution: {model.note}")
    return reasons


def _why_not_smaller(count: int, candidates: list[Candidate], cluster: Cluster) -> str:
    allowed = [c for c in candidates if not c.broken]
    where = _describe_nodes(count, cluster)
    if not allowed:
        rules = dict.fromkeys(rule for c in candidates for rule in c.broken)
        return f"{where}: no allowed layout (" + "; ".join(rules) + ")"
    best = min(allowed, key=lambda c: c.memory.total)
    return f"{where} is not enough: the least loaded allowed layout, {best.layout.label}, {best.shortfall()}"


def _why_layout(cluster: Cluster, lay: Layout) -> str:
    if lay.spans_nodes:
        return (f"TP{lay.tp} spans {lay.tp // lay.gpus_per_node} nodes: InfiniBand at {cluster.fabric_gbps:g} Gb/s "
                "carries the per-layer all-reduce at about NVLink's cost, and no pipeline stage waits on another")
    if lay.tp == lay.gpus_per_node:
        return (f"TP{lay.tp} inside each node over NVLink, PP{lay.pp} across the {lay.nodes} nodes: only the "
                f"activations at a stage boundary cross the {cluster.fabric} fabric, not a per-layer all-reduce")
    return (f"TP{lay.tp} with PP{lay.pp}: TP{lay.gpus_per_node} per node is not allowed for this model or does "
            "not fit, so stages also split each node (more pipeline stages, more latency)")


def _fabric_comparison(cluster: Cluster, chosen: Candidate, candidates: list[Candidate]) -> list[str]:
    """Why the fabric picks between TP across nodes and TP inside nodes with PP across them."""
    lay = chosen.layout
    if lay.spans_nodes:
        inside = [c for c in candidates if c.layout.tp == lay.gpus_per_node and c.feasible]
        return [f"{c.layout.label} would also fit; at {cluster.fabric_gbps:g} Gb/s InfiniBand pure TP avoids "
                "its pipeline bubbles" for c in inside[:1]]
    spanning = [c for c in candidates if c.layout.spans_nodes and c.layout.pp == 1]
    out = []
    for c in spanning[:1]:
        if c.broken:
            out.append(f"not {c.layout.label}: " + "; ".join(c.broken))
        elif c.feasible:
            out.append(f"{c.layout.label} would also work on InfiniBand at {cluster.fabric_gbps:g} Gb/s, but below "
                       f"{TP_ACROSS_NODES_PREFERRED_GBPS:g} Gb/s the per-layer all-reduce across nodes costs more "
                       f"than PP's stage hand-off: TP{lay.tp}·PP{lay.pp} is the safer choice")
    return out


def _split_facts(model: ModelSpec, lay: Layout) -> list[str]:
    facts = [f"{model.attention_heads} attention heads / TP{lay.tp} = {model.attention_heads // lay.tp} per GPU"]
    if model.mla is not None:
        latent = model.mla.kv_lora_rank + model.mla.rope_dim
        facts.append(f"latent attention (MLA): every GPU caches the whole {latent}-value latent "
                     "per token and layer it holds; TP does not split it, PP does")
    elif lay.tp > model.kv_heads:
        facts.append(f"{model.kv_heads} KV heads < TP{lay.tp}: vLLM copies each KV head onto "
                     f"{lay.tp // model.kv_heads} GPUs, so every GPU caches one whole KV head (counted)")
    else:
        facts.append(f"{model.kv_heads} KV heads / TP{lay.tp} = {model.kv_heads // lay.tp} per GPU")
    per_stage = memory.stage_layers(model, lay.pp)
    facts.append(f"{model.layers} layers / PP{lay.pp}: at most {per_stage} per stage")
    return facts
