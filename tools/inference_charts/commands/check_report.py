"""What `inference-charts check` found, as text for people and as JUnit XML and JSON for CI systems.

One FileReport per values file: either an input error (the file could not be checked at all) or the
harness's Result. Each file is checked by every check of harness.CHECKS; a check passes, fails with its
findings, or is skipped (nothing rendered, so nothing to check).

JUnit XML: one <testsuite> per values file, one <testcase> per check, a <failure> carrying every finding
of a failed check, an <error> for a file that could not be checked, <skipped> for checks that had
nothing to check. JSON: the same, with each finding's check, rule, object, value and message as fields.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from inference_charts.checks import refusal
from inference_charts.checks.harness import CHECKS, Result
from inference_charts.checks.invariants import Finding

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
JSON_FORMAT_VERSION = 1


def tool_version() -> str:
    try:
        return metadata.version("inference-charts")
    except metadata.PackageNotFoundError:  # run from a checkout without installing it
        return "unknown"


def describe(finding: Finding) -> str:
    """One line: the check and rule, the object, what is wrong, and the value responsible."""
    rule = f" [{finding.rule}]" if finding.rule else ""
    value = f" (value {finding.value})" if finding.value else ""
    return f"{finding.check}{rule} {finding.subject}: {finding.message}{value}"


@dataclass
class FileReport:
    path: str
    #: The chart it was checked against (name, version, where from), when it got that far.
    chart: str = ""
    #: Why the file could not be checked (missing, not YAML, no chart): exit code 2.
    error: str = ""
    result: Result | None = None

    @property
    def findings(self) -> list[Finding]:
        return self.result.all_findings() if self.result is not None else []

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        return FAILED if self.findings else PASSED

    def checks(self) -> list[tuple[str, str, list[Finding]]]:
        """(check, status, findings) for every check, in harness.CHECKS order."""
        findings = self.findings
        rendered = self.result is not None and self.result.rendered
        rows = []
        for check in CHECKS:
            mine = [f for f in findings if f.check == check]
            if mine:
                rows.append((check, FAILED, mine))
            elif rendered or check == refusal.CHECK:
                rows.append((check, PASSED, mine))
            else:
                rows.append((check, SKIPPED, mine))
        return rows


def text(reports: list[FileReport]) -> str:
    lines = []
    for report in reports:
        chart = f" ({report.chart})" if report.chart else ""
        if report.status == ERROR:
            # A loader's message may start with the path already.
            lines.append(f"ERROR  {report.path}: {report.error.removeprefix(f'{report.path}: ')}")
        elif report.status == PASSED:
            lines.append(f"ok     {report.path}{chart}")
        else:
            findings = report.findings
            count = f"{len(findings)} problem{'s' if len(findings) != 1 else ''}"
            lines.append(f"FAILED {report.path}: {count}{chart}")
            lines += [f"  {describe(finding)}" for finding in findings]
    return "\n".join(lines)


def junit(reports: list[FileReport]) -> bytes:
    suites = ET.Element("testsuites", name="inference-charts check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report.path)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        properties = ET.SubElement(suite, "properties")
        for name, value in (("chart", report.chart),
                            ("renderer", report.result.renderer if report.result else "")):
            if value:
                ET.SubElement(properties, "property", name=name, value=value)
        if report.status == ERROR:
            case = ET.SubElement(suite, "testcase", name="input", classname=report.path, file=report.path)
            ET.SubElement(case, "error", message=report.error, type="input").text = report.error
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            for check, status, findings in report.checks():
                case = ET.SubElement(suite, "testcase", name=check, classname=report.path, file=report.path)
                counts["tests"] += 1
                if status == FAILED:
                    first = describe(findings[0])
                    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
                    rules = sorted({f.rule for f in findings if f.rule})
                    failure = ET.SubElement(case, "failure", message=first + more, type=", ".join(rules) or check)
                    failure.text = "\n".join(describe(f) for f in findings)
                    counts["failures"] += 1
                elif status == SKIPPED:
                    ET.SubElement(case, "skipped", message="not rendered: Helm refused the values (see render)")
                    counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _finding(finding: Finding) -> dict[str, str]:
    return {"check": finding.check, "rule": finding.rule, "object": finding.subject, "value": finding.value,
            "message": finding.message}


def as_json(reports: list[FileReport], *, chart: str, exit_code: int, kubernetes: tuple[str, ...]) -> str:
    document: dict[str, Any] = {
        "format": JSON_FORMAT_VERSION,
        "tool": {"name": "inference-charts", "version": tool_version()},
        "chart": chart or None,
        "kubernetes": list(kubernetes),
        "exitCode": exit_code,
        "files": [],
    }
    for report in reports:
        entry: dict[str, Any] = {"file": report.path, "status": report.status, "chart": report.chart or None,
                                 "error": report.error or None,
                                 "renderer": report.result.renderer if report.result else None, "checks": []}
        if report.status != ERROR:
            entry["checks"] = [{"name": check, "status": status, "problems": [_finding(f) for f in findings]}
                               for check, status, findings in report.checks()]
        document["files"].append(entry)
    return json.dumps(document, indent=2) + "\n"


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
