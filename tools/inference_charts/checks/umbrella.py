"""The umbrella chart (charts/multinode-inference): which engine charts a release of it installs, which
rendered object belongs to which engine, and the settings each engine ends up with once Helm's global
values are applied the way the library's "mnc.applyGlobals" applies them.

A release of the umbrella is checked engine by engine: the invariants hold for each engine's objects
with that engine's own effective fabric profile, exactly as for a release of the engine chart alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from inference_charts import paths
from inference_charts.checks import invariants, pod_security, reachability
from inference_charts.checks.invariants import Finding
from inference_charts.render.engine import Rendered
from inference_charts.render.merging import deep_merge


def enabled_engines(values: Mapping[str, Any]) -> list[str]:
    """Engine charts the umbrella's (effective) values enable, in paths.ENGINE_CHARTS order."""
    return [chart for chart in paths.ENGINE_CHARTS if (values.get(chart) or {}).get("enabled")]


def engine_of(source: str) -> str | None:
    """The engine chart a template of an umbrella render belongs to
    (multinode-inference/charts/vllm-multinode/templates/x.yaml -> vllm-multinode), or None for the
    umbrella's own templates."""
    parts = source.split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "charts" and parts[index + 1] in paths.ENGINE_CHARTS:
            return parts[index + 1]
    return None


def objects_by_engine(rendered: Rendered) -> dict[str | None, list[dict[str, Any]]]:
    grouped: dict[str | None, list[dict[str, Any]]] = {}
    for obj, source in zip(rendered.objects, rendered.sources, strict=True):
        grouped.setdefault(engine_of(source), []).append(obj)
    return grouped


def _non_empty(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The library's "mnc.nonEmpty": a map without its empty values, at every depth."""
    pruned: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            if inner := _non_empty(value):
                pruned[key] = inner
        elif value:
            pruned[key] = value
    return pruned


def effective_section(values: Mapping[str, Any], engine: str, section: str) -> dict[str, Any]:
    """fabric, cache or metrics of one engine as its templates see them ("mnc.applyGlobals"): each
    non-empty key of global.<section> wins over the engine's own; mountPath, preload and path stay the
    engine's."""
    own = dict((values.get(engine) or {}).get(section) or {})
    overrides = dict(((values.get("global") or {}).get(section)) or {})
    for key in ("mountPath", "preload", "path"):
        overrides.pop(key, None)
    merged: dict[str, Any] = deep_merge(own, _non_empty(overrides))
    return merged


def engine_values(values: Mapping[str, Any], engine: str) -> dict[str, Any]:
    """One engine's values as its templates see them: its own, with the global fabric and cache applied."""
    own = dict(values.get(engine) or {})
    return {**own, "fabric": effective_section(values, engine, "fabric"),
            "cache": effective_section(values, engine, "cache")}


def workload_engines(rendered: Rendered) -> dict[str, str]:
    """kind/name of each rendered object -> the engine chart it comes from (umbrella objects left out)."""
    found = {}
    for obj, source in zip(rendered.objects, rendered.sources, strict=True):
        engine = engine_of(source)
        if engine is not None:
            found[f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"] = engine
    return found


def _in_engine(finding: Finding, engine: str) -> Finding:
    value = f"{engine}.{finding.value}" if finding.value else ""
    return replace(finding, subject=f"{engine}: {finding.subject}", value=value)


def findings(rendered: Rendered, values: Mapping[str, Any]) -> list[Finding]:
    """Every invariant finding of an umbrella release, engine by engine."""
    engines = enabled_engines(values)
    if not engines:
        return [Finding("workload", "release", "the umbrella enables no engine chart")]
    grouped = objects_by_engine(rendered)
    result: list[Finding] = []
    for engine in engines:
        profile = effective_section(values, engine, "fabric")["profile"]
        result += [_in_engine(f, engine) for f in invariants.check(grouped.get(engine, []), profile)]
    return result


def pod_security_findings(rendered: Rendered, values: Mapping[str, Any]) -> list[Finding]:
    """Pod Security findings engine by engine, each judged with that engine's effective values."""
    grouped = objects_by_engine(rendered)
    result: list[Finding] = []
    for engine in enabled_engines(values):
        result += pod_security.findings(grouped.get(engine, []), engine_values(values, engine), f"{engine}.")
    return result


def reachability_findings(rendered: Rendered, values: Mapping[str, Any], namespace: str) -> list[Finding]:
    """Reachability across the whole release (a group of one engine must not reach another engine's),
    each workload's values those of the engine it belongs to."""
    engines = workload_engines(rendered)

    def values_of(workload: str) -> tuple[str, Mapping[str, Any]]:
        engine = engines.get(workload)
        return (f"{engine}.", engine_values(values, engine)) if engine else ("", values)

    return reachability.findings(rendered.objects, namespace, values_of)
