"""checkov over rendered manifests: run it, read its failed checks, hold them against ci/checkov-exceptions.yaml.

checkov lives in its own virtual environment (.venv-checkov), not in .venv: its releases pin
``packaging<24`` and ``networkx<2.7``, while ray==2.60.0 needs ``packaging>=24.2`` and pytest 9
``packaging>=24``, so a current checkov cannot share .venv with the pinned test stack (pip would
backtrack to checkov 3.1.47 and still downgrade networkx 3.6 to 2.6.3 under torch). ``ensure_checkov`` builds that
environment (no Makefile needed); ``checkov_binary`` finds it, or a checkov given by $CHECKOV or on PATH.

    directory = write_manifests(scan_cases(), tmp_path)
    report = run_checkov(directory)
    problems = unexcused(report, load_exceptions())

checkov reads the pod templates of Pods, Deployments, StatefulSets, DaemonSets, Jobs and CronJobs, but
not of custom resources: the LeaderWorkerSets' leader and worker templates are never checked by it.
inference_charts.checks.pss checks those against the Pod Security Standards.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inference_charts import paths
from inference_charts.render.cases import Case

#: The checkov release the exceptions file was written against (checks are added between releases).
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = paths.REPO_ROOT / ".venv-checkov"
EXCEPTIONS_FILE = paths.CI_DIR / "checkov-exceptions.yaml"
#: The command, less the directory. --skip-download: no call to the vendor's platform for check
#: metadata (no machine here reaches it; without the flag each run first waits on that request).
CHECKOV_ARGS = ("--framework", "kubernetes", "-o", "json", "--quiet", "--compact", "--skip-download")


class CheckovError(RuntimeError):
    """checkov could not be run, or said something that is not a report."""


@dataclass(frozen=True)
class FailedCheck:
    check_id: str  # CKV_K8S_43, CKV2_K8S_6, ...
    check_name: str
    resource: str  # Kind.namespace.name, as checkov names it
    file: str  # relative to the scanned directory

    def __str__(self) -> str:
        return f"{self.check_id} ({self.check_name}): {self.resource} in {self.file}"


@dataclass
class CheckovReport:
    failed: list[FailedCheck] = field(default_factory=list)
    #: checkov's own counts: passed, failed, skipped, parsing_errors, resource_count, checkov_version.
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def counts(self) -> Counter[str]:
        """Failed checks by check id."""
        return Counter(check.check_id for check in self.failed)


@dataclass(frozen=True)
class CheckovException:
    """A check that may fail, and why: on every resource, or on those whose checkov name matches the glob."""

    check: str
    reason: str
    resources: str | None = None

    def covers(self, failed: FailedCheck) -> bool:
        return failed.check_id == self.check and (
            self.resources is None or fnmatch.fnmatchcase(failed.resource, self.resources))


# -- finding and installing checkov ------------------------------------------------------------------

def _venv_bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def checkov_binary(venv: Path = CHECKOV_VENV) -> Path | None:
    """$CHECKOV, else the dedicated environment's checkov, else one on PATH; None when there is none."""
    for candidate in (os.environ.get("CHECKOV"), _venv_bin(venv, "checkov"), shutil.which("checkov")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def ensure_checkov(venv: Path = CHECKOV_VENV, version: str = CHECKOV_VERSION, python: str = sys.executable) -> Path:
    """checkov==version in its own virtual environment at ``venv`` (created when missing or on another
    version), and its binary. The environment ignores itself in git (a ``*`` .gitignore inside it)."""
    binary = _venv_bin(venv, "checkov")
    marker = venv / ".checkov-version"
    if binary.is_file() and marker.is_file() and marker.read_text().strip() == version:
        return binary
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    (venv / ".gitignore").write_text("*\n")
    subprocess.run([str(_venv_bin(venv, "python")), "-m", "pip", "install", "--quiet", f"checkov=={version}"],
                   check=True)
    marker.write_text(version + "\n")
    return binary


# -- running it --------------------------------------------------------------------------------------

def parse_report(data: Any) -> CheckovReport:
    """checkov's JSON: one report object, a list of them (one per framework), or a bare summary when the
    directory held nothing to check."""
    reports = data if isinstance(data, list) else [data]
    report = CheckovReport()
    for part in reports:
        if not isinstance(part, dict):
            raise CheckovError(f"unexpected checkov output: {str(part)[:200]}")
        if "results" not in part:  # nothing scanned: {"passed": 0, "failed": 0, ...}
            report.summary = {**part, **report.summary}
            continue
        for key, value in part.get("summary", {}).items():
            report.summary[key] = report.summary.get(key, 0) + value if isinstance(value, int) else value
        for check in part["results"].get("failed_checks", []):
            report.failed.append(FailedCheck(check_id=check["check_id"], check_name=check.get("check_name", ""),
                                             resource=check.get("resource", ""),
                                             file=check.get("file_path", "").lstrip("/")))
    return report


def run_checkov(manifests_dir: Path, *, binary: Path | None = None, extra_args: Sequence[str] = (),
                timeout: float | None = 1800) -> CheckovReport:
    """`checkov -d DIR --framework kubernetes -o json --quiet --compact --skip-download` and its failed checks.
    checkov exits 1 when a check failed: that is a report, not an error."""
    binary = binary or checkov_binary()
    if binary is None:
        raise CheckovError(f"checkov is not installed: run inference_charts.devtools.checkov_run.ensure_checkov() "
                           f"(pip install checkov=={CHECKOV_VERSION} into {CHECKOV_VENV.name}) or set $CHECKOV")
    command = [str(binary), "-d", str(manifests_dir), *CHECKOV_ARGS, *extra_args]
    started = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise CheckovError(f"{' '.join(command)} exited {process.returncode}: {process.stderr.strip()[-2000:]}")
    try:
        data = json.loads(process.stdout)
    except json.JSONDecodeError as error:
        raise CheckovError(f"checkov printed no JSON ({error}): {process.stdout[:500]!r} "
                           f"{process.stderr.strip()[-1000:]}") from error
    report = parse_report(data)
    report.seconds = seconds
    return report


# -- exceptions --------------------------------------------------------------------------------------

def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[CheckovException]:
    """ci/checkov-exceptions.yaml: a list of {check: CKV_K8S_xx, reason: "...", resources: optional glob}."""
    data = yaml.safe_load(path.read_text()) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of exceptions")
    exceptions = []
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or set(entry) - {"check", "reason", "resources"}:
            raise ValueError(f"{path}: entry {number}: only check, reason and resources are allowed: {entry!r}")
        check, reason, resources = entry.get("check"), entry.get("reason"), entry.get("resources")
        if not (isinstance(check, str) and check.startswith("CKV")):
            raise ValueError(f"{path}: entry {number}: check must be a checkov id (CKV_K8S_xx): {check!r}")
        if not (isinstance(reason, str) and reason.strip()):
            raise ValueError(f"{path}: entry {number} ({check}): every exception needs a reason")
        if resources is not None and not (isinstance(resources, str) and resources):
            raise ValueError(f"{path}: entry {number} ({check}): resources must be a glob string")
        exceptions.append(CheckovException(check, reason.strip(), resources))
    return exceptions


def unexcused(report: CheckovReport, exceptions: Iterable[CheckovException]) -> list[FailedCheck]:
    """The failed checks that no exception covers."""
    exceptions = list(exceptions)
    return [check for check in report.failed if not any(e.covers(check) for e in exceptions)]


def unused(report: CheckovReport, exceptions: Iterable[CheckovException]) -> list[CheckovException]:
    """Exceptions that cover no failed check of the report (stale once the charts are fixed)."""
    return [e for e in exceptions if not any(e.covers(check) for check in report.failed)]


# -- manifests to scan -------------------------------------------------------------------------------

def write_manifests(cases: Iterable[Case], directory: Path, renderer: Any = None) -> Path:
    """Each case's rendered objects as one multi-document YAML file, <case label>.yaml, in ``directory``."""
    from inference_charts.render.engine import EmbeddedHelm

    renderer = renderer or EmbeddedHelm()
    directory.mkdir(parents=True, exist_ok=True)
    for case in cases:
        rendered = renderer.render(case.chart, case.values, case.release, case.namespace)
        name = case.label.replace("/", "_")
        (directory / f"{name}.yaml").write_text(yaml.safe_dump_all(rendered.objects, sort_keys=False))
    return directory


def scan_cases(full: bool = False) -> list[Case]:
    """What the checkov test scans: the representative sample of the values matrix (all of it when
    ``full``), plus every production knob (prepull DaemonSet, OpenShift identity, RDMA attachments, ...),
    which renders objects and fields the plain matrix does not."""
    from inference_charts.devtools.matrix import all_cases, production_matrix

    matrix = all_cases()
    return [c.case for c in (matrix if full else sample_cases(matrix))] + [k.case for k in production_matrix()]


def sample_cases(matrix_cases: Sequence[Any]) -> list[Any]:
    """A representative part of the matrix: in matrix order, each case that brings, for its chart and
    workload kind, a topology, replica count, fabric, cache, layout or image not seen yet. Every value of
    every dimension the charts branch on is rendered at least once."""
    seen: set[tuple[str, ...]] = set()
    sample = []
    for matrix_case in matrix_cases:
        scope = (matrix_case.chart, matrix_case.workload)
        features = {(*scope, "topology", matrix_case.topology.name), (*scope, "replicas", str(matrix_case.replicas)),
                    (*scope, "fabric", matrix_case.fabric), (*scope, "cache", matrix_case.cache),
                    (*scope, "layout", matrix_case.layout), (*scope, "image", matrix_case.image)}
        if features - seen:
            seen |= features
            sample.append(matrix_case)
    return sample


def main(argv: Sequence[str] | None = None) -> int:
    """python -m inference_charts.devtools.checkov_run [--full] [--no-knobs] [--install] [--keep DIR]: render the matrix
    sample (or all of it) and the production knobs, run checkov, print the failed checks by id, the failures
    the exceptions file does not cover and the exceptions that cover nothing."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m inference_charts.devtools.checkov_run", description=main.__doc__)
    parser.add_argument("--full", action="store_true", help="every matrix case, not the representative sample")
    parser.add_argument("--no-knobs", action="store_true", help="leave out the production knobs' cases")
    parser.add_argument("--install", action="store_true", help=f"first install checkov into {CHECKOV_VENV.name}")
    parser.add_argument("--keep", type=Path, help="render into this directory and keep it")
    options = parser.parse_args(argv)
    binary = ensure_checkov() if options.install else None
    cases = scan_cases(options.full)
    if options.no_knobs:
        from inference_charts.devtools.matrix import production_matrix

        knobs = {k.case.name for k in production_matrix()}
        cases = [c for c in cases if c.name not in knobs]
    with tempfile.TemporaryDirectory() as temporary:
        directory = write_manifests(cases, options.keep or Path(temporary))
        report = run_checkov(directory, binary=binary)
    exceptions = load_exceptions()
    print(f"{len(cases)} cases, {report.summary.get('resource_count', 0)} resources, checkov "
          f"{report.summary.get('checkov_version', '?')} in {report.seconds:.1f} s")
    names = {check.check_id: check.check_name for check in report.failed}
    for check_id, count in report.counts().most_common():
        kinds = Counter(check.resource.split(".")[0] for check in report.failed if check.check_id == check_id)
        print(f"{count:6d}  {check_id:12s} {names[check_id]}  ({', '.join(f'{k} {n}' for k, n in kinds.items())})")
    problems = unexcused(report, exceptions)
    for check in problems:
        print(f"UNEXCUSED {check}")
    for exception in unused(report, exceptions):
        print(f"UNUSED exception {exception.check} {exception.resources or '(all)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
