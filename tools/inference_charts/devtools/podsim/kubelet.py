"""What the kubelet does for a pod, done for real on this machine: the sandbox, the container's
environment, the container process, and commands run inside the container (exec probes).

A container is its rendered command and args, run with its rendered env, both expanded as the kubelet
expands them ($(VAR) references, $$ escapes); fieldRef and secretKeyRef are resolved against the
simulated pod. The "image" is this machine: the Python environment that holds Ray, plus directories
put first on PATH (the engine stand-in), plus the node environment (see Image).

Process layout of one pod (all killed by killing the sandbox, the pod's process 1):
  ip netns exec <netns> unshare --mount --uts --pid --fork --mount-proc  -> sandbox_init.py (pid 1)
  nsenter --target <sandbox> --net --mount --uts --pid                     (joins the pod)
    unshare --pid --fork --mount --mount-proc                              (the container's pid namespace)
      setpriv --reuid ... --                                               (the container's pid 1 ...)
        bash -c <rendered script> ...                                      (... after its exec)
The container has a pid namespace of its own, as a container has: when its main process ends, the
kernel ends every process it left behind (the Ray daemons of `ray start`).

The container runs as the user the pod spec renders (Identity: runAsUser, runAsGroup, fsGroup and
supplementalGroups as supplementary groups), dropped to with setpriv after the namespaces are made, and
exec probes run as that user too. The image's /etc/passwd and /etc/group list root and nobody only, so a
UID such as 1000 has no entry, as in an image whose build added no user for it (and as with the UIDs
OpenShift assigns): whatever asks the passwd database for the user's name fails as it would on a cluster.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_charts.devtools.podsim.net import PodNet
from inference_charts.devtools.podsim.workloads import SimPod

_FIELD = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
_QUANTITY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ContainerConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError (an unresolvable env reference)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion (k8s.io/kubernetes third_party/forked/golang/expansion): $(NAME) of a
    defined variable becomes its value, an undefined one stays as written, $$ becomes $, anything else
    (${VAR}, $((...)) of shell scripts) is left alone."""
    out: list[str] = []
    checkpoint = cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1:]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                close = rest.find(")")
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = rest[1:close]
                    out.append(env.get(name, f"$({name})"))
                    advance = close + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def quantity_bytes(quantity: str) -> int:
    for suffix, factor in _QUANTITY.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(float(quantity))


class PodStartError(Exception):
    """What the kubelet refuses to start (CreateContainerConfigError for a security context)."""


@dataclass(frozen=True)
class Identity:
    """The user a container process runs as."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()

    def setpriv_argv(self) -> list[str]:
        groups = ",".join(str(g) for g in self.groups)
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}",
                f"--groups={groups}" if groups else "--clear-groups", "--"]


def container_identity(container: Mapping[str, Any], pod_spec: Mapping[str, Any], image_uid: int = 0) -> Identity:
    """The container's user, as the kubelet and the runtime settle it: the container's securityContext over
    the pod's (kubernetes v1.34.0 pkg/securitycontext/util.go DetermineEffectiveSecurityContext), the
    image's user when neither sets runAsUser, group 0 when nothing sets runAsGroup (runc takes the
    primary group from /etc/passwd, which has no entry for the UID), fsGroup and supplementalGroups as
    supplementary groups (pkg/kubelet/kuberuntime/security_context.go). runAsNonRoot with UID 0 refuses to
    start, as kuberuntime verifyRunAsNonRoot does."""
    pod_ctx = pod_spec.get("securityContext") or {}
    own = container.get("securityContext") or {}

    def pick(key: str) -> Any:
        return own[key] if own.get(key) is not None else pod_ctx.get(key)

    uid = pick("runAsUser")
    uid = image_uid if uid is None else int(uid)
    if pick("runAsNonRoot") and uid == 0:
        raise PodStartError(f"container {container.get('name')}: runAsNonRoot and the image will run as root")
    gid = pick("runAsGroup")
    groups = [int(g) for g in pod_ctx.get("supplementalGroups") or []]
    if pod_ctx.get("fsGroup") is not None:
        groups.insert(0, int(pod_ctx["fsGroup"]))
    return Identity(uid, 0 if gid is None else int(gid), tuple(dict.fromkeys(groups)))


#: The image's account database: root and nobody, no account for the pod's UID.
IMAGE_PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
IMAGE_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def with_runtime_home(env: Mapping[str, str], uid: int, passwd: str = IMAGE_PASSWD) -> dict[str, str]:
    """The environment the container's process gets from the runtime: a HOME the pod spec leaves unset or
    empty becomes the UID's home in the image's passwd, or "/" for a UID with no entry
    (opencontainers/runc v1.3.6 libcontainer/env.go prepareEnv and getUserHome; the same for exec).
    """
    if env.get("HOME"):
        return dict(env)
    entries = [line.split(":") for line in passwd.splitlines()]
    homes = {int(fields[2]): fields[5] for fields in entries if len(fields) > 5}
    return {**env, "HOME": homes.get(uid, "/")}


@dataclass(frozen=True)
class Image:
    """The container image, played by this machine.

    path_first: directories ahead of the Python environment on PATH (the engine stand-in's, or the
    real engine's virtual environment).
    env: the image's ENV, lowest precedence. Node environment that is no part of the chart goes here,
    each variable with its reason (see group.NODE_ENV).
    files: further host paths the image's processes read (a virtual environment, a model on a hostPath
    volume): kept visible under the pod's private /tmp and reachable for the pod's UID.
    """

    path_first: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def base_env(self, hostname: str) -> dict[str, str]:
        path = ":".join([*self.path_first, os.path.dirname(sys.executable), SYSTEM_PATH])
        return {"PATH": path, "LANG": "C.UTF-8", "HOSTNAME": hostname, **self.env}


def _field_value(path: str, pod: SimPod, net: PodNet, host_ip: str) -> str:
    simple = {"metadata.name": pod.name, "metadata.namespace": pod.namespace, "status.podIP": net.ip,
              "status.podIPs": net.ip, "status.hostIP": host_ip, "status.hostIPs": host_ip,
              "spec.nodeName": "podsim-node", "spec.serviceAccountName": "default"}
    if path in simple:
        return simple[path]
    match = _FIELD.match(path)
    if match:
        return (pod.labels if match.group(1) == "labels" else pod.annotations).get(match.group(2), "")
    raise ContainerConfigError(f"fieldRef {path} is not supported")


def container_env(container: Mapping[str, Any], pod: SimPod, net: PodNet, host_ip: str,
                  secrets: Mapping[str, Mapping[str, str]], image: Image) -> dict[str, str]:
    """The container's environment as the kubelet builds it: the image's, then the injected and the
    rendered variables in order (a later one wins), each value expanded against those before it."""
    if container.get("envFrom"):
        raise ContainerConfigError("envFrom is not supported by the simulation")
    env: dict[str, str] = {}
    # LWS's variables replace the container's own of the same names (runtime.lws_env).
    injected = {entry["name"] for entry in pod.injected_env}
    own = [entry for entry in container.get("env", []) if entry["name"] not in injected]
    # The Job controller appends JOB_COMPLETION_INDEX only where the container has none (runtime).
    appended = [entry for entry in pod.appended_env if entry["name"] not in {o["name"] for o in own}]
    for entry in [*pod.injected_env, *own, *appended]:
        name = entry["name"]
        source = entry.get("valueFrom")
        if source is None:
            env[name] = expand(str(entry.get("value", "")), env)
        elif "fieldRef" in source:
            env[name] = _field_value(source["fieldRef"]["fieldPath"], pod, net, host_ip)
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = secrets.get(ref["name"], {}).get(ref["key"])
            if value is None:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f"secret {ref['name']} key {ref['key']} not found (env {name})")
            env[name] = value
        else:
            raise ContainerConfigError(f"env {name}: valueFrom {sorted(source)} is not supported")
    return {**image.base_env(pod.hostname), **env}


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def cmdline(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] or None


def _ns_depth_one(pid: int) -> bool:
    """True when pid is process 1 of the innermost of three nested pid namespaces (a container's)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    return len(ids) == 3 and ids[-1] == "1"
    except OSError:
        pass
    return False


def _find(root: int, accept: Any, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = [root]
        while queue:
            pid = queue.pop()
            if accept(pid):
                return pid
            queue.extend(children(pid))
        time.sleep(0.01)
    raise TimeoutError(f"no matching process under {root} within {timeout}s")


def _kill_group(process: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Sandbox:
    """The pod: its namespaces and its process 1."""

    def __init__(self, pod: SimPod, net: PodNet, hosts_file: Path, state_dir: Path,
                 image_files: tuple[str, ...] = ()) -> None:
        self.pod, self.net, self.state_dir = pod, net, state_dir
        self.image_files = tuple(os.path.realpath(p) for p in image_files)
        self.tmp = state_dir / "tmp"
        self.hosts_file = hosts_file
        self.passwd, self.group = state_dir / "passwd", state_dir / "group"
        self.process: subprocess.Popen[str] | None = None
        self.pid = 0

    def _shm_bytes(self) -> int:
        for volume in self.pod.spec.get("volumes", []):
            empty = volume.get("emptyDir")
            if empty is not None and empty.get("medium") == "Memory" and empty.get("sizeLimit"):
                return quantity_bytes(str(empty["sizeLimit"]))
        return 64 * 2**20  # a container runtime's default /dev/shm

    def start(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.tmp.chmod(0o1777)  # an emptyDir is writable by any UID
        self.passwd.write_text(IMAGE_PASSWD)
        self.group.write_text(IMAGE_GROUP)
        needed = [*_host_paths(), *self.image_files, *self._host_path_volumes()]
        keep = sorted({_under_tmp(p) for p in needed if _under_tmp(p)})
        argv = ["ip", "netns", "exec", self.net.netns, "unshare", "--mount", "--uts", "--pid", "--fork",
                "--mount-proc", "--propagation", "private", sys.executable,
                str(Path(__file__).with_name("sandbox_init.py")), "--hosts", str(self.hosts_file),
                "--passwd", str(self.passwd), "--group", str(self.group),
                "--tmp", str(self.tmp), "--hostname", self.pod.hostname, "--shm-bytes", str(self._shm_bytes())]
        for path in keep:
            argv += ["--keep", path]
        for path in sorted(set(needed)):
            argv += ["--expose", path]
        for source, target in self._volume_binds():
            argv += ["--bind", f"{source}:{target}"]
        scratch = self.state_dir / "sandbox"
        scratch.mkdir(parents=True, exist_ok=True)
        argv += ["--scratch", str(scratch)]
        with open(self.state_dir / "sandbox.log", "w") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True, cwd="/",
                                            start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.kill()
            raise RuntimeError(f"sandbox of {self.pod.name} failed: {(self.state_dir / 'sandbox.log').read_text()}")
        self.pid = _find(self.process.pid, lambda p: _is_init(p), timeout=5)

    def _host_path_volumes(self) -> list[str]:
        return [str(v["hostPath"]["path"]) for v in self.pod.spec.get("volumes", []) if "hostPath" in v]

    def _volume_binds(self) -> list[tuple[str, str]]:
        """hostPath volumes at the engine container's mount paths, as the kubelet mounts them. The
        mount path must exist on this machine (the simulation creates nothing outside its own folders);
        other volume kinds are the sandbox's own (/tmp, /dev/shm) or not simulated."""
        volumes = {v["name"]: v for v in self.pod.spec.get("volumes", [])}
        binds = []
        for mount in self.pod.container.get("volumeMounts", []):
            volume = volumes.get(mount["name"], {})
            if "hostPath" in volume:
                source, target = str(volume["hostPath"]["path"]), str(mount["mountPath"])
                if not os.path.isdir(target):
                    raise ContainerConfigError(f"volume {mount['name']}: mount path {target} does not exist on "
                                               "this machine; give hostPath volumes a path that does")
                binds.append((os.path.realpath(source), target))
        return binds

    def enter_argv(self, *argv: str) -> list[str]:
        """argv run inside the pod's namespaces (network, mounts, hostname, pids)."""
        return ["nsenter", "--target", str(self.pid), "--net", "--mount", "--uts", "--pid", "--wd=/", "--", *argv]

    def kill(self) -> None:
        """Kills every process of the pod at once (process 1 of its pid namespace)."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if self.process is not None:
            _kill_group(self.process)
            self.process.wait()


def _is_init(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    return len(ids) == 2 and ids[-1] == "1"
    except OSError:
        pass
    return False


def _host_paths() -> list[str]:
    return [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(__file__))]


def _under_tmp(path: str) -> str:
    """The top directory under /tmp that holds path, or "" when path is not under /tmp."""
    parts = Path(path).parts
    return str(Path(*parts[:3])) if len(parts) > 2 and parts[1] == "tmp" else ""


@dataclass
class ExecResult:
    returncode: int | None  # None: timed out
    output: str
    seconds: float


#: The programs podsim itself runs as a container's process 1 before that process execs the container's
#: command: a watcher that reads the process's command line may see them (for longer on a loaded machine)
#: and must not take them for the container's own execs.
LAUNCHERS = frozenset({"unshare", "setpriv"})


class Container:
    """The engine container of a pod: its rendered command line under its rendered environment."""

    def __init__(self, sandbox: Sandbox, spec: Mapping[str, Any], env: dict[str, str], identity: Identity) -> None:
        self.sandbox, self.spec, self.identity = sandbox, spec, identity
        self.env = with_runtime_home(env, identity.uid)
        raw = [str(x) for x in [*spec.get("command", []), *spec.get("args", [])]]
        self.argv = [expand(part, env) for part in raw]  # the kubelet expands command and args too
        self.log_path = sandbox.state_dir / "container.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.main_pid = 0

    def start(self) -> None:
        argv = self.sandbox.enter_argv("unshare", "--pid", "--fork", "--mount", "--mount-proc",
                                       "--propagation", "private", "--", *self.identity.setpriv_argv(),
                                       *self.argv)
        with open(self.log_path, "ab") as log:  # the container keeps its own descriptor
            self.started = time.time()
            self.process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, cwd="/", start_new_session=True)
        self.main_pid = _find(self.process.pid, _ns_depth_one, timeout=10)

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def kill(self) -> None:
        if self.main_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.main_pid, signal.SIGKILL)
        if self.process is not None:
            _kill_group(self.process)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def exec(self, argv: list[str], timeout: float) -> ExecResult:
        """Runs argv inside the container with the container's environment, as an exec probe: a run
        longer than timeout is killed and counts as timed out (returncode None)."""
        enter = ["nsenter", "--target", str(self.main_pid), "--net", "--mount", "--uts", "--pid", "--wd=/",
                 "--", *self.identity.setpriv_argv(), *argv]
        started = time.monotonic()
        process = subprocess.Popen(enter, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd="/", start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            _kill_group(process)
            out, _ = process.communicate()
            code = None
        return ExecResult(code, out.decode(errors="replace"), time.monotonic() - started)
