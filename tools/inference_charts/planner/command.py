"""`inference-charts plan`: arguments, and the glue from them to a plan, its report and its values file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference_charts.planner.catalog import (
    DTYPE_BYTES,
    GIB,
    GPUS,
    MODELS,
    ModelSpec,
    UnknownModelError,
    find_gpu,
    find_model,
)
from inference_charts.planner.hfconfig import ConfigError, model_from_config, parse_count
from inference_charts.planner.plan import FABRICS, Cluster, PlanningError, Workload, make_plan
from inference_charts.planner.report import render_json, render_text
from inference_charts.planner.values import CHARTS, ValuesError, ValuesOptions, document, dump


def add_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("model", nargs="?", help="catalog model (see --list) or its Hugging Face id")
    sub.add_argument("--list", action="store_true", help="list the catalog's models and GPUs")
    source = sub.add_argument_group("a model outside the catalog")
    source.add_argument("--config", type=Path, help="a local Hugging Face config.json")
    source.add_argument("--params", help="its parameter count (70e9 or 70B); config.json does not hold it")
    source.add_argument("--model-id", default="", help="checkpoint to serve instead of the catalog's "
                        "(a pre-quantised or converted one)")
    sub.add_argument("--dtype", choices=sorted(DTYPE_BYTES), help="weight format; default: the checkpoint's")
    sub.add_argument("--kv-cache-dtype", choices=("auto", "fp8"), default="auto",
                     help="auto: bf16 (2 bytes per value); fp8 halves the KV cache")
    hw = sub.add_argument_group("cluster")
    hw.add_argument("--gpu", default="h100-80gb", help=f"GPU type: {', '.join(GPUS)} (default h100-80gb)")
    hw.add_argument("--gpu-memory-gib", type=float, help="memory per GPU in GiB, for a GPU not listed")
    hw.add_argument("--gpus-per-node", type=int, default=8)
    hw.add_argument("--fabric", choices=FABRICS, default="infiniband", help="network between nodes")
    hw.add_argument("--fabric-gbps", type=float, default=200.0,
                    help="link speed per GPU NIC in Gb/s (HDR InfiniBand 200, NDR 400); default 200")
    hw.add_argument("--max-nodes", type=int, default=8)
    hw.add_argument("--nodes", type=int, help="plan on exactly this many nodes")
    hw.add_argument("--tp", type=int, help="only layouts with this tensor-parallel size")
    hw.add_argument("--pp", type=int, help="only layouts with this pipeline-parallel size")
    hw.add_argument("--dp", type=int, help="only layouts with this data-parallel size (vLLM, mixture-of-experts "
                    "models, with expert parallel); 1: tensor/pipeline layouts only")
    load = sub.add_argument_group("workload")
    load.add_argument("--context", type=int, default=8192, help="max model length in tokens (default 8192)")
    load.add_argument("--concurrency", type=int, default=16,
                      help="sequences of full context the KV cache must hold at once (default 16)")
    load.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    load.add_argument("--reserve-gib", type=float, default=3.0,
                      help="per-GPU memory for CUDA context, NCCL, CUDA graphs and activations (default 3)")
    out = sub.add_argument_group("output")
    out.add_argument("--chart", choices=CHARTS, default="vllm-multinode")
    out.add_argument("--output", type=Path, help="write the values file (example format) here")
    out.add_argument("--release", default="")
    out.add_argument("--namespace", default="inference")
    out.add_argument("--hf-token-secret", default="hf-token", help="Secret with the Hugging Face token; '' for none")
    out.add_argument("--nim-image", default="", help="repository:tag of a model-specific NIM image")
    out.add_argument("--ngc-secret", default="ngc-api", help="Secret with the NGC API key (model-specific NIM)")
    out.add_argument("--json", action="store_true", help="print the plan as JSON")


def _model(args: argparse.Namespace) -> ModelSpec:
    if args.config:
        if not args.params:
            raise ConfigError("--config needs --params (config.json does not hold the parameter count)")
        return model_from_config(args.config, parse_count(args.params), args.model_id)
    if not args.model:
        raise UnknownModelError("name a model (see --list) or give --config and --params")
    return find_model(args.model)


def _cluster(args: argparse.Namespace) -> Cluster:
    if args.gpu_memory_gib:
        title, memory = f"{args.gpu_memory_gib:g} GiB GPU", round(args.gpu_memory_gib * GIB)
    else:
        gpu = find_gpu(args.gpu)
        title, memory = gpu.title, gpu.memory_bytes
    return Cluster(gpu_title=title, gpu_memory=memory, gpus_per_node=args.gpus_per_node, fabric=args.fabric,
                   fabric_gbps=args.fabric_gbps, max_nodes=args.max_nodes)


def _list() -> str:
    rows = [f"{m.key:<18} {m.hf_id:<42} {m.params / 1e9:>6g}e9  {m.native_dtype}" for m in MODELS.values()]
    gpus = [f"{g.key:<18} {g.memory_bytes / 1e9:.1f} GB  ({g.source})" for g in GPUS.values()]
    return "\n".join(["models:", *rows, "", "GPUs:", *gpus]) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(_list(), end="")
        return 0
    options = ValuesOptions(release=args.release, namespace=args.namespace, hf_token_secret=args.hf_token_secret,
                            model_id=args.model_id, nim_image=args.nim_image, ngc_secret=args.ngc_secret)
    try:
        model = _model(args)
        workload = Workload(context=args.context, concurrency=args.concurrency,
                            dtype=args.dtype or model.native_dtype, kv_dtype=args.kv_cache_dtype,
                            utilization=args.gpu_memory_utilization, reserve=args.reserve_gib * GIB)
        plan = make_plan(model, _cluster(args), workload, nodes=args.nodes, tp=args.tp, pp=args.pp, dp=args.dp,
                         data_parallel=args.chart == "vllm-multinode")
        text = dump(plan, args.chart, options) if args.output else ""
    except (UnknownModelError, ConfigError, PlanningError, ValuesError) as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    if args.json:
        # The plan stands even when no values file can be written for it (int4 without a checkpoint).
        try:
            values_doc: dict[str, object] | None = document(plan, args.chart, options)
        except ValuesError as error:
            values_doc = {"error": str(error)}
        print(json.dumps(render_json(plan, values_doc), indent=2))
    else:
        print(render_text(plan), end="")
    if args.output:
        args.output.write_text(text)
        return _check_written(args.output)
    return 0


def _check_written(path: Path) -> int:
    """Renders and checks the file just written, so a plan never hands over values the chart refuses."""
    from inference_charts.checks.harness import Harness
    from inference_charts.render.cases import load_case

    result = Harness().evaluate(load_case(path))
    status = "passes check" if result.ok else "FAILS check"
    print(f"wrote {path} ({status})", file=sys.stderr)
    for problem in result.problems():
        print(f"  problem   {problem}", file=sys.stderr)
    return 0 if result.ok else 1
