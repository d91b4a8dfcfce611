"""inference-charts: render, check and generate.

  render FILE   render an example (or a values file with --chart), validate it, print a summary
  check FILE... the same for each file, printing every problem; exits 1 when there is any
  preflight FILE --out DIR  write the rendered NCCL preflight program and its settings, to run by hand
  plan MODEL    size a model onto a cluster: TP, PP, nodes, per-GPU memory, reasons; --output writes
                a values file that passes check
  gen           write each engine chart's values.schema.json, values.yaml and README values table
                from schemas/; with --check, only report whether they are up to date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference_charts.checks.harness import Harness
from inference_charts.commands import generate
from inference_charts.commands.summary import render_summary
from inference_charts.render.cases import CaseFileError, load_case
from inference_charts.render.engine import HelmCli, Renderer


def _renderer(helm: str | None) -> Renderer | None:
    return HelmCli(Path(helm)) if helm else None


def _cmd_render(args: argparse.Namespace) -> int:
    harness = Harness(_renderer(args.helm))
    try:
        case = load_case(Path(args.file), args.chart)
    except CaseFileError as error:
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


def _cmd_check(args: argparse.Namespace) -> int:
    harness = Harness(_renderer(args.helm))
    failed = 0
    for name in args.files:
        try:
            case = load_case(Path(name), args.chart)
        except CaseFileError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        result = harness.evaluate(case)
        status = "ok" if result.ok else "FAILED"
        print(f"{status:<6} {name}")
        for problem in result.problems():
            print(f"       {problem}")
        failed += not result.ok
    return 1 if failed else 0


def _cmd_gen(args: argparse.Namespace) -> int:
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
        case = load_case(Path(args.file), args.chart)
        program, settings = export(case, Path(args.out))
    except (CaseFileError, NoPreflight) as error:
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
    for name, helptext in (("render", "render one file and print its summary"),
                           ("check", "render and check files; exit 1 on any problem")):
        sub = commands.add_parser(name, help=helptext)
        if name == "render":
            sub.add_argument("file")
            sub.add_argument("--manifests", action="store_true", help="print the rendered objects too")
        else:
            sub.add_argument("files", nargs="+")
        sub.add_argument("--chart", help="chart of a plain values file")
        sub.add_argument("--helm", help="render with this helm binary instead of the embedded engine")
    preflight = commands.add_parser("preflight", help="write the rendered NCCL preflight program and settings")
    preflight.add_argument("file")
    preflight.add_argument("--chart", help="chart of a plain values file")
    preflight.add_argument("--out", required=True, help="folder for preflight.py and preflight.env")
    from inference_charts.planner.command import add_arguments as add_plan_arguments

    add_plan_arguments(commands.add_parser("plan", help="plan TP, PP and nodes for a model; write its values"))
    gen = commands.add_parser("gen", help="generate schema, values.yaml and README tables")
    gen.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    handlers = {"render": _cmd_render, "check": _cmd_check, "gen": _cmd_gen, "preflight": _cmd_preflight,
                "plan": _cmd_plan}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
