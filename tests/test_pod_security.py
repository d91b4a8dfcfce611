"""Every pod the matrix renders (serving groups, preflight, helm test, pre-pull) meets the Pod Security
Standards "restricted" profile, except for the documented exceptions, which are reported by name:
IPC_LOCK on RDMA profiles, and the hostPath and NFS cache volumes a user chooses explicitly. The
exceptions live in checks/pod_security.py, which the harness runs for every case; these tests hold it
to them: each exception is used, none excuses more than its value asks for."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from inference_charts.checks import pod_security, pss
from inference_charts.devtools.matrix import all_cases, production_matrix
from inference_charts.render.cases import Case

CASES = [m.case for m in all_cases()] + [k.case for k in production_matrix()]
SEEN_EXCEPTIONS: Counter[str] = Counter()


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
    for assessment in pod_security.assess(result.objects, result.values):
        if assessment.exception is None:
            unexcused.append(f"{assessment.obj}: {assessment.violation}")
        else:
            SEEN_EXCEPTIONS[assessment.exception] += 1
    assert unexcused == []


def _ethernet_pvc_case() -> Case:
    return next(c for c in CASES if c.values.get("fabric", {}).get("profile") == "ethernet"
                and c.values.get("cache", {}).get("type") == "pvc")


def test_the_checker_sees_a_default_pod_as_restricted_and_a_root_one_not(harness) -> None:
    case = _ethernet_pvc_case()
    result = harness.evaluate(case)
    assert pss.manifest_violations(result.objects) == []
    values = copy.deepcopy(case.values)
    values["securityContext"] = {"runAsUser": 0, "runAsNonRoot": False, "readOnlyRootFilesystem": False}
    broken = harness.evaluate(Case(chart=case.chart, values=values, name="root"))
    controls = {v.control for _, v in pss.manifest_violations(broken.objects)}
    assert {pss.RUN_AS_NON_ROOT, pss.RUN_AS_USER} <= controls
    # The harness reports them, naming the control and the value responsible.
    found = {(f.rule, f.value) for f in broken.findings if f.check == pod_security.CHECK}
    assert found == {(pss.RUN_AS_NON_ROOT, "securityContext.runAsNonRoot"),
                     (pss.RUN_AS_USER, "securityContext.runAsUser")}
    assert not broken.ok


def test_an_exception_holds_only_where_its_value_asks_for_it(harness) -> None:
    """The same rendered objects, judged with values that do not ask for the exception: the violation is
    a finding again, naming the value behind it."""
    rdma = next(c for c in CASES if c.values.get("fabric", {}).get("profile") == "infiniband"
                and c.values.get("cache", {}).get("type") == "hostPath")
    result = harness.evaluate(rdma)
    assert pod_security.findings(result.objects, result.values) == []
    elsewhere = {**result.values, "fabric": {**result.values["fabric"], "profile": "ethernet"},
                 "cache": {**result.values["cache"], "type": "pvc"}}
    values = {f.value for f in pod_security.findings(result.objects, elsewhere)}
    assert values == {"fabric.rdma.ipcLock", "cache.type"}
    # A hostPath volume that is not the model cache is never excused, whatever cache.type says.
    values = copy.deepcopy(rdma.values)
    values["extraVolumes"] = [{"name": "scratch", "hostPath": {"path": "/scratch"}}]
    values["extraVolumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    extra = harness.evaluate(Case(chart=rdma.chart, values=values, name="extra-hostpath"))
    found = {(f.rule, f.value) for f in extra.findings if f.check == pod_security.CHECK}
    assert found == {(pss.HOST_PATH, "extraVolumes"), (pss.VOLUME_TYPES, "extraVolumes")}


def test_each_documented_exception_occurs_and_nothing_else() -> None:
    """Runs after the matrix above (file order): every exception rule matched real violations, so none is a
    dead rule hiding nothing, and the figures say how often."""
    if not SEEN_EXCEPTIONS:
        pytest.skip("run together with the matrix test above")
    print(dict(SEEN_EXCEPTIONS))
    assert set(SEEN_EXCEPTIONS) == {e.name for e in pod_security.EXCEPTIONS} == {
        "IPC_LOCK on an RDMA profile", "hostPath model cache (cache.type hostPath)", "NFS model cache (cache.type nfs)"}
