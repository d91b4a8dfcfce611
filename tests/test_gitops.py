"""GitOps: the helmfile and Argo CD examples are valid against schemas of the fields they use and every
chart they reference renders with the values they carry; no template depends on the cluster, chance or
the clock (Argo CD renders with `helm template` and compares: random output never syncs); every
matrix case renders identically twice; hooks are the kinds Argo CD maps as docs/gitops.md says."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
from inference_charts import paths
from inference_charts.checks import kube_schemas
from inference_charts.checks.harness import Harness
from inference_charts.devtools import gitops
from inference_charts.devtools.matrix import all_cases
from inference_charts.render.cases import Case
from inference_charts.render.engine import EmbeddedHelm

HELMFILE_SCHEMA = json.loads((paths.SCHEMAS_DIR / "gitops" / "helmfile.schema.json").read_text())
ENVIRONMENTS = ("staging", "production")


# --- helmfile --------------------------------------------------------------------------------------------

def test_helmfile_parts_match_the_schema() -> None:
    validator = jsonschema.Draft7Validator(HELMFILE_SCHEMA)
    parts = gitops.load_documents(gitops.HELMFILE_EXAMPLE)
    assert len(parts) == 2, "helmfile 1.x: environments and releases in separate parts"
    for part in parts:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(part)]
        assert not errors, errors
    assert set(gitops.helmfile_environments()) == set(ENVIRONMENTS)
    assert {r["chart"] for r in parts[1]["releases"]} == {"../../charts/vllm-multinode", "../../charts/nim-multinode"}


@pytest.mark.parametrize("bad", [
    {"environments": {"dev": {}}, "releases": [{"name": "x", "chart": "c"}]},  # one part: not 1.x
    {"releases": [{"name": "x", "chart": "c", "valuesFile": "v.yaml"}]},        # unknown release key
    {"releases": [{"name": "x"}]},                                              # no chart
    {"environments": {"dev": {"values": "dev.yaml"}}},                          # values is a list
], ids=["environments-with-releases", "unknown-key", "no-chart", "values-not-list"])
def test_helmfile_schema_refuses_mistakes(bad: dict) -> None:
    assert not jsonschema.Draft7Validator(HELMFILE_SCHEMA).is_valid(bad)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helmfile_releases_render(environment: str, harness: Harness) -> None:
    cases = gitops.helmfile_cases(environment)
    assert sorted(c.chart for c in cases) == ["nim-multinode", "vllm-multinode"]
    platform = gitops.helmfile_environments()[environment]["platform"]
    for case in cases:
        assert case.values["fabric"] == platform["fabric"], "environment values reach every release"
        result = harness.evaluate(case)
        assert result.ok, f"{case.name}: " + "\n".join(result.problems())


# --- Argo CD ---------------------------------------------------------------------------------------------

def _schema_errors(objects: list[dict]) -> list[str]:
    return [str(e) for e in kube_schemas.validate(objects, (kube_schemas.NEWEST_KUBERNETES,))]


def test_app_of_apps(harness: Harness) -> None:
    (root,) = gitops.load_documents(gitops.ARGOCD_EXAMPLES / "root-app.yaml")
    assert not _schema_errors([root])
    source = root["spec"]["source"]
    folder = paths.REPO_ROOT / source["path"]
    assert (folder / "Chart.yaml").exists(), "the root Application's path is the app-of-apps chart"
    children = gitops.render_chart_folder(folder, source.get("helm", {}).get("valuesObject", {}),
                                          source["helm"]["releaseName"], root["spec"]["destination"]["namespace"])
    assert [c["kind"] for c in children] == ["Application", "Application"]
    assert not _schema_errors(children)
    charts = set()
    for child in children:
        assert child["spec"]["source"]["helm"]["valuesObject"], "values inline (valuesObject)"
        case = gitops.application_case(child)
        charts.add(case.chart)
        result = harness.evaluate(case)
        assert result.ok, f"{case.name}: " + "\n".join(result.problems())
    assert charts == set(paths.ENGINE_CHARTS)


def test_applicationset(harness: Harness) -> None:
    (appset,) = gitops.load_documents(gitops.ARGOCD_EXAMPLES / "applicationset.yaml")
    assert not _schema_errors([appset])
    applications = gitops.expand_applicationset(appset)
    assert [a["metadata"]["name"] for a in applications] == ["llama-405b", "deepseek-r1"]
    assert not _schema_errors(applications)
    for application in applications:
        assert any(s.get("ref") == "values" for s in application["spec"]["sources"]), "values from a second source"
        case = gitops.application_case(application)
        result = harness.evaluate(case)
        assert result.ok, f"{case.name}: " + "\n".join(result.problems())


def test_argocd_schemas_refuse_mistakes() -> None:
    (root,) = gitops.load_documents(gitops.ARGOCD_EXAMPLES / "root-app.yaml")
    typo = copy.deepcopy(root)
    typo["spec"]["source"]["helm"]["valueObject"] = {"x": 1}
    no_project = copy.deepcopy(root)
    del no_project["spec"]["project"]
    (appset,) = gitops.load_documents(gitops.ARGOCD_EXAMPLES / "applicationset.yaml")
    bad_policy = copy.deepcopy(appset)
    bad_policy["spec"]["syncPolicy"]["applicationsSync"] = "delete-everything"
    for bad in (typo, no_project, bad_policy):
        assert _schema_errors([bad])


# --- no lookup, no chance, no clock --------------------------------------------------------------------

#: Template functions whose output depends on the cluster (lookup, DNS), chance or the clock.
NONDETERMINISTIC = (
    "lookup", "getHostByName", "randAlpha", "randAlphaNum", "randNumeric", "randAscii", "randBytes", "randInt",
    "uuidv4", "shuffle", "now", "date", "dateInZone", "date_in_zone", "unixEpoch", "ago", "dateModify",
    "mustDateModify", "htmlDate", "htmlDateInZone", "genCA", "genCAWithKey", "genPrivateKey", "genSelfSignedCert",
    "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "bcrypt", "htpasswd", "encryptAES",
    "env", "expandenv",
)
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_CALL = re.compile(r"(?<![\w.$])(" + "|".join(NONDETERMINISTIC) + r")\b")


def nondeterministic_calls(text: str) -> list[str]:
    """Names of nondeterministic functions called in the template actions of text."""
    found = []
    for action in _ACTION.findall(text):
        code = _STRING.sub('""', _COMMENT.sub("", action))
        found += _CALL.findall(code)
    return found


def test_scanner_finds_what_it_looks_for() -> None:
    found = nondeterministic_calls('{{ lookup "v1" "Secret" "ns" "x" }}{{ randAlphaNum 8 }}')
    assert found == ["lookup", "randAlphaNum"]
    assert nondeterministic_calls("{{- now | date \"2006\" -}}") == ["now", "date"]
    assert nondeterministic_calls('{{/* lookup now */}}{{ .Values.date }}{{ $now := 1 }}{{ "uuidv4" }}') == []


def _template_files() -> list[Path]:
    files = [p for p in paths.CHARTS_DIR.glob("*/templates/**/*") if p.is_file()]
    files += [p for p in (gitops.ARGOCD_EXAMPLES / "models" / "templates").glob("*") if p.is_file()]
    return files


def test_no_template_depends_on_cluster_chance_or_clock() -> None:
    files = _template_files()
    assert len(files) > 20
    found = {str(f.relative_to(paths.REPO_ROOT)): calls
             for f in files if (calls := nondeterministic_calls(f.read_text()))}
    assert not found, f"nondeterministic template functions: {found}"


def test_every_matrix_case_renders_identically_twice(evaluated) -> None:
    """The session's first render of each case (shared with the matrix tests) against a second one."""
    second = EmbeddedHelm()
    differing = []
    for m in all_cases():
        first = evaluated(m)
        case = m.case
        again = second.render(case.chart, case.values, case.release, case.namespace)
        if (first.objects, first.notes) != (again.objects, again.notes):
            differing.append(case.name)
    assert not differing, f"rendered differently twice: {differing}"


def test_umbrella_renders_identically_twice() -> None:
    embedded = EmbeddedHelm()
    values = {"vllm-multinode": {"enabled": True, "model": {"name": "meta-llama/Llama-3.1-70B-Instruct"}},
              "nim-multinode": {"enabled": True, "topology": {"tensorParallelSize": 8, "pipelineParallelSize": 2},
                                "model": {"path": "hf://meta-llama/Llama-3.1-70B-Instruct"}}}
    renders = [embedded.render(paths.UMBRELLA_CHART, values, "models", "inference") for _ in range(2)]
    assert renders[0].objects and renders[0] == renders[1]


# --- hooks, as Argo CD maps them -----------------------------------------------------------------------

#: Helm hooks the charts use and what Argo CD makes of them (docs/gitops.md, "Argo CD and Helm hooks").
ARGOCD_HOOK_MAPPING = {"pre-install": "PreSync", "pre-upgrade": "PreSync", "test": "skipped"}


def test_hooks_are_the_kinds_argocd_maps(harness: Harness) -> None:
    seen = set()
    for chart, extra in (("vllm-multinode", {"model": {"name": "m/x"}}),
                         ("nim-multinode", {"topology": {"tensorParallelSize": 8, "pipelineParallelSize": 2},
                                            "model": {"path": "hf://m/x"}})):
        values = {**extra, "preflight": {"enabled": True, "onUpgrade": True}}
        result = harness.evaluate(Case(chart=chart, values=values))
        assert result.ok, "\n".join(result.problems())
        for obj in result.objects:
            annotations = obj["metadata"].get("annotations") or {}
            if "helm.sh/hook" not in annotations:
                continue
            hooks = set(annotations["helm.sh/hook"].split(","))
            assert hooks <= set(ARGOCD_HOOK_MAPPING), f"{obj['kind']}/{obj['metadata']['name']}: {hooks}"
            seen |= hooks
            if "test" in hooks:
                # Argo CD would otherwise apply a test pod as an ordinary resource on every sync.
                assert annotations.get("argocd.argoproj.io/hook") == "Skip"
            if "helm.sh/hook-weight" in annotations:
                int(annotations["helm.sh/hook-weight"])  # becomes the object's sync wave
    assert seen == set(ARGOCD_HOOK_MAPPING)


def test_the_gitops_page_states_the_hook_mapping() -> None:
    """docs/gitops.md's table gives each hook the charts use the treatment the test above relies on."""
    text = (paths.REPO_ROOT / "docs" / "gitops.md").read_text()
    section = text.split("## Argo CD and Helm hooks", 1)[1]
    rows = {line.split("|")[1]: line.split("|")[2] for line in section.splitlines() if line.startswith("| `")}
    for hook, treatment in ARGOCD_HOOK_MAPPING.items():
        row = next((cells for first, cells in rows.items() if f"`{hook}`" in first or f"hook: {hook}`" in first),
                   None)
        assert row is not None, f"docs/gitops.md has no row for the {hook} hook"
        assert treatment in row, f"docs/gitops.md: {hook} should be {treatment}: {row}"
    assert "argocd.argoproj.io/hook: Skip" in section

