"""A case: one chart rendered as one release with one set of values.

Example files in examples/ are cases on disk: a YAML mapping with the chart, release name, namespace
and values (the same values a user gives `helm install -f`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inference_charts import paths


@dataclass(frozen=True)
class Case:
    chart: str
    values: dict[str, Any]
    release: str = "demo"
    namespace: str = "inference"
    name: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.name or f"{self.chart}/{self.release}"


class CaseFileError(Exception):
    pass


def load_case(path: Path, chart: str | None = None) -> Case:
    """An example file (with chart/release/namespace/values), or a plain values file given a chart."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CaseFileError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: expected a mapping at the top level")
    if "chart" in data and "values" in data:
        extra = set(data) - {"chart", "release", "namespace", "values", "description"}
        if extra:
            raise CaseFileError(f"{path}: unknown keys {sorted(extra)} in an example file")
        return Case(chart=data["chart"], values=data["values"] or {}, release=data.get("release", "demo"),
                    namespace=data.get("namespace", "inference"), name=path.stem)
    if chart is None:
        raise CaseFileError(f"{path}: a plain values file needs --chart (one of {', '.join(paths.ENGINE_CHARTS)})")
    return Case(chart=chart, values=data, name=path.stem)


def example_files() -> list[Path]:
    return sorted(paths.EXAMPLES_DIR.glob("*.yaml"))
