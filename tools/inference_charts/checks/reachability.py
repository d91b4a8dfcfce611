"""NetworkPolicy reachability of a rendered release: who may open a connection to which pod and port.

The rendered NetworkPolicies are evaluated (netpol.py, ingress as the API defines it) against the pods
the controllers will create (runtime.py, with their run-time labels) and a set of probe pods standing
for everyone else. The rules:

- group-members-connect: the pods of a group (and of the NCCL preflight) reach each other on Ray's
  and NCCL's ports, or the group never forms;
- groups-isolated: no pod of one group reaches a pod of another group, of this engine or another;
- ray-nccl-closed: no pod outside a group reaches its Ray, NCCL or rendezvous ports: not a pod of
  another release in the namespace, not a pod with the same labels in another namespace, not an
  unrelated pod, not even an API client;
- api-reachable: the API clients (networkPolicy.apiFrom, the release's helm test pod, and
  networkPolicy.metricsFrom while a monitor is on) reach every leader's API port;
- api-leaders-only: the API clients do not reach a worker on the API port;
- api-not-open: a pod that is no API client (another release's, one in an unrelated namespace) does
  not reach the API port.

Ray and NCCL pick most of their ports at run time, so besides the well-known and declared ports
(invariants.internal_ports) one ephemeral port, EPHEMERAL_PORT, stands for the rest. An API client is
a probe pod built to match each peer of apiFrom (and metricsFrom): its labels and its namespace's
labels satisfy the peer's selectors. ipBlock peers stand for addresses outside the cluster and get no
probe pod.

A finding names the workload the destination pods belong to, the rule, and the value responsible when
one is: networkPolicy.enabled when no policy isolates the pod, networkPolicy.apiFrom or
networkPolicy.metricsFrom when a peer given there lets the stranger in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inference_charts.checks import netpol, runtime
from inference_charts.checks.invariants import Finding, internal_ports, pods_by_group
from inference_charts.checks.runtime import RuntimePod

CHECK = "network-policy"
GROUP_MEMBERS_CONNECT = "group-members-connect"
GROUPS_ISOLATED = "groups-isolated"
RAY_NCCL_CLOSED = "ray-nccl-closed"
API_REACHABLE = "api-reachable"
API_LEADERS_ONLY = "api-leaders-only"
API_NOT_OPEN = "api-not-open"
RULES = (GROUP_MEMBERS_CONNECT, GROUPS_ISOLATED, RAY_NCCL_CLOSED, API_REACHABLE, API_LEADERS_ONLY, API_NOT_OPEN)

#: A port in Linux's ephemeral range, standing for the ports NCCL and Ray's workers pick at run time.
EPHEMERAL_PORT = 45123
#: The name of the container port that serves the API (the chart's API policy admits port "http").
API_PORT_NAME = "http"
OTHER_RELEASE = "other-release"
ELSEWHERE = "elsewhere"
INSTANCE_LABEL = "app.kubernetes.io/instance"

#: For a workload ("LeaderWorkerSet/x"), the prefix of its values in the release's values ("" for an
#: engine chart, "vllm-multinode." for an engine of the umbrella) and that engine's effective values.
ValuesOf = Callable[[str], tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Member:
    """A pod of the release as the policies see it, with the workload it belongs to."""

    pod: RuntimePod
    endpoint: netpol.Endpoint

    @property
    def workload(self) -> str:
        return self.pod.workload


def _endpoint(pod: RuntimePod, namespace: str) -> netpol.Endpoint:
    ports = {p["name"]: int(p["containerPort"]) for c in pod.containers for p in c.get("ports", [])
             if "name" in p and "containerPort" in p}
    return netpol.pod(pod.name, pod.namespace or namespace, dict(pod.labels), ports=ports)


def _api_port(pod: RuntimePod) -> int | None:
    for container in pod.containers:
        for port in container.get("ports", []):
            if port.get("name") == API_PORT_NAME:
                return int(port["containerPort"])
    return None


def _satisfying_labels(selector: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Labels that a LabelSelector selects, or None when its terms contradict each other."""
    selector = selector or {}
    labels = {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        if operator == "In" and values:
            labels.setdefault(key, values[0])
        elif operator == "Exists":
            labels.setdefault(key, "present")
    return labels if netpol.selector_matches(selector, labels) else None


def _probe_for_peer(peer: Mapping[str, Any], namespace: str, name: str) -> netpol.Endpoint | None:
    """A pod that the NetworkPolicyPeer ``peer`` (of a policy in ``namespace``) admits, or None."""
    if not isinstance(peer, Mapping) or "ipBlock" in peer or not ({"podSelector", "namespaceSelector"} & peer.keys()):
        return None
    labels = _satisfying_labels(peer.get("podSelector"))
    if labels is None:
        return None
    if "namespaceSelector" not in peer:
        return netpol.pod(name, namespace, labels)
    namespace_labels = _satisfying_labels(peer.get("namespaceSelector"))
    if namespace_labels is None:
        return None
    own = namespace_labels.get(netpol.NAMESPACE_NAME_LABEL) or f"{name}-namespace"
    return netpol.pod(name, own, labels, {**namespace_labels, netpol.NAMESPACE_NAME_LABEL: own})


def _peers(values: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    found = (values.get("networkPolicy") or {}).get(key) or []
    return [peer for peer in found if isinstance(peer, Mapping)] if isinstance(found, list) else []


def _monitor_on(values: Mapping[str, Any]) -> bool:
    metrics = values.get("metrics") or {}
    return any((metrics.get(kind) or {}).get("enabled") for kind in ("serviceMonitor", "podMonitor"))


def _admits(peers: Sequence[Mapping[str, Any]], source: netpol.Endpoint, namespace: str) -> bool:
    """Whether one of ``peers``, in a policy of ``namespace``, admits ``source``."""
    if not peers:
        return False
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "probe", "namespace": namespace},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": list(peers)}]}}
    probe = netpol.pod("probe", namespace)
    try:
        return netpol.allowed([policy], source, probe, 1)
    except ValueError:
        return False  # a peer the API server would refuse admits nothing


class _Evaluation:
    def __init__(self, objects: list[dict[str, Any]], namespace: str, values_of: ValuesOf) -> None:
        self.namespace = namespace
        self.values_of = values_of
        self.policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
        # Leader first in each group; the preflight's groups after the serving ones.
        grouped = [(True, members) for members in pods_by_group(runtime.pods(objects)).values()]
        grouped += [(False, members) for members in pods_by_group(runtime.hook_job_pods(objects)).values()]
        self.groups: list[list[Member]] = []
        self.serving: set[int] = set()  # ids of the groups that serve the API
        for serves, members in grouped:
            group = [Member(pod, _endpoint(pod, namespace))
                     for pod in sorted(members, key=lambda pod: not pod.is_leader)]
            self.groups.append(group)
            if serves:
                self.serving.add(id(group))
        self.helm_tests = [netpol.pod(o["metadata"]["name"], o["metadata"].get("namespace") or namespace,
                                      o["metadata"].get("labels") or {})
                           for o in objects if o.get("kind") == "Pod" and runtime.is_hook(o)]

    def verdict(self, source: netpol.Endpoint, destination: netpol.Endpoint, port: int) -> netpol.Verdict:
        try:
            return netpol.explain(self.policies, source, destination, port, default_namespace=self.namespace)
        except ValueError as error:  # a policy the API server would refuse: it admits nothing
            return netpol.Verdict(False, str(error))

    def blame(self, workload: str, source: netpol.Endpoint, verdict: netpol.Verdict) -> str:
        """The value that lets ``source`` in, when one does."""
        prefix, values = self.values_of(workload)
        if verdict.reason.startswith("no NetworkPolicy selects"):
            enabled = (values.get("networkPolicy") or {}).get("enabled")
            return f"{prefix}networkPolicy.enabled" if enabled is False else ""
        for key in ("apiFrom", "metricsFrom"):
            if _admits(_peers(values, key), source, self.namespace):
                return f"{prefix}networkPolicy.{key}"
        return ""

    def clients(self, workload: str) -> list[tuple[str, netpol.Endpoint]]:
        """The API clients of an engine: (what it stands for, probe pod)."""
        _, values = self.values_of(workload)
        found = [(f"networkPolicy.apiFrom[{i}]", probe) for i, peer in enumerate(_peers(values, "apiFrom"))
                 if (probe := _probe_for_peer(peer, self.namespace, f"api-client-{i}"))]
        if _monitor_on(values):
            found += [(f"networkPolicy.metricsFrom[{i}]", probe)
                      for i, peer in enumerate(_peers(values, "metricsFrom"))
                      if (probe := _probe_for_peer(peer, self.namespace, f"metrics-client-{i}"))]
        # An umbrella release has a helm test pod per engine, each a client of its own engine only.
        prefix = self.values_of(workload)[0]
        found += [(f"helm test pod {p.name}", p) for p in self.helm_tests
                  if self.values_of(f"Pod/{p.name}")[0] == prefix]
        return found

    def strangers(self, member: Member) -> list[tuple[str, netpol.Endpoint]]:
        """Pods that are neither in the group nor API clients, shaped after ``member``."""
        labels = dict(member.endpoint.labels)
        return [
            ("a pod of another release in the namespace",
             netpol.pod(OTHER_RELEASE, self.namespace, {**labels, INSTANCE_LABEL: OTHER_RELEASE})),
            ("a pod with the same labels in another namespace", netpol.pod("twin", ELSEWHERE, labels)),
            ("an unrelated pod in another namespace", netpol.pod("stranger", "unrelated", {"app": "stranger"})),
        ]


class _Collector:
    """Findings gathered per (workload, rule), each connection once with all its ports, so that a missing
    policy is one finding per rule and workload, not hundreds."""

    def __init__(self) -> None:
        self.ports: dict[tuple[str, str], dict[tuple[str, str], list[int]]] = defaultdict(dict)
        self.values: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, workload: str, rule: str, source: str, destination: str, port: int, value: str = "") -> None:
        self.ports[(workload, rule)].setdefault((source, destination), []).append(port)
        if value:
            self.values[(workload, rule)].add(value)

    def findings(self, summaries: Mapping[str, str]) -> Iterator[Finding]:
        for (workload, rule), connections in self.ports.items():
            cases = [f"{source} -> {destination} on {', '.join(map(str, sorted(set(ports))))}"
                     for (source, destination), ports in connections.items()]
            shown = "; ".join(cases[:3]) + (f"; and {len(cases) - 3} more" if len(cases) > 3 else "")
            yield Finding(CHECK, workload, f"{summaries[rule]}: {shown}",
                          value=", ".join(sorted(self.values[(workload, rule)])), rule=rule)


SUMMARIES = {
    GROUP_MEMBERS_CONNECT: "pods of one group cannot reach each other",
    GROUPS_ISOLATED: "a pod of another group gets in",
    RAY_NCCL_CLOSED: "a pod outside the group reaches a Ray, NCCL or rendezvous port",
    API_REACHABLE: "an API client cannot reach the leader's API port",
    API_LEADERS_ONLY: "an API client reaches a worker's API port",
    API_NOT_OPEN: "a pod that is no API client reaches the API port",
}


def _ray_ports(member: Member) -> list[int]:
    return sorted(internal_ports(member.pod) | {EPHEMERAL_PORT})


def _inside_groups(run: _Evaluation, out: _Collector) -> None:
    """group-members-connect: every member reaches every other on Ray's and NCCL's ports."""
    for group in run.groups:
        for source in group:
            for destination in (m for m in group if m is not source):
                for port in _ray_ports(destination):
                    if not run.verdict(source.endpoint, destination.endpoint, port):
                        out.add(destination.workload, GROUP_MEMBERS_CONNECT, source.pod.name, destination.pod.name,
                                port)


def _between_groups(run: _Evaluation, out: _Collector) -> None:
    """groups-isolated: no member of another group gets in, on any probed port or the API port."""
    for group in run.groups:
        api = _api_port(group[0].pod)
        for other in (g for g in run.groups if g is not group):
            # Its leader and its last worker stand for the other group.
            for source in {id(m): m for m in (other[0], other[-1])}.values():
                for destination in group:
                    for port in sorted({*_ray_ports(destination), *([api] if api is not None else [])}):
                        verdict = run.verdict(source.endpoint, destination.endpoint, port)
                        if verdict:
                            out.add(destination.workload, GROUPS_ISOLATED, source.pod.name, destination.pod.name,
                                    port, run.blame(destination.workload, source.endpoint, verdict))


def _from_outside(run: _Evaluation, out: _Collector) -> None:
    """ray-nccl-closed for strangers and API clients; for serving groups, the three API rules."""
    for group in run.groups:
        leader = group[0]
        clients = run.clients(leader.workload)
        api = _api_port(leader.pod) if id(group) in run.serving else None
        for destination in group:
            workload, name = destination.workload, destination.pod.name
            strangers = run.strangers(destination)
            for label, source in [*strangers, *clients]:
                for port in _ray_ports(destination):
                    if verdict := run.verdict(source, destination.endpoint, port):
                        out.add(workload, RAY_NCCL_CLOSED, label, name, port, run.blame(workload, source, verdict))
            if api is None:
                continue
            for label, source in strangers:
                if verdict := run.verdict(source, destination.endpoint, api):
                    out.add(workload, API_NOT_OPEN, label, name, api, run.blame(workload, source, verdict))
            for label, source in clients:
                verdict = run.verdict(source, destination.endpoint, api)
                if destination.pod.is_leader and not verdict:
                    # A peer of apiFrom or metricsFrom shut out names that value; the helm test pod, none.
                    prefix = run.values_of(workload)[0]
                    value = f"{prefix}{label.split('[')[0]}" if label.startswith("networkPolicy.") else ""
                    out.add(workload, API_REACHABLE, label, name, api, value)
                elif not destination.pod.is_leader and verdict:
                    out.add(workload, API_LEADERS_ONLY, label, name, api, run.blame(workload, source, verdict))


def findings(objects: list[dict[str, Any]], namespace: str, values_of: ValuesOf) -> list[Finding]:
    """Every broken reachability rule of a rendered release in ``namespace``."""
    run = _Evaluation(objects, namespace, values_of)
    out = _Collector()
    _inside_groups(run, out)
    _between_groups(run, out)
    _from_outside(run, out)
    return list(out.findings(SUMMARIES))
