"""checkov over the rendered charts: every failed check has an exception in ci/checkov-exceptions.yaml,
and every exception still covers a failure.

checkov runs from its own environment (.venv-checkov: inference_charts.devtools.checkov_run.ensure_checkov), $CHECKOV
or PATH; without one the checkov tests are skipped. By default they scan scan_cases(): sample_cases(all_cases()),
which renders every topology, replica count, fabric, cache, layout and image of each chart and workload kind
(54 of the 450 cases, the same failing checks as the full matrix), and the 78 production-knob cases (prepull
DaemonSet, OpenShift identity, ...); INFERENCE_CHARTS_CHECKOV=full scans the whole matrix.
The parsing and exception logic is tested without checkov."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import yaml
from inference_charts.devtools import checkov_run
from inference_charts.devtools.checkov_run import (
    CheckovException,
    CheckovReport,
    FailedCheck,
    checkov_binary,
    load_exceptions,
    parse_report,
    run_checkov,
    sample_cases,
    scan_cases,
    unexcused,
    unused,
    write_manifests,
)
from inference_charts.devtools.matrix import all_cases

CHECKOV = checkov_binary()
needs_checkov = pytest.mark.skipif(
    CHECKOV is None,
    reason=f"checkov is not installed: `python -c 'from inference_charts.devtools.checkov_run import ensure_checkov; "
           f"ensure_checkov()'` puts checkov=={checkov_run.CHECKOV_VERSION} in .venv-checkov (it cannot share "
           f".venv: it pins packaging<24, ray==2.60.0 needs packaging>=24.2)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> CheckovReport:
    cases = scan_cases(full=os.environ.get("INFERENCE_CHARTS_CHECKOV") == "full")
    directory = write_manifests(cases, tmp_path_factory.mktemp("checkov-manifests"))
    return run_checkov(directory, binary=CHECKOV)


def _explain(failed: list[FailedCheck]) -> str:
    counts = Counter((f.check_id, f.check_name) for f in failed)
    lines = [f"{n:4d} x {check_id} {name} (e.g. {next(f.resource for f in failed if f.check_id == check_id)})"
             for (check_id, name), n in counts.most_common()]
    return "failed checks without an exception in ci/checkov-exceptions.yaml:\n" + "\n".join(lines)


@needs_checkov
def test_checkov_finds_no_unexcused_failure(report: CheckovReport) -> None:
    assert report.summary.get("parsing_errors", 0) == 0, report.summary
    assert report.summary.get("resource_count", 0) > 0, report.summary
    problems = unexcused(report, load_exceptions())
    assert problems == [], _explain(problems)


@needs_checkov
def test_every_checkov_exception_is_still_needed(report: CheckovReport) -> None:
    stale = unused(report, load_exceptions())
    assert stale == [], "exceptions that cover no failure any more, remove them: " + ", ".join(
        f"{e.check} {e.resources or '(all)'}" for e in stale)


# -- without checkov -----------------------------------------------------------------------------------

SMOKE = "Pod.inference.m0-vllm-multinode-smoke-test"
ENGINE_JOB = "Job.jobs.j0-vllm-multinode-0"


def _failed(check_id: str, resource: str) -> FailedCheck:
    return FailedCheck(check_id, "a check", resource, "case.yaml")


def test_parse_report_reads_failed_checks() -> None:
    data = {"check_type": "kubernetes",
            "summary": {"passed": 3, "failed": 1, "parsing_errors": 0, "resource_count": 2, "checkov_version": "3"},
            "results": {"failed_checks": [{"check_id": "CKV_K8S_43", "check_name": "Image should use digest",
                                           "resource": SMOKE, "file_path": "/vllm-1x8.yaml", "extra": None}]}}
    report = parse_report(data)
    assert report.failed == [FailedCheck("CKV_K8S_43", "Image should use digest", SMOKE, "vllm-1x8.yaml")]
    assert report.summary["failed"] == 1 and report.counts() == Counter({"CKV_K8S_43": 1})
    assert parse_report([data, data]).summary["failed"] == 2
    assert parse_report({"passed": 0, "failed": 0, "resource_count": 0}).failed == []


def test_unexcused_honours_check_and_resource_glob() -> None:
    exceptions = [CheckovException("CKV_K8S_8", "hook pod", "Pod.*.*-smoke-test"),
                  CheckovException("CKV_K8S_43", "digests are a site choice")]
    failures = [_failed("CKV_K8S_8", SMOKE), _failed("CKV_K8S_8", ENGINE_JOB), _failed("CKV_K8S_43", ENGINE_JOB),
                _failed("CKV_K8S_20", SMOKE)]
    assert unexcused(CheckovReport(failed=failures), exceptions) == [failures[1], failures[3]]
    assert unused(CheckovReport(failed=failures[:1]), exceptions) == [exceptions[1]]


def test_exceptions_file_is_well_formed() -> None:
    exceptions = load_exceptions()
    assert exceptions and all(e.reason for e in exceptions)
    assert len({(e.check, e.resources) for e in exceptions}) == len(exceptions), "duplicate exception"


@pytest.mark.parametrize("entry, message", [
    ({"check": "CKV_K8S_8"}, "reason"),
    ({"check": "K8S_8", "reason": "x"}, "checkov id"),
    ({"check": "CKV_K8S_8", "reason": "x", "resource": "typo"}, "only check"),
    ({"check": "CKV_K8S_8", "reason": "x", "resources": ["a"]}, "glob"),
])
def test_exceptions_file_errors(tmp_path: Path, entry: dict, message: str) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(yaml.safe_dump([entry]))
    with pytest.raises(ValueError, match=message):
        load_exceptions(path)


def test_missing_checkov_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkov_run, "checkov_binary", lambda *_: None)
    with pytest.raises(checkov_run.CheckovError, match="not installed"):
        run_checkov(tmp_path)


def test_sample_covers_every_dimension_of_the_matrix() -> None:
    cases = all_cases()
    sample = sample_cases(cases)
    assert len(sample) < len(cases) // 4
    for attribute in ("fabric", "cache", "replicas", "layout", "image", "workload"):
        for chart in {c.chart for c in cases}:
            values = {getattr(c, attribute) for c in cases if c.chart == chart}
            assert values == {getattr(c, attribute) for c in sample if c.chart == chart}, (chart, attribute)
    assert {c.topology for c in cases} == {c.topology for c in sample}
