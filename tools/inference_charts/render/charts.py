"""Where a chart comes from: a chart of this repository by name, a chart directory, a packaged
``.tgz``, or an ``oci://`` reference with a version.

    resolve("vllm-multinode")                              charts/vllm-multinode of the checkout
    resolve("deploy/charts/vllm-multinode")                a chart directory anywhere
    resolve("dist/vllm-multinode-0.2.0.tgz")               a packaged chart
    resolve("oci://ghcr.io/acme/charts/vllm-multinode", version="0.2.0", workdir=tmp)

A chart given by name is rendered from the checkout's sources with its dependencies built fresh
(engine.prepare), and needs a checkout: an installed package has none. Any other chart is rendered
as it is, from its path; a directory whose Chart.yaml lists dependencies that its charts/ folder lacks
gets them built first (``helm dependency build``, as ``helm install --dependency-update`` would).

An OCI chart is pulled into ``workdir`` by the embedded Helm engine (helm-python-sdk, which reads the
credentials of ``helm registry login``), or by the Helm CLI given as ``helm``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import helm_python
import yaml

from inference_charts import paths

OCI_PREFIX = "oci://"
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")


class ChartError(Exception):
    """The chart cannot be found, pulled or loaded."""


@dataclass(frozen=True)
class ChartRef:
    """A resolved chart: its name and version (from its Chart.yaml), and the path to render it from,
    or None for a chart of this repository rendered by name."""

    name: str
    version: str
    path: Path | None
    #: What the user gave (a name, a path, an oci:// reference).
    given: str

    @property
    def source(self) -> str | Path:
        """What a renderer takes: the path of a chart given by location, the name of an in-repo chart."""
        return self.path if self.path is not None else self.name

    def __str__(self) -> str:
        where = self.given if self.path is not None else f"this repository's charts/{self.name}"
        return f"{self.name} {self.version} from {where}"


def _metadata(path: Path) -> tuple[str, str, int]:
    """(name, version, how many declared dependencies it lacks) of a chart directory or archive."""
    try:
        chart = helm_python.Chart.load(path)
    except helm_python.HelmError as error:
        raise ChartError(f"{path}: not a Helm chart: {error}") from error
    with chart:
        metadata = chart.metadata
        declared = metadata.get("dependencies") or []
        present = {dependency.get("name") for dependency in chart.dependencies}
        missing = sum(1 for dependency in declared if dependency.get("name") not in present)
        return str(metadata.get("name", "")), str(metadata.get("version", "")), missing


def _in_repository(name: str) -> ChartRef:
    root = paths.checkout()
    if root is None:
        raise ChartError(
            f"{name!r} names a chart of the multinode-inference-charts repository, and this installation "
            "has no checkout of it: give --chart a chart directory, a packaged .tgz, or an oci:// "
            "reference with --version")
    folder = paths.chart_dir(name)
    if not (folder / "Chart.yaml").is_file():
        known = ", ".join(paths.GENERATED_CHARTS)
        raise ChartError(f"no chart {name!r}: not a path, and not a chart of this repository ({known})")
    chart_name, version, _ = _metadata(folder)
    return ChartRef(chart_name, version, None, name)


def _local(path: Path, given: str) -> ChartRef:
    name, version, missing = _metadata(path)
    root = paths.checkout()
    if path.is_dir() and root is not None and path.resolve() == paths.chart_dir(name).resolve():
        # This repository's own chart: render it by name, so its dependencies track their sources.
        return ChartRef(name, version, None, given)
    if path.is_dir() and missing:
        _build_dependencies(path, set())
    return ChartRef(name, version, path.resolve(), given)


def _build_dependencies(folder: Path, seen: set[Path]) -> None:
    """``helm dependency build`` for a chart directory, its file:// dependencies first: an umbrella packs
    the engine charts as they are, so each must hold its own library before the umbrella packs it."""
    folder = folder.resolve()
    if folder in seen:
        return
    seen.add(folder)
    try:
        declared = (yaml.safe_load((folder / "Chart.yaml").read_text()) or {}).get("dependencies") or []
    except (OSError, yaml.YAMLError) as error:
        raise ChartError(f"{folder / 'Chart.yaml'}: {error}") from error
    for dependency in declared:
        repository = str(dependency.get("repository") or "")
        target = folder / repository.removeprefix("file://")
        if repository.startswith("file://") and (target / "Chart.yaml").is_file() and _metadata(target)[2]:
            _build_dependencies(target, seen)
    try:
        helm_python.dependency_build(folder)
    except helm_python.HelmError as error:
        raise ChartError(f"{folder}: its dependencies are missing from charts/ and could not be built: "
                         f"{error}") from error


def pull(reference: str, version: str, workdir: Path, *, helm: Path | None = None, plain_http: bool = False) -> Path:
    """The archive of an OCI chart, pulled into ``workdir`` (the embedded engine, or ``helm`` pull)."""
    workdir.mkdir(parents=True, exist_ok=True)
    before = set(workdir.glob("*.tgz"))
    if helm is None:
        try:
            helm_python.pull(reference, version=version, destination=workdir, plain_http=plain_http)
        except helm_python.HelmError as error:
            raise ChartError(f"cannot pull {reference} {version}: {error}") from error
    else:
        command = [str(helm), "pull", reference, "--version", version, "--destination", str(workdir)]
        done = subprocess.run([*command, *(["--plain-http"] if plain_http else [])],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ChartError(f"cannot pull {reference} {version} ({helm} pull): {done.stderr.strip()}")
    pulled = sorted(set(workdir.glob("*.tgz")) - before)
    if len(pulled) != 1:
        raise ChartError(f"pulling {reference} {version} left {len(pulled)} archives in {workdir}, expected one")
    return pulled[0]


def resolve(given: str, version: str | None = None, *, workdir: Path | None = None, helm: Path | None = None,
            plain_http: bool = False) -> ChartRef:
    """The chart ``given`` names (see the module's docstring). ``version`` is required for, and only
    taken with, an oci:// reference; ``workdir`` receives a pulled archive."""
    if given.startswith(OCI_PREFIX):
        if not version:
            raise ChartError(f"{given}: an oci:// chart needs --version")
        if workdir is None:
            raise ValueError("an oci:// chart needs a workdir to pull into")
        archive = pull(given, version, workdir, helm=helm, plain_http=plain_http)
        name, pulled_version, _ = _metadata(archive)
        return ChartRef(name, pulled_version, archive, f"{given} {version}")
    if version:
        raise ChartError(f"--version {version} is for an oci:// chart; {given} is not one")
    path = Path(given)
    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise ChartError(f"{given}: a directory without a Chart.yaml")
        return _local(path, given)
    if path.is_file():
        if not given.endswith(ARCHIVE_SUFFIXES):
            raise ChartError(f"{given}: a file that is not a packaged chart (.tgz)")
        return _local(path, given)
    if "/" in given or given.endswith(ARCHIVE_SUFFIXES):
        raise ChartError(f"{given}: no such chart directory or archive")
    return _in_repository(given)
