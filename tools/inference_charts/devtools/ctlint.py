"""`ct lint` without ct: the steps chart-testing runs, in its order, with the same tools and ci/ct.yaml.

Written from helm/chart-testing v3.14.0: ct/cmd/lint.go, pkg/chart/chart.go (processCharts, LintChart)
and pkg/tool/linter.go. First, for every chart under chart-dirs (ct lints changed charts only; this
lints them all), `helm dependency build` (processCharts; a failure ends the run). Then for each chart,
LintChart's steps in order, stopping at the chart's first failing step as LintChart returns:
  1. check-version-increment: for a chart whose files differ from the merge base with the target branch
     (remote/target-branch, or the local target branch), its Chart.yaml version must be greater than
     the one there (a chart the target branch lacks is new and passes; on the target branch itself
     there is nothing to compare with, and the check is skipped, saying so);
  2. validate-chart-schema: yamale, Chart.yaml against chart-yaml-schema;
  3. validate-yaml: yamllint with lint-conf on Chart.yaml, values.yaml and each ci/*-values.yaml.
     ct lints values.yaml whether or not it exists, and yamllint fails on a missing file ("[Errno 2]
     No such file or directory", helm/chart-testing#748), so a chart without one fails here;
  4. validate-maintainers (off in ci/ct.yaml: our maintainers are not accounts of a Git host);
  5. helm lint (with helm-lint-extra-args, here --strict) once per ci/*-values.yaml scenario, or once
     with the chart's defaults when it has none.

    python -m inference_charts.devtools.ctlint [--config ci/ct.yaml] [--helm PATH]
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yamale
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from inference_charts import paths
from inference_charts.render import engine

DEFAULT_CONFIG = paths.CI_DIR / "ct.yaml"


@dataclass(frozen=True)
class Problem:
    chart: str
    step: str
    message: str

    def __str__(self) -> str:
        return f"{self.chart}: [{self.step}] {self.message}"


def load_config(path: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    return config


def chart_folders(config: dict[str, Any], root: Path = paths.REPO_ROOT) -> list[Path]:
    """Charts under chart-dirs, dependencies before the charts that need them."""
    excluded = set(config.get("excluded-charts") or [])
    folders = [chart_yaml.parent for chart_dir in config.get("chart-dirs", ["charts"])
               for chart_yaml in sorted((root / chart_dir).glob("*/Chart.yaml"))
               if chart_yaml.parent.name not in excluded]

    def depth(folder: Path) -> int:
        dependencies = (yaml.safe_load((folder / "Chart.yaml").read_text()) or {}).get("dependencies") or []
        local = [folder / str(d.get("repository", "")).removeprefix("file://") for d in dependencies
                 if str(d.get("repository", "")).startswith("file://")]
        return 1 + max((depth(dep.resolve()) for dep in local), default=-1)

    return sorted(folders, key=lambda folder: (depth(folder), folder.name))


def scenarios(folder: Path) -> list[Path]:
    return sorted((folder / "ci").glob("*-values.yaml"))


# --- yamale and yamllint -------------------------------------------------------------------------------

def chart_schema_problems(folder: Path, schema_file: Path) -> list[str]:
    schema = yamale.make_schema(str(schema_file))
    try:
        yamale.validate(schema, yamale.make_data(str(folder / "Chart.yaml")))
    except yamale.YamaleError as error:
        return [message for result in error.results for message in result.errors]
    return []


def yaml_lint_problems(files: list[Path], config_file: Path) -> list[str]:
    """yamllint errors (warnings are printed, not counted), as ct counts them."""
    config = YamlLintConfig(file=str(config_file))
    problems = []
    for file in files:
        shown_path = file.relative_to(paths.REPO_ROOT) if file.is_relative_to(paths.REPO_ROOT) else file
        if not file.exists():
            problems.append(f"{shown_path}: [Errno 2] No such file or directory (yamllint exits 255)")
            continue
        for problem in linter.run(file.read_text(), config, str(file)):
            shown = file.relative_to(paths.REPO_ROOT) if file.is_relative_to(paths.REPO_ROOT) else file
            line = f"{shown}:{problem.line}:{problem.column}: {problem.message}"
            if problem.level == "error":
                problems.append(line)
            else:
                print(f"  warning {line}")
    return problems


def linted_yaml_files(folder: Path) -> list[Path]:
    """What LintChart hands yamllint: Chart.yaml, values.yaml (present or not), the ci values files."""
    return [folder / "Chart.yaml", folder / "values.yaml", *scenarios(folder)]


# --- helm ----------------------------------------------------------------------------------------------

def helm_binary(explicit: str | None = None) -> str | None:
    """--helm, else the newest Helm CLI in .tools/helm (`make helm-clis`), else helm on PATH."""
    if explicit:
        return explicit
    installed = sorted(paths.HELM_CLI_DIR.glob("*/helm"),
                       key=lambda p: tuple(int(x) for x in re.findall(r"\d+", p.parent.name)))
    if installed:
        return str(installed[-1])
    return shutil.which("helm")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def dependency_problems(helm: str, folder: Path) -> list[str]:
    """processCharts: `helm dependency build` for a chart with dependencies."""
    if not (yaml.safe_load((folder / "Chart.yaml").read_text()) or {}).get("dependencies"):
        return []
    if folder.parent.resolve() == paths.CHARTS_DIR.resolve():
        engine.drop_stale_lock(folder.name)
    built = _run([helm, "dependency", "build", str(folder)])
    return [] if built.returncode == 0 else [f"helm dependency build failed: {built.stderr.strip()}"]


def helm_problems(helm: str, folder: Path, extra_args: str) -> list[str]:
    problems = []
    for values in scenarios(folder) or [None]:
        command = [helm, "lint", str(folder), *shlex.split(extra_args)]
        if values is not None:
            command += ["--values", str(values)]
        linted = _run(command)
        label = values.name if values is not None else "default values"
        print(f"  helm lint {' '.join(shlex.split(extra_args))} ({label}): "
              f"{'ok' if linted.returncode == 0 else 'FAILED'}")
        if linted.returncode != 0:
            problems.append(f"helm lint with {label}: {(linted.stdout + linted.stderr).strip()}")
    return problems


# --- version increment ---------------------------------------------------------------------------------

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str) -> tuple[Any, ...]:
    """A sort key with SemVer 2 precedence (build metadata ignored; a pre-release sorts before its release)."""
    match = _SEMVER.match(version)
    if not match:
        raise ValueError(f"{version!r} is not a SemVer 2 version")
    major, minor, patch, pre = match.groups()
    if pre is None:
        pre_key: tuple[Any, ...] = ((1,),)
    else:
        pre_key = ((0,), *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor), int(patch), pre_key)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(["git", "-C", str(root), *args])


def target_ref(root: Path, remote: str, branch: str) -> str | None:
    for ref in (f"{remote}/{branch}", branch):
        if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
            return ref
    return None


def version_problems(root: Path, config: dict[str, Any], folders: list[Path]) -> Iterator[Problem]:
    """ct's version-increment check; prints why it checks nothing when it does not apply."""
    branch = config.get("target-branch", "main")
    remote = config.get("remote", "origin")
    current = _git(root, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    ref = target_ref(root, remote, branch)
    if ref is None:
        print(f"version check: no {remote}/{branch} or {branch} to compare with; skipped")
        return
    if current == branch:
        print(f"version check: on the target branch {branch}; nothing to compare with")
        return
    base = _git(root, "merge-base", ref, "HEAD").stdout.strip()
    chart_dirs = config.get("chart-dirs", ["charts"])
    changed = set(_git(root, "diff", "--name-only", base, "--", *chart_dirs).stdout.split())
    changed |= set(_git(root, "ls-files", "--others", "--exclude-standard", "--", *chart_dirs).stdout.split())
    checked = 0
    for folder in folders:
        relative = folder.relative_to(root).as_posix()
        if not any(path.startswith(relative + "/") for path in changed):
            continue
        checked += 1
        new = str(yaml.safe_load((folder / "Chart.yaml").read_text())["version"])
        shown = _git(root, "show", f"{base}:{relative}/Chart.yaml")
        if shown.returncode != 0:
            print(f"  {folder.name}: new chart, version {new}")
            continue
        old = str(yaml.safe_load(shown.stdout)["version"])
        if semver_key(new) <= semver_key(old):
            yield Problem(folder.name, "version", f"files changed against {ref} but the version is {new} "
                                                  f"(was {old}): bump it in Chart.yaml and CHANGELOG.md")
        else:
            print(f"  {folder.name}: version {old} -> {new}")
    print(f"version check against {ref} (merge base {base[:12]}): {checked} changed chart(s)")


# --- all of it -----------------------------------------------------------------------------------------

def lint(config_file: Path = DEFAULT_CONFIG, helm: str | None = None, root: Path = paths.REPO_ROOT) -> list[Problem]:
    config = load_config(config_file)
    binary = helm_binary(helm)
    if binary is None:
        return [Problem("-", "helm", "no Helm CLI: run `make helm-clis` or put helm on PATH")]
    folders = chart_folders(config, root)
    problems = [Problem(folder.name, "dependencies", m) for folder in folders
                for m in dependency_problems(binary, folder)]
    if problems:
        return problems
    versions: list[Problem] = []
    if config.get("check-version-increment", True):
        versions = list(version_problems(root, config, folders))
    for folder in folders:
        print(f"{folder.name}:")
        steps = [[p for p in versions if p.chart == folder.name]]
        if config.get("validate-chart-schema", True):
            steps.append([Problem(folder.name, "chart-schema", m)
                          for m in chart_schema_problems(folder, root / config["chart-yaml-schema"])])
        if config.get("validate-yaml", True):
            steps.append([Problem(folder.name, "yamllint", m)
                          for m in yaml_lint_problems(linted_yaml_files(folder), root / config["lint-conf"])])
        if config.get("validate-maintainers", True):
            steps.append([Problem(folder.name, "maintainers", "validate-maintainers needs ct itself (it asks "
                                  "the Git host for each maintainer's account); set it false or run ct")])
        for step in steps:
            if step:
                problems += step
                break
        else:
            problems += [Problem(folder.name, "helm-lint", m)
                         for m in helm_problems(binary, folder, config.get("helm-lint-extra-args", ""))]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference_charts.devtools.ctlint",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--helm", help="helm binary (default: the newest in .tools/helm, else helm on PATH)")
    args = parser.parse_args(argv)
    problems = lint(args.config, args.helm)
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    print(f"ct lint (without ct): {'FAILED, ' + str(len(problems)) + ' problem(s)' if problems else 'all charts ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
