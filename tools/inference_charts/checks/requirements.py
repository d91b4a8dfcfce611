"""Which LeaderWorkerSet and Kubernetes versions a rendered release needs, read from the objects.

Each LeaderWorkerSet feature the charts can render is listed with the first kubernetes-sigs/lws tag
that has it (found with `git tag --contains` on the commit that added it to
api/leaderworkerset/v1/leaderworkerset_types.go; lws has no changelog). The summary of `render` and
`check` prints what a release needs, and `inference-charts gen` writes the same table into the engine
charts' READMEs and docs/requirements.md, so the docs cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Kubernetes: the harness validates against these API versions (kube_schemas.SUPPORTED_KUBERNETES).
#: 1.28 is also the first release whose Job controller labels pods with their completion index by
#: default (PodIndexLabel beta), which the Indexed Job kind's leader Service selects.
MIN_KUBERNETES = "1.28"


@dataclass(frozen=True)
class LwsFeature:
    name: str
    version: str
    commit: str  # the lws commit that added it
    used_when: str  # what in the values renders it
    present: Callable[[dict[str, Any]], bool]
    value: str = ""  # the value whose schema description states the version ("" for every LWS)


def _template(lws: dict[str, Any]) -> dict[str, Any]:
    return dict(lws.get("spec", {}).get("leaderWorkerTemplate", {}))


LWS_FEATURES: tuple[LwsFeature, ...] = (
    LwsFeature("LWS_LEADER_ADDRESS in every container (what the workers dial)", "v0.3.0", "-",
               "every LeaderWorkerSet", lambda lws: True),
    LwsFeature("rolloutStrategy maxSurge, startupPolicy", "v0.3.0", "3a7fbc0, 82f02fc",
               "every LeaderWorkerSet (group.rollout, group.startupPolicy)",
               lambda lws: "startupPolicy" in lws.get("spec", {})
               or "maxSurge" in lws.get("spec", {}).get("rolloutStrategy", {}).get("rollingUpdateConfiguration", {})),
    LwsFeature("networkConfig.subdomainPolicy", "v0.4.0", "39f4dd3", "every LeaderWorkerSet (group.subdomainPolicy)",
               lambda lws: "networkConfig" in lws.get("spec", {}), "group.subdomainPolicy"),
    LwsFeature("subGroupPolicy.subGroupPolicyType", "v0.6.0", "471be46", "group.subGroupPolicy.subGroupSize > 0",
               lambda lws: "subGroupPolicyType" in _template(lws).get("subGroupPolicy", {}), "group.subGroupPolicy"),
    LwsFeature("leaderWorkerTemplate.volumeClaimTemplates", "v0.8.0", "47a6181", "cache.type perPodClaim",
               lambda lws: bool(_template(lws).get("volumeClaimTemplates")), "cache.type"),
    LwsFeature("restartPolicy RecreateGroupAfterStart", "v0.9.0", "9a3c8db",
               "group.restartPolicy RecreateGroupAfterStart",
               lambda lws: _template(lws).get("restartPolicy") == "RecreateGroupAfterStart", "group.restartPolicy"),
)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split("."))


def lws_minimum(objects: list[dict[str, Any]]) -> tuple[str, list[str]] | None:
    """The newest lws tag any rendered LeaderWorkerSet needs, with the features that need it; None
    when nothing renders a LeaderWorkerSet."""
    groups = [o for o in objects if o.get("kind") == "LeaderWorkerSet"]
    if not groups:
        return None
    used = [f for f in LWS_FEATURES if any(f.present(lws) for lws in groups)]
    newest = max((f.version for f in used), key=_key)
    return newest, [f.name for f in used if f.version == newest]


def markdown_table() -> str:
    """The README section: minimum versions, generated from LWS_FEATURES."""
    lines = [
        f"Kubernetes {MIN_KUBERNETES} or newer (every release is validated against the oldest and newest "
        "supported API versions). LeaderWorkerSet, for `workload.kind: LeaderWorkerSet`: the release needs the "
        "newest version that any feature it renders needs; `inference-charts render` and `check` print it.",
        "",
        "| LeaderWorkerSet feature | needs lws | rendered when | lws commit |",
        "|---|---|---|---|",
    ]
    lines += [f"| {f.name} | {f.version} | {f.used_when} | {f.commit} |" for f in LWS_FEATURES]
    return "\n".join(lines) + "\n"
