"""Small readers of rendered objects for the tests (kept apart from the harness code under test)."""

from __future__ import annotations

from typing import Any


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def command_line(container: dict[str, Any]) -> list[str]:
    return [str(x) for x in container.get("command", []) + container.get("args", [])]


def flag(arguments: list[str], name: str) -> str:
    return arguments[arguments.index(name) + 1]
