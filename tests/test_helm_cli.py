"""The same matrix and bad-values corpus through every Helm CLI available (Helm 3 and Helm 4 from
`make helm-clis`, and any `helm` on PATH): same objects as the embedded engine, same refusals."""

from __future__ import annotations

import pytest
from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import all_bad_values, names_key
from inference_charts.devtools.matrix import all_cases
from inference_charts.render.cases import Case
from inference_charts.render.engine import helm_clis

CLIS = helm_clis()
CASES = all_cases()

if not CLIS:
    pytest.skip("no Helm CLI found: run `make helm-clis` (npm) or put helm on PATH", allow_module_level=True)


def test_both_major_versions_present() -> None:
    majors = {cli.version.lstrip("v").split(".")[0] for cli in CLIS}
    assert {"3", "4"} <= majors, f"expected Helm 3 and Helm 4 CLIs, found {[c.version for c in CLIS]}"


def _by_name(objects: list[dict]) -> dict[tuple[str, str], dict]:
    """helm template orders objects by install order, the SDK by template file: compare by identity."""
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


@pytest.fixture(scope="module", params=CLIS, ids=lambda cli: cli.version)
def cli_harness(request) -> Harness:
    return Harness(request.param)


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_case_through_cli(m, cli_harness: Harness, evaluated) -> None:
    result = cli_harness.evaluate(m.case)
    assert result.ok, "\n".join(result.problems())
    assert _by_name(result.objects) == _by_name(evaluated(m).objects)


@pytest.mark.parametrize("entry", all_bad_values(), ids=lambda e: e.name)
def test_bad_values_through_cli(entry, cli_harness: Harness) -> None:
    result = cli_harness.evaluate(Case(chart=entry.chart, values=entry.values(), name=entry.name))
    assert result.render_error, f"{entry.name} was not refused by {cli_harness.renderer.name}"
    assert names_key(result.render_error, entry.key), result.render_error
