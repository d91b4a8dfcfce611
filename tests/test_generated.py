"""values.schema.json, values.yaml and the README values table are generated from schemas/values/, the
requirements table in docs/requirements.md from checks/requirements.py, and none may drift; the bundled
schema is plain draft-07 that old Helm 3 releases can read."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from inference_charts import paths
from inference_charts.commands import generate
from inference_charts.commands.schema_bundle import bundle, defaults
from inference_charts.render.merging import deep_merge


@pytest.mark.parametrize("chart", paths.GENERATED_CHARTS)
def test_generated_files_are_up_to_date(chart: str) -> None:
    for path, content in generate.expected_files(chart).items():
        assert path.read_text() == content, f"{path} is out of date: run `make gen`"


def test_requirements_doc_is_up_to_date() -> None:
    assert generate.REQUIREMENTS_DOC.read_text() == generate.expected_requirements_doc(), \
        "docs/requirements.md is out of date: run `make gen`"


def test_generate_reports_drift(tmp_path, monkeypatch) -> None:
    for chart in paths.GENERATED_CHARTS:
        (tmp_path / chart).mkdir()
        for name in ("values.schema.json", "values.yaml", "README.md"):
            (tmp_path / chart / name).write_text((paths.chart_dir(chart) / name).read_text())
    edited = tmp_path / paths.ENGINE_CHARTS[0] / "values.yaml"
    edited.write_text("# edited by hand\n")
    monkeypatch.setattr(paths, "CHARTS_DIR", tmp_path)
    assert generate.generate_all(write=False) == [edited]
    # A requirements page whose generated section is empty (stale) is reported, and written when asked.
    doc = tmp_path / "requirements.md"
    doc.write_text("# Requirements\n\n<!-- requirements:start -->\n<!-- requirements:end -->\n\nafter\n")
    monkeypatch.setattr(generate, "REQUIREMENTS_DOC", doc)
    assert generate.generate_all(write=False) == [doc, edited]
    assert generate.generate_all(write=True) == [doc, edited]
    assert generate.generate_all(write=False) == []
    assert doc.read_text() == generate.expected_requirements_doc()
    assert doc.read_text().endswith("<!-- requirements:end -->\n\nafter\n")


def test_a_page_without_its_markers_is_refused(tmp_path, monkeypatch) -> None:
    doc = tmp_path / "requirements.md"
    doc.write_text("# Requirements\n")
    monkeypatch.setattr(generate, "REQUIREMENTS_DOC", doc)
    with pytest.raises(ValueError, match="requirements:start"):
        generate.expected_requirements_doc()


@pytest.mark.parametrize("chart", paths.GENERATED_CHARTS)
def test_bundled_schema_is_self_contained_draft_07(chart: str) -> None:
    text = (paths.chart_dir(chart) / "values.schema.json").read_text()
    schema = json.loads(text)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$ref" not in text and "$defs" not in text
    jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("chart", paths.GENERATED_CHARTS)
def test_schema_accepts_subchart_keys_and_rejects_unknown(chart: str) -> None:
    schema = bundle(chart)
    validator = jsonschema.Draft7Validator(schema)
    # Helm checks the chart's defaults coalesced with the user's values (each defaulted key is required).
    assert validator.is_valid(deep_merge(defaults(schema), {"global": {"imageRegistry": "r.example.com"},
                                                            "enabled": False}))
    assert not validator.is_valid({"enabledd": True})


@pytest.mark.parametrize("chart", paths.GENERATED_CHARTS)
def test_values_yaml_holds_the_schema_defaults(chart: str) -> None:
    schema = bundle(chart)
    values = yaml.safe_load((paths.chart_dir(chart) / "values.yaml").read_text())
    assert values == defaults(schema)
    assert jsonschema.Draft7Validator(schema).is_valid(values)


def _leaf_keys(schema: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, sub in schema["properties"].items():
        if sub.get("type") == "object" and "properties" in sub and "default" not in sub:
            keys += _leaf_keys(sub, f"{prefix}{key}.")
        else:
            keys.append(prefix + key)
    return keys


@pytest.mark.parametrize("chart", paths.GENERATED_CHARTS)
def test_every_value_is_documented(chart: str) -> None:
    schema = bundle(chart)
    readme = (paths.chart_dir(chart) / "README.md").read_text()

    def walk(node: dict, where: str) -> None:
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{where}{key} has no description"
            walk(sub, f"{where}{key}.")

    walk(schema, "")
    for key in _leaf_keys(schema):
        assert f"| `{key}` |" in readme, f"{key} missing from the README values table"
