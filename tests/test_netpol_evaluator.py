"""inference_charts.checks.netpol: ingress NetworkPolicy evaluation against the Kubernetes NetworkPolicy semantics."""

from __future__ import annotations

from typing import Any

import pytest
from inference_charts.checks.netpol import (
    NAMESPACE_NAME_LABEL,
    Endpoint,
    allowed,
    default_namespace_labels,
    explain,
    pod,
    selector_matches,
)

SERVER = pod("server-0", "app", {"role": "server"}, ports={"http": 8000, "metrics": 9090, "dns": 53})
CLIENT = pod("client-0", "app", {"role": "client"})
OTHER = pod("other-0", "app", {"role": "other"})
MONITOR = pod("prom-0", "monitoring", {"app": "prometheus"}, default_namespace_labels("monitoring", {"team": "obs"}))
STRANGER = pod("x-0", "elsewhere", {"role": "client"})


def policy(name: str, spec: dict[str, Any], namespace: str | None = "app") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


SELECT_SERVER = {"matchLabels": {"role": "server"}}


def ingress_policy(name: str, *rules: dict[str, Any], namespace: str = "app") -> dict[str, Any]:
    return policy(name, {"podSelector": SELECT_SERVER, "policyTypes": ["Ingress"], "ingress": list(rules)}, namespace)


def test_endpoint_helpers() -> None:
    assert default_namespace_labels("ns") == {NAMESPACE_NAME_LABEL: "ns"}
    assert default_namespace_labels("ns", {"a": "b"}) == {NAMESPACE_NAME_LABEL: "ns", "a": "b"}
    assert CLIENT.namespace_labels == {NAMESPACE_NAME_LABEL: "app"}
    assert Endpoint("p", "ns", {}, {}).ports == {}


def test_no_policies_default_allow() -> None:
    assert allowed([], CLIENT, SERVER, 8000)
    verdict = explain([], CLIENT, SERVER, 8000)
    assert verdict and "default allow" in verdict.reason


def test_non_networkpolicy_objects_are_skipped() -> None:
    objects = [{"kind": "Service", "metadata": {"name": "svc"}}, {"kind": "ConfigMap"}]
    assert allowed(objects, CLIENT, SERVER, 8000)


def test_policy_without_ingress_rules_denies_everything() -> None:
    deny = policy("deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})
    assert not allowed([deny], CLIENT, SERVER, 8000)
    assert not allowed([deny], MONITOR, SERVER, 9090)
    assert "app/deny-all" in explain([deny], CLIENT, SERVER, 8000).reason
    # An explicitly empty ingress list is the same default deny.
    assert not allowed([ingress_policy("empty")], CLIENT, SERVER, 8000)


def test_policy_types_absent_implies_ingress() -> None:
    assert not allowed([policy("implicit", {"podSelector": {}})], CLIENT, SERVER, 8000)
    # Egress-only policies do not isolate for ingress.
    egress_only = policy("egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": []})
    assert allowed([egress_only], CLIENT, SERVER, 8000)


def test_pod_selector_of_policy_limits_which_pods_are_isolated() -> None:
    deny_server = policy("deny-server", {"podSelector": SELECT_SERVER, "policyTypes": ["Ingress"]})
    assert not allowed([deny_server], CLIENT, SERVER, 8000)
    assert allowed([deny_server], CLIENT, OTHER, 8000)  # not selected, so not isolated


def test_policy_in_another_namespace_does_not_apply() -> None:
    deny_elsewhere = policy("deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]}, namespace="elsewhere")
    assert allowed([deny_elsewhere], CLIENT, SERVER, 8000)
    assert not allowed([deny_elsewhere], CLIENT, STRANGER, 8000)


def test_missing_namespace_needs_default_namespace() -> None:
    deny = policy("deny-all", {"podSelector": {}}, namespace=None)
    with pytest.raises(ValueError, match="default_namespace"):
        allowed([deny], CLIENT, SERVER, 8000)
    assert not allowed([deny], CLIENT, SERVER, 8000, default_namespace="app")
    assert allowed([deny], CLIENT, SERVER, 8000, default_namespace="other")


def test_empty_from_and_ports_allow_all() -> None:
    assert allowed([ingress_policy("open", {})], STRANGER, SERVER, 1234, "UDP")
    assert allowed([ingress_policy("open", {"from": [], "ports": []})], MONITOR, SERVER, 1)


def test_pod_selector_peer_is_scoped_to_policy_namespace() -> None:
    rule = {"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}
    policies = [ingress_policy("from-clients", rule)]
    assert allowed(policies, CLIENT, SERVER, 8000)
    assert not allowed(policies, OTHER, SERVER, 8000)
    # Same labels, other namespace: a bare podSelector only looks in the policy's namespace.
    assert not allowed(policies, STRANGER, SERVER, 8000)
    assert explain(policies, CLIENT, SERVER, 8000).reason == "allowed by app/from-clients ingress[0]"


def test_empty_pod_selector_peer_means_all_pods_of_policy_namespace() -> None:
    policies = [ingress_policy("same-ns", {"from": [{"podSelector": {}}]})]
    assert allowed(policies, OTHER, SERVER, 8000)
    assert not allowed(policies, STRANGER, SERVER, 8000)


def test_namespace_selector_peer_selects_all_pods_of_matching_namespaces() -> None:
    rule = {"from": [{"namespaceSelector": {"matchLabels": {"team": "obs"}}}]}
    policies = [ingress_policy("from-obs", rule)]
    assert allowed(policies, MONITOR, SERVER, 9090)
    assert allowed(policies, pod("any", "monitoring", {}, MONITOR.namespace_labels), SERVER, 9090)
    assert not allowed(policies, CLIENT, SERVER, 9090)  # own namespace lacks the label
    by_name = [
        ingress_policy(
            "by-name", {"from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "elsewhere"}}}]}
        )
    ]
    assert allowed(by_name, STRANGER, SERVER, 8000)
    # An empty namespaceSelector matches every namespace.
    assert allowed([ingress_policy("all-ns", {"from": [{"namespaceSelector": {}}]})], STRANGER, SERVER, 8000)


def test_combined_peer_needs_both_selectors() -> None:
    combined = {
        "namespaceSelector": {"matchLabels": {"team": "obs"}},
        "podSelector": {"matchLabels": {"app": "prometheus"}},
    }
    policies = [ingress_policy("prom-only", {"from": [combined]})]
    assert allowed(policies, MONITOR, SERVER, 9090)
    assert not allowed(
        policies, pod("grafana", "monitoring", {"app": "grafana"}, MONITOR.namespace_labels), SERVER, 9090
    )
    assert not allowed(policies, pod("prom", "app", {"app": "prometheus"}), SERVER, 9090)


def test_two_peers_are_ored_unlike_one_combined_peer() -> None:
    separate = [
        {"namespaceSelector": {"matchLabels": {"team": "obs"}}},
        {"podSelector": {"matchLabels": {"app": "prometheus"}}},
    ]
    policies = [ingress_policy("either", {"from": separate})]
    assert allowed(policies, pod("grafana", "monitoring", {"app": "grafana"}, MONITOR.namespace_labels), SERVER, 9090)
    assert allowed(policies, pod("prom", "app", {"app": "prometheus"}), SERVER, 9090)
    assert not allowed(policies, CLIENT, SERVER, 9090)


def test_ip_block_peer_never_matches_pods() -> None:
    policies = [ingress_policy("cidr", {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})]
    assert not allowed(policies, CLIENT, SERVER, 8000)
    with pytest.raises(ValueError, match="ipBlock"):
        allowed(
            [ingress_policy("bad", {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]})],
            CLIENT,
            SERVER,
            1,
        )


def test_empty_peer_is_rejected() -> None:
    with pytest.raises(ValueError, match="NetworkPolicyPeer"):
        allowed([ingress_policy("bad", {"from": [{}]})], CLIENT, SERVER, 8000)


def test_numeric_port() -> None:
    policies = [ingress_policy("http", {"ports": [{"port": 8000}]})]
    assert allowed(policies, CLIENT, SERVER, 8000)
    assert not allowed(policies, CLIENT, SERVER, 8001)


def test_named_port_resolves_against_destination() -> None:
    policies = [ingress_policy("metrics", {"ports": [{"port": "metrics"}]})]
    assert allowed(policies, CLIENT, SERVER, 9090)
    assert not allowed(policies, CLIENT, SERVER, 8000)
    # A destination that also gets selected but names the port differently.
    other_server = pod("server-1", "app", {"role": "server"}, ports={"metrics": 9100})
    assert allowed(policies, CLIENT, other_server, 9100)
    assert not allowed(policies, CLIENT, other_server, 9090)
    # A destination that does not define the name matches nothing.
    assert not allowed(policies, CLIENT, pod("server-2", "app", {"role": "server"}), 9090)


def test_end_port_range_is_inclusive() -> None:
    policies = [ingress_policy("range", {"ports": [{"port": 30000, "endPort": 30010}]})]
    assert allowed(policies, CLIENT, SERVER, 30000)
    assert allowed(policies, CLIENT, SERVER, 30005)
    assert allowed(policies, CLIENT, SERVER, 30010)
    assert not allowed(policies, CLIENT, SERVER, 29999)
    assert not allowed(policies, CLIENT, SERVER, 30011)


@pytest.mark.parametrize(
    "entry",
    [{"port": "http", "endPort": 9000}, {"endPort": 9000}, {"port": 9000, "endPort": 8000}],
    ids=["named", "no-port", "reversed"],
)
def test_invalid_end_port_is_rejected(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="endPort"):
        allowed([ingress_policy("bad", {"ports": [entry]})], CLIENT, SERVER, 8000)


def test_protocol_udp_vs_tcp() -> None:
    tcp_default = [ingress_policy("tcp", {"ports": [{"port": 53}]})]
    assert allowed(tcp_default, CLIENT, SERVER, 53)
    assert not allowed(tcp_default, CLIENT, SERVER, 53, "UDP")
    udp = [ingress_policy("udp", {"ports": [{"protocol": "UDP", "port": "dns"}]})]
    assert allowed(udp, CLIENT, SERVER, 53, "UDP")
    assert allowed(udp, CLIENT, SERVER, 53, "udp")
    assert not allowed(udp, CLIENT, SERVER, 53, "TCP")
    # Protocol with no port: every port of that protocol.
    all_udp = [ingress_policy("all-udp", {"ports": [{"protocol": "UDP"}]})]
    assert allowed(all_udp, CLIENT, SERVER, 4791, "UDP")
    assert not allowed(all_udp, CLIENT, SERVER, 4791)


def test_from_and_ports_must_both_match_within_a_rule() -> None:
    rule = {"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": "http"}]}
    policies = [ingress_policy("client-http", rule)]
    assert allowed(policies, CLIENT, SERVER, 8000)
    assert not allowed(policies, CLIENT, SERVER, 9090)
    assert not allowed(policies, OTHER, SERVER, 8000)


def test_multiple_rules_and_policies_are_additive() -> None:
    deny = policy("deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})
    clients = ingress_policy(
        "clients", {"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": 8000}]}
    )
    metrics = ingress_policy(
        "metrics",
        {"from": [{"podSelector": {"matchLabels": {"role": "other"}}}]},
        {"from": [{"namespaceSelector": {"matchLabels": {"team": "obs"}}}], "ports": [{"port": "metrics"}]},
    )
    policies = [deny, clients, metrics]
    assert allowed(policies, CLIENT, SERVER, 8000)
    assert not allowed(policies, CLIENT, SERVER, 9090)
    assert allowed(policies, OTHER, SERVER, 1)
    assert allowed(policies, MONITOR, SERVER, 9090)
    assert explain(policies, MONITOR, SERVER, 9090).reason == "allowed by app/metrics ingress[1]"
    assert not allowed(policies, MONITOR, SERVER, 8000)
    denied = explain(policies, STRANGER, SERVER, 8000)
    assert not denied and "app/deny-all, app/clients, app/metrics" in denied.reason


@pytest.mark.parametrize(
    ("expression", "labels", "expected"),
    [
        ({"key": "tier", "operator": "In", "values": ["a", "b"]}, {"tier": "a"}, True),
        ({"key": "tier", "operator": "In", "values": ["a", "b"]}, {"tier": "c"}, False),
        ({"key": "tier", "operator": "In", "values": ["a"]}, {}, False),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {"tier": "b"}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {"tier": "a"}, False),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {}, True),  # a missing key is "not in"
        ({"key": "tier", "operator": "Exists"}, {"tier": ""}, True),
        ({"key": "tier", "operator": "Exists"}, {}, False),
        ({"key": "tier", "operator": "DoesNotExist"}, {}, True),
        ({"key": "tier", "operator": "DoesNotExist"}, {"tier": "a"}, False),
    ],
)
def test_match_expressions_operators(expression: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selector_matches({"matchExpressions": [expression]}, labels) is expected


def test_selector_ands_match_labels_and_expressions() -> None:
    selector = {"matchLabels": {"role": "client"}, "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}
    assert selector_matches(selector, {"role": "client"})
    assert not selector_matches(selector, {"role": "client", "canary": "true"})
    assert not selector_matches(selector, {"role": "server"})
    assert selector_matches({}, {"anything": "x"}) and selector_matches(None, {})


def test_match_expressions_in_policy_and_peer() -> None:
    spec = {
        "podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": ["server", "worker"]}]},
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchExpressions": [{"key": "role", "operator": "NotIn", "values": ["other"]}]}}
                ]
            }
        ],
    }
    policies = [policy("expr", spec)]
    assert allowed(policies, CLIENT, SERVER, 8000)
    assert not allowed(policies, OTHER, SERVER, 8000)
    assert allowed(policies, OTHER, CLIENT, 8000)  # CLIENT is not selected by the policy


@pytest.mark.parametrize(
    "expression",
    [
        {"key": "k", "operator": "In", "values": []},
        {"key": "k", "operator": "Exists", "values": ["v"]},
        {"key": "k", "operator": "Gt", "values": ["1"]},
    ],
    ids=["in-without-values", "exists-with-values", "unknown-operator"],
)
def test_invalid_match_expressions_are_rejected(expression: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="operator"):
        selector_matches({"matchExpressions": [expression]}, {"k": "v"})
