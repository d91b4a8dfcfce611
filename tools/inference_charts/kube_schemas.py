"""Validation of rendered objects against Kubernetes' OpenAPI schemas and our custom-resource schemas.

Built-in kinds are checked with the strict schemas that ``kubernetes-validate`` ships (unknown fields
are errors), once for the oldest and once for the newest Kubernetes version we support. Validators are
compiled once per (Kubernetes version, apiVersion, kind) and reused: building one costs far more than
running it. Custom resources are checked against the schemas in schemas/crds/, and the pod templates
and claim templates inside a LeaderWorkerSet against Kubernetes' own PodTemplateSpec and
PersistentVolumeClaimSpec, so a typo deep in a pod template is caught too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from . import paths

OLDEST_KUBERNETES = "1.28"
NEWEST_KUBERNETES = ".".join(kubernetes_validate.utils.latest_version().split(".")[:2])
SUPPORTED_KUBERNETES = (OLDEST_KUBERNETES, NEWEST_KUBERNETES)

_SCHEMA_ROOT = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"

#: Custom resources: (apiVersion, kind) -> schema file in schemas/crds/.
CUSTOM_RESOURCES: dict[tuple[str, str], str] = {
    ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"): "leaderworkerset-v1.schema.json",
}


@dataclass(frozen=True)
class SchemaError:
    kubernetes: str
    obj: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.obj}{where}: {self.message} (Kubernetes {self.kubernetes})"


def object_name(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


class UnknownKindError(Exception):
    pass


class KubeValidator:
    """Compiled validators for one Kubernetes minor version."""

    def __init__(self, kubernetes: str) -> None:
        self.kubernetes = kubernetes
        folder = _SCHEMA_ROOT / f"v{kubernetes}.0-local-strict"
        if not folder.is_dir():
            raise ValueError(f"kubernetes-validate ships no schemas for Kubernetes {kubernetes}")
        self._folder = folder
        definitions = json.loads((folder / "_definitions.json").read_text())
        self._registry: Registry = Resource.from_contents(definitions) @ Registry()
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}

    def _compile(self, schema: dict[str, Any]) -> jsonschema.protocols.Validator:
        validator_class = jsonschema.validators.validator_for(schema)
        return validator_class(schema, registry=self._registry)

    def _definition(self, name: str) -> jsonschema.protocols.Validator:
        key = ("#definition", name)
        if key not in self._validators:
            self._validators[key] = self._compile(
                {"$schema": "https://json-schema.org/draft/2020-12/schema",
                 "$ref": f"{_DEFINITIONS_ID}#/$defs/{name}"}
            )
        return self._validators[key]

    def _for(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        key = (api_version, kind)
        if key not in self._validators:
            if key in CUSTOM_RESOURCES:
                schema = json.loads((paths.CRD_SCHEMAS_DIR / CUSTOM_RESOURCES[key]).read_text())
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
        yield from self._collect(validator, obj, name, "")
        if obj.get("kind") == "LeaderWorkerSet":
            yield from self._leader_worker_set_parts(obj, name)

    def _collect(
        self, validator: jsonschema.protocols.Validator, instance: Any, name: str, prefix: str
    ) -> Iterator[SchemaError]:
        for error in validator.iter_errors(instance):
            path = prefix + "".join(f"/{part}" for part in error.absolute_path)
            yield SchemaError(self.kubernetes, name, path, error.message)

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
