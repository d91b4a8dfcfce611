{{/*
The NCCL preflight program, run by every pod of the preflight Job as `python3 -c`. Each pod forks one
process per GPU; together they form one torch.distributed group of the serving group's shape, run an
all-reduce over every GPU at growing sizes, and print, like nccl-tests, size / time / algbw / busbw on
the first rank. Every process reads NCCL's own INFO log (one file per process, NCCL_DEBUG_FILE) for the
transports NCCL chose, between GPUs of one node and between nodes; the first rank compares them, and
the bus bandwidth at the largest size, with what the fabric profile expects, and prints the verdict.
Settings come from PREFLIGHT_* variables only, so the program runs unchanged outside Kubernetes (the
tests run it with the gloo backend on a CPU).
*/}}
{{- define "mnc.preflightScript" -}}
import glob
import os
import re
import sys
import time

CHANNEL = re.compile(r"NCCL INFO Channel \S+ : (\d+)\[[^\]]*\] -> (\d+)\[[^\]]*\] (?:\[\w+\] )?via (\S+)")
NVLS = re.compile(r"NCCL INFO .*(?:Connected NVLS|NVLS comm )")
P2P = {"P2P/CUMEM", "P2P/IPC", "P2P/direct", "NVLS"}
IB = {"NET/IB", "NET/IB+GDRDMA"}
# What each fabric profile allows between GPUs of one node ("intra") and of different nodes ("inter").
EXPECTED = {
    "nvlink": {"intra": P2P, "inter": set()},
    "infiniband": {"intra": P2P | {"SHM"}, "inter": IB},
    "roce": {"intra": P2P | {"SHM"}, "inter": IB},
    "ethernet": {"intra": P2P | {"SHM"}, "inter": {"NET/Socket"}},
}


# Transports the reader names; anything else NCCL prints is reported as "other".
NAMES = ["P2P/CUMEM", "P2P/IPC", "P2P/direct", "SHM", "NVLS", "NET/IB", "NET/IB+GDRDMA", "NET/Socket", "other"]
KNOWN = {"intra": NAMES, "inter": NAMES}


def transport_name(via):
    """A transport as NCCL's 'via' word spells it, without channel and device details."""
    if via.startswith("NET/"):
        kind = via.split("/")[1]
        if kind == "IB":
            return "NET/IB+GDRDMA" if "GDRDMA" in via else "NET/IB"
        return "NET/" + kind
    if via.startswith("P2P/"):
        return "/".join(via.split("/")[:2])
    return via.split("/")[0]


def read_transports(lines, per_node):
    """{"intra": set, "inter": set} from NCCL INFO lines: the transports of connections between ranks
    of one node and of different nodes (rank r runs on node r // per_node)."""
    seen = {"intra": set(), "inter": set()}
    for line in lines:
        match = CHANNEL.search(line)
        if match:
            same_node = int(match.group(1)) // per_node == int(match.group(2)) // per_node
            seen["intra" if same_node else "inter"].add(transport_name(match.group(3)))
        elif NVLS.search(line):
            seen["intra"].add("NVLS")
    return seen


def verdict(profile, seen, nodes, busbw, floor, backend, require_gdr):
    """(passed, reasons)."""
    reasons = []
    if backend == "nccl":
        expected = EXPECTED[profile]
        if not seen["intra"] and not seen["inter"]:
            reasons.append("NCCL printed no transport line (is NCCL_DEBUG=INFO reaching the processes?)")
        for kind, where in (("intra", "between GPUs of one node"), ("inter", "between nodes")):
            wrong = sorted(seen[kind] - expected[kind])
            if wrong:
                allowed = ", ".join(sorted(expected[kind])) or "nothing (one node)"
                reasons.append("{} NCCL used {}; the {} profile expects {}".format(
                    where, ", ".join(wrong), profile, allowed))
        if nodes > 1 and not seen["inter"]:
            reasons.append("the group spans {} nodes but NCCL reported no network transport".format(nodes))
        if require_gdr and "NET/IB" in seen["inter"]:
            reasons.append("NET/IB without GPUDirect RDMA (GDRDMA) between nodes; preflight.requireGpuDirect is set")
    if floor > 0 and busbw < floor:
        reasons.append("bus bandwidth {:.1f} GB/s at the largest size is below the floor of {:.1f} GB/s "
                       "(preflight.minBusBandwidthGBps)".format(busbw, floor))
    return not reasons, reasons


def sizes(largest):
    size, found = 1 << 20, []
    while size < largest:
        found.append(size)
        size *= 4
    return found + [largest]


def member(local_rank, settings):
    node_rank, per_node, nodes = settings["node_rank"], settings["per_node"], settings["nodes"]
    rank, world = node_rank * per_node + local_rank, per_node * nodes
    os.environ["NCCL_DEBUG"] = "INFO"
    os.environ["NCCL_DEBUG_FILE"] = os.path.join(settings["log_dir"], "nccl.%h.%p")
    import torch
    import torch.distributed as dist

    backend = settings["backend"]
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend, init_method="tcp://{}:{}".format(settings["master"], settings["port"]),
                            rank=rank, world_size=world, timeout=__import__("datetime").timedelta(seconds=600))

    def sync():
        if backend == "nccl":
            torch.cuda.synchronize(device)

    check = torch.full((1024,), float(rank + 1), device=device)
    dist.all_reduce(check)
    sync()
    want = world * (world + 1) / 2
    if float(check[0]) != want:
        sys.exit("[preflight] rank {}: all-reduce sum is {}, expected {}".format(rank, float(check[0]), want))
    first = rank == 0
    if first:
        print("[preflight] {} process(es) on {} node(s), backend {}, fabric profile {}".format(
            world, nodes, backend, settings["profile"]), flush=True)
        print("{:>14} {:>12} {:>14} {:>14}".format("size(B)", "time(us)", "algbw(GB/s)", "busbw(GB/s)"), flush=True)
    busbw = 0.0
    for size in sizes(settings["max_bytes"]):
        data = torch.ones(size // 4, dtype=torch.float32, device=device)
        for _ in range(settings["warmup"]):
            dist.all_reduce(data)
        sync()
        dist.barrier()
        started = time.perf_counter()
        for _ in range(settings["iterations"]):
            dist.all_reduce(data)
        sync()
        elapsed = torch.tensor([(time.perf_counter() - started) / settings["iterations"]], device=device)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        seconds = float(elapsed[0])
        algbw = size / seconds / 1e9
        busbw = algbw * 2 * (world - 1) / world
        if first:
            print("{:>14} {:>12.1f} {:>14.2f} {:>14.2f}".format(size, seconds * 1e6, algbw, busbw), flush=True)
    dist.barrier()
    own = [line for path in glob.glob(os.path.join(settings["log_dir"], "nccl.*"))
           for line in open(path, errors="replace")]
    # Every rank's transports, merged on all ranks as flags in one tensor (no pickling, no numpy).
    slots = [(kind, name) for kind in ("intra", "inter") for name in KNOWN[kind]]
    seen = read_transports(own, per_node)
    flags = torch.tensor([1.0 if name in seen[kind] or (name == "other" and seen[kind] - set(KNOWN[kind]))
                          else 0.0 for kind, name in slots], device=device)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    union = {"intra": set(), "inter": set()}
    for (kind, name), flag in zip(slots, flags.tolist()):
        if flag:
            union[kind].add(name)
    passed, reasons = verdict(settings["profile"], union, nodes, busbw, settings["floor"], backend,
                              settings["require_gdr"])
    if first:
        print("[preflight] transports: between GPUs of one node: {}; between nodes: {}".format(
            ", ".join(sorted(union["intra"])) or "none seen", ", ".join(sorted(union["inter"])) or "none seen"),
            flush=True)
        print("[preflight] verdict: {} (busbw {:.2f} GB/s at {} B){}".format(
            "PASS" if passed else "FAIL", busbw, settings["max_bytes"],
            "".join("\n[preflight]   " + reason for reason in reasons)), flush=True)
    dist.destroy_process_group()
    return 0 if passed else 1


def main():
    env = os.environ
    settings = {
        "backend": env.get("PREFLIGHT_BACKEND", "nccl"),
        "profile": env["PREFLIGHT_FABRIC_PROFILE"],
        "node_rank": int(env["PREFLIGHT_NODE_RANK"]),
        "nodes": int(env["PREFLIGHT_NODES"]),
        "per_node": int(env["PREFLIGHT_PROCESSES_PER_NODE"]),
        "master": env["PREFLIGHT_MASTER_ADDRESS"],
        "port": int(env["PREFLIGHT_PORT"]),
        "max_bytes": int(env["PREFLIGHT_MAX_BYTES"]),
        "iterations": int(env["PREFLIGHT_ITERATIONS"]),
        "warmup": int(env["PREFLIGHT_WARMUP_ITERATIONS"]),
        "floor": float(env["PREFLIGHT_MIN_BUSBW_GBPS"]),
        "require_gdr": env.get("PREFLIGHT_REQUIRE_GPUDIRECT", "false") == "true",
        "log_dir": env.get("PREFLIGHT_LOG_DIR", "/tmp/preflight-nccl"),
    }
    if settings["profile"] not in EXPECTED:
        sys.exit("[preflight] unknown fabric profile {!r}".format(settings["profile"]))
    os.makedirs(settings["log_dir"], exist_ok=True)
    import multiprocessing

    # fork, not spawn: this program arrives as `python3 -c`, which a spawned child cannot re-import.
    # The parent never touches CUDA, so forking is safe.
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=lambda r=r: sys.exit(member(r, settings)))
                for r in range(settings["per_node"])]
    for child in children:
        child.start()
    for child in children:
        child.join()
    codes = [child.exitcode for child in children]
    sys.exit(max(abs(code or 0) for code in codes))


if __name__ == "__main__":
    main()
{{- end -}}
