"""Render a case, validate every object, check every rule: one call, one result.

The checks, in the order a report lists them (CHECKS): Helm's own refusal (values schema, chart
guards), Kubernetes' schemas for the supported versions, the custom-resource schemas, the invariants
(one check each), Pod Security "restricted" with the documented exceptions, and NetworkPolicy
reachability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inference_charts import paths
from inference_charts.checks import invariants, kube_schemas, pod_security, reachability, refusal, umbrella
from inference_charts.checks.invariants import Finding
from inference_charts.render.cases import Case
from inference_charts.render.engine import EmbeddedHelm, Renderer, RenderError

KUBERNETES_SCHEMA = "kubernetes-schema"
CUSTOM_RESOURCE_SCHEMA = "custom-resource-schema"
CHECKS = (refusal.CHECK, KUBERNETES_SCHEMA, CUSTOM_RESOURCE_SCHEMA, *invariants.CHECKS, pod_security.CHECK,
          reachability.CHECK)


def schema_finding(error: kube_schemas.SchemaError) -> Finding:
    where = f"{error.path}: " if error.path else ""
    if error.schema:
        return Finding(CUSTOM_RESOURCE_SCHEMA, error.obj, f"{where}{error.message}", rule=error.schema)
    return Finding(KUBERNETES_SCHEMA, error.obj, f"{where}{error.message}", rule=f"Kubernetes {error.kubernetes}")


@dataclass
class Result:
    case: Case
    renderer: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    render_error: str = ""
    schema_errors: list[kube_schemas.SchemaError] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.render_error or self.schema_errors or self.findings)

    @property
    def rendered(self) -> bool:
        return not self.render_error

    def problems(self) -> list[str]:
        problems = [f"render: {self.render_error}"] if self.render_error else []
        problems += [f"schema: {error}" for error in self.schema_errors]
        problems += [str(finding) for finding in self.findings]
        return problems

    def all_findings(self) -> list[Finding]:
        """Every problem as a finding (the render refusal and schema errors too), in CHECKS order."""
        found = refusal.findings(self.render_error, self.case.chart) if self.render_error else []
        found += [schema_finding(error) for error in self.schema_errors]
        found += self.findings
        order = {check: index for index, check in enumerate(CHECKS)}
        return sorted(found, key=lambda f: order.get(f.check, len(order)))


class Harness:
    """Holds the embedded engine and the compiled validators, so many cases share them."""

    def __init__(self, renderer: Renderer | None = None,
                 kubernetes_versions: tuple[str, ...] = kube_schemas.SUPPORTED_KUBERNETES) -> None:
        self.embedded = EmbeddedHelm()
        self.renderer: Renderer = renderer or self.embedded
        self.kubernetes_versions = kubernetes_versions

    def evaluate(self, case: Case) -> Result:
        result = Result(case=case, renderer=self.renderer.name)
        try:
            rendered = self.renderer.render(case.source, case.values, case.release, case.namespace)
        except RenderError as error:
            result.render_error = str(error)
            return result
        result.objects, result.notes = rendered.objects, rendered.notes
        result.values = self.embedded.effective_values(case.source, case.values)
        result.schema_errors = kube_schemas.validate(rendered.objects, self.kubernetes_versions)
        if case.chart == paths.UMBRELLA_CHART:
            result.findings = umbrella.findings(rendered, result.values)
            result.findings += umbrella.pod_security_findings(rendered, result.values)
            result.findings += umbrella.reachability_findings(rendered, result.values, case.namespace)
        else:
            values = result.values
            result.findings = invariants.check(rendered.objects, values["fabric"]["profile"])
            result.findings += pod_security.findings(rendered.objects, values)
            result.findings += reachability.findings(rendered.objects, case.namespace, lambda _: ("", values))
        return result
