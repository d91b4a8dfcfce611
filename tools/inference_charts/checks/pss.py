"""Pod Security Standards: a pod spec checked against the "restricted" profile (which includes "baseline").

Written from the specification at https://kubernetes.io/docs/concepts/security/pod-security-standards/
(the current tables, Kubernetes v1.34), not from the Pod Security Admission controller's code. Every
control of both profiles is checked on ``containers``, ``initContainers`` and ``ephemeralContainers``;
where a field exists at both levels (``runAsNonRoot``, ``runAsUser``, ``seccompProfile``, ...) the
container's value overrides the pod's.

    for v in violations(template["spec"], annotations=template["metadata"].get("annotations")):
        print(v)  # e.g. "Privileged Containers: spec.containers[app].securityContext.privileged: ..."

Deliberate readings of the specification:

* Values are compared exactly, as the admission controller does: ``drop: [all]`` does not drop ``ALL``
  and ``add: [CAP_SYS_ADMIN]`` is not in the allowed list.
* Privilege Escalation, restricted Seccomp and restricted Capabilities apply only when
  ``spec.os.name`` is not ``windows`` (the specification's OS-specific controls); baseline controls
  always apply.
* Pods with ``hostUsers: false`` (user namespaces) get no relaxation of the non-root controls: the
  relaxation is behind a feature gate in the admission controller, and these charts do not use it.
* AppArmor annotations live in the pod's metadata, not its spec: pass them as ``annotations``.
* The optional "Non-root groups" control of older versions of the page is no longer in it, and is not
  checked.

``manifest_violations`` finds the pod templates in rendered objects (Pods, the workload kinds, and
LeaderWorkerSets' leader and worker templates, which generic scanners such as checkov do not read)
and checks each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

BASELINE = "baseline"
RESTRICTED = "restricted"
PROFILES = (BASELINE, RESTRICTED)

# Control names, as the specification's tables spell them.
HOST_PROCESS = "HostProcess"
HOST_NAMESPACES = "Host Namespaces"
PRIVILEGED = "Privileged Containers"
CAPABILITIES = "Capabilities"
HOST_PATH = "HostPath Volumes"
HOST_PORTS = "Host Ports"
HOST_PROBES = "Host Probes / Lifecycle Hooks"
APPARMOR = "AppArmor"
SELINUX = "SELinux"
PROC_MOUNT = "/proc Mount Type"
SECCOMP = "Seccomp"
SYSCTLS = "Sysctls"
VOLUME_TYPES = "Volume Types"
PRIVILEGE_ESCALATION = "Privilege Escalation"
RUN_AS_NON_ROOT = "Running as Non-root"
RUN_AS_USER = "Running as Non-root user"

BASELINE_CONTROLS = (HOST_PROCESS, HOST_NAMESPACES, PRIVILEGED, CAPABILITIES, HOST_PATH, HOST_PORTS, HOST_PROBES,
                     APPARMOR, SELINUX, PROC_MOUNT, SECCOMP, SYSCTLS)
RESTRICTED_CONTROLS = (*BASELINE_CONTROLS, VOLUME_TYPES, PRIVILEGE_ESCALATION, RUN_AS_NON_ROOT, RUN_AS_USER)

#: Baseline: capabilities a container may add (the container runtime's default set).
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
#: Restricted: the only capability a container may add back after dropping ALL.
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
PROFILE_TYPES = frozenset({"RuntimeDefault", "Localhost"})  # allowed seccomp and AppArmor profile types
RESTRICTED_VOLUME_TYPES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                           "projected", "secret")
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HOOKS = ("postStart", "preStop")


@dataclass(frozen=True)
class Violation:
    """One field of a pod spec that a control forbids: the control's name, the field's path, and why."""

    control: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.control}: {self.where}: {self.detail}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class _Container:
    path: str  # spec.containers[name]
    spec: Mapping[str, Any]

    @property
    def security(self) -> Mapping[str, Any]:
        return _mapping(self.spec.get("securityContext"))


def _containers(pod_spec: Mapping[str, Any]) -> list[_Container]:
    found = []
    for kind in CONTAINER_LISTS:
        for index, container in enumerate(_list(pod_spec.get(kind))):
            container = _mapping(container)
            found.append(_Container(f"spec.{kind}[{container.get('name') or index}]", container))
    return found


class _Checker:
    def __init__(self, pod_spec: Mapping[str, Any], profile: str, annotations: Mapping[str, Any]) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown Pod Security Standards profile {profile!r}: one of {', '.join(PROFILES)}")
        self.spec = _mapping(pod_spec)
        self.pod_security = _mapping(self.spec.get("securityContext"))
        self.containers = _containers(self.spec)
        self.restricted = profile == RESTRICTED
        self.linux = _mapping(self.spec.get("os")).get("name") != "windows"
        self.annotations = _mapping(annotations)
        self.found: list[Violation] = []

    def add(self, control: str, where: str, detail: str) -> None:
        self.found.append(Violation(control, where, detail))

    def run(self) -> list[Violation]:
        self.host_process()
        self.host_namespaces()
        self.privileged()
        self.capabilities()
        self.host_path()
        self.host_ports()
        self.host_probes()
        self.apparmor()
        self.selinux()
        self.proc_mount()
        self.seccomp()
        self.sysctls()
        if self.restricted:
            self.volume_types()
            if self.linux:
                self.privilege_escalation()
            self.run_as_non_root()
            self.run_as_user()
        return self.found

    # -- baseline ------------------------------------------------------------------------------------

    def host_process(self) -> None:
        scopes = [("spec.securityContext", self.pod_security)]
        scopes += [(f"{c.path}.securityContext", c.security) for c in self.containers]
        for where, security in scopes:
            if _mapping(security.get("windowsOptions")).get("hostProcess") is True:
                self.add(HOST_PROCESS, f"{where}.windowsOptions.hostProcess",
                         "HostProcess containers get privileged access to the Windows host")

    def host_namespaces(self) -> None:
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if self.spec.get(field) is True:
                self.add(HOST_NAMESPACES, f"spec.{field}", "sharing the host's namespaces is not allowed")

    def privileged(self) -> None:
        for c in self.containers:
            if c.security.get("privileged") is True:
                self.add(PRIVILEGED, f"{c.path}.securityContext.privileged", "privileged containers are not allowed")

    def capabilities(self) -> None:
        check_restricted = self.restricted and self.linux
        for c in self.containers:
            capabilities = _mapping(c.security.get("capabilities"))
            where = f"{c.path}.securityContext.capabilities"
            for capability in _list(capabilities.get("add")):
                if capability not in BASELINE_CAPABILITIES:
                    self.add(CAPABILITIES, f"{where}.add",
                             f"adds {capability}, outside the baseline's allowed list")
                elif check_restricted and capability not in RESTRICTED_CAPABILITIES:
                    self.add(CAPABILITIES, f"{where}.add",
                             f"adds {capability}: restricted allows only NET_BIND_SERVICE")
            if check_restricted and "ALL" not in _list(capabilities.get("drop")):
                self.add(CAPABILITIES, f"{where}.drop", "must drop ALL")

    def host_path(self) -> None:
        for index, volume in enumerate(_list(self.spec.get("volumes"))):
            volume = _mapping(volume)
            if volume.get("hostPath") is not None:
                self.add(HOST_PATH, f"spec.volumes[{volume.get('name') or index}].hostPath",
                         "hostPath volumes are not allowed")

    def host_ports(self) -> None:
        for c in self.containers:
            for index, port in enumerate(_list(c.spec.get("ports"))):
                port = _mapping(port)
                if port.get("hostPort") not in (None, 0):
                    name = port.get("name") or index
                    self.add(HOST_PORTS, f"{c.path}.ports[{name}].hostPort",
                             f"hostPort {port['hostPort']} is not allowed")

    def host_probes(self) -> None:
        for c in self.containers:
            handlers = [(f"{c.path}.{probe}", _mapping(c.spec.get(probe))) for probe in PROBES]
            lifecycle = _mapping(c.spec.get("lifecycle"))
            handlers += [(f"{c.path}.lifecycle.{hook}", _mapping(lifecycle.get(hook))) for hook in LIFECYCLE_HOOKS]
            for where, handler in handlers:
                for action in ("httpGet", "tcpSocket"):
                    host = _mapping(handler.get(action)).get("host")
                    if host not in (None, ""):
                        self.add(HOST_PROBES, f"{where}.{action}.host",
                                 f"host {host!r}: probes and hooks must target the pod itself")

    def apparmor(self) -> None:
        scopes = [("spec.securityContext", self.pod_security)]
        scopes += [(f"{c.path}.securityContext", c.security) for c in self.containers]
        for where, security in scopes:
            kind = _mapping(security.get("appArmorProfile")).get("type")
            if kind is not None and kind not in PROFILE_TYPES:
                self.add(APPARMOR, f"{where}.appArmorProfile.type",
                         f"{kind}: only RuntimeDefault or Localhost may be set")
        for key, value in self.annotations.items():
            if not str(key).startswith(APPARMOR_ANNOTATION_PREFIX) or value is None:
                continue
            if value != "runtime/default" and not str(value).startswith("localhost/"):
                self.add(APPARMOR, f"metadata.annotations[{key}]",
                         f"{value}: only runtime/default or localhost/* may be set")

    def selinux(self) -> None:
        scopes = [("spec.securityContext", self.pod_security)]
        scopes += [(f"{c.path}.securityContext", c.security) for c in self.containers]
        for where, security in scopes:
            options = _mapping(security.get("seLinuxOptions"))
            kind = options.get("type")
            if kind is not None and kind not in SELINUX_TYPES:
                self.add(SELINUX, f"{where}.seLinuxOptions.type",
                         f"{kind}: one of container_t, container_init_t, container_kvm_t, container_engine_t")
            for field in ("user", "role"):
                if options.get(field) not in (None, ""):
                    self.add(SELINUX, f"{where}.seLinuxOptions.{field}", f"a custom SELinux {field} is not allowed")

    def proc_mount(self) -> None:
        for c in self.containers:
            mount = c.security.get("procMount")
            if mount not in (None, "Default"):
                self.add(PROC_MOUNT, f"{c.path}.securityContext.procMount",
                         f"{mount}: the default /proc masks are required")

    def seccomp(self) -> None:
        """Baseline: no profile set to anything but RuntimeDefault or Localhost (Unconfined, mainly).
        Restricted, on Linux: also every container covered, by its own profile or the pod's."""
        pod_type = _mapping(self.pod_security.get("seccompProfile")).get("type")
        if pod_type is not None and pod_type not in PROFILE_TYPES:
            self.add(SECCOMP, "spec.securityContext.seccompProfile.type", f"{pod_type} is not allowed")
        for c in self.containers:
            own_type = _mapping(c.security.get("seccompProfile")).get("type")
            if own_type is not None and own_type not in PROFILE_TYPES:
                self.add(SECCOMP, f"{c.path}.securityContext.seccompProfile.type", f"{own_type} is not allowed")
            elif own_type is None and pod_type is None and self.restricted and self.linux:
                self.add(SECCOMP, f"{c.path}.securityContext.seccompProfile.type",
                         "no seccomp profile: set RuntimeDefault or Localhost on the pod or the container")

    def sysctls(self) -> None:
        for index, sysctl in enumerate(_list(self.pod_security.get("sysctls"))):
            name = _mapping(sysctl).get("name")
            if name not in SAFE_SYSCTLS:
                self.add(SYSCTLS, f"spec.securityContext.sysctls[{index}]", f"{name} is not in the safe set")

    # -- restricted ----------------------------------------------------------------------------------

    def volume_types(self) -> None:
        for index, volume in enumerate(_list(self.spec.get("volumes"))):
            volume = _mapping(volume)
            if any(volume.get(kind) is not None for kind in RESTRICTED_VOLUME_TYPES):
                continue
            kinds = sorted(key for key, value in volume.items() if key != "name" and value is not None)
            self.add(VOLUME_TYPES, f"spec.volumes[{volume.get('name') or index}]",
                     f"type {'/'.join(kinds) or 'unset'}: restricted allows only {', '.join(RESTRICTED_VOLUME_TYPES)}")

    def privilege_escalation(self) -> None:
        for c in self.containers:
            if c.security.get("allowPrivilegeEscalation") is not False:
                self.add(PRIVILEGE_ESCALATION, f"{c.path}.securityContext.allowPrivilegeEscalation",
                         "must be set to false")

    def run_as_non_root(self) -> None:
        pod_value = self.pod_security.get("runAsNonRoot")
        if pod_value is False:
            self.add(RUN_AS_NON_ROOT, "spec.securityContext.runAsNonRoot", "must not be false")
        for c in self.containers:
            own = c.security.get("runAsNonRoot")
            where = f"{c.path}.securityContext.runAsNonRoot"
            if own is False:
                self.add(RUN_AS_NON_ROOT, where, "must not be false")
            elif own is not True and pod_value is not True:
                self.add(RUN_AS_NON_ROOT, where, "must be true here or in spec.securityContext")

    def run_as_user(self) -> None:
        scopes = [("spec.securityContext", self.pod_security)]
        scopes += [(f"{c.path}.securityContext", c.security) for c in self.containers]
        for where, security in scopes:
            user = security.get("runAsUser")
            if user == 0 and not isinstance(user, bool):
                self.add(RUN_AS_USER, f"{where}.runAsUser", "must not be 0 (root)")


def violations(pod_spec: Mapping[str, Any], *, profile: str = RESTRICTED,
               annotations: Mapping[str, Any] | None = None) -> list[Violation]:
    """What keeps ``pod_spec`` (a Pod's or a PodTemplateSpec's ``spec``) out of ``profile``: an empty list
    when it meets it. ``annotations`` are the pod's metadata annotations, for the AppArmor control."""
    return _Checker(pod_spec, profile, annotations or {}).run()


#: Where each workload kind keeps its pod templates.
_TEMPLATE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Pod": ((),),
    "PodTemplate": (("template",),),
    "Deployment": (("spec", "template"),),
    "StatefulSet": (("spec", "template"),),
    "DaemonSet": (("spec", "template"),),
    "ReplicaSet": (("spec", "template"),),
    "ReplicationController": (("spec", "template"),),
    "Job": (("spec", "template"),),
    "CronJob": (("spec", "jobTemplate", "spec", "template"),),
    "LeaderWorkerSet": (("spec", "leaderWorkerTemplate", "leaderTemplate"),
                        ("spec", "leaderWorkerTemplate", "workerTemplate")),
}


def pod_templates(obj: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(label, pod spec, pod annotations) for each pod template in a rendered object."""
    kind = obj.get("kind", "")
    name = _mapping(obj.get("metadata")).get("name", "")
    for path in _TEMPLATE_PATHS.get(kind, ()):
        node: Any = obj
        for key in path:
            node = _mapping(node).get(key)
        template = _mapping(node)
        if "spec" not in template:
            continue
        suffix = f" ({path[-1]})" if kind == "LeaderWorkerSet" else ""
        yield f"{kind}/{name}{suffix}", _mapping(template.get("spec")), _mapping(
            _mapping(template.get("metadata")).get("annotations"))


def manifest_violations(objects: Iterable[Mapping[str, Any]], *,
                        profile: str = RESTRICTED) -> list[tuple[str, Violation]]:
    """(object label, violation) for every pod template in ``objects`` (a release's rendered objects)."""
    found = []
    for obj in objects:
        for label, spec, pod_annotations in pod_templates(_mapping(obj)):
            found += [(label, v) for v in violations(spec, profile=profile, annotations=pod_annotations)]
    return found
