"""The sizing planner: its memory arithmetic, the seeds' worked sizings, its refusals, the values files
it writes (rendered and checked), and the chart guards that read the model shape those files carry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from inference_charts import cli
from inference_charts.cases import Case, load_case
from inference_charts.harness import Harness
from inference_charts.planner import memory
from inference_charts.planner.catalog import GPUS, MODELS, UnknownModelError, find_model
from inference_charts.planner.hfconfig import model_from_config, parse_count
from inference_charts.planner.plan import Cluster, Plan, PlanningError, Workload, make_plan
from inference_charts.planner.values import ValuesError, ValuesOptions, build_values, document

GB = 1e9


def cluster(gpu: str = "h100-80gb", fabric: str = "roce", gbps: float = 100, **kw: Any) -> Cluster:
    spec = GPUS[gpu]
    return Cluster(spec.title, spec.memory_bytes, kw.pop("gpus_per_node", 8), fabric, gbps, **kw)


def plan(model: str, *, context: int = 8192, concurrency: int = 16, dtype: str | None = None,
         nodes: int | None = None, tp: int | None = None, **cluster_kw: Any) -> Plan:
    spec = MODELS[model]
    workload = Workload(context=context, concurrency=concurrency, dtype=dtype or spec.native_dtype)
    return make_plan(spec, cluster(**cluster_kw), workload, nodes=nodes, tp=tp)


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
    p = plan(model, **kw)
    doc = document(p, chart, ValuesOptions())
    result = harness.evaluate(Case(chart=doc["chart"], values=doc["values"], release=doc["release"]))
    assert result.ok, result.problems()
    topology = result.values["topology"]
    lay = p.chosen.layout
    assert (topology["podsPerGroup"], topology["gpusPerPod"]) == (lay.nodes, lay.gpus_per_node)
    assert (topology["tensorParallelSize"], topology["pipelineParallelSize"]) == (lay.tp, lay.pp)
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
    assert cli.main(["plan", "deepseek-r1", "--fabric", "infiniband", "--fabric-gbps", "400", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["chosen"]["tensorParallelSize"], doc["chosen"]["pipelineParallelSize"]) == (16, 1)
    assert doc["valuesFile"]["values"]["topology"]["modelShape"] == {"attentionHeads": 128, "kvHeads": 0,
                                                                     "layers": 61}
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
            "attn_config": {"kv_n_heads": 8}, "ffn_config": {"moe_num_experts": 16, "moe_top_k": 4}}
    path.write_text(json.dumps(dbrx))
    parsed = model_from_config(path, 132e9, model_id="databricks/dbrx-instruct")
    assert (parsed.kv_heads, parsed.experts, parsed.head_dim) == (8, 16, 128)


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
