"""`inference-charts check`: render values files with a chart and run every check on each.

Checks, in order: Helm's own refusal (the chart's values schema and guards), Kubernetes' schemas of the
oldest and newest supported versions, the custom-resource schemas (LeaderWorkerSet, monitors, KEDA),
the suite's invariants, Pod Security "restricted" (with the charts' documented exceptions, by name),
and NetworkPolicy reachability (Ray and NCCL ports closed to all but the group, the API port open to
its clients only). Each problem names the check and rule, the object and, where one is responsible,
the value.

The chart (--chart) is a chart of this repository by name (needs a checkout), a chart directory, a
packaged .tgz, or an oci:// reference with --version, pulled by the embedded Helm engine (which reads
the credentials of `helm registry login`), or by the Helm CLI given as --helm. An example file of this
repository names its own chart and needs no --chart.

exit codes:
  0  every file checked, no problem
  1  problems found (a refusal by Helm, with Helm's message, is a problem of the values)
  2  usage or input error: a bad argument, a values file missing or not a YAML mapping, a chart that
     cannot be found, pulled or loaded, a report that cannot be written; wins over 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from inference_charts.checks import kube_schemas
from inference_charts.checks.harness import Harness
from inference_charts.commands import check_report
from inference_charts.commands.check_report import FileReport
from inference_charts.render import charts
from inference_charts.render.cases import CaseFileError, load_case
from inference_charts.render.engine import HelmCli, Renderer

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="values files (or examples of this repository)")
    parser.add_argument("--chart", help="chart name of this repository, chart directory, .tgz, or oci://host/path/chart")
    parser.add_argument("--version", dest="chart_version", metavar="VERSION", help="chart version of an oci:// chart")
    parser.add_argument("--helm", metavar="PATH",
                        help="render (and pull) with this Helm CLI instead of the embedded Helm engine")
    parser.add_argument("--plain-http", action="store_true", help="pull an oci:// chart over HTTP (a local registry)")
    parser.add_argument("--release", help="release name to render with (default: the example's, else demo)")
    parser.add_argument("--namespace", help="namespace to render into (default: the example's, else inference)")
    parser.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML report here")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write a JSON report here")


def _renderer(helm: str | None) -> Renderer | None:
    if helm is None:
        return None
    try:
        return HelmCli(Path(helm))
    except (OSError, subprocess.CalledProcessError) as error:
        raise charts.ChartError(f"--helm {helm}: cannot run it: {error}") from error


def _check_files(args: argparse.Namespace, ref: charts.ChartRef | None, harness: Harness) -> list[FileReport]:
    reports = []
    for name in args.files:
        report = FileReport(path=name, chart=str(ref) if ref else "")
        try:
            case = load_case(Path(name), ref, release=args.release, namespace=args.namespace)
            if case.chart_path is None:
                # A chart of this repository by name (an example's, or --chart NAME): only a checkout has it.
                report.chart = report.chart or str(charts.resolve(case.chart))
        except (CaseFileError, charts.ChartError) as error:
            report.error = str(error)
            reports.append(report)
            continue
        report.result = harness.evaluate(case)
        reports.append(report)
    return reports


def _exit_code(reports: list[FileReport]) -> int:
    if any(report.status == check_report.ERROR for report in reports):
        return EXIT_ERROR
    return EXIT_PROBLEMS if any(report.status == check_report.FAILED for report in reports) else EXIT_OK


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="inference-charts-") as workdir:
        try:
            renderer = _renderer(args.helm)
            ref = None
            if args.chart:
                ref = charts.resolve(args.chart, args.chart_version, workdir=Path(workdir),
                                     helm=Path(args.helm) if args.helm else None, plain_http=args.plain_http)
            elif args.chart_version:
                raise charts.ChartError("--version goes with --chart oci://...")
        except charts.ChartError as error:
            print(f"error: {error}", file=sys.stderr)
            reports = [FileReport(path=name, error=str(error)) for name in args.files]
            return _write_reports(args, reports, "", EXIT_ERROR)
        harness = Harness(renderer)
        reports = _check_files(args, ref, harness)
    code = _exit_code(reports)
    print(check_report.text(reports))
    return _write_reports(args, reports, str(ref) if ref else "", code)


def _write_reports(args: argparse.Namespace, reports: list[FileReport], chart: str, code: int) -> int:
    try:
        if args.junit:
            check_report.write(args.junit, check_report.junit(reports))
        if args.json:
            check_report.write(args.json, check_report.as_json(reports, chart=chart, exit_code=code,
                                                               kubernetes=kube_schemas.SUPPORTED_KUBERNETES))
    except OSError as error:
        print(f"error: cannot write a report: {error}", file=sys.stderr)
        return EXIT_ERROR
    return code
