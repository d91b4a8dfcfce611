"""Process 1 of a simulated pod: the pod sandbox (Kubernetes' "pause" container).

Started by kubelet.Sandbox as ``ip netns exec <pod netns> unshare --mount --uts --pid --fork
--mount-proc <python> sandbox_init.py ...``, so it is the first process of a pid namespace of its own
inside the pod's network namespace, with a private mount namespace and hostname. Containers join these
namespaces (nsenter). Killing this process kills every process of the pod, including the Ray daemons
that `ray start` detaches into their own process groups, which no process-group kill would reach.

Before it idles it gives the pod what a pod has and the host must not share:
  /etc/hosts   the pod's hosts file (cluster DNS stand-in), bind-mounted;
  /etc/passwd, /etc/group  the image's account database (root and nobody only), bind-mounted;
  /tmp         a directory of its own: `ray start` keeps its session, sockets and the address file
               that `ray.init(address="auto")` reads under /tmp/ray, which pods must not share;
  /dev/shm     a tmpfs of its own (the chart's memory-backed emptyDir), where Ray's object store lives.
Paths under /tmp that the pod still needs from the host (a checkout or virtual environment under /tmp)
are bound back into the new /tmp through a descriptor opened on the old one.

The "image" is this machine, and the container runs as an unprivileged UID: a directory on the way to
the image's files that only root may enter (/root, holding a pyenv Python) would hide them, where in a
real image they are readable by everyone. For each such path (--expose), the directory is replaced in
the pod's own mount namespace by one that everyone may enter and that holds only the needed entry, bound
from the original; the host is not changed.

Only the standard library is used, and everything is imported before /tmp is replaced.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time


def _mount(*argv: str) -> None:
    subprocess.run(["mount", *argv], check=True)


def _closed_ancestor(path: str) -> str | None:
    """The first directory on the way to path that others may not enter (no o+x), or None."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def _expose(paths: list[str], scratch: str) -> None:
    stubs: dict[str, set[str]] = {}
    for path in paths:
        closed = _closed_ancestor(path)
        if closed is not None:
            stubs.setdefault(closed, set()).add(os.path.relpath(path, closed).split("/")[0])
    for number, (closed, children) in enumerate(sorted(stubs.items())):
        stub = os.path.join(scratch, f"expose-{number}")
        os.makedirs(stub, exist_ok=True)
        os.chmod(stub, 0o755)
        for child in sorted(children):
            source = os.path.join(closed, child)
            target = os.path.join(stub, child)
            if os.path.isdir(source):
                os.makedirs(target, exist_ok=True)
            else:
                open(target, "a").close()
            _mount("--rbind", source, target)
        _mount("--rbind", stub, closed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", required=True)
    parser.add_argument("--passwd", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--shm-bytes", type=int, required=True)
    parser.add_argument("--keep", action="append", default=[], help="a path under /tmp to keep visible")
    parser.add_argument("--expose", action="append", default=[], help="a path an unprivileged UID must reach")
    parser.add_argument("--scratch", required=True, help="a directory of the pod's own, for the exposed stubs")
    parser.add_argument("--bind", action="append", default=[], help="SOURCE:TARGET, a hostPath volume")
    args = parser.parse_args()

    os.chdir("/")
    _mount("--bind", args.hosts, "/etc/hosts")
    _mount("--bind", args.passwd, "/etc/passwd")
    _mount("--bind", args.group, "/etc/group")
    _expose(args.expose, args.scratch)  # first: --scratch may lie under the /tmp replaced next
    old_tmp = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
    _mount("--bind", args.tmp, "/tmp")
    for path in args.keep:
        relative = os.path.relpath(path, "/tmp")
        os.makedirs(path, exist_ok=True)
        # --no-canonicalize: mount(8) would otherwise resolve the /proc/.../fd link back to the path
        # "/tmp/..." and so bind the new, empty /tmp onto itself.
        _mount("--no-canonicalize", "--rbind", f"/proc/{os.getpid()}/fd/{old_tmp}/{relative}", path)
    os.close(old_tmp)
    _mount("-t", "tmpfs", "-o", f"size={args.shm_bytes},mode=1777", "tmpfs", "/dev/shm")
    for pair in args.bind:
        source, target = pair.split(":", 1)
        if source != target:
            _mount("--rbind", source, target)
    socket.sethostname(args.hostname)
    print("ready", flush=True)
    sys.stdout.close()

    # Reap whatever is re-parented here (daemons whose parent exited), as a pause process does.
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.5)

if __name__ == "__main__":
    main()
