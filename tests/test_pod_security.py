"""Every pod the matrix renders (serving groups, preflight, helm test, pre-pull) meets the Pod Security
Standards "restricted" profile, except for the documented exceptions, which are reported by name:
IPC_LOCK on RDMA profiles, and the hostPath and NFS cache volumes a user chooses explicitly."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from inference_charts.checks import pss
from inference_charts.devtools.matrix import all_cases, production_matrix
from inference_charts.render.cases import Case

CASES = [m.case for m in all_cases()] + [k.case for k in production_matrix()]
RDMA = ("infiniband", "roce")
SEEN_EXCEPTIONS: Counter[str] = Counter()


def _exception(case: Case, violation: pss.Violation) -> str | None:
    """The documented exception a violation falls under, or None."""
    text = str(violation)
    fabric = case.values.get("fabric", {}).get("profile", "infiniband")
    cache = case.values.get("cache", {}).get("type", "pvc")
    if violation.control == pss.CAPABILITIES and "IPC_LOCK" in text and fabric in RDMA:
        return "IPC_LOCK on an RDMA profile"
    if violation.control in (pss.HOST_PATH, pss.VOLUME_TYPES) and "hostPath" in text and cache == "hostPath":
        return "hostPath model cache (cache.type hostPath)"
    if violation.control == pss.VOLUME_TYPES and "nfs" in text and cache == "nfs":
        return "NFS model cache (cache.type nfs)"
    return None


def _with_everything(case: Case) -> Case:
    """The case with the preflight on, so its pods are checked too."""
    values = copy.deepcopy(case.values)
    values["preflight"] = {"enabled": True}
    return Case(chart=case.chart, values=values, release=case.release, namespace=case.namespace, name=case.name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_pod_is_restricted_but_for_named_exceptions(case: Case, harness) -> None:
    result = harness.evaluate(_with_everything(case))
    assert result.ok, result.problems()
    unexcused = []
    for label, violation in pss.manifest_violations(result.objects):
        reason = _exception(case, violation)
        if reason is None:
            unexcused.append(f"{label}: {violation}")
        else:
            SEEN_EXCEPTIONS[reason] += 1
    assert unexcused == []


def test_the_checker_sees_a_default_pod_as_restricted_and_a_root_one_not(harness) -> None:
    case = next(c for c in CASES if c.values.get("fabric", {}).get("profile") == "ethernet"
                and c.values.get("cache", {}).get("type") == "pvc")
    result = harness.evaluate(case)
    assert pss.manifest_violations(result.objects) == []
    values = copy.deepcopy(case.values)
    values["securityContext"] = {"runAsUser": 0, "runAsNonRoot": False, "readOnlyRootFilesystem": False}
    broken = harness.evaluate(Case(chart=case.chart, values=values, name="root"))
    controls = {v.control for _, v in pss.manifest_violations(broken.objects)}
    assert {pss.RUN_AS_NON_ROOT, pss.RUN_AS_USER} <= controls


def test_each_documented_exception_occurs_and_nothing_else() -> None:
    """Runs after the matrix above (file order): every exception rule matched real violations, so none is a
    dead rule hiding nothing, and the figures say how often."""
    if not SEEN_EXCEPTIONS:
        pytest.skip("run together with the matrix test above")
    print(dict(SEEN_EXCEPTIONS))
    assert set(SEEN_EXCEPTIONS) == {"IPC_LOCK on an RDMA profile", "hostPath model cache (cache.type hostPath)",
                                    "NFS model cache (cache.type nfs)"}
