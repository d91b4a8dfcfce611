"""From rendered objects to the pods a cluster would run, with what the controllers add to them.

Everything a controller or webhook adds at run time (labels, annotations, environment, hostname and
subdomain) comes from runtime.pods(), the harness's model of the controllers written from their source
(see runtime.py for the citations). The names a pod resolves come from cluster_dns.ClusterDNS, the model
of cluster DNS over the rendered and the controller-made Services: the simulation resolves nothing that
the model does not publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference_charts.checks import runtime
from inference_charts.checks.cluster_dns import ClusterDNS


@dataclass(frozen=True)
class SimPod:
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: dict[str, Any]
    group: int
    index: int
    injected_env: list[dict[str, Any]]
    appended_env: list[dict[str, Any]]
    hostname: str
    subdomain: str
    dns_names: tuple[str, ...]  # names other pods resolve to this pod once it has an IP

    @property
    def is_leader(self) -> bool:
        return self.index == 0

    @property
    def container(self) -> dict[str, Any]:
        """The engine container (every chart pod has exactly one)."""
        containers = self.spec["containers"]
        if len(containers) != 1:
            raise ValueError(f"pod {self.name}: the simulation runs one container, found {len(containers)}")
        return dict(containers[0])

    @property
    def own_names(self) -> tuple[str, ...]:
        """What the kubelet writes for the pod itself into its own /etc/hosts: its FQDN when it has a
        subdomain, and its hostname (kubernetes v1.34.0 pkg/kubelet/kubelet_pods.go managedHostsFileContent)."""
        if not self.subdomain:
            return (self.hostname,)
        return (f"{self.hostname}.{self.subdomain}.{self.namespace}.svc.cluster.local", self.hostname)


def sim_pods(objects: list[dict[str, Any]]) -> list[SimPod]:
    """Every pod of every group the rendered workloads would run, as the simulation starts them."""
    dns = ClusterDNS(objects)
    result = []
    for pod in runtime.pods(objects):
        names: list[str] = []
        for record in dns.records_of(pod.name):
            names += [n for n in dns.lookup_names(record, pod.namespace) if n not in names]
        result.append(SimPod(
            name=pod.name, namespace=pod.namespace, labels=dict(pod.labels), annotations=dict(pod.annotations),
            spec=pod.spec, group=pod.group, index=pod.index,
            injected_env=[{"name": name, "value": value} for name, value in pod.env_first],
            appended_env=list(pod.env_last), hostname=pod.hostname or pod.name, subdomain=pod.subdomain,
            dns_names=tuple(names),
        ))
    return result
