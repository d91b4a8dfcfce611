"""Two things a real cluster does to a group that the simulation once hid, run for real in podsim:

- names resolve only through the DNS model (cluster_dns): with the charts' old naming, the API Service
  held the LeaderWorkerSet's name, the LWS controller skipped its headless Service, and a worker could
  not resolve its leader; the test names the Service that took the name;
- containers run as the UID and GID the pod spec renders, with no passwd entry for them: what asks the
  passwd database for the user's name (torch's inductor, on vLLM's import; the engine stand-in does the
  same) works only because the chart sets USER and LOGNAME.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from helpers import one
from inference_charts.checks import runtime
from inference_charts.checks.cluster_dns import ClusterDNS
from inference_charts.checks.harness import Harness
from inference_charts.devtools.podsim.group import GroupSim
from ray_scenarios import HEAD_WAIT, merged, render, topology

GROUP = merged(topology(2, 8, 2), {"ray": {"headWaitTimeoutSeconds": HEAD_WAIT}})


def _old_naming(objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The LeaderWorkerSet renamed to the API Service's name, as the charts named both before."""
    broken = copy.deepcopy(objects)
    service = next(o for o in broken if o["kind"] == "Service" and o["spec"].get("clusterIP") != "None")
    one(broken, "LeaderWorkerSet")["metadata"]["name"] = service["metadata"]["name"]
    return broken, service["metadata"]["name"]


def _leader_address(objects: list[dict[str, Any]]) -> tuple[str, str]:
    worker = next(p for p in runtime.pods(objects) if not p.is_leader)
    env = {e["name"]: e.get("value") for e in worker.container_env(worker.containers[0])}
    return str(env["LWS_LEADER_ADDRESS"]), worker.namespace


def _resolve_in(sim: GroupSim, pod: str, name: str) -> tuple[int | None, str]:
    container = sim.runs[pod].container
    assert container is not None
    done = container.exec(["getent", "hosts", name], timeout=10)
    return done.returncode, done.output


def test_the_old_naming_leaves_the_worker_unable_to_resolve_its_leader(podsim: None, harness: Harness,
                                                                       tmp_path: Path) -> None:
    objects, service = _old_naming(render(harness, GROUP))
    address, namespace = _leader_address(objects)
    why = ClusterDNS(objects).why_unresolved(address, namespace)
    with GroupSim(objects, tmp_path) as sim:
        sim.start(sim.leader)
        worker = sim.workers[0]
        sim.start(worker)
        code, output = _resolve_in(sim, worker, address)
        assert code != 0, f"{address} resolved in the worker ({output.strip()}) although {why}"
        assert sim.wait_until(lambda: sim.runs[worker].exited is not None, HEAD_WAIT + 10 + 1 + 5 + 5)
        assert sim.runs[worker].returncode != 0
        assert "did not answer" in sim.runs[worker].log() and address in sim.runs[worker].log()
        assert sim.gpus_seen() < 16
    # The report names the Service that took the name and the controller that skipped its own.
    assert f"Service {service} (not headless)" in why, why
    assert f"LeaderWorkerSet/{service} would have made a headless Service" in why, why


def test_the_current_naming_resolves_the_leader_from_the_worker(podsim: None, harness: Harness,
                                                                tmp_path: Path) -> None:
    """The twin of the case above: the same lookup in the same simulation succeeds as rendered now."""
    objects = render(harness, GROUP)
    address, _ = _leader_address(objects)
    with GroupSim(objects, tmp_path) as sim:
        sim.start(sim.leader)
        sim.start(sim.workers[0])
        code, output = _resolve_in(sim, sim.workers[0], address)
        assert code == 0, output
        assert output.split()[0] == sim.runs[sim.leader].net.ip


def _without(objects: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """The rendered objects with these variables taken out of every container."""
    broken = copy.deepcopy(objects)
    for container in one(broken, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"][
            "containers"]:
        container["env"] = [e for e in container["env"] if e["name"] not in names]
    return broken


def _engine_record(harness: Harness, tmp_path: Path, objects: list[dict[str, Any]]) -> dict[str, Any]:
    with GroupSim(objects, tmp_path) as sim:
        sim.start(sim.leader)
        sim.wait_until(lambda: "serving" in (sim.standin_record(sim.leader) or {})
                       or "error" in (sim.standin_record(sim.leader) or {})
                       or sim.runs[sim.leader].exited is not None, 60)
        record = sim.standin_record(sim.leader) or {}
        status = sim.runs[sim.leader].container.exec(  # type: ignore[union-attr]
            ["python3", "-c", "import json, os; print(json.dumps([os.getuid(), os.getgid(), os.getgroups()]))"],
            timeout=20) if sim.runs[sim.leader].exited is None else None
    return {**record, "exec_identity": json.loads(status.output) if status and status.returncode == 0 else None}


def test_the_engine_runs_as_the_rendered_uid_with_no_passwd_entry(podsim: None, harness: Harness,
                                                                  tmp_path: Path) -> None:
    objects = render(harness, merged({"topology": {"podsPerGroup": 1, "gpusPerPod": 8, "tensorParallelSize": 8,
                                                   "pipelineParallelSize": 1}}))
    pod_context = one(objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"][
        "securityContext"]
    uid, gid, fs_group = pod_context["runAsUser"], pod_context["runAsGroup"], pod_context["fsGroup"]
    assert uid != 0
    record = _engine_record(harness, tmp_path / "rendered", objects)
    assert "error" not in record, record
    assert (record["uid"], record["gid"], fs_group in record["groups"]) == (uid, gid, True)
    assert record["user"]  # from USER/LOGNAME: no passwd entry holds this UID
    # Exec probes run as the container's user too.
    assert record["exec_identity"][:2] == [uid, gid]
    # Without the variables the chart sets, the engine's start fails as vLLM's would on a cluster.
    broken = _engine_record(harness, tmp_path / "broken", _without(objects, "USER", "LOGNAME"))
    assert "getpass.getuser() failed" in broken.get("error", ""), broken
