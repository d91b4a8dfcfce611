"""Where things live in the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARTS_DIR = REPO_ROOT / "charts"
LIBRARY_CHART = CHARTS_DIR / "multinode-common"
SCHEMAS_DIR = REPO_ROOT / "schemas"
VALUES_SCHEMAS_DIR = SCHEMAS_DIR / "values"
CRD_SCHEMAS_DIR = SCHEMAS_DIR / "crds"
EXAMPLES_DIR = REPO_ROOT / "examples"
HELM_CLI_DIR = REPO_ROOT / ".tools" / "helm"

#: Engine charts, each with a values schema source of the same name in schemas/values/.
ENGINE_CHARTS = ("vllm-multinode", "nim-multinode")


def chart_dir(chart: str) -> Path:
    return CHARTS_DIR / chart


def values_schema_source(chart: str) -> Path:
    return VALUES_SCHEMAS_DIR / f"{chart}.schema.json"
