"""The network of a simulated cluster: one Linux network namespace per pod, all on one bridge.

The bridge lives in a namespace of its own (the "hub", which also plays the node: HTTP probes and the
test's own observers run there), so nothing is added to the host's namespace and no interface name
can collide with the host's or another run's. Every pod namespace gets eth0, the end of a veth pair
whose other end is enslaved to the bridge. Addresses come from 10.77.0.0/16, which exists only inside
these namespaces: the hub has no route out and the host has no route in.

Name resolution stands in for cluster DNS with one hosts file per pod, bind-mounted over the pod's
/etc/hosts (see sandbox_init.py). It holds the records cluster_dns.ClusterDNS publishes for the pods
of the network (only those: a pod whose subdomain names no headless Service selecting it has none), and
the pod's own names, which the kubelet writes into that pod's hosts file alone. A pod's records appear
only once the pod is "scheduled" (publish), as in Kubernetes, where a pod's DNS record exists only once
it has an IP: a worker started before its leader cannot resolve the leader yet and must retry.

Every namespace name starts with PREFIX and the id of the process that made it, so a later run can
remove what a killed run left behind (sweep_stale).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "mncsim"
SUBNET = "10.77"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")


def run_ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def session_prefix() -> str:
    """Names owned by this process: PREFIX, then its pid (what sweep_stale reads back)."""
    return f"{PREFIX}{os.getpid()}"


def list_namespaces(prefix: str = PREFIX) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def namespace_pids(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, timeout=30).stdout
    return [int(pid) for pid in out.split()]


def namespace_inode(netns: str) -> int | None:
    try:
        return os.stat(f"/run/netns/{netns}").st_ino
    except OSError:
        return None


def delete_namespace(netns: str) -> None:
    """Kills whatever still runs in the namespace, then removes it (its veth ends go with it)."""
    for pid in namespace_pids(netns):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["ip", "netns", "delete", netns], capture_output=True, timeout=30)


def sweep_stale() -> list[str]:
    """Removes namespaces of runs whose process is gone (a run killed before its cleanup)."""
    removed = []
    for netns in list_namespaces():
        match = _NAME.match(netns)
        if not match:
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # its owner still runs: not ours to remove
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        delete_namespace(netns)
        removed.append(netns)
    return removed


def unavailable_reason() -> str | None:
    """Why pods cannot be simulated here, or None. Creates and deletes one namespace to be sure."""
    if os.geteuid() != 0:
        return f"needs root (network namespaces, mounts); running as uid {os.geteuid()}"
    for tool in ("ip", "nsenter", "unshare", "mount"):
        if shutil.which(tool) is None:
            return f"needs `{tool}` on PATH"
    probe = f"{session_prefix()}-probe"
    try:
        run_ip("netns", "add", probe)
        run_ip("-n", probe, "link", "add", "probe0", "type", "bridge")
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        return f"`ip netns` is unavailable: {error}"
    finally:
        subprocess.run(["ip", "netns", "delete", probe], capture_output=True, timeout=30)
    return None


@dataclass
class PodNet:
    name: str
    netns: str
    ip: str
    dns_names: tuple[str, ...]
    own_names: tuple[str, ...] = ()
    published: bool = False


@dataclass
class Network:
    """One cluster network. index picks the third octet, only to keep logs of parallel runs apart."""

    index: int
    state_dir: Path
    pods: dict[str, PodNet] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = f"{session_prefix()}-{self.index}"
        self.hub = f"{self.name}-hub"
        self.octet = 10 + self.index % 240
        self.hub_ip = f"{SUBNET}.{self.octet}.1"

    def up(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        run_ip("netns", "add", self.hub)
        self.created.append(self.hub)
        run_ip("-n", self.hub, "link", "set", "lo", "up")
        run_ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        run_ip("-n", self.hub, "addr", "add", f"{self.hub_ip}/24", "dev", "br0")
        run_ip("-n", self.hub, "link", "set", "br0", "up")

    def allocate(self, name: str, dns_names: tuple[str, ...], own_names: tuple[str, ...] = ()) -> PodNet:
        """Reserves the pod's address; its namespace is made by attach()."""
        number = len(self.pods)
        pod = PodNet(name, f"{self.name}-p{number}", f"{SUBNET}.{self.octet}.{10 + number}", dns_names,
                     own_names)
        self.pods[name] = pod
        self._write_hosts()
        return pod

    def hosts_file(self, name: str) -> Path:
        """The /etc/hosts of pod name."""
        return self.state_dir / f"hosts-{list(self.pods).index(name)}"

    def attach(self, name: str) -> PodNet:
        """Creates the pod's namespace, its eth0 on the bridge and its address (the pod is scheduled)."""
        pod = self.pods[name]
        peer = f"v{list(self.pods).index(name)}"
        run_ip("netns", "add", pod.netns)
        self.created.append(pod.netns)
        run_ip("link", "add", "name", "eth0", "netns", pod.netns, "type", "veth", "peer", "name", peer,
               "netns", self.hub)
        run_ip("-n", self.hub, "link", "set", peer, "master", "br0", "up")
        run_ip("-n", pod.netns, "link", "set", "lo", "up")
        run_ip("-n", pod.netns, "addr", "add", f"{pod.ip}/24", "dev", "eth0")
        run_ip("-n", pod.netns, "link", "set", "eth0", "up")
        return pod

    def publish(self, name: str) -> None:
        """The pod's names resolve from now on, in every pod of the network."""
        self.pods[name].published = True
        self._write_hosts()

    def _write_hosts(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cluster = [f"{pod.ip}\t{' '.join(pod.dns_names)}" for pod in self.pods.values()
                   if pod.published and pod.dns_names]
        for name, own in self.pods.items():
            lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
            if own.own_names:
                lines.append(f"{own.ip}\t{' '.join(own.own_names)}")
            # Rewritten in place with one write: the pod sees this inode through a bind mount, and a new
            # file (an atomic rename) would not show through it.
            with open(self.hosts_file(name), "w") as hosts:
                hosts.write("\n".join([*lines, *cluster]) + "\n")

    def hub_argv(self, *argv: str) -> list[str]:
        """argv run in the hub namespace (where the node's checks of pod addresses come from)."""
        return ["ip", "netns", "exec", self.hub, *argv]

    def inodes(self) -> dict[str, int]:
        return {n: inode for n in self.created if (inode := namespace_inode(n)) is not None}

    def down(self) -> None:
        for netns in reversed(self.created):
            delete_namespace(netns)
        self.created.clear()
