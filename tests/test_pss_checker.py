"""inference_charts.checks.pss: the Pod Security Standards checker. A compliant pod passes both profiles; each
control of the specification has a pod that fails it, and only it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from inference_charts.checks import pss
from inference_charts.checks.pss import Violation, manifest_violations, pod_templates, violations

Spec = dict[str, Any]


def compliant() -> Spec:
    """Restricted: seccomp and runAsNonRoot at the pod level, the rest on each container."""
    hardened = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"},
                            "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}]},
        "initContainers": [{"name": "fetch", "image": "busybox", "securityContext": copy.deepcopy(hardened)}],
        "containers": [{
            "name": "engine", "image": "vllm/vllm-openai:v0.12.0",
            "ports": [{"name": "http", "containerPort": 8000}],
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
            "lifecycle": {"preStop": {"tcpSocket": {"port": 8000, "host": ""}}},
            "securityContext": {**copy.deepcopy(hardened), "capabilities": {"drop": ["ALL"],
                                                                             "add": ["NET_BIND_SERVICE"]}},
        }],
        "ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": copy.deepcopy(hardened)}],
        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory"}}, {"name": "cfg", "configMap": {"name": "c"}},
                    {"name": "cache", "persistentVolumeClaim": {"claimName": "models"}},
                    {"name": "token", "projected": {"sources": []}}, {"name": "s", "secret": {"secretName": "s"}},
                    {"name": "d", "downwardAPI": {"items": []}}, {"name": "c", "csi": {"driver": "x"}},
                    {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}],
    }


def engine(spec: Spec) -> Spec:
    return spec["containers"][0]


def sc(spec: Spec, kind: str = "containers") -> Spec:
    return spec[kind][0]["securityContext"]


def test_compliant_pod_passes_both_profiles() -> None:
    assert violations(compliant()) == []
    assert violations(compliant(), profile="baseline") == []
    assert violations(compliant(), annotations={f"{pss.APPARMOR_ANNOTATION_PREFIX}engine": "runtime/default"}) == []


def test_container_level_settings_alone_are_enough() -> None:
    spec = compliant()
    pod = spec["securityContext"]
    del pod["runAsNonRoot"], pod["seccompProfile"]
    for kind in pss.CONTAINER_LISTS:
        sc(spec, kind).update(runAsNonRoot=True, seccompProfile={"type": "Localhost", "localhostProfile": "p.json"})
    assert violations(spec) == []


def test_violation_is_frozen_and_readable() -> None:
    v = Violation("Privileged Containers", "spec.containers[engine].securityContext.privileged", "not allowed")
    assert str(v) == "Privileged Containers: spec.containers[engine].securityContext.privileged: not allowed"
    with pytest.raises(AttributeError):
        v.control = "x"  # type: ignore[misc]


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile"):
        violations(compliant(), profile="privileged")


# Each case: (the control it breaks, whether baseline catches it too, how to break the compliant pod,
# the path of the field it reports).
def _set(path: str, value: Any) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        keys = path.split(".")
        node: Any = spec
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[keys[-1]] = value
    return mutate


def _drop(path: str) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        keys = path.split(".")
        node: Any = spec
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[keys[-1]]
    return mutate


def _add_volume(volume: Spec) -> Callable[[Spec], None]:
    return lambda spec: spec["volumes"].append(volume)


CASES: dict[str, tuple[str, bool, Callable[[Spec], None], str]] = {
    "hostProcess-pod": (pss.HOST_PROCESS, True, _set("securityContext.windowsOptions.hostProcess", True),
                        "spec.securityContext.windowsOptions.hostProcess"),
    "hostProcess-ephemeral": (pss.HOST_PROCESS, True,
                              _set("ephemeralContainers.0.securityContext.windowsOptions.hostProcess", True),
                              "spec.ephemeralContainers[debug].securityContext.windowsOptions.hostProcess"),
    "hostNetwork": (pss.HOST_NAMESPACES, True, _set("hostNetwork", True), "spec.hostNetwork"),
    "hostPID": (pss.HOST_NAMESPACES, True, _set("hostPID", True), "spec.hostPID"),
    "hostIPC": (pss.HOST_NAMESPACES, True, _set("hostIPC", True), "spec.hostIPC"),
    "privileged-init": (pss.PRIVILEGED, True, _set("initContainers.0.securityContext.privileged", True),
                        "spec.initContainers[fetch].securityContext.privileged"),
    "capability-outside-baseline": (pss.CAPABILITIES, True,
                                    _set("containers.0.securityContext.capabilities.add", ["IPC_LOCK"]),
                                    "spec.containers[engine].securityContext.capabilities.add"),
    "capability-baseline-not-restricted": (pss.CAPABILITIES, False,
                                           _set("containers.0.securityContext.capabilities.add", ["CHOWN"]),
                                           "spec.containers[engine].securityContext.capabilities.add"),
    "capabilities-no-drop-all": (pss.CAPABILITIES, False,
                                 _set("ephemeralContainers.0.securityContext.capabilities.drop", ["NET_RAW"]),
                                 "spec.ephemeralContainers[debug].securityContext.capabilities.drop"),
    "capabilities-drop-all-lowercase": (pss.CAPABILITIES, False,
                                        _set("containers.0.securityContext.capabilities.drop", ["all"]),
                                        "spec.containers[engine].securityContext.capabilities.drop"),
    "hostPath": (pss.HOST_PATH, True, _add_volume({"name": "models", "hostPath": {"path": "/mnt/models"}}),
                 "spec.volumes[models].hostPath"),
    "hostPort": (pss.HOST_PORTS, True, _set("containers.0.ports.0.hostPort", 8000),
                 "spec.containers[engine].ports[http].hostPort"),
    "probe-host": (pss.HOST_PROBES, True, _set("containers.0.readinessProbe.httpGet.host", "10.0.0.1"),
                   "spec.containers[engine].readinessProbe.httpGet.host"),
    "hook-host": (pss.HOST_PROBES, True, _set("containers.0.lifecycle.preStop.tcpSocket.host", "metadata"),
                  "spec.containers[engine].lifecycle.preStop.tcpSocket.host"),
    "apparmor-unconfined": (pss.APPARMOR, True, _set("containers.0.securityContext.appArmorProfile.type", "Unconfined"),
                            "spec.containers[engine].securityContext.appArmorProfile.type"),
    "selinux-type": (pss.SELINUX, True, _set("securityContext.seLinuxOptions.type", "spc_t"),
                     "spec.securityContext.seLinuxOptions.type"),
    "selinux-user": (pss.SELINUX, True, _set("initContainers.0.securityContext.seLinuxOptions.user", "system_u"),
                     "spec.initContainers[fetch].securityContext.seLinuxOptions.user"),
    "procMount": (pss.PROC_MOUNT, True, _set("containers.0.securityContext.procMount", "Unmasked"),
                  "spec.containers[engine].securityContext.procMount"),
    "seccomp-unconfined-pod": (pss.SECCOMP, True, _set("securityContext.seccompProfile.type", "Unconfined"),
                               "spec.securityContext.seccompProfile.type"),
    "seccomp-unconfined-overrides-pod": (pss.SECCOMP, True,
                                         _set("containers.0.securityContext.seccompProfile.type", "Unconfined"),
                                         "spec.containers[engine].securityContext.seccompProfile.type"),
    "sysctl-unsafe": (pss.SYSCTLS, True, _set("securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}]),
                      "spec.securityContext.sysctls[0]"),
    "volume-nfs": (pss.VOLUME_TYPES, False, _add_volume({"name": "nfs", "nfs": {"server": "s", "path": "/"}}),
                   "spec.volumes[nfs]"),
    "privilege-escalation-unset": (pss.PRIVILEGE_ESCALATION, False,
                                   _drop("initContainers.0.securityContext.allowPrivilegeEscalation"),
                                   "spec.initContainers[fetch].securityContext.allowPrivilegeEscalation"),
    "privilege-escalation-true": (pss.PRIVILEGE_ESCALATION, False,
                                  _set("containers.0.securityContext.allowPrivilegeEscalation", True),
                                  "spec.containers[engine].securityContext.allowPrivilegeEscalation"),
    "runAsNonRoot-container-false-overrides-pod": (pss.RUN_AS_NON_ROOT, False,
                                                   _set("containers.0.securityContext.runAsNonRoot", False),
                                                   "spec.containers[engine].securityContext.runAsNonRoot"),
    "runAsUser-root-pod": (pss.RUN_AS_USER, False, _set("securityContext.runAsUser", 0),
                           "spec.securityContext.runAsUser"),
    "runAsUser-root-container": (pss.RUN_AS_USER, False, _set("ephemeralContainers.0.securityContext.runAsUser", 0),
                                 "spec.ephemeralContainers[debug].securityContext.runAsUser"),
}


#: A hostPath volume breaks two controls: baseline's HostPath Volumes and restricted's Volume Types.
ALSO_REPORTED = {"hostPath": [(pss.VOLUME_TYPES, "spec.volumes[models]")]}


@pytest.mark.parametrize("name", CASES)
def test_each_control_has_a_failing_example(name: str) -> None:
    control, baseline_too, mutate, where = CASES[name]
    spec = compliant()
    mutate(spec)
    found = violations(spec)
    assert [(v.control, v.where) for v in found] == [(control, where), *ALSO_REPORTED.get(name, [])], found
    assert all(v.detail for v in found)
    baseline = violations(spec, profile="baseline")
    assert [(v.control, v.where) for v in baseline] == ([(control, where)] if baseline_too else [])


def test_every_control_is_exercised() -> None:
    assert {control for control, *_ in CASES.values()} == set(pss.RESTRICTED_CONTROLS)


def test_apparmor_annotation() -> None:
    key = f"{pss.APPARMOR_ANNOTATION_PREFIX}engine"
    assert violations(compliant(), annotations={key: "localhost/k8s-engine"}) == []
    found = violations(compliant(), annotations={key: "unconfined"})
    assert [(v.control, v.where) for v in found] == [(pss.APPARMOR, f"metadata.annotations[{key}]")]


def test_seccomp_must_cover_every_container() -> None:
    spec = compliant()
    del spec["securityContext"]["seccompProfile"]
    sc(spec)["seccompProfile"] = {"type": "RuntimeDefault"}
    found = violations(spec)
    assert {v.where for v in found} == {"spec.initContainers[fetch].securityContext.seccompProfile.type",
                                        "spec.ephemeralContainers[debug].securityContext.seccompProfile.type"}
    assert {v.control for v in found} == {pss.SECCOMP}
    assert violations(spec, profile="baseline") == []  # baseline only forbids Unconfined


def test_run_as_non_root_must_cover_every_container() -> None:
    spec = compliant()
    del spec["securityContext"]["runAsNonRoot"]
    sc(spec)["runAsNonRoot"] = True
    found = violations(spec)
    assert {(v.control, v.where) for v in found} == {
        (pss.RUN_AS_NON_ROOT, "spec.initContainers[fetch].securityContext.runAsNonRoot"),
        (pss.RUN_AS_NON_ROOT, "spec.ephemeralContainers[debug].securityContext.runAsNonRoot")}
    spec["securityContext"]["runAsNonRoot"] = False
    assert (pss.RUN_AS_NON_ROOT, "spec.securityContext.runAsNonRoot") in {(v.control, v.where)
                                                                          for v in violations(spec)}


def test_windows_pods_skip_the_linux_only_controls() -> None:
    spec = compliant()
    spec["os"] = {"name": "windows"}
    for kind in pss.CONTAINER_LISTS:
        del sc(spec, kind)["allowPrivilegeEscalation"], sc(spec, kind)["capabilities"]
    del spec["securityContext"]["seccompProfile"]
    assert violations(spec) == []
    spec["os"] = {"name": "linux"}
    assert {v.control for v in violations(spec)} == {pss.PRIVILEGE_ESCALATION, pss.SECCOMP, pss.CAPABILITIES}


def test_a_bare_pod_fails_restricted_but_passes_baseline() -> None:
    bare = {"containers": [{"name": "app", "image": "nginx"}]}
    assert violations(bare, profile="baseline") == []
    assert {v.control for v in violations(bare)} == {pss.CAPABILITIES, pss.SECCOMP, pss.PRIVILEGE_ESCALATION,
                                                     pss.RUN_AS_NON_ROOT}


def test_manifest_violations_reads_every_pod_template() -> None:
    bad = {"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": True}}]}
    objects = [
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": copy.deepcopy(bad)},
        {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": copy.deepcopy(bad)}}},
        {"kind": "CronJob", "metadata": {"name": "c"},
         "spec": {"jobTemplate": {"spec": {"template": {"spec": copy.deepcopy(bad)}}}}},
        {"kind": "LeaderWorkerSet", "metadata": {"name": "l"},
         "spec": {"leaderWorkerTemplate": {"leaderTemplate": {"spec": copy.deepcopy(bad)},
                                           "workerTemplate": {"spec": copy.deepcopy(bad)}}}},
        {"kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": []}},
    ]
    labels = [label for label, v in manifest_violations(objects, profile="baseline") if v.control == pss.PRIVILEGED]
    assert labels == ["Pod/p", "Job/j", "CronJob/c", "LeaderWorkerSet/l (leaderTemplate)",
                      "LeaderWorkerSet/l (workerTemplate)"]
    annotated = {"kind": "Deployment", "metadata": {"name": "d"},
                 "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": compliant()}}}
    assert [(label, annotations) for label, _, annotations in pod_templates(annotated)] == [("Deployment/d",
                                                                                             {"a": "b"})]
