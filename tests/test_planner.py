"""The sizing planner: its memory arithmetic, the seeds' worked sizings, its refusals, the values files
it writes (rendered and checked), and the chart guards that read the model shape those files carry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from inference_charts.checks.harness import Harness
from inference_charts.commands import cli
from inference_charts.planner import memory
from inference_charts.planner.catalog import GPUS, MODELS, UnknownModelError, find_model
from inference_charts.planner.hfconfig import model_from_config, parse_count
from inference_charts.planner.plan import Cluster, Plan, PlanningError, Workload, make_plan
from inference_charts.planner.values import ValuesError, ValuesOptions, build_values, document
from inference_charts.render.cases import Case, load_case

GB = 1e9


def cluster(gpu: str = "h100-80gb", fabric: str = "roce", gbps: float = 100, **kw: Any) -> Cluster:
    spec = GPUS[gpu]
    return Cluster(spec.title, spec.memory_bytes, kw.pop("gpus_per_node", 8), fabric, gbps, **kw)


def plan(model: str, *, context: int = 8192, concurrency: int = 16, dtype: str | None = None,
         nodes: int | None = None, tp: int | None = None, dp: int | None = None, vllm: bool = False,
         **cluster_kw: Any) -> Plan:
    """A plan; vllm=True lets it weigh data + expert parallel layouts, as `plan --chart vllm-multinode` does."""
    spec = MODELS[model]
    workload = Workload(context=context, concurrency=concurrency, dtype=dtype or spec.native_dtype)
    return make_plan(spec, cluster(**cluster_kw), workload, nodes=nodes, tp=tp, dp=dp, data_parallel=vllm)


def shape(p: Plan) -> tuple[int, int, int, int]:
    lay = p.chosen.layout
    return lay.nodes, lay.gpus_per_node, lay.tp, lay.pp


# --- memory arithmetic ---------------------------------------------------------------------------------


def test_weights_are_parameters_times_bytes() -> None:
    assert memory.weight_bytes(MODELS["llama-3.1-70b"], "fp16") == pytest.approx(140 * GB, rel=0.01)
    assert memory.weight_bytes(MODELS["llama-3.1-405b"], "bf16") == pytest.approx(810 * GB, rel=0.01)
    assert memory.weight_bytes(MODELS["llama-3.1-405b"], "fp8") == pytest.approx(405.9 * GB)
    # int4 carries a scale and a zero point (fp16) per group of 128 weights
    assert memory.weight_bytes(MODELS["llama-3.1-70b"], "int4") == pytest.approx(70.6e9 * (0.5 + 4 / 128))


def test_kv_cache_per_token_is_layers_x_2_x_kv_heads_x_head_size_x_bytes() -> None:
    assert memory.kv_bytes_per_token(MODELS["llama-3.1-70b"], 2) == 80 * 2 * 8 * 128 * 2
    assert memory.kv_bytes_per_token(MODELS["nemotron-4-340b"], 2) == 96 * 2 * 8 * 192 * 2
    assert memory.kv_bytes_per_token(MODELS["llama-3.1-70b"], 1) == 80 * 2 * 8 * 128  # fp8 KV halves it


def test_tensor_parallelism_splits_kv_heads_until_each_gpu_holds_one() -> None:
    llama = MODELS["llama-3.1-405b"]  # 8 KV heads
    per_layer = {tp: memory.kv_bytes_per_token_layer(llama, tp, 2) for tp in (1, 4, 8, 16)}
    assert per_layer[1] == 4 * per_layer[4] == 8 * per_layer[8]
    assert per_layer[16] == per_layer[8] == 2 * 128 * 2  # beyond 8, vLLM copies heads: still one per GPU


def test_latent_attention_caches_one_latent_per_layer_whatever_the_tp() -> None:
    r1 = MODELS["deepseek-r1"]
    sizes = {memory.kv_bytes_per_token_layer(r1, tp, 2) for tp in (1, 8, 16)}
    assert sizes == {(512 + 64) * 2}
    assert memory.kv_bytes_per_token(r1, 2) == 61 * 576 * 2


def test_per_gpu_memory_takes_the_largest_stage() -> None:
    r1 = MODELS["deepseek-r1"]
    mem = memory.per_gpu(r1, "fp8", 2, tp=8, pp=2, tokens=1000, reserve=3 * 1024**3)
    assert mem.stage_layers == 31  # 61 layers over 2 stages: 31 + 30
    assert mem.weights == pytest.approx(671e9 * 31 / 61 / 8)
    assert mem.kv_cache == pytest.approx(1000 * 31 * 576 * 2)
    assert mem.total == pytest.approx(mem.weights + mem.kv_cache + mem.reserve)


def test_kv_capacity_is_what_the_budget_leaves() -> None:
    mem = memory.GpuMemory(weights=60 * GB, kv_cache=0, reserve=4 * GB, stage_layers=10, kv_per_token=1e6)
    assert memory.kv_token_capacity(mem, memory.budget(80_000_000_000, 0.9)) == 8000
    assert memory.kv_token_capacity(mem, 50 * GB) == 0


# --- the seeds' worked sizings ---------------------------------------------------------------------------


@pytest.mark.parametrize("gpu", ["a100-80gb", "h100-80gb"])
def test_70b_fp16_fits_two_80gb_gpus_for_a_small_kv_cache(gpu: str) -> None:
    small = plan("llama-3.1-70b", dtype="fp16", concurrency=1, gpu=gpu)
    assert shape(small) == (1, 2, 2, 1)
    assert small.chosen.memory.weights == pytest.approx(70 * GB, rel=0.01)
    # the seed's 2 x 80 GB leaves little KV room: 16 sequences of 8K need TP4
    assert shape(plan("llama-3.1-70b", dtype="fp16", concurrency=16, gpu=gpu)) == (1, 4, 4, 1)


@pytest.mark.parametrize("gpu", ["a100-80gb", "h100-80gb"])
def test_405b_fp16_takes_two_nodes_tp8_pp2(gpu: str) -> None:
    p = plan("llama-3.1-405b", dtype="fp16", gpu=gpu)
    assert shape(p) == (2, 8, 8, 2)
    assert any("1 node of 8" in r and "not enough" in r for r in p.reasons)
    assert any("not 2x8 TP16·PP1" in r and "InfiniBand" in r for r in p.reasons)


def test_the_fabric_decides_between_tp16_and_tp8_pp2() -> None:
    assert shape(plan("llama-3.1-405b", fabric="ethernet", gbps=100)) == (2, 8, 8, 2)
    hdr = plan("llama-3.1-405b", fabric="infiniband", gbps=200)
    assert shape(hdr) == (2, 8, 8, 2)
    tp16 = [a for a in hdr.alternatives if a.layout.tp == 16]
    assert tp16 and tp16[0].feasible  # allowed at 200 Gb/s, ranked after TP8·PP2
    assert any("safer" in r for r in hdr.reasons)
    assert shape(plan("llama-3.1-405b", fabric="infiniband", gbps=400)) == (2, 8, 16, 1)


@pytest.mark.parametrize("model", ["deepseek-r1", "llama-3.1-405b", "nemotron-4-340b"])
def test_nim_table_models_that_need_16_h100(model: str) -> None:
    p = plan(model, context=4096)
    assert p.chosen.layout.gpus == 16 and p.chosen.layout.nodes == 2


@pytest.mark.parametrize("model", ["deepseek-r1", "llama-3.1-405b", "nemotron-4-340b", "mixtral-8x22b",
                                   "dbrx-132b"])
def test_nim_table_models_plan_on_16_h100(model: str) -> None:
    p = plan(model, context=4096, nodes=2)
    assert shape(p) == (2, 8, 8, 2)


@pytest.mark.parametrize(("model", "context", "concurrency"),
                         [("mixtral-8x22b", 65536, 32), ("dbrx-132b", 32768, 64)])
def test_moe_models_of_the_table_need_16_h100_at_full_context(model: str, context: int, concurrency: int) -> None:
    # their weights fit one node; the table's 16 GPUs are KV cache room at full context
    assert plan(model, concurrency=1).chosen.layout.nodes == 1
    assert plan(model, context=context, concurrency=concurrency).chosen.layout.gpus == 16


def test_nemotron_fits_one_h200_node() -> None:
    assert shape(plan("nemotron-4-340b", context=4096, gpu="h200-141gb")) == (1, 8, 8, 1)


def test_gqa_replication_is_explained() -> None:
    p = plan("qwen3-235b-a22b")  # 4 KV heads
    assert p.chosen.layout.tp == 8
    assert any("copies each KV head onto 2 GPUs" in r for r in p.reasons)


# --- refusals -------------------------------------------------------------------------------------------


def test_unknown_model_is_refused_with_the_catalog() -> None:
    with pytest.raises(UnknownModelError, match=r"llama-3\.1-405b"):
        find_model("llama-9-9000b")


def test_tp_that_does_not_divide_the_heads_is_refused() -> None:
    with pytest.raises(PlanningError, match="TP12 does not divide the 64 attention heads"):
        plan("llama-3.1-70b", gpus_per_node=6, nodes=2, tp=12)


def test_no_fit_within_max_nodes_is_refused_with_the_numbers() -> None:
    with pytest.raises(PlanningError) as refused:
        plan("llama-3.1-405b", max_nodes=1)
    message = str(refused.value)
    assert "does not fit on up to 1 node" in message
    assert "101.5 GB" in message and "76.5 GB budget" in message  # 811.8 GB / 8 against 0.9 x 85.0 GB


def test_context_beyond_the_model_is_refused() -> None:
    with pytest.raises(PlanningError, match="131072"):
        plan("llama-3.1-405b", context=200_000)


def test_int4_values_need_a_quantised_checkpoint() -> None:
    p = plan("llama-3.1-70b", dtype="int4", concurrency=1)
    with pytest.raises(ValuesError, match="--model-id"):
        build_values(p, "vllm-multinode", ValuesOptions())
    values = build_values(p, "vllm-multinode", ValuesOptions(model_id="org/Llama-3.1-70B-AWQ"))
    assert values["model"]["name"] == "org/Llama-3.1-70B-AWQ" and "extraArgs" not in values["model"]


# --- values files: rendered and checked -------------------------------------------------------------------

EMITTED = [
    ("llama-3.1-405b", {"fabric": "roce", "gbps": 100}),
    ("llama-3.1-405b", {"fabric": "infiniband", "gbps": 400}),
    ("deepseek-r1", {"fabric": "infiniband", "gbps": 200}),
    ("llama-3.1-8b", {}),
    ("mixtral-8x22b", {"nodes": 2}),
]


@pytest.mark.parametrize("chart", ["vllm-multinode", "nim-multinode"])
@pytest.mark.parametrize(("model", "kw"), EMITTED, ids=[f"{m}-{i}" for i, (m, _) in enumerate(EMITTED)])
def test_emitted_values_render_and_pass_check(model: str, kw: dict[str, Any], chart: str,
                                              harness: Harness) -> None:
    p = plan(model, vllm=chart == "vllm-multinode", **kw)
    doc = document(p, chart, ValuesOptions())
    result = harness.evaluate(Case(chart=doc["chart"], values=doc["values"], release=doc["release"]))
    assert result.ok, result.problems()
    topology = result.values["topology"]
    lay = p.chosen.layout
    assert (topology["podsPerGroup"], topology["gpusPerPod"]) == (lay.nodes, lay.gpus_per_node)
    assert (topology["tensorParallelSize"], topology["pipelineParallelSize"]) == (lay.tp, lay.pp)
    if chart == "vllm-multinode":
        assert (topology["dataParallelSize"], topology["expertParallel"]) == (lay.dp, lay.ep)
    assert topology["modelShape"]["attentionHeads"] == p.model.attention_heads
    assert result.values["fabric"]["profile"] == ("nvlink" if lay.nodes == 1 else kw.get("fabric", "roce"))


def test_fp8_of_a_bf16_model_asks_vllm_to_quantise() -> None:
    p = plan("llama-3.1-405b", dtype="fp8")
    assert shape(p)[:2] == (1, 8)  # 406 GB of fp8 weights fit one node
    assert build_values(p, "vllm-multinode", ValuesOptions())["model"]["extraArgs"] == ["--quantization", "fp8"]


def test_cli_writes_a_file_that_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.yaml"
    code = cli.main(["plan", "llama-3.1-405b", "--fabric", "roce", "--fabric-gbps", "100", "--chart",
                     "nim-multinode", "--output", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "TP8 x PP2" in printed.out and "weights     50.7 GB" in printed.out
    assert "passes check" in printed.err
    assert out.read_text().startswith("# Planned by `inference-charts plan`")
    assert load_case(out).values["model"]["path"] == "hf://meta-llama/Llama-3.1-405B-Instruct"
    assert cli.main(["check", str(out)]) == 0


def test_cli_json_and_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    # NIM: tensor/pipeline layouts only, as before; 400 Gb/s InfiniBand makes TP16 across nodes the pick
    assert cli.main(["plan", "deepseek-r1", "--fabric", "infiniband", "--fabric-gbps", "400", "--json",
                     "--chart", "nim-multinode"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["chosen"]["tensorParallelSize"], doc["chosen"]["pipelineParallelSize"]) == (16, 1)
    assert doc["chosen"]["dataParallelSize"] == 1 and not doc["chosen"]["expertParallel"]
    assert doc["valuesFile"]["values"]["topology"]["modelShape"] == {"attentionHeads": 128, "kvHeads": 0,
                                                                     "layers": 61}
    # vLLM (the default chart): data parallel 16 with expert parallel, and the values say so
    assert cli.main(["plan", "deepseek-r1", "--fabric", "infiniband", "--fabric-gbps", "400", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["chosen"]["tensorParallelSize"], doc["chosen"]["dataParallelSize"]) == (1, 16)
    values = doc["valuesFile"]["values"]
    assert values["topology"]["modelShape"]["experts"] == 256 and values["launcher"] == {"kind": "native"}
    assert cli.main(["plan", "no-such-model"]) == 2
    assert "refused: unknown model" in capsys.readouterr().err


def test_local_config_json_gives_the_catalog_numbers(tmp_path: Path) -> None:
    config = {"_name_or_path": "meta-llama/Llama-3.1-70B-Instruct", "hidden_size": 8192, "num_hidden_layers": 80,
              "num_attention_heads": 64, "num_key_value_heads": 8, "max_position_embeddings": 131072,
              "torch_dtype": "bfloat16"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    local = model_from_config(path, parse_count("70.6B"))
    catalog = MODELS["llama-3.1-70b"]
    for field in ("params", "layers", "attention_heads", "kv_heads", "head_dim", "max_context", "native_dtype"):
        assert getattr(local, field) == getattr(catalog, field), field
    dbrx = {"d_model": 6144, "n_layers": 40, "n_heads": 48, "max_seq_len": 32768,
            "attn_config": {"kv_n_heads": 8},
            "ffn_config": {"moe_num_experts": 16, "moe_top_k": 4, "ffn_hidden_size": 10752}}
    path.write_text(json.dumps(dbrx))
    parsed = model_from_config(path, 132e9, model_id="databricks/dbrx-instruct")
    assert (parsed.kv_heads, parsed.experts, parsed.head_dim) == (8, 16, 128)
    assert parsed.expert_params == MODELS["dbrx-132b"].expert_params


def test_local_moe_config_json_gives_the_catalog_expert_split(tmp_path: Path) -> None:
    deepseek = {"_name_or_path": "deepseek-ai/DeepSeek-R1", "hidden_size": 7168, "num_hidden_layers": 61,
                "num_attention_heads": 128, "num_key_value_heads": 128, "kv_lora_rank": 512, "qk_rope_head_dim": 64,
                "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
                "moe_intermediate_size": 2048, "first_k_dense_replace": 3, "moe_layer_freq": 1,
                "max_position_embeddings": 163840, "quantization_config": {"quant_method": "fp8"}}
    mixtral = {"hidden_size": 6144, "num_hidden_layers": 56, "num_attention_heads": 48, "num_key_value_heads": 8,
               "intermediate_size": 16384, "num_local_experts": 8, "num_experts_per_tok": 2}
    qwen3 = {"hidden_size": 4096, "num_hidden_layers": 94, "num_attention_heads": 64, "num_key_value_heads": 4,
             "head_dim": 128, "moe_intermediate_size": 1536, "num_experts": 128, "num_experts_per_tok": 8,
             "decoder_sparse_step": 1, "mlp_only_layers": []}
    path = tmp_path / "config.json"
    for config, key in ((deepseek, "deepseek-r1"), (mixtral, "mixtral-8x22b"), (qwen3, "qwen3-235b-a22b")):
        path.write_text(json.dumps(config))
        local, catalog = model_from_config(path, MODELS[key].params), MODELS[key]
        for field in ("experts", "experts_per_token", "expert_ffn", "moe_layers", "expert_params"):
            assert getattr(local, field) == getattr(catalog, field), (key, field)


# --- chart guards fed by topology.modelShape ---------------------------------------------------------------


def _with(values: dict[str, Any], **topology: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    for key, value in topology.items():
        if key in ("attentionHeads", "kvHeads", "layers"):
            changed["topology"]["modelShape"][key] = value
        else:
            changed["topology"][key] = value
    return changed


@pytest.mark.parametrize("chart", ["vllm-multinode", "nim-multinode"])
def test_chart_refuses_tp_that_does_not_divide_the_heads(chart: str, harness: Harness) -> None:
    values = build_values(plan("llama-3.1-70b", nodes=2), chart, ValuesOptions())
    bad = _with(values, gpusPerPod=6, tensorParallelSize=12, pipelineParallelSize=1)
    message = harness.evaluate(Case(chart=chart, values=bad)).render_error
    assert "topology.tensorParallelSize 12 does not divide the model's 64 attention heads" in message
    assert "topology.modelShape.attentionHeads" in message


def test_chart_refuses_tp_at_odds_with_the_kv_heads(harness: Harness) -> None:
    values = build_values(plan("llama-3.1-405b"), "vllm-multinode", ValuesOptions())
    bad = _with(values, attentionHeads=48, kvHeads=12)
    message = harness.evaluate(Case(chart="vllm-multinode", values=bad)).render_error
    assert "topology.tensorParallelSize 8 and the model's 12 key/value heads (topology.modelShape.kvHeads)" in message


def test_chart_refuses_more_stages_than_layers(harness: Harness) -> None:
    values = build_values(plan("llama-3.1-8b"), "vllm-multinode", ValuesOptions())
    bad = _with(values, podsPerGroup=5, gpusPerPod=8, tensorParallelSize=1, pipelineParallelSize=40)
    message = harness.evaluate(Case(chart="vllm-multinode", values=bad)).render_error
    assert "topology.pipelineParallelSize 40 exceeds the model's 32 layers (topology.modelShape.layers)" in message


def test_unknown_shape_and_nim_profiles_skip_the_guards(harness: Harness) -> None:
    values = build_values(plan("llama-3.1-70b", nodes=2), "nim-multinode", ValuesOptions())
    unknown = _with(values, attentionHeads=0, kvHeads=0, layers=0, gpusPerPod=6, tensorParallelSize=12,
                    pipelineParallelSize=1)
    assert harness.evaluate(Case(chart="nim-multinode", values=unknown)).ok
    profile = _with(values, tensorParallelSize=0, pipelineParallelSize=0, attentionHeads=7)
    profile["model"]["profile"] = "vllm-bf16-tp8-pp2"
    result = harness.evaluate(Case(chart="nim-multinode", values=profile))
    assert result.ok, result.problems()


def test_written_yaml_round_trips(tmp_path: Path) -> None:
    from inference_charts.planner.values import dump

    p = plan("llama-3.1-405b")
    text = dump(p, "vllm-multinode", ValuesOptions())
    assert yaml.safe_load(text) == document(p, "vllm-multinode", ValuesOptions())


# --- mixture of experts: data + expert parallel layouts (vLLM) ------------------------------------------------


@pytest.mark.parametrize(("model", "active"), [("deepseek-r1", 37e9), ("mixtral-8x22b", 39e9),
                                               ("dbrx-132b", 36e9), ("qwen3-235b-a22b", 22e9)])
def test_expert_split_from_config_json_gives_the_model_cards_active_parameters(model: str, active: float) -> None:
    # routed experts = MoE layers x experts x 3 x hidden x expert FFN; the rest plus top-k of them is
    # what one token runs through, which each model card states
    spec = MODELS[model]
    assert 0 < spec.dense_params < spec.expert_params < spec.params
    assert spec.active_params == pytest.approx(active, rel=0.03)


def test_expert_parallel_memory_shards_experts_and_copies_the_rest() -> None:
    r1 = MODELS["deepseek-r1"]
    mem = memory.per_gpu_expert_parallel(r1, "fp8", 2, tp=1, dp=16, rank_tokens=8192, reserve=3 * 1024**3)
    assert mem.expert_weights == pytest.approx(r1.expert_params / 16)
    assert mem.weights - mem.expert_weights == pytest.approx(r1.dense_params)  # copied whole on TP1
    assert mem.kv_cache == pytest.approx(8192 * 61 * 576 * 2)  # only this rank's tokens
    tp8 = memory.per_gpu_expert_parallel(r1, "fp8", 2, tp=8, dp=2, rank_tokens=8192, reserve=0)
    assert tp8.weights - tp8.expert_weights == pytest.approx(r1.dense_params / 8)
    assert tp8.kv_per_token == mem.kv_per_token  # MLA: TP does not split the latent
    with pytest.raises(ValueError, match="no routed-expert split"):
        memory.per_gpu_expert_parallel(MODELS["llama-3.1-405b"], "bf16", 2, tp=8, dp=2, rank_tokens=1, reserve=0)


@pytest.mark.parametrize(("gpu", "fabric", "gbps"), [("h100-80gb", "infiniband", 400),
                                                     ("h200-141gb", "infiniband", 400), ("h100-80gb", "roce", 200)])
def test_deepseek_r1_on_2x8_is_planned_as_data_plus_expert_parallel(gpu: str, fabric: str, gbps: float) -> None:
    p = plan("deepseek-r1", nodes=2, gpu=gpu, fabric=fabric, gbps=gbps, vllm=True)
    lay = p.chosen.layout
    assert (lay.tp, lay.pp, lay.dp, lay.ep) == (1, 1, 16, True)
    text = " ".join(p.reasons)
    assert "256 routed experts are spread over all 16 GPUs" in text
    assert "all-to-all" in text and f"{fabric} RDMA" in text
    assert "latent attention (MLA)" in text and "TP cannot split" in text
    assert "copied onto each of the 16 ranks" in text
    # DP attention against the TP/PP layout that would be chosen otherwise: several times the KV room
    best_tp = next(a for a in p.alternatives if not a.layout.data_parallel)
    assert p.chosen.capacity_tokens > 2 * best_tp.capacity_tokens
    # the narrower DP/EP layout and the TP/PP ones stay on offer
    labels = {a.layout.label for a in p.alternatives}
    assert {"2x8 TP8·DP2·EP", "2x8 TP8·PP2"} <= labels


def test_deepseek_r1_needs_rdma_for_expert_parallel_across_nodes() -> None:
    p = plan("deepseek-r1", fabric="ethernet", gbps=100, vllm=True)
    assert shape(p) == (2, 8, 8, 2) and p.chosen.layout.dp == 1
    refused = [a for a in p.alternatives if a.layout.ep]
    assert refused and all("all-to-all" in " ".join(a.broken) and "RDMA" in " ".join(a.broken) for a in refused)
    assert any("data + expert parallel not chosen" in r and "TCP" in r for r in p.reasons)
    slow = plan("deepseek-r1", fabric="roce", gbps=100, vllm=True)  # RDMA, but below 200 Gb/s: ranked after
    assert slow.chosen.layout.dp == 1
    assert any(a.layout.ep and a.feasible for a in slow.alternatives)


def test_data_parallel_needs_requests_for_every_rank() -> None:
    from inference_charts.planner.report import verdict

    p = plan("deepseek-r1", concurrency=4, fabric="infiniband", gbps=400, nodes=2, vllm=True)
    lay = p.chosen.layout
    assert (lay.tp, lay.dp, lay.ep) == (4, 4, True)  # 4 sequences: 4 ranks of 4 GPUs, not 16 of 1
    assert any("4 concurrent sequences keep all 4 ranks busy" in r for r in p.reasons)
    dp16 = next(a for a in p.alternatives if a.layout.dp == 16)
    assert dp16.feasible and "leave ranks idle" in verdict(p, dp16)


def test_a_dense_model_never_gets_expert_parallel() -> None:
    for kw in ({"fabric": "infiniband", "gbps": 400}, {"fabric": "roce", "gbps": 200}, {"gpu": "h200-141gb"}):
        p = plan("llama-3.1-405b", vllm=True, **kw)
        assert not p.chosen.layout.ep and p.chosen.layout.dp == 1
        assert not any(a.layout.ep or a.layout.dp > 1 for a in p.alternatives)
        assert shape(p) == shape(plan("llama-3.1-405b", **kw))  # the same plan as without DP layouts
        values = build_values(p, "vllm-multinode", ValuesOptions())
        assert "expertParallel" not in values["topology"] and "experts" not in values["topology"]["modelShape"]
    with pytest.raises(PlanningError, match="dense model"):
        plan("llama-3.1-405b", dp=2, vllm=True)


def test_nim_keeps_tensor_and_pipeline_layouts() -> None:
    p = plan("deepseek-r1", fabric="infiniband", gbps=400, nodes=2)
    assert not any(c.layout.data_parallel for c in (p.chosen, *p.alternatives))
    assert any("no expert parallelism assumed" in r for r in p.reasons)
    with pytest.raises(PlanningError, match="vLLM chart only"):
        plan("deepseek-r1", dp=16)
    dp16 = plan("deepseek-r1", fabric="infiniband", gbps=400, nodes=2, vllm=True)
    with pytest.raises(ValuesError, match="vLLM chart"):
        build_values(dp16, "nim-multinode", ValuesOptions())


def test_mla_is_what_makes_data_parallel_attention_pay() -> None:
    # Qwen3's grouped-query KV heads are already split by TP: DP would gain too little KV room to copy the
    # attention onto every rank. DeepSeek's latent is copied onto every TP rank: DP attention gains several x.
    qwen = plan("qwen3-235b-a22b", vllm=True)
    assert qwen.chosen.layout.dp == 1
    assert any("data + expert parallel not chosen" in r and "does not pay" in r for r in qwen.reasons)
    r1 = plan("deepseek-r1", gpu="h200-141gb", vllm=True)  # one node: the all-to-all stays on NVLink
    assert (r1.chosen.layout.nodes, r1.chosen.layout.dp, r1.chosen.layout.ep) == (1, 8, True)
    assert any("over NVLink, inside the node" in r for r in r1.reasons)


def test_mixtral_experts_that_the_gpus_do_not_divide_get_no_expert_parallel() -> None:
    p = plan("mixtral-8x22b", nodes=2, vllm=True)  # 8 experts over 16 GPUs
    assert shape(p) == (2, 8, 8, 2)
    assert not any(a.layout.ep for a in p.alternatives)
    assert any("16 GPUs do not divide the 8 experts" in r for r in p.reasons)


def test_written_data_parallel_values_render_clean(tmp_path: Path, harness: Harness,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r1.yaml"
    code = cli.main(["plan", "deepseek-r1", "--fabric", "roce", "--fabric-gbps", "200", "--output", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "TP1 x DP16 (expert parallel)" in printed.out and "passes check" in printed.err
    case = load_case(out)
    topology = case.values["topology"]
    assert (topology["dataParallelSize"], topology["expertParallel"], topology["tensorParallelSize"]) == (16, True, 1)
    assert topology["modelShape"]["experts"] == 256 and case.values["launcher"]["kind"] == "native"
    result = harness.evaluate(case)
    assert result.ok, result.problems()
    from inference_charts.commands.summary import render_summary

    assert ("TP 1 x PP 1 x DP 16 = 16 GPUs per group (vLLM's native launcher across pods, expert parallel)"
            in render_summary(result))
    # the chart refuses the same file with the experts taken away: expertParallel is checked against them
    broken = copy.deepcopy(case.values)
    broken["topology"]["modelShape"]["experts"] = 0
    assert "expertParallel needs topology.modelShape.experts" in harness.evaluate(
        Case(chart=case.chart, values=broken)).render_error
