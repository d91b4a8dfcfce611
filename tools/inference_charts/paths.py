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
