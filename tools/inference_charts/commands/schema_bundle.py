"""Build each engine chart's values.schema.json from the sources in schemas/values/.

The sources share definitions through ``$ref`` into ``common.schema.json``. A ``$ref`` may carry
sibling keys; when bundling, those siblings are deep-merged over the referenced definition (this is how
an engine chart gives a shared definition its own defaults). The result is plain, self-contained JSON
Schema draft-07 with no ``$ref`` left, which every Helm 3 and Helm 4 release can read.

Every property that values.yaml carries (one with a non-null default, or an object built from its parts)
is made ``required`` in its object. Helm's value coalescing deletes a key whose user value is null, and
the chart default with it (helm/helm v3.19.0 pkg/chartutil/coalesce.go coalesceValues: "When the YAML
value is null, we remove the value's key"); the schema then refuses the missing key by name, where a
template would crash on it or render an object its API refuses. A property whose type admits null
(securityContext.runAsUser) keeps null as a meaningful value and is not required.

Every string value of an engine chart is also refused when it holds a control character. The templates
write values into YAML text, and YAML admits only printable characters (YAML 1.2.2 section 5.1,
c-printable); the Go YAML parser behind Helm's fromYaml refuses the rest (go-yaml/yaml v3.0.1
readerc.go yaml_parser_update_buffer: "control characters are not allowed"), and fromYaml turns that
into an object with an "Error" key that renders as a container without a name.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from inference_charts import paths
from inference_charts.render.merging import deep_merge

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
    if chart in paths.ENGINE_CHARTS:
        # Not the umbrella chart: its global.* values are partial overrides, and Helm checks each
        # engine's values (nulls included) against that engine's schema.
        bundled = _printable_strings(_require_defaulted(bundled))
    bundled.pop("$id", None)
    bundled["$schema"] = DRAFT_07
    bundled["$comment"] = (
        f"Generated from schemas/values/{source_name} by `inference-charts gen`; edit the source, not this file."
    )
    return bundled


def _admits_null(schema: Schema) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _require_defaulted(node: Any) -> Any:
    """Each object schema with properties requires those that have a default (see the module text)."""
    if isinstance(node, list):
        return [_require_defaulted(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _require_defaulted(value) for key, value in node.items()}
    properties = out.get("properties")
    if isinstance(properties, dict) and out.get("type") == "object":
        defaulted = [key for key, sub in properties.items()
                     if isinstance(sub, dict) and defaults(sub) is not None and not _admits_null(sub)]
        required = list(out.get("required", [])) + [key for key in defaulted if key not in out.get("required", [])]
        if required:
            out["required"] = required
    return out


#: What YAML's c-printable excludes among the first 160 code points (tab, line feed, carriage return
#: are allowed).
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]"


def _printable_strings(node: Any) -> Any:
    """Each string schema refuses control characters (see the module text)."""
    if isinstance(node, list):
        return [_printable_strings(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _printable_strings(value) for key, value in node.items()}
    kind = out.get("type")
    if (kind == "string" or (isinstance(kind, list) and "string" in kind)) and "enum" not in out:
        out["allOf"] = [*out.get("allOf", []), {"not": {"pattern": CONTROL_CHARACTERS}}]
    return out


def defaults(schema: Schema) -> Any:
    """The default values a schema describes: each property's default, objects built from their parts."""
    if schema.get("type") == "object" and "properties" in schema and "default" not in schema:
        return {key: defaults(sub) for key, sub in schema["properties"].items()}
    return copy.deepcopy(schema.get("default"))


def dumps(schema: Schema) -> str:
    return json.dumps(schema, indent=2) + "\n"
