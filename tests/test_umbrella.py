"""The umbrella chart (charts/multinode-inference): an engine rendered through it gives the same objects
as the engine chart alone, every harness invariant holds for its releases, the library's global
helpers fold global values in with the documented precedence, and its schema covers its own keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import helm_python
import jsonschema
import pytest
import yaml
from inference_charts import paths
from inference_charts.checks import umbrella
from inference_charts.checks.harness import Harness
from inference_charts.commands.schema_bundle import bundle
from inference_charts.devtools.matrix import all_cases
from inference_charts.render.cases import Case
from inference_charts.render.engine import EmbeddedHelm, Rendered, parse_manifests

UMBRELLA = paths.UMBRELLA_CHART


def _sample() -> list:
    """One matrix case per chart, workload kind, fabric and cache type: every axis the engines vary on."""
    seen: set[tuple] = set()
    picked = []
    for m in all_cases():
        key = (m.case.chart, m.workload, m.fabric, m.cache)
        if key not in seen:
            seen.add(key)
            picked.append(m)
    return picked


SAMPLE = _sample()


def _through_umbrella(chart: str, values: dict) -> dict:
    return {chart: {**copy.deepcopy(values), "enabled": True}}


def _by_identity(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


@pytest.fixture(scope="module")
def embedded() -> EmbeddedHelm:
    return EmbeddedHelm()


@pytest.mark.parametrize("m", SAMPLE, ids=lambda m: m.case.name)
def test_engine_through_umbrella_renders_the_same_objects(m, embedded: EmbeddedHelm, harness: Harness) -> None:
    case = m.case
    alone = embedded.render(case.chart, case.values, case.release, case.namespace)
    through = Case(chart=UMBRELLA, values=_through_umbrella(case.chart, case.values), release=case.release,
                   namespace=case.namespace, name=f"umbrella-{case.name}")
    result = harness.evaluate(through)
    assert result.ok, "\n".join(result.problems())
    # The subchart keeps its own .Chart, so names and labels are the engine chart's: the same objects.
    assert _by_identity(result.objects) == _by_identity(alone.objects)


def test_both_engines_in_one_release(embedded: EmbeddedHelm, harness: Harness) -> None:
    vllm = next(m.case for m in SAMPLE if m.case.chart == "vllm-multinode" and m.topology.pods > 1)
    nim = next(m.case for m in SAMPLE if m.case.chart == "nim-multinode" and m.topology.pods > 1)
    values = {**_through_umbrella(vllm.chart, vllm.values), **_through_umbrella(nim.chart, nim.values)}
    result = harness.evaluate(Case(chart=UMBRELLA, values=values, release="models"))
    assert result.ok, "\n".join(result.problems())
    expected = {}
    for case in (vllm, nim):
        expected.update(_by_identity(embedded.render(case.chart, case.values, "models", "inference").objects))
    assert _by_identity(result.objects) == expected
    # The umbrella's notes name each engine's leader Service, as rendered.
    services = [o["metadata"]["name"] for o in result.objects if o["kind"] == "Service"]
    for name in ("models-vllm-multinode", "models-nim-multinode"):
        assert name in services
        assert f"svc/{name} " in result.notes


def test_invariants_are_checked_per_engine(harness: Harness) -> None:
    """A broken object of one engine is reported under that engine's name."""
    vllm = next(m.case for m in SAMPLE if m.case.chart == "vllm-multinode" and m.topology.pods > 1)
    values = _through_umbrella(vllm.chart, vllm.values)
    result = harness.evaluate(Case(chart=UMBRELLA, values=values, release="models"))
    broken = [copy.deepcopy(o) for o in result.objects]
    for obj in broken:
        if obj["kind"] == "Service" and obj["spec"].get("selector"):
            obj["spec"]["selector"] = {"app.kubernetes.io/instance": "models"}
    rendered = Rendered(objects=broken, notes="",
                        sources=tuple(f"{UMBRELLA}/charts/vllm-multinode/templates/x.yaml" for _ in broken))
    findings = umbrella.findings(rendered, result.values)
    assert findings and all(f.subject.startswith("vllm-multinode: ") for f in findings)


def test_no_engine_enabled(harness: Harness) -> None:
    result = harness.evaluate(Case(chart=UMBRELLA, values={}, release="models"))
    assert not result.render_error and not result.objects
    assert [f.check for f in result.findings] == ["workload"]
    assert "installs no engine" in result.notes


def test_notes_warn_about_risky_choices(harness: Harness) -> None:
    values = {"vllm-multinode": {
        "enabled": True, "model": {"name": "meta-llama/Llama-3.1-70B-Instruct"},
        "topology": {"podsPerGroup": 2, "gpusPerPod": 8, "tensorParallelSize": 16, "pipelineParallelSize": 1},
        "fabric": {"profile": "ethernet"}, "cache": {"type": "emptyDir", "emptyDir": {"sizeLimit": "1Ti"}}}}
    result = harness.evaluate(Case(chart=UMBRELLA, values=values, release="models"))
    assert not result.render_error, result.render_error
    assert "WARNING: tensor parallelism spans 16 GPUs over TCP" in result.notes
    assert "WARNING: the cache type is emptyDir" in result.notes


# --- the umbrella's schema ---------------------------------------------------------------------------

def test_umbrella_schema_covers_its_own_keys() -> None:
    validator = jsonschema.Draft7Validator(bundle(UMBRELLA))
    good = {"global": {"imageRegistry": "registry.example.com/mirror", "imagePullSecrets": ["pull"],
                       "fabric": {"profile": "roce"}, "cache": {"type": "existingClaim",
                                                                "existingClaim": {"name": "models"}},
                       "securityContext": {"runAsNonRoot": True}, "podLabels": {"team": "ml"},
                       "storageClass": "from-a-larger-umbrella"},
            "enabled": True,
            "vllm-multinode": {"enabled": True, "model": {"name": "x"}}, "nim-multinode": {"enabled": False}}
    assert validator.is_valid(good)
    for bad in ({"global": {"fabric": {"profile": "carrier-pigeon"}}},
                {"global": {"fabric": {"profil": "roce"}}},
                {"global": {"cache": {"mountPath": "/models"}}},
                {"global": {"metrics": {"path": "/metrics"}}},
                {"global": {"imagePullSecrets": "pull"}},
                {"vllm-multinode": {"enabled": "yes"}},
                {"vllm": {"enabled": True}}):
        assert not validator.is_valid(bad), bad


def test_helm_refuses_bad_umbrella_and_engine_values(harness: Harness) -> None:
    """Helm checks the umbrella's schema and, under it, each enabled engine chart's own schema."""
    refused = harness.evaluate(Case(chart=UMBRELLA, values={"global": {"fabric": {"profile": "x"}}}))
    assert "profile" in refused.render_error
    engine = harness.evaluate(Case(chart=UMBRELLA, values={
        "vllm-multinode": {"enabled": True, "model": {"name": "x"}, "topology": {"gpusPerPod": "eight"}}}))
    assert "gpusPerPod" in engine.render_error


# --- the library's global helpers (charts/multinode-common/templates/_global.tpl) ----------------------

PROBE_CHART = """apiVersion: v2
name: global-probe
version: 0.0.1
dependencies:
  - name: multinode-common
    version: 0.2.0
    repository: file://{library}
"""

# Applied twice (it must be idempotent), then the folded values as JSON.
PROBE_TEMPLATE = """{{- include "mnc.applyGlobals" . -}}
{{- include "mnc.applyGlobals" . -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  values: {{ pick .Values "fabric" "cache" "metrics" "securityContext" "podLabels" "podAnnotations" | toJson | quote }}
"""

ENGINE_LIKE = {
    "fabric": {"profile": "infiniband", "ibHca": "mlx5", "gidIndex": 3, "env": {"NCCL_A": "own"}},
    "cache": {"type": "pvc", "mountPath": "/root/.cache/huggingface", "existingClaim": {"name": ""}},
    "metrics": {"path": "/metrics", "serviceMonitor": {"enabled": False, "interval": "30s"}},
    "securityContext": {"runAsUser": None, "fsGroup": 1000, "runAsNonRoot": False},
    "podLabels": {"team": "own"},
    "podAnnotations": {},
}


@pytest.fixture(scope="module")
def probe_chart(tmp_path_factory) -> helm_python.Chart:
    folder: Path = tmp_path_factory.mktemp("probe") / "global-probe"
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(PROBE_CHART.format(library=paths.LIBRARY_CHART))
    (folder / "values.yaml").write_text(yaml.safe_dump(ENGINE_LIKE))
    (folder / "templates" / "probe.yaml").write_text(PROBE_TEMPLATE)
    helm_python.dependency_build(folder)
    return helm_python.Chart.load(folder)


def _folded(chart: helm_python.Chart, global_values: dict) -> dict:
    documents = chart.render({"global": global_values}, name="r", namespace="n", is_install=True)
    (config_map,) = parse_manifests(documents).objects
    return json.loads(config_map["data"]["values"])


def test_no_globals_leave_the_values_alone(probe_chart) -> None:
    # Helm drops the null (runAsUser) from the chart's defaults; nothing else changes.
    expected = copy.deepcopy(ENGINE_LIKE)
    del expected["securityContext"]["runAsUser"]
    assert _folded(probe_chart, {}) == expected


def test_global_fabric_cache_metrics_win_per_key(probe_chart) -> None:
    folded = _folded(probe_chart, {
        "fabric": {"profile": "roce", "env": {"NCCL_B": "global"}, "ibHca": ""},
        "cache": {"type": "existingClaim", "existingClaim": {"name": "models"}, "mountPath": "/elsewhere",
                  "pvc": {"size": ""}},
        "metrics": {"serviceMonitor": {"enabled": True}, "path": "/other"},
    })
    assert folded["fabric"] == {"profile": "roce", "ibHca": "mlx5", "gidIndex": 3,
                                "env": {"NCCL_A": "own", "NCCL_B": "global"}}
    assert folded["cache"] == {"type": "existingClaim", "mountPath": "/root/.cache/huggingface",
                               "existingClaim": {"name": "models"}}
    assert folded["metrics"] == {"path": "/metrics", "serviceMonitor": {"enabled": True, "interval": "30s"}}


def test_global_defaults_fill_only_what_the_chart_leaves_unset(probe_chart) -> None:
    folded = _folded(probe_chart, {
        "securityContext": {"runAsUser": 2000, "fsGroup": 3000, "runAsNonRoot": True},
        "podLabels": {"team": "platform", "cost-center": "gpu"},
        "podAnnotations": {"k8s.v1.cni.cncf.io/networks": "rdma-net"},
    })
    assert folded["securityContext"] == {"runAsUser": 2000, "fsGroup": 1000, "runAsNonRoot": True}
    assert folded["podLabels"] == {"team": "own", "cost-center": "gpu"}
    assert folded["podAnnotations"] == {"k8s.v1.cni.cncf.io/networks": "rdma-net"}


# --- globals through the umbrella, once the library calls mnc.applyGlobals --------------------------

def _library_applies_globals() -> bool:
    """Whether the library's entry points and both engines' NOTES call mnc.applyGlobals (see _global.tpl)."""
    library = "".join(p.read_text() for p in (paths.LIBRARY_CHART / "templates").glob("*.tpl")
                      if p.name != "_global.tpl")
    notes = [(paths.chart_dir(c) / "templates" / "NOTES.txt").read_text() for c in paths.ENGINE_CHARTS]
    return library.count('include "mnc.applyGlobals"') >= 3 and all("mnc.applyGlobals" in n for n in notes)


@pytest.mark.skipif(not _library_applies_globals(),
                    reason="the library does not call mnc.applyGlobals yet (wiring listed in _global.tpl)")
def test_globals_reach_every_engine(harness: Harness, embedded: EmbeddedHelm) -> None:
    vllm = next(m.case for m in SAMPLE if m.case.chart == "vllm-multinode" and m.topology.pods > 1)
    nim = next(m.case for m in SAMPLE if m.case.chart == "nim-multinode" and m.topology.pods > 1)
    values = {**_through_umbrella(vllm.chart, vllm.values), **_through_umbrella(nim.chart, nim.values),
              "global": {"fabric": {"profile": "roce", "ibHca": "mlx5_0,mlx5_1"},
                         "cache": {"type": "existingClaim", "existingClaim": {"name": "models-rwx"}},
                         "podLabels": {"platform": "gpu"}}}
    result = harness.evaluate(Case(chart=UMBRELLA, values=values, release="models"))
    assert result.ok, "\n".join(result.problems())
    assert not [o for o in result.objects if o["kind"] == "PersistentVolumeClaim"]
    for engine in paths.ENGINE_CHARTS:
        alone_values = {**values[engine], "global": values["global"]}
        alone = embedded.render(engine, alone_values, "models", "inference")
        assert "fabric roce" in alone.notes, alone.notes
    for obj in result.objects:
        if obj["kind"] == "LeaderWorkerSet":
            pod = obj["spec"]["leaderWorkerTemplate"]["leaderTemplate"]
            env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
            assert env["NCCL_IB_HCA"] == "mlx5_0,mlx5_1" and "NCCL_IB_GID_INDEX" in env
            assert pod["metadata"]["labels"]["platform"] == "gpu"
            volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "model-cache")
            assert volume["persistentVolumeClaim"]["claimName"] == "models-rwx"
