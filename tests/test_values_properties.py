"""Values generated from each engine chart's schema, and mutations of the examples, either render valid
objects or are refused with a message that names a value; never a Go template runtime error.

"Valid objects" is the harness's judgement (Kubernetes and CRD schemas, the invariants) plus the API
server's field rules that no OpenAPI schema carries, written out below from their sources:
kubernetes/apimachinery v0.34.0 pkg/util/validation/validation.go (IsDNS1123Label, IsDNS1123Subdomain,
IsDNS1035Label, IsQualifiedName, IsValidLabelValue, IsValidUserID, IsValidGroupID) and
kubernetes/kubernetes v1.34.0 pkg/apis/core/validation/validation.go (object names, ValidateVolumes,
validateVolumeMounts, validateNFSVolumeSource, validateContainerResourceName, priority and runtime
class names) and pkg/apis/networking/validation/validation.go (Ingress host, TLS secret, class).
Generation is derandomized and bounded, so a run is repeatable and takes seconds.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from inference_charts import paths
from inference_charts.checks import pod_security, reachability
from inference_charts.checks.harness import Harness, Result
from inference_charts.commands.schema_bundle import Schema, bundle
from inference_charts.devtools.bad_values import BASES
from inference_charts.render.cases import Case, example_files, load_case
from inference_charts.render.merging import deep_merge

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^(?:(?P<prefix>[^/]+)/)?(?P<name>([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")
INT32_MAX = 2**31 - 1
POLICY_CHECKS = frozenset({pod_security.CHECK, reachability.CHECK})

#: Messages of a Go template failing at run time, as opposed to a chart's `fail` or Helm's schema check.
RUNTIME_ERRORS = ("nil pointer", "error calling", "wrong type", "can't evaluate field", "executing \"",
                  "index out of range", "incompatible types", "error converting YAML", "invalid value;")
SCHEMA_REFUSAL = "values don't meet the specifications of the schema"
GUARD = re.compile(r"execution error at \([^)]*\): (?P<message>.*)", re.DOTALL)
#: Helm's own refusal while coalescing a chart's values with a user's table of another type
#: (helm/helm v3.19.0 pkg/chartutil/coalesce.go coalesceDeps: "type mismatch on %s: %t").
COALESCE_REFUSAL = re.compile(r"type mismatch on (?P<key>[^:]+):")

#: Values that hand a Kubernetes type through verbatim (affinity, tolerations, spread constraints,
#: NetworkPolicy peers, volumes, EnvVars, resource quantities): the schema does not describe those
#: types, so generating them would test Kubernetes' schema, not the chart. They keep their defaults.
PASS_THROUGH = {("affinity",), ("tolerations",), ("placement", "topologySpreadConstraints"),
                ("networkPolicy", "apiFrom"), ("networkPolicy", "metricsFrom"), ("extraVolumes",),
                ("extraVolumeMounts",), ("extraEnv",), ("resources",), ("global",), ("multinode-common",)}


def _is_qualified_name(key: str) -> bool:
    match = QUALIFIED_NAME.match(key)
    if not match or len(match.group("name")) > 63:
        return False
    prefix = match.group("prefix")
    return prefix is None or (len(prefix) <= 253 and bool(DNS1123_SUBDOMAIN.match(prefix)))


def _labels(where: str, labels: dict[str, Any] | None) -> Iterator[str]:
    for key, value in (labels or {}).items():
        if not _is_qualified_name(key):
            yield f"{where}: label key {key!r} is not a qualified name"
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            yield f"{where}: label {key}={value!r} is not a label value"


def _pod_spec(where: str, spec: dict[str, Any], claims: set[str]) -> Iterator[str]:
    yield from _labels(f"{where} nodeSelector", spec.get("nodeSelector"))
    for field in ("priorityClassName", "runtimeClassName"):
        if field in spec and not (len(spec[field]) <= 253 and DNS1123_SUBDOMAIN.match(spec[field])):
            yield f"{where}: {field} {spec[field]!r} is not a DNS-1123 subdomain"
    volumes = [v["name"] for v in spec.get("volumes", [])]
    for volume in spec.get("volumes", []):
        if len(volume["name"]) > 63 or not DNS1123_LABEL.match(volume["name"]):
            yield f"{where}: volume name {volume['name']!r} is not a DNS-1123 label"
        nfs = volume.get("nfs")
        if nfs and not str(nfs.get("path", "")).startswith("/"):
            yield f"{where}: NFS path {nfs.get('path')!r} is not absolute"
        if nfs and not nfs.get("server"):
            yield f"{where}: NFS volume without a server"
    if len(set(volumes)) != len(volumes):
        yield f"{where}: volume names {volumes} are not unique"
    security = spec.get("securityContext", {})
    for field in ("runAsUser", "runAsGroup", "fsGroup"):
        if field in security and not 0 <= security[field] <= INT32_MAX:
            yield f"{where}: {field} {security[field]} is out of range"
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        name = f"{where} container {container['name']}"
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        if len(set(mounts)) != len(mounts):
            yield f"{name}: mount paths {mounts} are not unique"
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes and mount["name"] not in claims:
                yield f"{name}: mount of unknown volume {mount['name']!r}"
        env = [e["name"] for e in container.get("env", [])]
        if len(set(env)) != len(env):
            yield f"{name}: an environment variable is given twice: {env}"
        for kind in ("requests", "limits"):
            for resource in container.get("resources", {}).get(kind, {}):
                if resource not in ("cpu", "memory", "ephemeral-storage") and (
                        "/" not in resource or "kubernetes.io/" in resource or not _is_qualified_name(resource)):
                    yield f"{name}: resource {resource!r} is neither standard nor an extended resource name"
        image = container.get("image", "")
        if not image or image != image.strip():
            yield f"{name}: image {image!r} is empty or has surrounding whitespace"


def api_problems(objects: list[dict[str, Any]]) -> list[str]:
    """What the API server would refuse in the rendered objects, beyond their OpenAPI schemas."""
    problems: list[str] = []
    for obj in objects:
        meta = obj.get("metadata", {})
        where = f"{obj.get('kind')}/{meta.get('name')}"
        name = str(meta.get("name", ""))
        rule = DNS1035_LABEL if obj.get("kind") == "Service" else DNS1123_SUBDOMAIN
        limit = 63 if obj.get("kind") in ("Service", "Job", "LeaderWorkerSet") else 253
        if len(name) > limit or not rule.match(name):
            problems.append(f"{where}: the name is invalid for a {obj.get('kind')}")
        problems += _labels(where, meta.get("labels"))
        problems += [f"{where}: annotation key {k!r}" for k in meta.get("annotations") or {}
                     if not _is_qualified_name(k.lower())]
        spec = obj.get("spec") or {}
        lwt = spec.get("leaderWorkerTemplate", {})
        claims = {c["metadata"]["name"] for c in lwt.get("volumeClaimTemplates", [])}
        templates = [lwt.get("leaderTemplate"), lwt.get("workerTemplate"), spec.get("template")]
        if obj.get("kind") == "Pod":
            templates.append({"metadata": meta, "spec": spec})
        for template in filter(None, templates):
            problems += _labels(f"{where} pod template", template.get("metadata", {}).get("labels"))
            problems += _pod_spec(where, template.get("spec", {}), claims)
        if obj.get("kind") == "Ingress":
            class_name = spec.get("ingressClassName")
            if class_name is not None and not DNS1123_SUBDOMAIN.match(class_name):
                problems.append(f"{where}: ingressClassName {class_name!r}")
            for rule_ in spec.get("rules", []):
                host = rule_.get("host", "")
                bare = host[2:] if host.startswith("*.") else host
                if host and (not DNS1123_SUBDOMAIN.match(bare) or re.fullmatch(r"[0-9.]+", host)):
                    problems.append(f"{where}: host {host!r}")
            for tls in spec.get("tls", []):
                if tls.get("secretName") and not DNS1123_SUBDOMAIN.match(tls["secretName"]):
                    problems.append(f"{where}: TLS secretName {tls['secretName']!r}")
        if obj.get("kind") == "PersistentVolumeClaim":
            storage_class = spec.get("storageClassName")
            if storage_class and not DNS1123_SUBDOMAIN.match(storage_class):
                problems.append(f"{where}: storageClassName {storage_class!r}")
    return problems


def value_paths(schema: Schema, prefix: str = "") -> set[str]:
    """Every dotted value path a schema describes (model, model.extraArgs, ...)."""
    found: set[str] = set()
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        found.add(path)
        found |= value_paths(sub, f"{path}.")
    return found


def judge(result: Result, known_values: set[str]) -> None:
    """The property: valid objects, or a refusal that names a value; never a template runtime error."""
    message = result.render_error
    if message:
        assert not any(marker in message for marker in RUNTIME_ERRORS), f"template runtime error: {message}"
        if SCHEMA_REFUSAL in message:
            assert "at '" in message, message
            return
        mismatch = COALESCE_REFUSAL.search(message)
        if mismatch:
            assert mismatch.group("key") in known_values, message
            return
        guard = GUARD.search(message)
        assert guard, f"neither a schema refusal nor a chart guard: {message}"
        text = guard.group("message")
        assert any(re.search(rf"(^|[\s(]){re.escape(v)}([\s:,.;)]|$)", text) for v in known_values), (
            f"the guard names no value: {text}")
        return
    # Valid values may still choose what Pod Security or the NetworkPolicy rules refuse (runAsUser 0, no
    # policies): those findings are the user's to see, and each must name the value that chose it.
    chosen = [f for f in result.findings if f.check in POLICY_CHECKS]
    assert all(f.value for f in chosen), [str(f) for f in chosen if not f.value]
    assert not result.schema_errors, result.problems()
    assert [f for f in result.findings if f.check not in POLICY_CHECKS] == [], result.problems()
    assert api_problems(result.objects) == []


def generation_schema(schema: Schema, path: tuple[str, ...] = ()) -> Schema:
    """The schema with pass-through Kubernetes types pinned to their defaults (see PASS_THROUGH)."""
    if path in PASS_THROUGH:
        return {"const": schema.get("default", {} if schema.get("type") == "object" else [])}
    out = dict(schema)
    if "properties" in schema:
        out["properties"] = {k: generation_schema(v, (*path, k)) for k, v in schema["properties"].items()}
    return out


SCHEMAS = {chart: bundle(chart) for chart in paths.ENGINE_CHARTS}
KNOWN = {chart: value_paths(schema) for chart, schema in SCHEMAS.items()}
GENERATION = {chart: generation_schema(schema) for chart, schema in SCHEMAS.items()}
SETTINGS = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def strategy_for(schema: Schema) -> st.SearchStrategy[Any]:
    """Values valid under ``schema``. Objects are built here, leaves by hypothesis-jsonschema: its own
    object generation (0.23.1) calls a Hypothesis internal that 6.170 no longer has (``many.more``)."""
    if "const" in schema:
        return st.just(schema["const"])
    if schema.get("type") == "object" and "properties" in schema:
        parts = {key: strategy_for(sub) for key, sub in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=parts)
    if schema.get("type") == "object" and "patternProperties" in schema:
        (pattern, sub), = schema["patternProperties"].items()
        return st.dictionaries(st.from_regex(pattern, fullmatch=True), strategy_for(sub), max_size=3)
    if schema.get("type") == "object":
        return st.just(copy.deepcopy(schema.get("default", {})))
    return from_schema(schema)


@st.composite
def generated_values(draw: st.DrawFn, chart: str) -> dict[str, Any]:
    """The chart's base values with one to three top-level values drawn from the schema."""
    properties = GENERATION[chart]["properties"]
    keys = draw(st.lists(st.sampled_from(sorted(properties)), min_size=1, max_size=3, unique=True))
    patch = {key: draw(strategy_for(properties[key])) for key in keys}
    merged: dict[str, Any] = deep_merge(BASES[chart], patch)
    return merged


ODD_VALUES: list[Any] = [None, "", ":", "a b", "-x", "Upper", "*", "/", "../x", "x/../y", 0, -1, 2**31, 2**63,
                         True, [], {}, ["--tensor-parallel-size", "2"], [{"name": "HF_HOME", "value": "x"}],
                         {"a b": "c"}, "model-cache", "/models", "/dev/shm", "/tmp"]


def _leaf_paths(values: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(values, dict) or not values:
        return [prefix] if prefix else []
    found = [prefix] if prefix else []
    for key, value in values.items():
        found += _leaf_paths(value, (*prefix, key))
    return found


def _set(values: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(values)
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


EXAMPLES = [load_case(path) for path in example_files()]
ENGINE_EXAMPLES = [case for case in EXAMPLES if case.chart in paths.ENGINE_CHARTS]


@st.composite
def mutated_example(draw: st.DrawFn) -> Case:
    """An example with one or two of its values (or of the schema's) replaced by an odd or a valid value."""
    case = draw(st.sampled_from(ENGINE_EXAMPLES))
    schema_paths = sorted(tuple(p.split(".")) for p in KNOWN[case.chart])
    values = case.values
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        path = draw(st.sampled_from(sorted(set(_leaf_paths(values)) | set(schema_paths))))
        values = _set(values, path, draw(st.sampled_from(ODD_VALUES)))
    return Case(chart=case.chart, values=values, release=case.release, namespace=case.namespace, name=case.name)


@pytest.fixture(scope="module")
def shared_harness() -> Harness:
    return Harness()


@pytest.mark.parametrize("chart", paths.ENGINE_CHARTS)
def test_values_from_the_schema(chart: str, shared_harness: Harness) -> None:
    @SETTINGS
    @given(generated_values(chart))
    def check(values: dict[str, Any]) -> None:
        judge(shared_harness.evaluate(Case(chart=chart, values=values)), KNOWN[chart])

    check()


def test_mutated_examples(shared_harness: Harness) -> None:
    @settings(SETTINGS, max_examples=120)
    @given(mutated_example())
    def check(case: Case) -> None:
        judge(shared_harness.evaluate(case), KNOWN[case.chart])

    check()


# The property's own checks must be able to fail: each judge rule refuses what it exists to refuse.

def test_judge_refuses_a_template_runtime_error() -> None:
    crashed = Result(case=Case(chart="vllm-multinode", values={}), renderer="",
                     render_error='smoke-test.yaml:2:66\n executing "x" at <.Values.model.name>: nil pointer '
                                  "evaluating interface {}.name")
    with pytest.raises(AssertionError, match="runtime error"):
        judge(crashed, KNOWN["vllm-multinode"])


def test_judge_refuses_a_guard_that_names_no_value() -> None:
    vague = Result(case=Case(chart="vllm-multinode", values={}), renderer="",
                   render_error="execution error at (vllm-multinode/templates/workload.yaml:1:4): something is wrong")
    with pytest.raises(AssertionError, match="names no value"):
        judge(vague, KNOWN["vllm-multinode"])


def test_api_rules_find_what_the_api_server_refuses(shared_harness: Harness) -> None:
    result = shared_harness.evaluate(Case(chart="vllm-multinode", values=BASES["vllm-multinode"]))
    assert result.ok and api_problems(result.objects) == []
    objects = copy.deepcopy(result.objects)
    lws = next(o for o in objects if o["kind"] == "LeaderWorkerSet")
    pod = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]
    pod["nodeSelector"] = {"nvidia.com/gpu.product": "NVIDIA H100"}
    pod["priorityClassName"] = "High"
    pod["containers"][0]["volumeMounts"].append(dict(pod["containers"][0]["volumeMounts"][0]))
    pod["containers"][0]["env"].append(dict(pod["containers"][0]["env"][0]))
    pod["securityContext"]["runAsUser"] = 2**31
    service = next(o for o in objects if o["kind"] == "Service")
    service["metadata"]["name"] = "1st-llm"
    found = "\n".join(api_problems(objects))
    for expected in ("nodeSelector", "priorityClassName", "mount paths", "given twice", "runAsUser", "Service/1st-llm"):
        assert expected in found, found


def test_a_release_name_that_makes_no_service_name_is_refused(shared_harness: Harness) -> None:
    result = shared_harness.evaluate(Case(chart="vllm-multinode", values=BASES["vllm-multinode"], release="1st"))
    assert "fullnameOverride" in result.render_error and '"1st"' in result.render_error
    fixed = deep_merge(BASES["vllm-multinode"], {"fullnameOverride": "first-llm"})
    assert shared_harness.evaluate(Case(chart="vllm-multinode", values=fixed, release="1st")).ok


def test_examples_load_as_yaml() -> None:
    assert ENGINE_EXAMPLES and all(yaml.safe_dump(case.values) for case in ENGINE_EXAMPLES)
