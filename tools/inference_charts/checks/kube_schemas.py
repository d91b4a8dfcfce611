"""Validation of rendered objects against Kubernetes' OpenAPI schemas and our custom-resource schemas.

Built-in kinds are checked with the strict schemas that ``kubernetes-validate`` ships (unknown fields
are errors), once for the oldest and once for the newest Kubernetes version we support. Validators are
compiled once per (Kubernetes version, apiVersion, kind) and reused: building one costs far more than
running it. Custom resources are checked against the schemas in schemas/crds/ (in an installed
package, the copy it carries: paths.crd_schemas_dir), and the pod templates
and claim templates inside a LeaderWorkerSet against Kubernetes' own PodTemplateSpec and
PersistentVolumeClaimSpec, so a typo deep in a pod template is caught too.

Speed: each schema is also compiled to Python code by fastjsonschema (with the definitions it reaches
inlined as draft-07), which checks a pod template in a fraction of a millisecond; the generated code is
cached under .cache/validators (paths.cache_dir: the checkout's, else the user's cache folder). Only
when that fast check fails does ``jsonschema`` walk the object again, to report every error with its
path. Formats are not asserted in either path (``jsonschema``
does not assert them by default), so both agree on what is valid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from inference_charts import paths

OLDEST_KUBERNETES = "1.28"
NEWEST_KUBERNETES = ".".join(kubernetes_validate.utils.latest_version().split(".")[:2])
SUPPORTED_KUBERNETES = (OLDEST_KUBERNETES, NEWEST_KUBERNETES)

_SCHEMA_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
_DEFINITION_REF = re.compile(r"^(?:/api/_definitions\.json|https://kubernetes\.io/api/_definitions\.json)?#/\$defs/(.+)$")

FastCheck = Callable[[Any], Any]

#: Custom resources: (apiVersion, kind) -> schema file in schemas/crds/.
CUSTOM_RESOURCES: dict[tuple[str, str], str] = {
    ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"): "leaderworkerset-v1.schema.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-v1.schema.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor-v1.schema.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.schema.json",
    # Argo CD objects of examples/argocd (not emitted by the charts; validated by tests/test_gitops.py).
    ("argoproj.io/v1alpha1", "Application"): "argocd-application-v1alpha1.schema.json",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argocd-applicationset-v1alpha1.schema.json",
}


@dataclass(frozen=True)
class SchemaError:
    kubernetes: str
    obj: str
    path: str
    message: str
    #: The custom-resource schema file the object failed, or "" for Kubernetes' own schemas.
    schema: str = ""

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.obj}{where}: {self.message} (Kubernetes {self.kubernetes})"


def object_name(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


class UnknownKindError(Exception):
    pass


def _inline_definitions(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """The schema as self-contained draft-07: reachable definitions copied under "definitions"."""
    reached: list[str] = []

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and (match := _DEFINITION_REF.match(value)):
                reached.append(match.group(1))
                out[key] = f"#/definitions/{match.group(1)}"
            elif key in ("format", "$schema", "$id") and isinstance(value, str):
                continue
            else:
                out[key] = rewrite(value)
        return out

    result = rewrite(schema)
    inlined: dict[str, Any] = {}
    while reached:
        name = reached.pop()
        if name not in inlined:
            inlined[name] = rewrite(definitions[name])
    result["definitions"] = inlined
    result["$schema"] = "http://json-schema.org/draft-07/schema#"
    return result


def _fast_check(schema: dict[str, Any]) -> FastCheck:
    """fastjsonschema's compiled check of a draft-07 schema, its code cached on disk by content."""
    text = json.dumps(schema, sort_keys=True)
    digest = hashlib.sha256(f"{fastjsonschema.VERSION}\nno-defaults\n{text}".encode()).hexdigest()[:32]
    cached = paths.cache_dir() / "validators" / f"{digest}.py"
    if cached.exists():
        code = cached.read_text()
    else:
        # use_default=False: fastjsonschema would otherwise write schema defaults into the checked object.
        code = fastjsonschema.compile_to_code(schema, use_default=False, use_formats=False)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{id(schema)}.tmp")
            temporary.write_text(code)
            temporary.replace(cached)
        except OSError:
            pass  # a read-only home (a CI sandbox): the code runs uncached, only slower to start
    namespace: dict[str, Any] = {}
    exec(compile(code, str(cached), "exec"), namespace)
    check: FastCheck = namespace["validate"]
    return check


class CompiledSchema:
    """A fast pass/fail check and, for failures, the full ``jsonschema`` validator."""

    def __init__(self, fast: FastCheck, full: Callable[[], jsonschema.protocols.Validator]) -> None:
        self._fast = fast
        self._full_factory = full
        self._full: jsonschema.protocols.Validator | None = None

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        try:
            self._fast(instance)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass
        if self._full is None:
            self._full = self._full_factory()
        yield from self._full.iter_errors(instance)


class KubeValidator:
    """Compiled validators for one Kubernetes minor version."""

    def __init__(self, kubernetes: str) -> None:
        self.kubernetes = kubernetes
        folder = _SCHEMA_ROOT / f"v{kubernetes}.0-local-strict"
        if not folder.is_dir():
            raise ValueError(f"kubernetes-validate ships no schemas for Kubernetes {kubernetes}")
        self._folder = folder
        definitions = json.loads((folder / "_definitions.json").read_text())
        self._definitions: dict[str, Any] = definitions["$defs"]
        self._registry: Registry = Resource.from_contents(definitions) @ Registry()
        self._validators: dict[tuple[str, str], CompiledSchema] = {}

    def _compile(self, schema: dict[str, Any]) -> CompiledSchema:
        def full() -> jsonschema.protocols.Validator:
            validator_class = jsonschema.validators.validator_for(schema)
            return validator_class(schema, registry=self._registry)

        return CompiledSchema(_fast_check(_inline_definitions(schema, self._definitions)), full)

    def _definition(self, name: str) -> CompiledSchema:
        key = ("#definition", name)
        if key not in self._validators:
            self._validators[key] = self._compile(
                {"$schema": "https://json-schema.org/draft/2020-12/schema",
                 "$ref": f"{_DEFINITIONS_ID}#/$defs/{name}"}
            )
        return self._validators[key]

    def _for(self, api_version: str, kind: str) -> CompiledSchema:
        key = (api_version, kind)
        if key not in self._validators:
            if key in CUSTOM_RESOURCES:
                schema = json.loads((paths.crd_schemas_dir() / CUSTOM_RESOURCES[key]).read_text())
            else:
                # rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1 (kubernetes-validate's file naming)
                group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
                schema_file = self._folder / f"{kind.lower()}-{group_version}.json"
                if not schema_file.exists():
                    raise UnknownKindError(f"no schema for {api_version} {kind}")
                schema = json.loads(schema_file.read_text())
            self._validators[key] = self._compile(schema)
        return self._validators[key]

    def errors(self, obj: dict[str, Any]) -> Iterator[SchemaError]:
        name = object_name(obj)
        try:
            validator = self._for(obj.get("apiVersion", ""), obj.get("kind", ""))
        except UnknownKindError as error:
            yield SchemaError(self.kubernetes, name, "", str(error))
            return
        custom = CUSTOM_RESOURCES.get((obj.get("apiVersion", ""), obj.get("kind", "")), "")
        yield from self._collect(validator, obj, name, "", custom)
        if obj.get("kind") == "LeaderWorkerSet":
            yield from self._leader_worker_set_parts(obj, name)

    def _collect(
        self, validator: CompiledSchema, instance: Any, name: str, prefix: str, custom: str = ""
    ) -> Iterator[SchemaError]:
        for error in validator.iter_errors(instance):
            path = prefix + "".join(f"/{part}" for part in error.absolute_path)
            yield SchemaError(self.kubernetes, name, path, error.message, custom)

    def _leader_worker_set_parts(self, obj: dict[str, Any], name: str) -> Iterator[SchemaError]:
        template = obj.get("spec", {}).get("leaderWorkerTemplate", {})
        base = "/spec/leaderWorkerTemplate"
        pod_template = self._definition("io.k8s.api.core.v1.PodTemplateSpec")
        for part in ("leaderTemplate", "workerTemplate"):
            if part in template:
                yield from self._collect(pod_template, template[part], name, f"{base}/{part}")
        claim_spec = self._definition("io.k8s.api.core.v1.PersistentVolumeClaimSpec")
        for index, claim in enumerate(template.get("volumeClaimTemplates", [])):
            yield from self._collect(claim_spec, claim.get("spec", {}), name,
                                     f"{base}/volumeClaimTemplates/{index}/spec")


@cache
def validator(kubernetes: str) -> KubeValidator:
    return KubeValidator(kubernetes)


def validate(objects: list[dict[str, Any]], versions: tuple[str, ...] = SUPPORTED_KUBERNETES) -> list[SchemaError]:
    """Every schema error of every object, for each Kubernetes version."""
    return [error for version in versions for obj in objects for error in validator(version).errors(obj)]
