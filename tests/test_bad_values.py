"""Every entry of the bad-values corpus is refused, and the refusal names the offending key."""

from __future__ import annotations

import pytest
from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import BASES, all_bad_values, names_key
from inference_charts.render.cases import Case

BAD = all_bad_values()


def test_corpus_covers_both_layers() -> None:
    layers = [entry.layer for entry in BAD]
    assert layers.count("schema") >= 25 and layers.count("template") >= 8


@pytest.mark.parametrize("chart", sorted(BASES))
def test_base_values_are_valid(chart: str, harness: Harness) -> None:
    result = harness.evaluate(Case(chart=chart, values=BASES[chart]))
    assert result.ok, result.problems()


def test_corpus_covers_both_charts() -> None:
    assert {entry.chart for entry in BAD} == set(BASES)


@pytest.mark.parametrize("entry", BAD, ids=lambda e: e.name)
def test_refused_with_key_named(entry, harness: Harness) -> None:
    result = harness.evaluate(Case(chart=entry.chart, values=entry.values(), name=entry.name))
    message = result.render_error
    assert message, f"{entry.name} was not refused"
    assert names_key(message, entry.key), f"message does not name {entry.key}: {message}"
    for text in entry.also:
        assert text in message
    schema_refusal = "values don't meet the specifications of the schema" in message
    assert schema_refusal == (entry.layer == "schema"), message
