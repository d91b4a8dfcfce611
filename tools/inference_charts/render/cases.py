"""A case: one chart rendered as one release with one set of values.

Example files in examples/ are cases on disk: a YAML mapping with the chart, release name, namespace
and values (the same values a user gives `helm install -f`). A plain values file is a case once it is
given a chart: a name of this repository's charts, or a ChartRef (render/charts.py) for a chart from a
directory, an archive or a registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inference_charts import paths
from inference_charts.render.charts import ChartRef


@dataclass(frozen=True)
class Case:
    chart: str
    values: dict[str, Any]
    release: str = "demo"
    namespace: str = "inference"
    name: str = ""
    tags: tuple[str, ...] = field(default=())
    #: The chart directory or archive to render; None: the chart of this repository named ``chart``.
    chart_path: Path | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.chart}/{self.release}"

    @property
    def source(self) -> str | Path:
        """What a renderer renders: the chart's path, or the in-repository chart's name."""
        return self.chart_path if self.chart_path is not None else self.chart


class CaseFileError(Exception):
    pass


def load_case(path: Path, chart: str | ChartRef | None = None, *, release: str | None = None,
              namespace: str | None = None) -> Case:
    """An example file (with chart/release/namespace/values), or a plain values file given a chart.
    ``release`` and ``namespace``, when given, override the file's (or the defaults: demo, inference)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CaseFileError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: expected a mapping at the top level")
    ref = chart if isinstance(chart, ChartRef) else None
    if "chart" in data and "values" in data:
        extra = set(data) - {"chart", "release", "namespace", "values", "description"}
        if extra:
            raise CaseFileError(f"{path}: unknown keys {sorted(extra)} in an example file")
        if ref is not None and ref.name != data["chart"]:
            raise CaseFileError(f"{path}: an example for chart {data['chart']}, checked with --chart {ref}")
        return Case(chart=data["chart"], values=data["values"] or {},
                    release=release or data.get("release", "demo"),
                    namespace=namespace or data.get("namespace", "inference"), name=path.stem,
                    chart_path=ref.path if ref else None)
    if chart is None:
        raise CaseFileError(f"{path}: a plain values file needs --chart (one of {', '.join(paths.ENGINE_CHARTS)})")
    return Case(chart=ref.name if ref else str(chart), values=data, release=release or "demo",
                namespace=namespace or "inference", name=path.stem, chart_path=ref.path if ref else None)


def example_files() -> list[Path]:
    return sorted(paths.EXAMPLES_DIR.glob("*.yaml"))
