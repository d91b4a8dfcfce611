"""Where things live in the repository, and whether there is one.

The package runs from a checkout (tools/inference_charts in this repository, `pip install -e .`) or
installed from a wheel with no checkout at all. Everything below REPO_ROOT exists only in the first
case; code that the installed `inference-charts check` reaches asks ``checkout()`` first and reads
nothing under REPO_ROOT when it answers None.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
CHARTS_DIR = REPO_ROOT / "charts"
LIBRARY_CHART = CHARTS_DIR / "multinode-common"
SCHEMAS_DIR = REPO_ROOT / "schemas"
VALUES_SCHEMAS_DIR = SCHEMAS_DIR / "values"
CRD_SCHEMAS_DIR = SCHEMAS_DIR / "crds"
EXAMPLES_DIR = REPO_ROOT / "examples"
HELM_CLI_DIR = REPO_ROOT / ".tools" / "helm"

#: Engine charts, each with a values schema source of the same name in schemas/values/.
ENGINE_CHARTS = ("vllm-multinode", "nim-multinode")
#: The umbrella chart: depends on every engine chart (file://, with a condition each), shares settings
#: through Helm's global values; its values schema source is schemas/values/multinode-inference.schema.json.
UMBRELLA_CHART = "multinode-inference"
#: Charts whose values.schema.json, values.yaml and README values table `inference-charts gen` writes.
GENERATED_CHARTS = (*ENGINE_CHARTS, UMBRELLA_CHART)
#: Every chart under charts/, in dependency order (the library first, the umbrella last).
ALL_CHARTS = ("multinode-common", *GENERATED_CHARTS)
CI_DIR = REPO_ROOT / "ci"
DIST_DIR = REPO_ROOT / "dist"


def chart_dir(chart: str) -> Path:
    return CHARTS_DIR / chart


def values_schema_source(chart: str) -> Path:
    return VALUES_SCHEMAS_DIR / f"{chart}.schema.json"


def checkout() -> Path | None:
    """The repository this package runs from, or None when it is installed (a wheel in site-packages,
    where REPO_ROOT would be some folder of the Python installation)."""
    if PACKAGE_DIR.parent.name != "tools":
        return None
    if not (REPO_ROOT / "pyproject.toml").is_file() or not (LIBRARY_CHART / "Chart.yaml").is_file():
        return None
    return REPO_ROOT


def crd_schemas_dir() -> Path:
    """The custom-resource schemas: schemas/crds in a checkout (the source), else the copy the wheel
    carries as package data (setup.py copies schemas/crds into inference_charts/crds when it builds)."""
    return CRD_SCHEMAS_DIR if checkout() else PACKAGE_DIR / "crds"


def cache_dir() -> Path:
    """Where generated validator code is cached: .cache/ in a checkout (`make clean` removes it), else
    the user's cache folder, never the installation's own folders."""
    root = checkout()
    if root is not None:
        return root / ".cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inference-charts"
