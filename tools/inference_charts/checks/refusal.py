"""Helm's refusal to render, read back into findings that name the value, the place and the rule.

Helm refuses a release in two ways the charts rely on: its values schema (values.schema.json, checked
before any template runs) and the charts' guards (``fail`` in a template). Their messages look like

    values don't meet the specifications of the schema(s) in the following chart(s):
    vllm-multinode:
    - at '/topology/tensorParallelSize': got string, want integer

    execution error at (vllm-multinode/templates/workload.yaml:1:4): topology: tensorParallelSize x ...

A schema line names the value by its JSON pointer, relative to the chart it is listed under (a
subchart's values sit under the subchart's name in its parent's); the charts' guards start their
message with the value they refuse. Anything else Helm says is kept whole.
"""

from __future__ import annotations

import re

from inference_charts.checks.invariants import Finding

CHECK = "render"
VALUES_SCHEMA = "values schema"
CHART_GUARD = "chart guard"
HELM = "helm"
LIBRARY_CHART = "multinode-common"

_CHART_HEADING = re.compile(r"^(?P<chart>[A-Za-z0-9][\w.-]*):\s*$")
_SCHEMA_LINE = re.compile(r"^\s*- at '(?P<pointer>[^']*)': (?P<message>.*)$")
_GUARD = re.compile(r"execution error at \((?P<template>[^)]*)\): (?P<message>.*)", re.DOTALL)
_GUARD_VALUE = re.compile(r"^(?P<value>[A-Za-z][\w-]*(?:\.[\w-]+)*): ")
_ADDITIONAL = re.compile(r"additional properties? (?P<names>'[^']*'(?:, '[^']*')*) not allowed")


def _dotted(pointer: str) -> str:
    return ".".join(part.replace("~1", "/").replace("~0", "~") for part in pointer.strip("/").split("/") if part)


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def _schema_findings(message: str, top_chart: str) -> list[Finding]:
    found: list[Finding] = []
    chart = top_chart
    lines = message.splitlines()
    for index, line in enumerate(lines):
        if heading := _CHART_HEADING.match(line):
            chart = heading.group("chart")
            continue
        entry = _SCHEMA_LINE.match(line)
        if entry is None:
            continue
        # "validation failed" lines only introduce the nested lines that say what failed.
        following = lines[index + 1] if index + 1 < len(lines) else ""
        indent = len(line) - len(line.lstrip())
        if entry.group("message") == "validation failed" and len(following) - len(following.lstrip()) > indent:
            continue
        prefix = chart if chart != top_chart else ""
        value = _join(prefix, _dotted(entry.group("pointer")))
        extra = _ADDITIONAL.search(entry.group("message"))
        if extra:
            names = [name.strip("'") for name in extra.group("names").split(", ")]
            value = ", ".join(_join(value, name) for name in names)
        found.append(Finding(CHECK, f"values of {chart}", entry.group("message"), value=value, rule=VALUES_SCHEMA))
    return found


def findings(message: str, top_chart: str) -> list[Finding]:
    """Helm's refusal ``message`` for a release of the chart named ``top_chart``, as findings."""
    if "values don't meet the specifications of the schema" in message:
        found = _schema_findings(message, top_chart)
        if found:
            return found
    guard = _GUARD.search(message)
    if guard:
        template = guard.group("template").rsplit(":", 2)[0]
        text = guard.group("message").strip()
        value_match = _GUARD_VALUE.match(text)
        parts = template.split("/")
        # multinode-inference/charts/nim-multinode/templates/x.yaml: the guard is the subchart's, and so
        # are its values; a library chart's templates run on their parent's values.
        subchart = parts[parts.index("charts") + 1] if "charts" in parts[:-1] else ""
        subchart = "" if subchart == LIBRARY_CHART else subchart
        value = _join(subchart, value_match.group("value")) if value_match else ""
        return [Finding(CHECK, template, text, value=value, rule=CHART_GUARD)]
    return [Finding(CHECK, "release", message.strip(), rule=HELM)]
