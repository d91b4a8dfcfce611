"""The chart values of a plan, written as an example-format file (chart, release, namespace, values)
that `inference-charts render` and `check` take as it is.

The file carries topology.modelShape, so the chart itself refuses a later hand edit of TP or PP that
the model cannot take.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from inference_charts.commands.schema_bundle import bundle, defaults
from inference_charts.planner.catalog import DTYPE_BYTES, GIB
from inference_charts.planner.memory import gb
from inference_charts.planner.plan import Plan, nodes_text

CHARTS = ("vllm-multinode", "nim-multinode")
#: Headroom of the model cache over the checkpoint: tokenizer, config, partial downloads.
CACHE_HEADROOM = 1.2


class ValuesError(ValueError):
    pass


@dataclass(frozen=True)
class ValuesOptions:
    release: str = ""
    namespace: str = "inference"
    hf_token_secret: str = "hf-token"
    model_id: str = ""  # a checkpoint other than the catalog's (pre-quantised, or converted to HF format)
    nim_image: str = ""  # repository:tag of a model-specific NIM image; empty: the chart's model-free image
    ngc_secret: str = "ngc-api"


def release_name(plan: Plan) -> str:
    return re.sub(r"[^a-z0-9]+", "-", plan.model.key.lower()).strip("-")[:40].rstrip("-")


def engine_args(plan: Plan, options: ValuesOptions) -> list[str]:
    """Flags that make the engine load the weights in the dtype the plan sized, and the KV cache dtype."""
    native, dtype = plan.model.native_dtype, plan.workload.dtype
    args: list[str] = []
    if dtype != native and not options.model_id:
        if dtype == "fp8" and native in ("bf16", "fp16"):
            args += ["--quantization", "fp8"]  # vLLM quantises a 16-bit checkpoint to FP8 as it loads
        elif {dtype, native} == {"bf16", "fp16"}:
            args += ["--dtype", "float16" if dtype == "fp16" else "bfloat16"]
        else:
            raise ValuesError(f"{dtype} weights of a {native} checkpoint need a checkpoint already in {dtype} "
                              "(AWQ/GPTQ for int4 and int8, a bf16 conversion for an fp8 model); give it with "
                              "--model-id")
    if plan.workload.kv_dtype == "fp8":
        args += ["--kv-cache-dtype", "fp8"]
    return args


def _topology(plan: Plan, chart: str) -> dict[str, Any]:
    lay, model = plan.chosen.layout, plan.model
    topology: dict[str, Any] = {
        "replicas": 1, "podsPerGroup": lay.nodes, "gpusPerPod": lay.gpus_per_node,
        "tensorParallelSize": lay.tp, "pipelineParallelSize": lay.pp,
    }
    if lay.data_parallel:
        topology["dataParallelSize"] = lay.dp
        topology["expertParallel"] = lay.ep
    # kvHeads 0 for MLA: its latent cache has no KV heads for TP to split.
    shape = {"attentionHeads": model.attention_heads, "kvHeads": 0 if model.mla else model.kv_heads,
             "layers": model.layers}
    if chart == "vllm-multinode" and model.is_moe:
        # the vLLM chart checks expertParallel against it (a hand edit on a dense model is refused)
        shape["experts"] = model.experts
    topology["modelShape"] = shape
    return topology


def _cache_size(plan: Plan, options: ValuesOptions) -> str:
    """The downloaded checkpoint (in the dtype it is stored in) plus headroom, in 50Gi steps."""
    stored = plan.workload.dtype if options.model_id else plan.model.native_dtype
    gib = plan.model.params * DTYPE_BYTES[stored] * CACHE_HEADROOM / GIB
    return f"{math.ceil(gib / 50) * 50}Gi"


def _shared_memory(plan: Plan) -> str:
    # 8Gi floor for NCCL's and vLLM's shared-memory segments, 2Gi per GPU of the pod above that.
    return f"{max(8, 2 * plan.chosen.layout.gpus_per_node)}Gi"


def build_values(plan: Plan, chart: str, options: ValuesOptions) -> dict[str, Any]:
    if chart not in CHARTS:
        raise ValuesError(f"unknown chart {chart!r}; one of {', '.join(CHARTS)}")
    lay = plan.chosen.layout
    if lay.data_parallel and chart != "vllm-multinode":
        raise ValuesError(f"{lay.label}: data + expert parallel layouts are for the vLLM chart; plan with "
                          "--chart nim-multinode for a NIM layout")
    model_id = options.model_id or plan.model.hf_id
    token = {"secretName": options.hf_token_secret} if options.hf_token_secret else None
    args = engine_args(plan, options)
    if chart == "vllm-multinode":
        model: dict[str, Any] = {"name": model_id, "maxModelLen": plan.workload.context,
                                 "gpuMemoryUtilization": plan.workload.utilization}
        if token:
            model["hfToken"] = token
        values: dict[str, Any] = {"model": model}
    else:
        values = {"image": _nim_image(options), "model": _nim_model(plan, options, model_id, token)}
        model = values["model"]
    if args:
        model["extraArgs"] = args
    values["topology"] = _topology(plan, chart)
    if lay.data_parallel:
        # vLLM's own launcher forms data-parallel ranks across pods (the chart's Ray path does not)
        values["launcher"] = {"kind": "native"}
    values["fabric"] = {"profile": "nvlink" if lay.nodes == 1 else plan.cluster.fabric}
    values["sharedMemory"] = {"sizeLimit": _shared_memory(plan)}
    values["cache"] = {"type": "pvc", "pvc": {"size": _cache_size(plan, options)}}
    return values


def _nim_image(options: ValuesOptions) -> dict[str, str]:
    if options.nim_image:
        repository, _, tag = options.nim_image.rpartition(":")
        if not repository or "/" in tag:
            raise ValuesError(f"--nim-image {options.nim_image!r}: write repository:tag")
        return {"repository": repository, "tag": tag}
    image: dict[str, str] = defaults(bundle("nim-multinode"))["image"]
    return {"repository": image["repository"], "tag": image["tag"]}


def _nim_model(plan: Plan, options: ValuesOptions, model_id: str,
               token: dict[str, str] | None) -> dict[str, Any]:
    # Multi-pod NIM groups need JSON logging off (Ray workers lack NIM's formatter); the chart
    # defaults to false, written out so an edited file keeps it.
    model: dict[str, Any] = {"servedModelName": model_id, "maxModelLen": plan.workload.context,
                             "jsonLogging": False}
    if options.nim_image:
        model["ngcApiKey"] = {"secretName": options.ngc_secret}
    else:
        model["path"] = f"hf://{model_id}"
        if token:
            model["hfToken"] = token
    return model


def header(plan: Plan, chart: str) -> list[str]:
    lay, mem, w = plan.chosen.layout, plan.chosen.memory, plan.workload
    lines = [
        f"Planned by `inference-charts plan`: {plan.model.title} ({w.dtype}) on {nodes_text(lay.nodes)} x "
        f"{lay.gpus_per_node} {plan.cluster.gpu_title}, fabric {plan.cluster.fabric} "
        f"{plan.cluster.fabric_gbps:g} Gb/s: {lay.product}.",
        f"Per GPU: weights {gb(mem.weights)} + KV cache {gb(mem.kv_cache)} ({w.context} tokens x {w.concurrency} "
        f"sequences) + reserve {gb(mem.reserve)} = {gb(mem.total)} of {gb(plan.chosen.budget)}.",
    ]
    if chart == "nim-multinode":
        lines.append(f"The NIM chart has no memory-utilisation value: the plan assumes NIM lets the engine use "
                     f"{w.utilization:g} of each GPU, as planned; check NIM's startup log.")
    return lines + [f"- {reason}" for reason in plan.reasons]


def document(plan: Plan, chart: str, options: ValuesOptions) -> dict[str, Any]:
    return {"chart": chart, "release": options.release or release_name(plan), "namespace": options.namespace,
            "values": build_values(plan, chart, options)}


def dump(plan: Plan, chart: str, options: ValuesOptions) -> str:
    comments = "".join(f"# {line}\n" for line in header(plan, chart))
    return comments + yaml.safe_dump(document(plan, chart, options), sort_keys=False, width=110)
