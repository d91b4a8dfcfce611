"""Rendering charts with Helm's own Go template engine.

Two renderers share one interface: the Helm v4 SDK embedded in process through ``helm-python-sdk``
(the default: no binary, well under a millisecond a render), and any ``helm`` CLI found on PATH or
installed into .tools/helm by ``make helm-clis`` (for compatibility tests across Helm 3 and Helm 4).
Nothing here interprets templates itself.

A chart is named (a chart of this repository, rendered from charts/<name> with its dependencies built
from the current sources: ``prepare``) or given as a Path (a chart directory or packaged archive from
anywhere, rendered as it is: render/charts.py resolves and prepares it).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import helm_python
import yaml

from inference_charts import paths

Manifest = dict[str, Any]

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader without YAML 1.1's "=" value-key resolver: Helm writes the string "=" plain
    (go-yaml), and the API server reads it as that string, where PyYAML would refuse the document."""


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
}
_LOADER: type[yaml.SafeLoader] = _ManifestLoader


class RenderError(Exception):
    """Helm refused the values (schema) or a template failed (a chart guard, for example)."""


@dataclass(frozen=True)
class Rendered:
    """The objects a render produced, in template order, and the NOTES.txt text."""

    objects: list[Manifest]
    notes: str
    #: The template each object came from (chart/templates/x.yaml, chart/charts/sub/templates/x.yaml).
    sources: tuple[str, ...] = ()


def parse_manifests(documents: Mapping[str, str]) -> Rendered:
    objects: list[Manifest] = []
    sources: list[str] = []
    notes = ""
    for template, text in documents.items():
        if template.endswith("NOTES.txt"):
            # The top chart's notes; a subchart's (chart/charts/sub/templates/NOTES.txt) is not shown.
            if "/charts/" not in template:
                notes = text
            continue
        parsed = [doc for doc in yaml.load_all(text, Loader=_LOADER) if doc]
        objects.extend(parsed)
        sources.extend([template] * len(parsed))
    return Rendered(objects=objects, notes=notes, sources=tuple(sources))


#: A chart of this repository by name, or a chart directory or archive by path.
ChartSource = str | Path


class Renderer(Protocol):
    name: str

    def render(self, chart: ChartSource, values: Mapping[str, Any], release: str, namespace: str) -> Rendered: ...


def _fingerprint(folders: list[Path]) -> float:
    return max(p.stat().st_mtime for folder in folders for p in folder.rglob("*") if p.is_file())


def _library_fingerprint() -> float:
    return _fingerprint([paths.LIBRARY_CHART])


def drop_stale_lock(chart: str) -> None:
    """Removes a Chart.lock that pins a file:// dependency to a version the dependency no longer has
    (after a version bump), so that ``helm dependency build`` resolves it again instead of failing."""
    lock_file = paths.chart_dir(chart) / "Chart.lock"
    if not lock_file.exists():
        return
    lock = yaml.safe_load(lock_file.read_text()) or {}
    for dependency in lock.get("dependencies") or []:
        repository = str(dependency.get("repository", ""))
        if repository.startswith("file://"):
            target = (paths.chart_dir(chart) / repository.removeprefix("file://") / "Chart.yaml").resolve()
            current = yaml.safe_load(target.read_text()).get("version") if target.exists() else None
            if current != dependency.get("version"):
                lock_file.unlink()
                return


@functools.cache
def _built_dependencies(chart: str, fingerprint: float) -> None:
    """Packs the chart's dependencies into its charts/ folder (``helm dependency build``): the library
    into an engine chart, the engine charts (each with its library) into the umbrella chart."""
    drop_stale_lock(chart)
    helm_python.dependency_build(paths.chart_dir(chart))


def prepare(chart: str) -> Path:
    """The chart's directory, its dependencies built from the current sources: the library for an
    engine chart; for the umbrella chart, each engine chart (prepared first) with its library."""
    if chart == paths.UMBRELLA_CHART:
        for engine in paths.ENGINE_CHARTS:
            prepare(engine)
        engines = [paths.chart_dir(engine) for engine in paths.ENGINE_CHARTS]
        _built_dependencies(chart, _fingerprint([paths.LIBRARY_CHART, *engines]))
    else:
        _built_dependencies(chart, _library_fingerprint())
    return paths.chart_dir(chart)


class EmbeddedHelm:
    """Helm's Go engine in process, through the helm-python-sdk bindings."""

    name = f"embedded helm {helm_python.helm_sdk_version()}"

    def __init__(self) -> None:
        self._charts: dict[str, helm_python.Chart] = {}

    def chart(self, chart: ChartSource) -> helm_python.Chart:
        if isinstance(chart, Path):
            # Loaded afresh each time (a few milliseconds): a chart from outside may have conditional
            # dependencies, which rendering drops from the loaded chart (see below).
            return helm_python.Chart.load(chart)
        if chart == paths.UMBRELLA_CHART:
            # Rendering drops the subcharts whose condition is false from the loaded chart itself, so a
            # chart with conditional dependencies is loaded afresh for every use (about 5 ms).
            return helm_python.Chart.load(prepare(chart))
        if chart not in self._charts:
            self._charts[chart] = helm_python.Chart.load(prepare(chart))
        return self._charts[chart]

    def effective_values(self, chart: ChartSource, values: Mapping[str, Any]) -> dict[str, Any]:
        """The chart's defaults coalesced with ``values``, as an install would see them."""
        return self.chart(chart).merge_values(dict(values))

    def render(self, chart: ChartSource, values: Mapping[str, Any], release: str, namespace: str) -> Rendered:
        try:
            documents = self.chart(chart).render(
                dict(values), name=release, namespace=namespace, is_install=True
            )
        except (helm_python.HelmValuesError, helm_python.HelmRenderError) as error:
            raise RenderError(str(error)) from error
        return parse_manifests(documents)


# helm template prints "# Source: chart/templates/x.yaml" before each document.
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


class HelmCli:
    """A ``helm`` binary, run as ``helm template``."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.version = subprocess.run(
            [str(binary), "version", "--short"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.name = f"helm CLI {self.version}"

    def render(self, chart: ChartSource, values: Mapping[str, Any], release: str, namespace: str) -> Rendered:
        folder = chart if isinstance(chart, Path) else prepare(chart)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            yaml.safe_dump(dict(values), handle)
        try:
            result = subprocess.run(
                [str(self.binary), "template", release, str(folder), "--namespace", namespace,
                 "--values", handle.name],
                capture_output=True, text=True, env={**os.environ, "HELM_CACHE_HOME": tempfile.gettempdir()},
            )
        finally:
            os.unlink(handle.name)
        if result.returncode != 0:
            raise RenderError(result.stderr.strip())
        return parse_manifests(_split_by_source(result.stdout))


def _split_by_source(stream: str) -> dict[str, str]:
    """helm template's output as {template path: text}, like the SDK returns it."""
    documents: dict[str, str] = {}
    for chunk in stream.split("\n---\n"):
        match = _SOURCE.search(chunk)
        key = match.group(1) if match else f"document-{len(documents)}"
        documents[key] = documents.get(key, "") + "\n---\n" + chunk
    return documents


def helm_clis() -> list[HelmCli]:
    """Every Helm CLI available: those in .tools/helm (``make helm-clis``) and ``helm`` on PATH."""
    binaries = sorted(paths.HELM_CLI_DIR.glob("*/helm"))
    on_path = shutil.which("helm")
    if on_path:
        binaries.append(Path(on_path))
    clis: dict[str, HelmCli] = {}
    for binary in binaries:
        cli = HelmCli(binary)
        clis.setdefault(cli.version, cli)
    return list(clis.values())
