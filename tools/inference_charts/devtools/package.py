"""`make package`: each installable chart (the engine charts and the umbrella) built with its
dependencies and packaged as dist/<chart>-<version>.tgz, with a Helm CLI (`make helm-clis`).

The library chart travels inside each engine chart's archive (charts/multinode-common-<v>.tgz), and
both engine charts inside the umbrella's, so every archive installs on its own:

    helm install r dist/vllm-multinode-0.2.0.tgz -f my-values.yaml
    helm push dist/vllm-multinode-0.2.0.tgz oci://registry.example.com/charts

    python -m inference_charts.devtools.package [--destination dist] [--helm PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from inference_charts import paths
from inference_charts.devtools.ctlint import helm_binary
from inference_charts.render import engine


def package(destination: Path = paths.DIST_DIR, helm: str | None = None) -> list[Path]:
    binary = helm_binary(helm)
    if binary is None:
        raise SystemExit("no Helm CLI: run `make helm-clis` or put helm on PATH")
    destination.mkdir(parents=True, exist_ok=True)
    archives = []
    for chart in (*paths.ENGINE_CHARTS, paths.UMBRELLA_CHART):  # the umbrella packs the engine charts
        folder = paths.chart_dir(chart)
        engine.drop_stale_lock(chart)
        build = ["dependency", "build", str(folder)]
        for command in (build, ["package", str(folder), "--destination", str(destination)]):
            done = subprocess.run([binary, *command], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"helm {' '.join(command)} failed:\n{done.stderr}")
        version = yaml.safe_load((folder / "Chart.yaml").read_text())["version"]
        archive = destination / f"{chart}-{version}.tgz"
        if not archive.exists():
            raise SystemExit(f"helm package did not write {archive}")
        archives.append(archive)
        print(archive.relative_to(paths.REPO_ROOT) if archive.is_relative_to(paths.REPO_ROOT) else archive)
    return archives


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference_charts.devtools.package",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--destination", type=Path, default=paths.DIST_DIR)
    parser.add_argument("--helm", help="helm binary (default: the newest in .tools/helm, else helm on PATH)")
    args = parser.parse_args(argv)
    package(args.destination, args.helm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
