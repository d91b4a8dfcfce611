"""Render a case, validate every object, check every invariant: one call, one result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inference_charts import paths
from inference_charts.checks import invariants, kube_schemas, umbrella
from inference_charts.checks.invariants import Finding
from inference_charts.render.cases import Case
from inference_charts.render.engine import EmbeddedHelm, Renderer, RenderError


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

    def problems(self) -> list[str]:
        problems = [f"render: {self.render_error}"] if self.render_error else []
        problems += [f"schema: {error}" for error in self.schema_errors]
        problems += [str(finding) for finding in self.findings]
        return problems


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
            rendered = self.renderer.render(case.chart, case.values, case.release, case.namespace)
        except RenderError as error:
            result.render_error = str(error)
            return result
        result.objects, result.notes = rendered.objects, rendered.notes
        result.values = self.embedded.effective_values(case.chart, case.values)
        result.schema_errors = kube_schemas.validate(rendered.objects, self.kubernetes_versions)
        if case.chart == paths.UMBRELLA_CHART:
            result.findings = umbrella.findings(rendered, result.values)
        else:
            result.findings = invariants.check(rendered.objects, result.values["fabric"]["profile"])
        return result
