"""Ingress evaluation of Kubernetes ``networking.k8s.io/v1`` NetworkPolicy objects (rendered manifests as dicts).

Answers "may pod A open a connection to port P/proto of pod B?" the way the NetworkPolicy API defines it
(https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the field docs of
``NetworkPolicySpec``, ``NetworkPolicyIngressRule``, ``NetworkPolicyPeer``, ``NetworkPolicyPort`` and
``metav1.LabelSelector``):

* A policy *applies* to a pod for ingress when it is in the pod's namespace, its ``spec.podSelector`` selects the
  pod (an empty selector selects every pod of the namespace) and its ``policyTypes`` contains ``Ingress``. When
  ``policyTypes`` is absent, ``Ingress`` is implied and ``Egress`` only if ``spec.egress`` is present.
* A pod no policy applies to is non-isolated: all ingress is allowed.
* Otherwise policies are additive (a union of allow lists, never a deny): a connection is allowed iff some
  applying policy has an ingress rule whose ``from`` matches the source and whose ``ports`` match the
  destination port. An applying policy without ingress rules contributes nothing (default deny).
* ``from`` absent or empty matches every source; ``ports`` absent or empty matches every port.
* Peers: ``podSelector`` alone selects pods of the *policy's* namespace; ``namespaceSelector`` alone selects every
  pod of the matching namespaces; both select the matching pods in the matching namespaces. ``ipBlock`` is meant
  for cluster-external addresses and pod IPs are ephemeral, so an ``ipBlock`` peer never matches a pod source here.
* Ports: ``protocol`` defaults to TCP; ``port`` is a number or a named port, which resolves against the
  *destination* pod's named container ports; an absent ``port`` matches every port of the protocol; ``endPort``
  widens a numeric port to the inclusive range ``port..endPort``.
* Label selectors: ``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist) are ANDed; an
  empty selector matches everything.

Egress is not evaluated: a real connection also needs the source's egress policies to allow it. Objects that are
not NetworkPolicies are skipped, so a whole rendered release can be passed in. Combinations the API server would
reject (for example ``endPort`` with a named port) raise ``ValueError`` rather than being guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (1.22+), so policies can select namespaces by name."""


def default_namespace_labels(namespace: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels a namespace carries: ``kubernetes.io/metadata.name`` (always set by the API server) plus extra."""
    return {NAMESPACE_NAME_LABEL: namespace, **(extra or {})}


@dataclass(frozen=True)
class Endpoint:
    """A pod as NetworkPolicy sees it: its labels, its namespace's labels and its named container ports.

    ``ports`` maps container port names to numbers; the protocol a named policy port is checked against is the
    policy entry's own, since this mapping does not record one per port.
    """

    name: str
    namespace: str
    labels: Mapping[str, str]
    namespace_labels: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=dict)


def pod(
    name: str,
    namespace: str,
    labels: Mapping[str, str] | None = None,
    namespace_labels: Mapping[str, str] | None = None,
    ports: Mapping[str, int] | None = None,
) -> Endpoint:
    """Builds an Endpoint whose namespace labels default to the ones the API server sets."""
    ns_labels = default_namespace_labels(namespace) if namespace_labels is None else dict(namespace_labels)
    return Endpoint(name, namespace, dict(labels or {}), ns_labels, dict(ports or {}))


@dataclass(frozen=True)
class Verdict:
    """The answer and why: which policy/rule allowed it, or which policies isolate the destination."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allowed(
    policies: Iterable[Mapping[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
    *,
    default_namespace: str | None = None,
) -> bool:
    """Whether NetworkPolicy lets ``source`` connect to ``destination`` on ``port``/``protocol`` (ingress only)."""
    return explain(policies, source, destination, port, protocol, default_namespace=default_namespace).allowed


def explain(
    policies: Iterable[Mapping[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
    *,
    default_namespace: str | None = None,
) -> Verdict:
    """Like :func:`allowed`, with the reason. ``default_namespace`` stands in for a missing metadata.namespace."""
    protocol = protocol.upper()  # the API's Protocol enum is upper case; accept "tcp" from callers
    target = f"{destination.namespace}/{destination.name}"
    applying: list[str] = []
    for policy in policies:
        if policy.get("kind") != "NetworkPolicy":
            continue
        namespace = _namespace(policy, default_namespace)
        spec = policy.get("spec") or {}
        if namespace != destination.namespace or "Ingress" not in _policy_types(spec):
            continue
        # A null/absent podSelector decodes to the empty LabelSelector, which selects every pod.
        if not selector_matches(spec.get("podSelector"), destination.labels):
            continue
        label = f"{namespace}/{policy.get('metadata', {}).get('name', '?')}"
        applying.append(label)
        for index, rule in enumerate(spec.get("ingress") or []):
            rule = rule or {}
            if _from_matches(rule.get("from"), namespace, source) and _ports_match(
                rule.get("ports"), destination, port, protocol
            ):
                return Verdict(True, f"allowed by {label} ingress[{index}]")
    if not applying:
        return Verdict(True, f"no NetworkPolicy selects {target} for ingress (non-isolated: default allow)")
    return Verdict(False, f"{target} is isolated by {', '.join(applying)} and no ingress rule matches")


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics: matchLabels AND every matchExpression; empty (or null) matches all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression_matches(expression, labels) for expression in selector.get("matchExpressions") or [])


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = list(expression.get("values") or [])
    # The API server enforces these shapes; a rendered manifest that breaks them would be refused on apply.
    if operator in ("In", "NotIn"):
        if not values:
            raise ValueError(f"matchExpressions operator {operator} on {key!r} needs non-empty values")
        if operator == "In":
            return key in labels and labels[key] in values
        # NotIn also matches pods that lack the key altogether.
        return key not in labels or labels[key] not in values
    if operator in ("Exists", "DoesNotExist"):
        if values:
            raise ValueError(f"matchExpressions operator {operator} on {key!r} takes no values")
        return (key in labels) == (operator == "Exists")
    raise ValueError(f"unknown matchExpressions operator {operator!r}")


def _namespace(policy: Mapping[str, Any], default_namespace: str | None) -> str:
    namespace = (policy.get("metadata") or {}).get("namespace") or default_namespace
    if not namespace:
        # Guessing "default" would make the policy silently apply to the wrong pods.
        name = (policy.get("metadata") or {}).get("name", "?")
        raise ValueError(f"NetworkPolicy {name} has no metadata.namespace; pass default_namespace")
    return str(namespace)


def _policy_types(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    # Absent policyTypes: Ingress always, Egress only when egress rules are present.
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _from_matches(peers: list[Mapping[str, Any]] | None, policy_namespace: str, source: Endpoint) -> bool:
    if not peers:
        return True  # absent or empty `from`: every source, inside the cluster or not
    return any(_peer_matches(peer or {}, policy_namespace, source) for peer in peers)


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, source: Endpoint) -> bool:
    has_pods, has_namespaces = "podSelector" in peer, "namespaceSelector" in peer
    if "ipBlock" in peer:
        if has_pods or has_namespaces:
            raise ValueError("a NetworkPolicyPeer with ipBlock may not also set podSelector/namespaceSelector")
        return False  # ipBlock targets cluster-external CIDRs; pod sources are not matched (see module docstring)
    if not (has_pods or has_namespaces):
        raise ValueError("a NetworkPolicyPeer needs podSelector, namespaceSelector or ipBlock")
    if has_namespaces:
        if not selector_matches(peer["namespaceSelector"], source.namespace_labels):
            return False
    elif source.namespace != policy_namespace:
        return False  # podSelector alone is scoped to the policy's own namespace
    # An absent podSelector beside a namespaceSelector means every pod of those namespaces.
    return selector_matches(peer.get("podSelector"), source.labels)


def _ports_match(entries: list[Mapping[str, Any]] | None, destination: Endpoint, port: int, protocol: str) -> bool:
    if not entries:
        return True  # absent or empty `ports`: every port and protocol
    return any(_port_matches(entry or {}, destination, port, protocol) for entry in entries)


def _port_matches(entry: Mapping[str, Any], destination: Endpoint, port: int, protocol: str) -> bool:
    if entry.get("protocol", "TCP") != protocol:
        return False
    wanted = entry.get("port")
    end = entry.get("endPort")
    if wanted is None:
        if end is not None:
            raise ValueError("endPort needs a numeric port")
        return True  # protocol only: every port of that protocol
    if isinstance(wanted, str):
        if end is not None:
            raise ValueError(f"endPort cannot be combined with the named port {wanted!r}")
        # Named ports resolve per destination pod, so the same rule can mean different numbers on
        # different pods; a name the pod does not define matches nothing.
        return destination.ports.get(wanted) == port
    if end is None:
        return port == wanted
    if end < wanted:
        raise ValueError(f"endPort {end} is below port {wanted}")
    return wanted <= port <= end
