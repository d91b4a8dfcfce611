"""Pod Security "restricted" for a rendered release, with the charts' documented exceptions by name.

pss.py says which fields of a pod template break which control of the specification. This module
decides what that means for a release of these charts: every pod template (serving groups, preflight,
helm test, pre-pull) must meet "restricted", except for three choices a user makes on purpose, each
accepted by name and only where the value that asks for it is set:

- "IPC_LOCK on an RDMA profile": RDMA pins memory, so engine containers on the infiniband and roce
  profiles add IPC_LOCK back (fabric.rdma.ipcLock);
- "hostPath model cache (cache.type hostPath)": the model-cache volume is a hostPath;
- "NFS model cache (cache.type nfs)": the model-cache volume is an NFS volume.

Anything else is a finding naming the object, the control and, where one is responsible, the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inference_charts.checks import pss
from inference_charts.checks.invariants import Finding

CHECK = "pod-security"
RDMA_PROFILES = frozenset({"infiniband", "roce"})
#: The volume the charts mount the model cache from (library chart, _cache.tpl).
MODEL_CACHE_VOLUME = "model-cache"

_VOLUME = re.compile(r"^spec\.volumes\[(?P<name>[^\]]+)\]")


@dataclass(frozen=True)
class NamedException:
    """A documented exception: its name, and which violations it accepts given the release's values."""

    name: str
    accepts: Callable[[pss.Violation, Mapping[str, Any]], bool]


def _volume_name(violation: pss.Violation) -> str | None:
    match = _VOLUME.match(violation.where)
    return match.group("name") if match else None


def _fabric_profile(values: Mapping[str, Any]) -> str:
    return str((values.get("fabric") or {}).get("profile", ""))


def _cache_type(values: Mapping[str, Any]) -> str:
    return str((values.get("cache") or {}).get("type", ""))


def _ipc_lock(violation: pss.Violation, values: Mapping[str, Any]) -> bool:
    # Only the one capability, only added, only on a profile that uses RDMA: any other added capability
    # stays a finding even on those profiles.
    return (violation.control == pss.CAPABILITIES and violation.where.endswith(".capabilities.add")
            and violation.detail.startswith("adds IPC_LOCK") and _fabric_profile(values) in RDMA_PROFILES)


def _host_path_cache(violation: pss.Violation, values: Mapping[str, Any]) -> bool:
    return (violation.control in (pss.HOST_PATH, pss.VOLUME_TYPES) and _volume_name(violation) == MODEL_CACHE_VOLUME
            and "hostPath" in violation.where + violation.detail and _cache_type(values) == "hostPath")


def _nfs_cache(violation: pss.Violation, values: Mapping[str, Any]) -> bool:
    return (violation.control == pss.VOLUME_TYPES and _volume_name(violation) == MODEL_CACHE_VOLUME
            and "type nfs" in violation.detail and _cache_type(values) == "nfs")


EXCEPTIONS: tuple[NamedException, ...] = (
    NamedException("IPC_LOCK on an RDMA profile", _ipc_lock),
    NamedException("hostPath model cache (cache.type hostPath)", _host_path_cache),
    NamedException("NFS model cache (cache.type nfs)", _nfs_cache),
)


def responsible_value(violation: pss.Violation, values: Mapping[str, Any]) -> str:
    """The value whose setting produces the violating field, or "" when the chart's template does."""
    if violation.control == pss.RUN_AS_NON_ROOT:
        return "securityContext.runAsNonRoot"
    if violation.control == pss.RUN_AS_USER:
        return "securityContext.runAsUser"
    if violation.control == pss.CAPABILITIES and "IPC_LOCK" in violation.detail:
        return "fabric.rdma.ipcLock"
    volume = _volume_name(violation)
    if volume == MODEL_CACHE_VOLUME:
        return "cache.type"
    extra = {str(v.get("name")) for v in values.get("extraVolumes") or [] if isinstance(v, Mapping)}
    if volume is not None and volume in extra:
        return "extraVolumes"
    return ""


@dataclass(frozen=True)
class Assessment:
    """One violation in one pod template, the value behind it, and the exception accepting it, if any."""

    obj: str
    violation: pss.Violation
    value: str
    exception: str | None

    def finding(self, value_prefix: str = "") -> Finding:
        value = f"{value_prefix}{self.value}" if self.value else ""
        return Finding(CHECK, self.obj, f"{self.violation.where}: {self.violation.detail}", value=value,
                       rule=self.violation.control)


def assess(objects: Iterable[Mapping[str, Any]], values: Mapping[str, Any]) -> list[Assessment]:
    """Every restricted-profile violation of every pod template in ``objects``, judged against the
    documented exceptions. ``values`` are the effective values of the chart that rendered them (for an
    umbrella release, one engine's, with the global fabric and cache applied)."""
    assessed = []
    for label, violation in pss.manifest_violations(objects, profile=pss.RESTRICTED):
        exception = next((e.name for e in EXCEPTIONS if e.accepts(violation, values)), None)
        assessed.append(Assessment(label, violation, responsible_value(violation, values), exception))
    return assessed


def findings(objects: Iterable[Mapping[str, Any]], values: Mapping[str, Any], value_prefix: str = "") -> list[Finding]:
    """The violations no documented exception accepts, as findings; ``value_prefix`` places the values
    (``vllm-multinode.`` for an engine of the umbrella chart)."""
    return [a.finding(value_prefix) for a in assess(objects, values) if a.exception is None]
