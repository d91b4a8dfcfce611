"""Build each engine chart's values.schema.json from the sources in schemas/values/.

The sources share definitions through ``$ref`` into ``common.schema.json``. A ``$ref`` may carry
sibling keys; when bundling, those siblings are deep-merged over the referenced definition (this is how
an engine chart gives a shared definition its own defaults). The result is plain, self-contained JSON
Schema draft-07 with no ``$ref`` left, which every Helm 3 and Helm 4 release can read.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from . import paths
from .merging import deep_merge

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

Schema = dict[str, Any]


def _load(path: Path) -> Schema:
    loaded: Schema = json.loads(path.read_text())
    return loaded


def _resolve(node: Any, documents: dict[str, Schema], current: str) -> Any:
    if isinstance(node, list):
        return [_resolve(item, documents, current) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target_doc, _, pointer = node["$ref"].partition("#")
        doc_name = target_doc or current
        target: Any = documents[doc_name]
        for part in filter(None, pointer.split("/")):
            target = target[part]
        resolved = _resolve(target, documents, doc_name)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return deep_merge(resolved, _resolve(siblings, documents, current))
    return {key: _resolve(value, documents, current) for key, value in node.items()}


def bundle(chart: str) -> Schema:
    """The self-contained values schema of an engine chart."""
    documents = {path.name: _load(path) for path in paths.VALUES_SCHEMAS_DIR.glob("*.schema.json")}
    source_name = paths.values_schema_source(chart).name
    bundled: Schema = _resolve(documents[source_name], documents, source_name)
    bundled.pop("$id", None)
    bundled["$schema"] = DRAFT_07
    bundled["$comment"] = (
        f"Generated from schemas/values/{source_name} by `inference-charts gen`; edit the source, not this file."
    )
    return bundled


def defaults(schema: Schema) -> Any:
    """The default values a schema describes: each property's default, objects built from their parts."""
    if schema.get("type") == "object" and "properties" in schema and "default" not in schema:
        return {key: defaults(sub) for key, sub in schema["properties"].items()}
    return copy.deepcopy(schema.get("default"))


def dumps(schema: Schema) -> str:
    return json.dumps(schema, indent=2) + "\n"
