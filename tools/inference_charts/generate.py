"""Generated files: each engine chart's values.schema.json, values.yaml and the values table in its
README.md, all from the schema sources in schemas/values/."""

from __future__ import annotations

from pathlib import Path

from . import paths
from .schema_bundle import bundle, dumps
from .values_doc import values_table, values_yaml

TABLE_START = "<!-- values-table:start -->"
TABLE_END = "<!-- values-table:end -->"


def _with_table(readme: str, table: str) -> str:
    if TABLE_START not in readme or TABLE_END not in readme:
        raise ValueError(f"README lacks the {TABLE_START} ... {TABLE_END} markers")
    head, rest = readme.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}"


def expected_files(chart: str) -> dict[Path, str]:
    schema = bundle(chart)
    folder = paths.chart_dir(chart)
    readme = folder / "README.md"
    return {
        folder / "values.schema.json": dumps(schema),
        folder / "values.yaml": values_yaml(schema),
        readme: _with_table(readme.read_text(), values_table(schema)),
    }


def generate_all(write: bool) -> list[Path]:
    """Files whose content differs from what the schema sources give; written when ``write``."""
    stale = []
    for chart in paths.ENGINE_CHARTS:
        for path, content in expected_files(chart).items():
            if not path.exists() or path.read_text() != content:
                stale.append(path)
                if write:
                    path.write_text(content)
    return stale
