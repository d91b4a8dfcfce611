"""values.yaml and the README values table, both generated from the bundled values schema.

The schema is the one place a value is documented; values.yaml carries each description as a comment
above the key and each default as its value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from inference_charts.commands.schema_bundle import Schema, defaults

HEADER = "# Generated from the values schema by `inference-charts gen`. Edit schemas/values/, not this file.\n"


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("...").strip()


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.splitlines()]


def _yaml_lines(schema: Schema, indent: str) -> Iterator[str]:
    for key, sub in schema["properties"].items():
        if sub.get("description"):
            yield from _comment(sub["description"], indent)
        is_object = sub.get("type") == "object" and "properties" in sub and "default" not in sub
        if is_object:
            yield f"{indent}{key}:"
            yield from _yaml_lines(sub, indent + "  ")
        else:
            yield f"{indent}{key}: {_scalar(sub.get('default'))}"


def values_yaml(schema: Schema) -> str:
    return HEADER + "\n".join(_yaml_lines(schema, "")) + "\n"


def _type_of(schema: Schema) -> str:
    if "type" in schema:
        kind = schema["type"]
        return "/".join(kind) if isinstance(kind, list) else str(kind)
    if "oneOf" in schema:
        return " or ".join(_type_of(option) for option in schema["oneOf"])
    return "any"


def _rows(schema: Schema, prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for key, sub in schema["properties"].items():
        name = f"{prefix}{key}"
        if sub.get("type") == "object" and "properties" in sub and "default" not in sub:
            yield from _rows(sub, name + ".")
            continue
        description = sub.get("description", "").replace("|", "\\|").replace("\n", " ")
        if "enum" in sub:
            description += " One of: " + ", ".join(f"`{v}`" for v in sub["enum"]) + "."
        default = json.dumps(defaults(sub))
        yield name, _type_of(sub), f"`{default}`", description


def values_table(schema: Schema) -> str:
    lines = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {kind} | {default} | {desc} |" for name, kind, default, desc in _rows(schema, "")]
    return "\n".join(lines) + "\n"
