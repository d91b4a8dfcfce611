"""`inference-charts check` as a platform repository runs it: values files against a chart given by name,
directory, packaged archive or OCI reference; problems naming the value, the object and the rule, in
text, JUnit XML and JSON; the documented exit codes. Also the pre-commit hook definition and the CI
workflow a platform repository copies, which must run this command."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import helm_python
import pytest
import yaml
from inference_charts import paths
from inference_charts.checks import pss
from inference_charts.commands import check, cli
from inference_charts.render.engine import helm_clis
from oci_registry import Registry

GOOD = {"model": {"name": "meta-llama/Llama-3.1-8B-Instruct"}}
#: Values the chart's schema accepts that break Pod Security "restricted" (root) and open Ray, NCCL and
#: the API to every pod of the cluster (no NetworkPolicies).
BAD = {**GOOD, "securityContext": {"runAsUser": 0, "runAsNonRoot": False}, "networkPolicy": {"enabled": False}}
REFUSED = {**GOOD, "topology": {"tensorParallelSize": "eight"}}


def _write(folder: Path, name: str, values: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {name: _write(tmp_path, f"{name}.yaml", values)
            for name, values in (("good", GOOD), ("bad", BAD), ("refused", REFUSED))}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """vllm-multinode packaged (with its library) as a platform would pull it."""
    from inference_charts.render.engine import prepare

    destination = tmp_path_factory.mktemp("dist")
    return Path(helm_python.package(prepare("vllm-multinode"), destination=destination))


def _suites(report: Path) -> dict[str, ET.Element]:
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    return {suite.get("name"): suite for suite in root.iter("testsuite")}


def _failures(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name"): failure for case in suite.iter("testcase")
            if (failure := case.find("failure")) is not None}


def test_bad_values_report_pod_security_and_network_policy_in_text_and_junit(
        files: dict[str, Path], tmp_path: Path, capsys) -> None:
    junit, report = tmp_path / "reports" / "check.xml", tmp_path / "reports" / "check.json"
    code = cli.main(["check", "--chart", "vllm-multinode", str(files["good"]), str(files["bad"]),
                     "--junit", str(junit), "--json", str(report)])
    assert code == check.EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert f"ok     {files['good']}" in out
    assert f"FAILED {files['bad']}: 7 problems" in out
    # Text: the check and rule, the object, what is wrong, the value.
    assert ("  pod-security [Running as Non-root user] LeaderWorkerSet/demo-vllm-multinode-group (leaderTemplate): "
            "spec.securityContext.runAsUser: must not be 0 (root) (value securityContext.runAsUser)") in out
    network = [line for line in out.splitlines() if line.startswith("  network-policy [ray-nccl-closed] ")]
    assert len(network) == 1
    assert network[0].startswith("  network-policy [ray-nccl-closed] LeaderWorkerSet/demo-vllm-multinode-group: ")
    assert "an unrelated pod in another namespace -> demo-vllm-multinode-group-0 on 6379" in network[0]
    assert network[0].endswith("(value networkPolicy.enabled)")

    suites = _suites(junit)
    assert set(suites) == {str(files["good"]), str(files["bad"])}
    assert _failures(suites[str(files["good"])]) == {}
    bad = suites[str(files["bad"])]
    cases = [case.get("name") for case in bad.iter("testcase")]
    assert cases[:3] == ["render", "kubernetes-schema", "custom-resource-schema"]
    assert cases[-2:] == ["pod-security", "network-policy"] and len(cases) == len(set(cases)) == 16
    failures = _failures(bad)
    assert set(failures) == {"pod-security", "network-policy"}
    assert bad.get("failures") == "2" and bad.get("tests") == "16"
    security = failures["pod-security"]
    assert security.get("type") == f"{pss.RUN_AS_NON_ROOT}, {pss.RUN_AS_USER}"
    assert "(value securityContext.runAsNonRoot)" in security.get("message")
    assert "(value securityContext.runAsUser)" in security.text
    assert security.text.count("\n") == 3  # four findings: two controls, leader and worker templates
    policy = failures["network-policy"]
    assert set(policy.get("type").split(", ")) == {"ray-nccl-closed", "api-not-open", "api-leaders-only"}
    assert "LeaderWorkerSet/demo-vllm-multinode-group" in policy.text and "(value networkPolicy.enabled)" in policy.text

    document = json.loads(report.read_text())
    assert document["exitCode"] == 1
    assert document["chart"] == "vllm-multinode 0.2.0 from this repository's charts/vllm-multinode"
    (bad_file,) = [f for f in document["files"] if f["status"] == "failed"]
    checks = {c["name"]: c for c in bad_file["checks"]}
    assert {name for name, c in checks.items() if c["status"] == "failed"} == {"pod-security", "network-policy"}
    assert {"check": "pod-security", "rule": pss.RUN_AS_USER,
            "object": "LeaderWorkerSet/demo-vllm-multinode-group (workerTemplate)",
            "value": "securityContext.runAsUser",
            "message": "spec.securityContext.runAsUser: must not be 0 (root)"} in checks["pod-security"]["problems"]


def test_good_values_exit_zero(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    junit = tmp_path / "good.xml"
    assert cli.main(["check", "--chart", "vllm-multinode", str(files["good"]), "--junit", str(junit)]) == 0
    suite = _suites(junit)[str(files["good"])]
    assert suite.get("failures") == "0" and suite.get("errors") == "0" and suite.get("tests") == "16"


def test_helm_refusal_is_a_problem_naming_the_value(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    junit = tmp_path / "refused.xml"
    assert cli.main(["check", "--chart", "vllm-multinode", str(files["refused"]), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert ("render [values schema] values of vllm-multinode: got string, want integer "
            "(value topology.tensorParallelSize)") in out
    suite = _suites(junit)[str(files["refused"])]
    assert set(_failures(suite)) == {"render"}
    assert suite.get("skipped") == "15"  # nothing rendered, nothing else to check


def test_input_errors_exit_two_and_win_over_problems(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    junit = tmp_path / "errors.xml"
    missing = tmp_path / "missing.yaml"
    code = cli.main(["check", "--chart", "vllm-multinode", str(files["bad"]), str(missing), "--junit", str(junit)])
    assert code == check.EXIT_ERROR
    assert f"ERROR  {missing}: " in capsys.readouterr().out
    errors = [case for case in _suites(junit)[str(missing)].iter("testcase")]
    assert [case.get("name") for case in errors] == ["input"] and errors[0].find("error") is not None
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- a\n- b\n")
    assert cli.main(["check", "--chart", "vllm-multinode", str(not_a_mapping)]) == 2
    for arguments, message in (
            (["--chart", str(tmp_path / "nowhere")], "no such chart directory or archive"),
            (["--chart", "no-such-chart"], "not a chart of this repository"),
            (["--chart", str(files["good"])], "not a packaged chart"),
            (["--chart", "vllm-multinode", "--version", "1.0.0"], "is for an oci:// chart"),
            (["--chart", "oci://127.0.0.1:1/charts/vllm-multinode"], "needs --version"),
            (["--version", "1.0.0"], "goes with --chart oci://"),
            (["--chart", "vllm-multinode", "--helm", str(tmp_path / "no-helm")], "cannot run it")):
        capsys.readouterr()
        assert cli.main(["check", *arguments, str(files["good"])]) == 2, arguments
        assert message in capsys.readouterr().err, arguments
    with pytest.raises(SystemExit) as usage:  # argparse: no file
        cli.main(["check", "--chart", "vllm-multinode"])
    assert usage.value.code == 2


def test_help_documents_the_exit_codes(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    for line in ("0  every file checked, no problem", "1  problems found", "2  usage or input error"):
        assert line in out
    assert "--junit FILE" in out and "--json FILE" in out and "oci://" in out


def test_chart_directories_outside_the_repository(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    """A platform repository's vendored copy of the charts, no charts/ folder built yet: check builds the
    file:// dependencies (for the umbrella, each engine chart's library first) and renders the copy."""
    vendored = tmp_path / "platform" / "charts"
    for chart in paths.ALL_CHARTS:
        shutil.copytree(paths.chart_dir(chart), vendored / chart,
                        ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    umbrella = _write(tmp_path, "umbrella-values.yaml", {"vllm-multinode": {**GOOD, "enabled": True}})
    assert cli.main(["check", "--chart", str(vendored / "multinode-inference"), str(umbrella)]) == 0
    assert list((vendored / "vllm-multinode" / "charts").glob("multinode-common-*.tgz"))
    assert list((vendored / "multinode-inference" / "charts").glob("vllm-multinode-*.tgz"))
    code = cli.main(["check", "--chart", str(vendored / "vllm-multinode"), str(files["good"]), str(files["bad"])])
    assert code == 1
    out = capsys.readouterr().out
    assert f"ok     {files['good']} (vllm-multinode 0.2.0 from {vendored / 'vllm-multinode'})" in out
    assert "(value networkPolicy.enabled)" in out


def test_packaged_chart_and_release_settings(files: dict[str, Path], archive: Path, capsys) -> None:
    code = cli.main(["check", "--chart", str(archive), "--release", "llm", "--namespace", "serving",
                     str(files["bad"])])
    assert code == 1
    out = capsys.readouterr().out
    assert f"FAILED {files['bad']}: 7 problems (vllm-multinode 0.2.0 from {archive})" in out
    assert "LeaderWorkerSet/llm-vllm-multinode-group (leaderTemplate)" in out


def test_umbrella_names_the_engine_of_the_value(tmp_path: Path, capsys) -> None:
    values = _write(tmp_path, "umbrella.yaml", {"vllm-multinode": {**BAD, "enabled": True}})
    assert cli.main(["check", "--chart", str(paths.chart_dir("multinode-inference")), str(values)]) == 1
    out = capsys.readouterr().out
    assert "(value vllm-multinode.securityContext.runAsUser)" in out
    assert "(value vllm-multinode.networkPolicy.enabled)" in out


def test_oci_chart_pulled_by_the_embedded_engine_and_each_helm_cli(files: dict[str, Path], archive: Path,
                                                                    capsys) -> None:
    """A registry on 127.0.0.1 (tests/oci_registry.py) over plain HTTP: push the archive, check against it."""
    with Registry() as registry:
        helm_python.push(archive, f"oci://{registry.host}/charts", plain_http=True)
        reference = f"oci://{registry.host}/charts/vllm-multinode"
        for helm in [None, *(str(cli_.binary) for cli_ in helm_clis())]:
            arguments = ["--helm", helm] if helm else []
            code = cli.main(["check", "--chart", reference, "--version", "0.2.0", "--plain-http", *arguments,
                             str(files["good"]), str(files["bad"])])
            assert code == 1, helm
            out = capsys.readouterr().out
            assert f"ok     {files['good']} (vllm-multinode 0.2.0 from {reference} 0.2.0)" in out, helm
            assert "pod-security [Running as Non-root]" in out and "network-policy [ray-nccl-closed]" in out
        assert cli.main(["check", "--chart", reference, "--version", "9.9.9", "--plain-http", str(files["good"])]) == 2
        assert "cannot pull" in capsys.readouterr().err


def test_without_a_checkout_a_chart_name_is_refused_clearly(files: dict[str, Path], monkeypatch, capsys) -> None:
    monkeypatch.setattr(paths, "checkout", lambda: None)
    assert cli.main(["check", "--chart", "vllm-multinode", str(files["good"])]) == 2
    assert "has no checkout of it: give --chart a chart directory, a packaged .tgz" in capsys.readouterr().err
    example = next(iter(sorted(paths.EXAMPLES_DIR.glob("vllm-*.yaml"))))
    assert cli.main(["check", str(example)]) == 2
    assert "has no checkout of it" in capsys.readouterr().out


def test_example_checked_against_its_own_chart_given_by_path(archive: Path, capsys) -> None:
    example = paths.EXAMPLES_DIR / "vllm-llama-405b-tp8-pp2.yaml"
    assert cli.main(["check", "--chart", str(archive), str(example)]) == 0
    nim = paths.EXAMPLES_DIR / "nim-llama-405b-tp8-pp2.yaml"
    assert cli.main(["check", "--chart", str(archive), str(nim)]) == 2
    assert "an example for chart nim-multinode" in capsys.readouterr().out


def test_pre_commit_hook_definition() -> None:
    (hook,) = yaml.safe_load((paths.REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "inference-charts-check"
    assert hook["language"] == "python" and hook["entry"] == "inference-charts check"
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
    for path in ("values/prod.values.yaml", "deploy/vllm/values-prod.yaml", "values.yml", "llm-values.yaml"):
        assert files.search(path) and not exclude.search(path), path
    for path in ("charts/vllm-multinode/values.yaml", "charts/vllm-multinode/ci/default-values.yaml"):
        assert exclude.search(path), path
    assert not files.search("values.schema.json") and not files.search("deploy/kustomization.yaml")


def test_platform_workflow_runs_check_and_reports_junit() -> None:
    workflow = yaml.safe_load((paths.CI_DIR / "github-workflow.yaml").read_text())
    steps = workflow["jobs"]["check-values"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "pip install" in runs and "inference-charts check" in runs and "--junit" in runs
    report = next(step for step in steps if "junit" in step.get("uses", ""))
    assert report["if"] == "always()"
    assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", report["uses"]), "actions are pinned to a commit"
