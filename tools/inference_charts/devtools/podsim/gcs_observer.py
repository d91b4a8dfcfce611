"""The test's own view of a Ray cluster: polls the head's GCS node table and writes each change.

Run by group.GroupSim in the hub namespace (from outside every pod), with the address of the leader's
Ray head. It uses the GCS client directly, as `ray health-check` does: no driver joins the cluster,
so observing changes nothing that the leader's wait or the engine stand-in could see.

Each line of the output is JSON: {"t": time of the reply, "prev": time of the previous reply (so a
change happened after prev and before t), "nodes": [{"ip", "gpus", "alive", "start_ms", "head"}]} or
{"t", "prev", "error"} while the GCS does not answer. A line is written when something changed, and at
least every HEARTBEAT seconds otherwise, so a reader knows how far the view reaches (observed_until).

    python -m inference_charts.devtools.podsim.gcs_observer HOST:PORT OUT [--interval S]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def _snapshot(client: Any) -> list[dict[str, Any]]:
    nodes = []
    for info in client.get_all_node_info(timeout=2).values():
        nodes.append({
            "ip": info.node_manager_address,
            "port": info.node_manager_port,
            "gpus": float(info.resources_total.get("GPU", 0)),
            "alive": info.state == 0,  # GcsNodeInfo.GcsNodeState.ALIVE
            "start_ms": info.start_time_ms,
            "head": info.is_head_node,
        })
    return sorted(nodes, key=lambda n: (n["ip"], n["start_ms"]))


HEARTBEAT = 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("out")
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()

    # After argument parsing: importing Ray takes a while. _raylet is compiled (no stubs).
    from ray._raylet import GcsClient  # type: ignore[attr-defined]

    client = None
    last: Any = None
    prev = written = time.time()
    with open(args.out, "a", buffering=1) as out:
        while True:
            try:
                if client is None:
                    # Blocks until the GCS answers (at most about 40 s, then raises): fine before the head
                    # is up, as no worker can join before it.
                    client = GcsClient(address=args.address)
                state: Any = _snapshot(client)
            except Exception as error:  # the head is not up yet, or gone
                state = {"error": type(error).__name__}
                client = None if "Timed out" in str(error) else client
            now = time.time()
            if state != last or now - written >= HEARTBEAT:
                record = {"t": now, "prev": prev}
                record.update(state if isinstance(state, dict) else {"nodes": state})
                out.write(json.dumps(record) + "\n")
                last, written = state, now
            prev = now
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
