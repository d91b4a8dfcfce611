"""The helmfile and Argo CD examples as cases: which chart each release or Application installs, with
which values, release name and namespace, resolved the way helmfile and Argo CD resolve them.

Go templates in them (helmfile's *.gotmpl values files, an ApplicationSet's goTemplate) are rendered
with Helm's own Go template engine and Sprig functions, which helmfile and Argo CD use too.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import helm_python
import yaml

from inference_charts import paths
from inference_charts.render.cases import Case
from inference_charts.render.engine import parse_manifests
from inference_charts.render.merging import deep_merge

HELMFILE_EXAMPLE = paths.EXAMPLES_DIR / "helmfile" / "helmfile.yaml"
ARGOCD_EXAMPLES = paths.EXAMPLES_DIR / "argocd"


class GitOpsError(Exception):
    pass


@functools.cache
def _template_chart() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gotemplate-")) / "gotemplate"
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: gotemplate\nversion: 0.0.1\n")
    return folder


def render_go_template(text: str, data: Mapping[str, Any], dot: str = "values") -> str:
    """Renders Go template text with Sprig: dot="values" gives .Values = data (helmfile's values
    templates), dot="data" makes data itself the dot (an ApplicationSet's goTemplate parameters)."""
    folder = _template_chart()
    body = "{{- with .Values }}" + text + "{{- end }}" if dot == "data" else text
    (folder / "templates" / "t.yaml").write_text(body)
    try:
        documents = helm_python.Chart.load(folder).render(dict(data), name="t", namespace="t", is_install=True)
    except (helm_python.HelmRenderError, helm_python.HelmValuesError) as error:
        raise GitOpsError(str(error)) from error
    return documents["gotemplate/templates/t.yaml"]


def load_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def chart_of(path: Path) -> str:
    """The chart of this repository a chart path points at (charts/<chart>)."""
    resolved = path.resolve()
    if resolved.parent != paths.CHARTS_DIR.resolve() or not (resolved / "Chart.yaml").exists():
        raise GitOpsError(f"{path} is not a chart under {paths.CHARTS_DIR}")
    return resolved.name


# --- helmfile ------------------------------------------------------------------------------------------

def _values_entry(entry: Any, base: Path, state_values: Mapping[str, Any]) -> Any:
    if isinstance(entry, Mapping):
        return dict(entry)
    file = base / entry
    text = file.read_text()
    if file.name.endswith(".gotmpl"):
        text = render_go_template(text, state_values)
    return yaml.safe_load(text) or {}


def helmfile_environments(helmfile: Path = HELMFILE_EXAMPLE) -> dict[str, dict[str, Any]]:
    """Each environment's state values (its values files and maps merged in order)."""
    environments: dict[str, dict[str, Any]] = {}
    for part in load_documents(helmfile):
        for name, spec in (part.get("environments") or {}).items():
            merged: dict[str, Any] = environments.get(name, {})
            for entry in (spec or {}).get("values") or []:
                merged = deep_merge(merged, _values_entry(entry, helmfile.parent, {}))
            environments[name] = merged
    return environments


def helmfile_cases(environment: str, helmfile: Path = HELMFILE_EXAMPLE) -> list[Case]:
    """Each release of the helmfile in one environment, as `helmfile -e ENV template` would render it."""
    state_values = helmfile_environments(helmfile)[environment]
    cases = []
    for part in load_documents(helmfile):
        for release in part.get("releases") or []:
            values: dict[str, Any] = {}
            for entry in release.get("values") or []:
                values = deep_merge(values, _values_entry(entry, helmfile.parent, state_values))
            cases.append(Case(chart=chart_of(helmfile.parent / release["chart"]), values=values,
                              release=release["name"], namespace=release.get("namespace", "default"),
                              name=f"helmfile-{environment}-{release['name']}"))
    return cases


# --- Argo CD -------------------------------------------------------------------------------------------

def render_chart_folder(folder: Path, values: Mapping[str, Any], release: str, namespace: str) -> list[dict]:
    """Objects of a dependency-free chart outside charts/ (the app-of-apps chart)."""
    documents = helm_python.Chart.load(folder).render(dict(values), name=release, namespace=namespace, is_install=True)
    return parse_manifests(documents).objects


def expand_applicationset(appset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Applications a goTemplate ApplicationSet with list generators makes."""
    spec = appset["spec"]
    if not spec.get("goTemplate"):
        raise GitOpsError("only goTemplate ApplicationSets are expanded here")
    template = yaml.safe_dump(spec["template"], sort_keys=False)
    applications = []
    for generator in spec["generators"]:
        if set(generator) != {"list"}:
            raise GitOpsError(f"only list generators are expanded here, not {sorted(generator)}")
        for element in generator["list"]["elements"]:
            rendered = yaml.safe_load(render_go_template(template, element, dot="data"))
            applications.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                 "metadata": {"namespace": appset["metadata"].get("namespace"),
                                              **rendered["metadata"]},
                                 "spec": rendered["spec"]})
    return applications


def application_case(application: Mapping[str, Any], repo_root: Path = paths.REPO_ROOT) -> Case:
    """The chart an Application installs from this repository, with the values Argo CD gives it:
    valueFiles (relative to the chart, or $ref/path into a source with that ref), then values, then
    valuesObject, each over the last."""
    spec = application["spec"]
    sources = spec.get("sources") or [spec["source"]]
    refs = {source["ref"]: repo_root for source in sources if source.get("ref")}
    charts = [source for source in sources if source.get("path", "").startswith("charts/")]
    if len(charts) != 1:
        raise GitOpsError(f"{application['metadata']['name']}: expected one source with a chart under charts/")
    source = charts[0]
    helm = source.get("helm") or {}
    chart_folder = repo_root / source["path"]
    values: dict[str, Any] = {}
    for file in helm.get("valueFiles") or []:
        if file.startswith("$"):
            ref, _, relative = file[1:].partition("/")
            if ref not in refs:
                raise GitOpsError(f"valueFiles entry {file} names no source ref {ref!r}")
            path = refs[ref] / relative
        else:
            path = chart_folder / file
        values = deep_merge(values, yaml.safe_load(path.read_text()) or {})
    if helm.get("values"):
        values = deep_merge(values, yaml.safe_load(helm["values"]) or {})
    values = deep_merge(values, helm.get("valuesObject") or {})
    return Case(chart=chart_of(chart_folder), values=values,
                release=helm.get("releaseName") or application["metadata"]["name"],
                namespace=helm.get("namespace") or spec["destination"].get("namespace", "default"),
                name=f"argocd-{application['metadata']['name']}")
