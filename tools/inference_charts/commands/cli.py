"""inference-charts: render, check and generate.

  render FILE   render an example (or a values file with --chart), validate it, print a summary
  check FILE... render and check each file (schemas, invariants, Pod Security, NetworkPolicy
                reachability), print every problem; --junit and --json write reports; exit codes 0
                (clean), 1 (problems), 2 (usage or input error); see `inference-charts check --help`
  preflight FILE --out DIR  write the rendered NCCL preflight program and its settings, to run by hand
  plan MODEL    size a model onto a cluster: TP, PP, nodes, per-GPU memory, reasons; --output writes
                a values file that passes check
  gen           write each engine chart's values.schema.json, values.yaml and README values table
                from schemas/; with --check, only report whether they are up to date
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from inference_charts import paths
from inference_charts.checks.harness import Harness
from inference_charts.commands import check
from inference_charts.commands.summary import render_summary
from inference_charts.render import charts
from inference_charts.render.cases import CaseFileError, load_case
from inference_charts.render.engine import HelmCli, Renderer


def _renderer(helm: str | None) -> Renderer | None:
    return HelmCli(Path(helm)) if helm else None


def _cmd_render(args: argparse.Namespace) -> int:
    harness = Harness(_renderer(args.helm))
    with tempfile.TemporaryDirectory(prefix="inference-charts-") as workdir:
        try:
            chart = charts.resolve(args.chart, args.chart_version, workdir=Path(workdir),
                                   helm=Path(args.helm) if args.helm else None) if args.chart else None
            case = load_case(Path(args.file), chart)
            if case.chart_path is None:
                charts.resolve(case.chart)  # a chart of this repository by name: is there a checkout?
        except (CaseFileError, charts.ChartError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        result = harness.evaluate(case)
    if result.render_error:
        print(f"{case.label}: Helm refused to render:\n{result.render_error}", file=sys.stderr)
        return 1
    if args.manifests:
        import yaml

        print(yaml.safe_dump_all(result.objects, sort_keys=False), end="---\n")
    print(render_summary(result))
    for problem in result.problems():
        print(f"  problem   {problem}")
    return 0 if result.ok else 1


def _cmd_gen(args: argparse.Namespace) -> int:
    if paths.checkout() is None:
        print("error: gen writes the files of a checkout of this repository; this installation has none",
              file=sys.stderr)
        return 2
    from inference_charts.commands import generate

    stale = generate.generate_all(write=not args.check)
    if args.check and stale:
        for path in stale:
            print(f"out of date: {path} (run `inference-charts gen`)", file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


def _cmd_preflight(args: argparse.Namespace) -> int:
    from inference_charts.commands.preflight_export import NoPreflight, export

    try:
        chart = charts.resolve(args.chart) if args.chart else None
        case = load_case(Path(args.file), chart)
        if case.chart_path is None:
            charts.resolve(case.chart)  # a chart of this repository by name: is there a checkout?
        program, settings = export(case, Path(args.out))
    except (CaseFileError, NoPreflight, charts.ChartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {program} and {settings}; on each host (one per pod), with its rank:")
    print(f"  set -a; . {settings}; set +a; PREFLIGHT_NODE_RANK=0 PREFLIGHT_MASTER_ADDRESS=<first host> "
          f"python3 {program}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from inference_charts.planner.command import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inference-charts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render one file and print its summary")
    render.add_argument("file")
    render.add_argument("--manifests", action="store_true", help="print the rendered objects too")
    render.add_argument("--chart", help="chart of a plain values file: a name of this repository's charts, "
                                        "a chart directory, a .tgz, or oci://host/path/chart with --version")
    render.add_argument("--version", dest="chart_version", help="chart version of an oci:// chart")
    render.add_argument("--helm", help="render with this helm binary instead of the embedded engine")
    check.add_arguments(commands.add_parser(
        "check", help="render and check files; exit 1 on any problem, 2 on an input error",
        description=check.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    preflight = commands.add_parser("preflight", help="write the rendered NCCL preflight program and settings")
    preflight.add_argument("file")
    preflight.add_argument("--chart", help="chart of a plain values file: a name of this repository's charts, "
                                           "a chart directory or a .tgz")
    preflight.add_argument("--out", required=True, help="folder for preflight.py and preflight.env")
    from inference_charts.planner.command import add_arguments as add_plan_arguments

    add_plan_arguments(commands.add_parser("plan", help="plan TP, PP and nodes for a model; write its values"))
    gen = commands.add_parser("gen", help="generate schema, values.yaml and README tables")
    gen.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    handlers = {"render": _cmd_render, "check": check.run, "gen": _cmd_gen, "preflight": _cmd_preflight,
                "plan": _cmd_plan}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
