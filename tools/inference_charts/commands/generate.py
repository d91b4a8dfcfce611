"""Generated files: each engine chart's and the umbrella chart's values.schema.json, values.yaml and the
values table in its README.md, all from the schema sources in schemas/values/; and the LeaderWorkerSet
requirements table, in each engine chart's README.md and in docs/requirements.md."""

from __future__ import annotations

from pathlib import Path

from inference_charts import paths
from inference_charts.checks import requirements
from inference_charts.commands.schema_bundle import bundle, dumps
from inference_charts.commands.values_doc import values_table, values_yaml

#: The page that carries the requirements table outside the chart READMEs.
REQUIREMENTS_DOC = paths.REPO_ROOT / "docs" / "requirements.md"


def _with_table(readme: str, table: str, marker: str) -> str:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start not in readme or end not in readme:
        raise ValueError(f"the page lacks the {start} ... {end} markers")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}{end}{tail}"


def expected_files(chart: str) -> dict[Path, str]:
    schema = bundle(chart)
    folder = paths.chart_dir(chart)
    readme = folder / "README.md"
    table = values_table(schema)
    text = _with_table(readme.read_text(), table, "values-table")
    if chart in paths.ENGINE_CHARTS:
        text = _with_table(text, requirements.markdown_table(), "requirements")
    return {
        folder / "values.schema.json": dumps(schema),
        folder / "values.yaml": values_yaml(schema),
        readme: text,
    }


def expected_requirements_doc() -> str:
    """docs/requirements.md with the generated LeaderWorkerSet requirements table."""
    return _with_table(REQUIREMENTS_DOC.read_text(), requirements.markdown_table(), "requirements")


def generate_all(write: bool) -> list[Path]:
    """Files whose content differs from what the schema sources give; written when ``write``."""
    stale = []
    expected = {REQUIREMENTS_DOC: expected_requirements_doc()}
    for chart in paths.GENERATED_CHARTS:
        expected.update(expected_files(chart))
    for path, content in expected.items():
        if not path.exists() or path.read_text() != content:
            stale.append(path)
            if write:
                path.write_text(content)
    return stale
