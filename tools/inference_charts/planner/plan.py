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

For a mixture-of-experts model served by vLLM (``data_parallel``), data + expert parallel layouts
compete with those: DP ranks of TP GPUs each (TP inside a node, PP 1, the ranks spread evenly over the
pods), the routed experts sharded over all the group's GPUs (which must divide them), the rest of the
model copied onto every rank. Such a layout is preferred over TP/PP on the same GPUs when
- its all-to-all (every MoE layer sends each token to its top-k experts and back) stays on NVLink, or
  crosses an RDMA fabric (InfiniBand or RoCE) of at least 200 Gb/s; over TCP Ethernet it is refused;
- the asked concurrency gives every rank requests of its own (concurrency >= DP);
- its KV cache holds at least DP_PREFERRED_KV_RATIO times the tokens of the TP/PP layout chosen otherwise: each
  GPU caches only its rank's requests, which pays most for MLA, whose latent TP cannot split.
Among data-parallel layouts the most KV room wins. A dense model never gets one: it has no experts to
shard, and copies of a dense model are topology.replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inference_charts.planner import memory
from inference_charts.planner.catalog import DTYPE_BYTES, GIB, ModelSpec
from inference_charts.planner.memory import GpuMemory, gb

FABRICS = ("infiniband", "roce", "ethernet")
TP_ACROSS_NODES_MIN_GBPS = 200.0
TP_ACROSS_NODES_PREFERRED_GBPS = 400.0
#: RDMA fabrics that carry expert parallelism's all-to-all across nodes, and the speed from which it is preferred.
EP_FABRICS = ("infiniband", "roce")
EP_ACROSS_NODES_PREFERRED_GBPS = 200.0
#: How much more KV room a data + expert parallel layout must give than the best TP/PP one to be preferred.
DP_PREFERRED_KV_RATIO = 2.0
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

    @property
    def ep_across_nodes_allowed(self) -> bool:
        return self.fabric in EP_FABRICS

    @property
    def ep_across_nodes_preferred(self) -> bool:
        return self.ep_across_nodes_allowed and self.fabric_gbps >= EP_ACROSS_NODES_PREFERRED_GBPS


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

    def rank_sequences(self, dp: int) -> int:
        """Sequences one of dp data-parallel ranks serves (the leader balances them evenly)."""
        return math.ceil(self.concurrency / dp)


@dataclass(frozen=True)
class Layout:
    nodes: int
    gpus_per_node: int
    tp: int
    pp: int
    dp: int = 1  # data-parallel ranks of tp GPUs each (pp is then 1)
    ep: bool = False  # the routed experts sharded over all the group's GPUs

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def spans_nodes(self) -> bool:
        return self.tp > self.gpus_per_node

    @property
    def data_parallel(self) -> bool:
        return self.dp > 1

    @property
    def label(self) -> str:
        if self.data_parallel:
            return f"{self.nodes}x{self.gpus_per_node} TP{self.tp}·DP{self.dp}{'·EP' if self.ep else ''}"
        return f"{self.nodes}x{self.gpus_per_node} TP{self.tp}·PP{self.pp}"

    @property
    def product(self) -> str:
        """The layout as the report and values header write it: TP8 x PP2, TP1 x DP16 (expert parallel)."""
        if self.data_parallel:
            return f"TP{self.tp} x DP{self.dp}{' (expert parallel)' if self.ep else ''}"
        return f"TP{self.tp} x PP{self.pp}"


@dataclass(frozen=True)
class Candidate:
    layout: Layout
    memory: GpuMemory
    budget: float
    broken: tuple[str, ...]  # rules the layout breaks, each with its numbers
    rank: tuple[float, ...]  # lower is better among layouts of one node count
    rank_capacity_tokens: int  # KV tokens one rank's GPUs hold once weights and reserve are placed

    @property
    def fits(self) -> bool:
        return self.memory.total <= self.budget

    @property
    def feasible(self) -> bool:
        return not self.broken and self.fits

    @property
    def capacity_tokens(self) -> int:
        """KV tokens the whole group holds: every data-parallel rank caches its own requests."""
        return self.layout.dp * self.rank_capacity_tokens

    def sequences(self, context: int) -> int:
        return self.layout.dp * (self.rank_capacity_tokens // context)

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
    data_parallel: bool = False  # data + expert parallel layouts were considered (vLLM)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def expert_parallel_sizable(model: ModelSpec) -> bool:
    """A mixture-of-experts model whose routed-expert parameters are known (the catalog's are)."""
    return model.is_moe and model.expert_params > 0


def _layouts(model: ModelSpec, cluster: Cluster, nodes: int, tp: int | None, pp: int | None,
             dp: int | None = None, data_parallel: bool = False) -> list[Layout]:
    gpn = cluster.gpus_per_node
    if nodes == 1:
        found = [Layout(1, g, t, g // t) for g in range(1, gpn + 1) for t in _divisors(g)
                 if g // t == 1 or pp is not None]
    else:
        total = nodes * gpn
        found = [Layout(nodes, gpn, t, total // t) for t in _divisors(total) if gpn % t == 0 or t % gpn == 0]
    if data_parallel and expert_parallel_sizable(model):
        # TP inside a pod, PP 1, the same number of ranks on every pod; the GPUs must divide the experts
        # (the chart refuses anything else), so layouts that cannot shard them are not generated.
        sizes = range(2, gpn + 1) if nodes == 1 else [gpn]
        found += [Layout(nodes, g, t, 1, nodes * g // t, ep=True) for g in sizes for t in _divisors(g)
                  if nodes * g // t > 1 and model.experts % (nodes * g) == 0]
    return [lay for lay in found if (tp is None or lay.tp == tp) and (pp is None or lay.pp == pp)
            and (dp is None or lay.dp == dp)]


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
    if layout.ep and layout.nodes > 1 and not cluster.ep_across_nodes_allowed:
        broken.append(f"expert parallel over {layout.nodes} nodes sends an all-to-all per MoE layer across the "
                      f"{cluster.fabric} fabric (TCP); it needs RDMA: InfiniBand or RoCE")
    if layout.spans_nodes and not cluster.tp_across_nodes_allowed:
        broken.append(f"TP{tp} spans {tp // layout.gpus_per_node} nodes: every layer's all-reduce would cross "
                      f"the {cluster.fabric} fabric at {cluster.fabric_gbps:g} Gb/s; tensor parallelism across "
                      f"nodes needs InfiniBand at {TP_ACROSS_NODES_MIN_GBPS:g} Gb/s or more")
    return tuple(broken)


def _rank(cluster: Cluster, workload: Workload, layout: Layout, capacity_tokens: int) -> tuple[float, ...]:
    if layout.data_parallel:
        # ranks with requests of their own first, then the most KV room
        idle = int(workload.concurrency < layout.dp)
        head = (0, layout.gpus) if layout.nodes == 1 else ()
        return (*head, idle, -capacity_tokens)
    if layout.nodes == 1:
        return (int(layout.pp > 1), layout.gpus, layout.pp)
    if layout.spans_nodes:
        kind = 0 if cluster.tp_across_nodes_preferred else 2
    else:
        kind = 1 if layout.tp == layout.gpus_per_node else 3
    return (kind, layout.pp, -layout.tp)


def evaluate(model: ModelSpec, cluster: Cluster, workload: Workload, layout: Layout) -> Candidate:
    if layout.data_parallel:
        rank_tokens = workload.context * workload.rank_sequences(layout.dp)
        mem = memory.per_gpu_expert_parallel(model, workload.dtype, workload.kv_bytes, layout.tp, layout.dp,
                                             rank_tokens, workload.reserve)
    else:
        mem = memory.per_gpu(model, workload.dtype, workload.kv_bytes, layout.tp, layout.pp, workload.tokens,
                             workload.reserve)
    budget = memory.budget(cluster.gpu_memory, workload.utilization)
    room = memory.kv_token_capacity(mem, budget)
    return Candidate(layout=layout, memory=mem, budget=budget, broken=broken_rules(model, cluster, layout),
                     rank=_rank(cluster, workload, layout, layout.dp * room), rank_capacity_tokens=room)


@dataclass(frozen=True)
class DpVerdict:
    """Whether data + expert parallel layouts go before TP/PP ones on one set of GPUs, and why."""

    preferred: bool
    reason: str


def _peers(candidate: Candidate) -> tuple[int, int]:
    return candidate.layout.nodes, candidate.layout.gpus


def _dp_verdict(model: ModelSpec, cluster: Cluster, workload: Workload, peers: list[Candidate]) -> DpVerdict:
    dp = [c for c in peers if c.layout.data_parallel]
    if not dp:
        return DpVerdict(False, "")
    tp = [c for c in peers if not c.layout.data_parallel and c.feasible]
    # the TP/PP layout that would be chosen otherwise (more pipeline stages hold more KV but are never picked)
    best_tp = min(tp, key=lambda c: c.rank, default=None)
    fitting = [c for c in dp if c.feasible]
    nodes = dp[0].layout.nodes
    if not fitting:
        allowed = [c for c in dp if not c.broken]
        if not allowed:
            return DpVerdict(False, f"not {dp[0].layout.label}: " + "; ".join(dp[0].broken))
        least = min(allowed, key=lambda c: c.memory.total)
        return DpVerdict(False, f"no data + expert parallel layout fits: {least.layout.label} {least.shortfall()} "
                                f"(the {model.dense_params / 1e9:.1f}e9 non-expert parameters are copied onto "
                                "every rank)")
    busy = [c for c in fitting if workload.concurrency >= c.layout.dp]
    best = min(busy or fitting, key=lambda c: c.rank)
    if nodes > 1 and not cluster.ep_across_nodes_preferred:
        return DpVerdict(False, f"{best.layout.label} would fit, but its all-to-all per MoE layer crosses "
                                f"{cluster.fabric} at {cluster.fabric_gbps:g} Gb/s; expert parallelism across "
                                f"nodes is preferred from {EP_ACROSS_NODES_PREFERRED_GBPS:g} Gb/s RDMA, so it is "
                                "ranked after the TP/PP layouts")
    if not busy:
        return DpVerdict(False, f"{best.layout.label} would fit, but {workload.concurrency} concurrent sequences "
                                f"leave some of its {best.layout.dp} data-parallel ranks without requests")
    if best_tp is None:
        return DpVerdict(True, f"no TP/PP layout fits these GPUs; {best.layout.label} does")
    ratio = best.capacity_tokens / max(1, best_tp.capacity_tokens)
    if ratio < DP_PREFERRED_KV_RATIO:
        return DpVerdict(False, f"{best.layout.label} would fit, but its KV room ({best.capacity_tokens} tokens) "
                                f"is only {ratio:.1f}x that of {best_tp.layout.label} ({best_tp.capacity_tokens}): "
                                "copying the non-expert weights onto every rank does not pay")
    return DpVerdict(True, f"KV room {best.capacity_tokens} tokens against {best_tp.capacity_tokens} for "
                           f"{best_tp.layout.label} ({ratio:.1f}x)")


def _verdicts(model: ModelSpec, cluster: Cluster, workload: Workload,
              candidates: list[Candidate]) -> dict[tuple[int, int], DpVerdict]:
    groups: dict[tuple[int, int], list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(_peers(candidate), []).append(candidate)
    return {key: _dp_verdict(model, cluster, workload, peers) for key, peers in groups.items()}


def _order(candidate: Candidate, prefer_dp: bool = False) -> tuple[object, ...]:
    family = int(candidate.layout.data_parallel != prefer_dp)
    rank = candidate.rank
    # one node: the fewest GPUs first, then the preferred family; across nodes, the family first
    split = 2 if candidate.layout.nodes == 1 else 0
    return (not candidate.feasible, bool(candidate.broken), *rank[:split], family, *rank[split:])


def _sorted(model: ModelSpec, cluster: Cluster, workload: Workload,
            candidates: list[Candidate]) -> tuple[list[Candidate], dict[tuple[int, int], DpVerdict]]:
    verdicts = _verdicts(model, cluster, workload, candidates)
    return sorted(candidates, key=lambda c: _order(c, verdicts[_peers(c)].preferred)), verdicts


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


def _check_parallel(model: ModelSpec, dp: int | None, data_parallel: bool) -> None:
    if dp is None or dp == 1:
        return
    if not data_parallel:
        raise PlanningError(f"DP{dp}: data-parallel layouts are planned for the vLLM chart only")
    if not model.is_moe:
        raise PlanningError(f"DP{dp}: {model.title} is a dense model; data + expert parallelism shards the "
                            "experts of a mixture-of-experts model, and copies of a dense model are "
                            "topology.replicas")
    if not expert_parallel_sizable(model):
        raise PlanningError(f"DP{dp}: {model.title}'s expert FFN width is unknown (moe_intermediate_size), so "
                            "its expert-parallel memory cannot be sized")


def make_plan(model: ModelSpec, cluster: Cluster, workload: Workload, nodes: int | None = None,
              tp: int | None = None, pp: int | None = None, dp: int | None = None,
              data_parallel: bool = False) -> Plan:
    """The smallest fitting layout (or the best one on exactly ``nodes`` nodes), with its reasons.

    ``data_parallel`` (the vLLM chart) adds data + expert parallel layouts for mixture-of-experts models."""
    _check_request(model, workload, cluster)
    _check_parallel(model, dp, data_parallel)
    counts = [nodes] if nodes else list(range(1, cluster.max_nodes + 1))
    tried: dict[int, list[Candidate]] = {}
    verdicts: dict[tuple[int, int], DpVerdict] = {}
    for count in counts:
        evaluated = [evaluate(model, cluster, workload, lay)
                     for lay in _layouts(model, cluster, count, tp, pp, dp, data_parallel)]
        if not evaluated:
            continue
        candidates, found = _sorted(model, cluster, workload, evaluated)
        verdicts.update(found)
        tried[count] = candidates
        if candidates[0].feasible:
            chosen = candidates[0]
            break
    else:
        raise PlanningError(_no_fit(model, cluster, workload, tried, nodes))
    alternatives = candidates[1:]
    if nodes is None and chosen.layout.nodes < cluster.max_nodes:
        bigger = [evaluate(model, cluster, workload, lay)
                  for lay in _layouts(model, cluster, chosen.layout.nodes + 1, tp, pp, dp, data_parallel)]
        ranked, _ = _sorted(model, cluster, workload, bigger)
        alternatives += [c for c in ranked if c.feasible][:1]
    reasons = _reasons(model, cluster, workload, chosen, tried, data_parallel, verdicts.get(_peers(chosen)))
    return Plan(model, cluster, workload, chosen, tuple(alternatives), tuple(reasons), data_parallel)


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
        return f"no layout on {scope} matches the asked TP/PP/DP"
    if not allowed:
        rules = list(dict.fromkeys(rule for c in everything for rule in c.broken))
        return f"no allowed layout on {scope}: " + "; ".join(rules)
    best = min(allowed, key=lambda c: (-c.layout.nodes, c.memory.total))
    return (f"{model.title} at {workload.dtype} does not fit on {scope}: the least loaded allowed layout, "
            f"{best.layout.label}, {best.shortfall()} for {workload.tokens} KV tokens "
            f"({workload.context} x {workload.concurrency}); allow more nodes (--max-nodes), quantise "
            "(--dtype fp8, --kv-cache-dtype fp8), or lower --context / --concurrency")


def _reasons(model: ModelSpec, cluster: Cluster, workload: Workload, chosen: Candidate,
             tried: dict[int, list[Candidate]], data_parallel: bool = False,
             verdict: DpVerdict | None = None) -> list[str]:
    lay = chosen.layout
    reasons = [_why_not_smaller(count, cands, cluster) for count, cands in tried.items() if count < lay.nodes]
    if lay.data_parallel:
        reasons += _why_data_parallel(model, cluster, workload, chosen, tried[lay.nodes], verdict)
    elif lay.nodes == 1:
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
    if model.is_moe and not lay.data_parallel:
        reasons += _why_not_data_parallel(model, cluster, lay, data_parallel, verdict)
    if model.note:
        reasons.append(f"caution: {model.note}")
    return reasons


def _why_data_parallel(model: ModelSpec, cluster: Cluster, workload: Workload, chosen: Candidate,
                       peers: list[Candidate], verdict: DpVerdict | None) -> list[str]:
    lay, mem = chosen.layout, chosen.memory
    per_pod = lay.dp // lay.nodes
    ranks = f"{lay.dp} data-parallel ranks of {lay.tp} GPU{'s' if lay.tp > 1 else ''}"
    reasons = [
        f"TP{lay.tp} x DP{lay.dp} with expert parallel: {ranks} ({per_pod} per pod); each rank runs the attention "
        f"for its own requests, and the {model.experts} routed experts are spread over all {lay.gpus} GPUs "
        f"({model.experts // lay.gpus} whole experts per GPU, {model.experts_per_token} run per token) instead of "
        "each expert being split by TP",
        f"memory per GPU: the routed experts ({model.expert_params / 1e9:.1f}e9 parameters) are sharded, "
        f"{gb(mem.expert_weights)} per GPU; the rest ({model.dense_params / 1e9:.1f}e9: attention, embeddings, "
        f"dense layers, shared experts) is copied onto each of the {lay.dp} ranks, "
        f"{gb(mem.weights - mem.expert_weights)} per GPU over TP{lay.tp}",
    ]
    share = f"its rank's {workload.rank_sequences(lay.dp)} of the {workload.concurrency} sequences"
    if model.mla is not None:
        latent = model.mla.kv_lora_rank + model.mla.rope_dim
        kv = (f"latent attention (MLA): its KV cache is one {latent}-value latent per token and layer, which TP "
              f"cannot split (under TP every GPU caches every token); with data-parallel attention each GPU caches "
              f"only {share}")
    else:
        kv = f"data-parallel attention: each GPU caches only {share}"
    reasons.append(kv + (f": {verdict.reason}" if verdict and verdict.reason else ""))
    if lay.nodes > 1:
        traffic = memory.all_to_all_fabric_bytes_per_token(model, lay.nodes)
        handoff = memory.stage_handoff_bytes_per_token(model, lay.nodes)
        reasons.append(
            f"all-to-all: each of the {model.moe_layers} MoE layers sends every token's hidden state to its "
            f"{model.experts_per_token} experts and back; across {lay.nodes} nodes about "
            f"{(lay.nodes - 1) / lay.nodes:.0%} of that crosses the fabric, up to {traffic / 1e6:.1f} MB per token "
            f"(bf16) against {handoff / 1e3:.0f} KB for TP{lay.gpus_per_node}·PP{lay.nodes}'s stage hand-off; "
            f"{cluster.fabric} RDMA at {cluster.fabric_gbps:g} Gb/s carries it")
        reasons.append(f"vLLM's native launcher forms the ranks across the {lay.nodes} pods (launcher.kind native): "
                       f"the leader runs the API server and balances requests over all {lay.dp} ranks")
    else:
        reasons.append(f"all-to-all: each MoE layer sends every token to its {model.experts_per_token} experts and "
                       "back over NVLink, inside the node")
    tp_peers = [c for c in peers if not c.layout.data_parallel and c.feasible]
    fallback = f"; then {tp_peers[0].layout.label} serves with less latency per token" if tp_peers else ""
    reasons.append(f"{workload.concurrency} concurrent sequences keep all {lay.dp} ranks busy; with fewer, ranks "
                   f"idle{fallback}")
    return reasons


def _why_not_data_parallel(model: ModelSpec, cluster: Cluster, lay: Layout, data_parallel: bool,
                           verdict: DpVerdict | None) -> list[str]:
    resident = (f"mixture of experts: all {model.experts} experts are resident ({model.experts_per_token} run per "
                "token); vLLM splits every expert over the TP ranks")
    if not data_parallel:
        return [resident + " (no expert parallelism assumed)"]
    if verdict and verdict.reason:
        return [resident, f"data + expert parallel not chosen: {verdict.reason}"]
    if not expert_parallel_sizable(model):
        return [resident, "data + expert parallel not sized: the expert FFN width (moe_intermediate_size) is "
                          "unknown"]
    return [resident, f"data + expert parallel not offered: the {lay.gpus} GPUs do not divide the "
                      f"{model.experts} experts, or the asked TP/PP/DP rules it out"]


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
    if lay.data_parallel:
        if model.mla is None:
            facts.append(f"{model.kv_heads} KV heads over TP{lay.tp}: "
                         f"{memory.kv_heads_per_gpu(model, lay.tp)} per GPU, for its rank's tokens only")
        return facts
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
