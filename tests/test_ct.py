"""chart-testing configuration (ci/), the ci/*-values.yaml scenarios, `make ct-lint` without ct
(inference_charts.devtools.ctlint), `make package`, changelogs and the platform-repo workflow."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import helm_python
import pytest
import yaml
from inference_charts import paths
from inference_charts.checks.harness import Harness
from inference_charts.devtools import ctlint, package
from inference_charts.render.cases import Case
from inference_charts.render.engine import helm_clis, parse_manifests

CONFIG = ctlint.load_config()
FOLDERS = ctlint.chart_folders(CONFIG)
SCENARIOS = [(folder.name, values) for folder in FOLDERS for values in ctlint.scenarios(folder)]
HAVE_HELM = ctlint.helm_binary() is not None


def test_ct_config() -> None:
    assert CONFIG["chart-dirs"] == ["charts"] and CONFIG["target-branch"] == "main"
    assert CONFIG["check-version-increment"] is True and CONFIG["validate-maintainers"] is False
    for key in ("lint-conf", "chart-yaml-schema"):
        assert (paths.REPO_ROOT / CONFIG[key]).is_file()
    assert "--strict" in CONFIG["helm-lint-extra-args"]
    expected = ["multinode-common", *sorted(paths.ENGINE_CHARTS), paths.UMBRELLA_CHART]
    assert [f.name for f in FOLDERS] == expected, "dependencies before the charts that need them"


def test_every_installable_chart_has_scenarios_and_a_changelog() -> None:
    for chart in paths.GENERATED_CHARTS:
        assert len(ctlint.scenarios(paths.chart_dir(chart))) >= 2, f"{chart} needs ci/*-values.yaml scenarios"
    for chart in paths.ALL_CHARTS:
        version = yaml.safe_load((paths.chart_dir(chart) / "Chart.yaml").read_text())["version"]
        changelog = (paths.chart_dir(chart) / "CHANGELOG.md").read_text()
        assert f"## {version}\n" in changelog, f"{chart}: CHANGELOG.md has no entry for {version}"
        ctlint.semver_key(version)


@pytest.mark.parametrize(("chart", "values"), SCENARIOS, ids=lambda x: x.name if isinstance(x, Path) else x)
def test_scenario_renders_and_holds_every_invariant(chart: str, values: Path, harness: Harness) -> None:
    result = harness.evaluate(Case(chart=chart, values=yaml.safe_load(values.read_text()), name=values.stem))
    assert result.ok, "\n".join(result.problems())


def test_yamllint_config_passes_every_linted_file() -> None:
    files = [f for folder in FOLDERS for f in ctlint.linted_yaml_files(folder)]
    assert ctlint.yaml_lint_problems(files, paths.REPO_ROOT / CONFIG["lint-conf"]) == []


def test_yamllint_config_still_finds_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("a: 1\na: 2\nb:   [1,2]\nc: 3   \n")
    problems = ctlint.yaml_lint_problems([bad], paths.REPO_ROOT / CONFIG["lint-conf"])
    assert {re.search(r"\((.+)\)$", p).group(1) for p in problems} >= {"key-duplicates", "trailing-spaces", "commas"}


def test_chart_yaml_schema(tmp_path: Path) -> None:
    schema = paths.REPO_ROOT / CONFIG["chart-yaml-schema"]
    for folder in FOLDERS:
        assert ctlint.chart_schema_problems(folder, schema) == [], folder.name
    good = yaml.safe_load((paths.chart_dir(paths.UMBRELLA_CHART) / "Chart.yaml").read_text())
    for change in ({"version": "1.0"}, {"version": "1x2x3"}, {"apiVersion": "v1"}, {"type": "app"},
                   {"name": "Bad_Name"}, {"dependencies": [{"name": "x", "repository": "file://../x"}]},
                   {"maintainers": [{"mail": "a"}]}):
        (tmp_path / "Chart.yaml").write_text(yaml.safe_dump({**good, **change}))
        assert ctlint.chart_schema_problems(tmp_path, schema), change


def test_semver_precedence() -> None:
    ordered = ["0.1.0-alpha", "0.1.0-alpha.1", "0.1.0-beta.2", "0.1.0-beta.11", "0.1.0", "0.1.1", "0.2.0", "1.0.0"]
    assert sorted(ordered, key=ctlint.semver_key) == ordered
    assert ctlint.semver_key("0.1.0+build.5") == ctlint.semver_key("0.1.0")
    with pytest.raises(ValueError):
        ctlint.semver_key("v1.0")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_version_increment_check(tmp_path: Path, capsys) -> None:
    """ct's rule in a scratch repository: changed charts need a bigger version; unchanged ones do not."""
    for name in ("a", "b"):
        (tmp_path / "charts" / name / "templates").mkdir(parents=True)
        (tmp_path / "charts" / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
        (tmp_path / "charts" / name / "templates" / "x.yaml").write_text("# v1\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "one")
    config = {"target-branch": "main", "remote": "origin", "chart-dirs": ["charts"]}
    folders = ctlint.chart_folders(config, tmp_path)
    assert list(ctlint.version_problems(tmp_path, config, folders)) == []
    assert "on the target branch main" in capsys.readouterr().out
    _git(tmp_path, "checkout", "-qb", "feature")
    (tmp_path / "charts" / "a" / "templates" / "x.yaml").write_text("# v2\n")
    problems = list(ctlint.version_problems(tmp_path, config, folders))
    assert [(p.chart, p.step) for p in problems] == [("a", "version")]
    (tmp_path / "charts" / "a" / "Chart.yaml").write_text("apiVersion: v2\nname: a\nversion: 0.1.1\n")
    assert list(ctlint.version_problems(tmp_path, config, folders)) == []


@pytest.mark.skipif(not HAVE_HELM, reason="no Helm CLI: run `make helm-clis`")
def test_ct_lint_without_ct_passes() -> None:
    assert ctlint.lint() == []


def test_every_chart_has_the_values_yaml_ct_lints() -> None:
    """ct yamllints values.yaml of every chart, the library's included (chart-testing v3.14.0 LintChart)."""
    for folder in FOLDERS:
        assert folder / "values.yaml" in ctlint.linted_yaml_files(folder)
        assert (folder / "values.yaml").is_file(), f"{folder.name} has no values.yaml: ct lint fails on it"


@pytest.mark.skipif(not HAVE_HELM, reason="no Helm CLI: run `make helm-clis`")
def test_a_chart_without_values_yaml_fails_the_yamllint_step_and_stops_there(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "charts").mkdir(parents=True)
    library = paths.chart_dir("multinode-common")
    subprocess.run(["cp", "-r", str(library), str(root / "charts")], check=True)
    subprocess.run(["cp", "-r", str(paths.CI_DIR), str(root / "ci")], check=True)
    assert ctlint.lint(root / "ci" / "ct.yaml", root=root) == []
    (root / "charts" / "multinode-common" / "values.yaml").unlink()
    problems = ctlint.lint(root / "ci" / "ct.yaml", root=root)
    assert [(p.chart, p.step) for p in problems] == [("multinode-common", "yamllint")]
    assert "values.yaml: [Errno 2] No such file or directory" in problems[0].message


@pytest.mark.skipif(not HAVE_HELM, reason="no Helm CLI: run `make helm-clis`")
def test_package(tmp_path: Path) -> None:
    archives = package.package(tmp_path)
    versions = {c: yaml.safe_load((paths.chart_dir(c) / "Chart.yaml").read_text())["version"]
                for c in paths.GENERATED_CHARTS}
    assert sorted(a.name for a in archives) == sorted(f"{c}-{v}.tgz" for c, v in versions.items())
    umbrella = helm_python.Chart.load(tmp_path / f"{paths.UMBRELLA_CHART}-{versions[paths.UMBRELLA_CHART]}.tgz")
    values = yaml.safe_load((paths.chart_dir(paths.UMBRELLA_CHART) / "ci" / "both-engines-values.yaml").read_text())
    objects = parse_manifests(umbrella.render(values, name="models", namespace="inference", is_install=True)).objects
    groups = {o["metadata"]["name"] for o in objects if o["kind"] == "LeaderWorkerSet"}
    assert groups == {"models-vllm-multinode-group", "models-nim-multinode-group"}, \
        "the archive carries both engines and their library"
    for archive in archives:
        assert not [n for n in helm_python.Chart.load(archive).files if n["name"].startswith("ci/")]


def test_workflow_pins_every_action() -> None:
    text = (paths.CI_DIR / "github-workflow.yaml").read_text()
    workflow = yaml.safe_load(text)
    assert set(workflow["jobs"]) == {"lint", "test", "check-values", "publish"}
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert {u.split("@")[0] for u, _ in uses} >= {"actions/checkout", "azure/setup-helm",
                                                   "helm/chart-testing-action", "actions/setup-python"}
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action} is not pinned to a commit SHA"
        assert re.search(r"#\s*v\d", comment), f"{action}: say which release the SHA is"
    commands = "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])
    assert "ct lint --config ci/ct.yaml" in commands and "make test" in commands and "helm push" in commands
    assert "inference-charts check" in commands


def test_helm_clis_lint_strict_agrees() -> None:
    """Both Helm majors accept the umbrella's Chart.yaml and dependencies (helm lint --strict, defaults)."""
    clis = helm_clis()
    if not clis:
        pytest.skip("no Helm CLI")
    for engine in paths.ENGINE_CHARTS:  # the umbrella packs the engine charts with their library built in
        assert ctlint.helm_problems(str(clis[0].binary), paths.chart_dir(engine), "") == []
    for cli in clis:
        done = subprocess.run([str(cli.binary), "lint", "--strict", str(paths.chart_dir(paths.UMBRELLA_CHART))],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{cli.version}: {done.stdout}{done.stderr}"
