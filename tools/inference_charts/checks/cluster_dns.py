"""Cluster DNS as a pod sees it: which names resolve to which pod, and why a name does not.

The model, each rule from its source:
  - A pod's record <hostname>.<subdomain>.<namespace>.svc.<zone> comes from the endpoints of a Service
    named exactly like its subdomain, in its namespace, that selects it: the EndpointSlice controller
    sets an endpoint's hostname only when pod.Spec.Hostname is set and pod.Spec.Subdomain equals the
    Service's name (kubernetes/endpointslice v0.34.0 util/controller_utils.go ShouldSetHostname, used by
    utils.go podToEndpoint). The DNS specification promises these records for headless Services only
    (kubernetes/dns 1.26.7 docs/specification.md 2.4), and kube-dns answers nothing for a Service with a
    cluster IP (pkg/dns/dns.go); CoreDNS answers any query with an endpoint label from the endpoints,
    whatever the Service's type (coredns/coredns v1.12.4 plugin/kubernetes/kubernetes.go findServices,
    `svc.Headless() || r.endpoint != ""`). The model follows CoreDNS, the default cluster DNS, and the
    invariants require headless Services anyway.
  - Only ready endpoints are answered (CoreDNS object/endpoint.go EndpointSliceToEndpoints), and an
    endpoint is ready when the pod is Ready and not terminating, or always when the Service sets
    publishNotReadyAddresses (endpointslice utils.go podToEndpoint). A pod without an IP has no endpoint
    (ShouldPodBeInEndpoints). A headless Service with no ports still has endpoints (reconciler
    getEndpointPorts, "Allow headless service not to have ports") and records (CoreDNS adds a sentinel).
  - A pod's resolver (dnsPolicy ClusterFirst) searches <namespace>.svc.<zone>, svc.<zone>, <zone>
    (kubernetes v1.34.0 pkg/kubelet/network/dns/dns.go generateSearchesForDNSClusterFirst), so
    LWS_LEADER_ADDRESS, <leader>.<subdomain>.<namespace> with no .svc, resolves through the second.
  - A pod's own hostname (and FQDN, when it has a subdomain) is in its own /etc/hosts, written by the
    kubelet (pkg/kubelet/kubelet_pods.go managedHostsFileContent), not in anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference_charts.checks import runtime
from inference_charts.checks.runtime import RuntimePod

ZONE = "cluster.local"


@dataclass(frozen=True)
class NamingService:
    """A Service whose endpoints give pods names: every Service with a selector."""

    name: str
    namespace: str
    selector: dict[str, str]
    publish_not_ready: bool
    made_by: str  # "rendered" or the controller's workload
    headless: bool = True


@dataclass(frozen=True)
class PodRecord:
    """An A record of one pod through one headless Service."""

    fqdn: str
    pod: str
    service: str
    needs_ready: bool


def search_path(namespace: str) -> tuple[str, ...]:
    return (f"{namespace}.svc.{ZONE}", f"svc.{ZONE}", ZONE)


def _services(objects: list[dict[str, Any]]) -> list[NamingService]:
    """The Services that will exist (rendered and controller-made) that select pods."""
    found = []
    for obj in objects:
        if obj.get("kind") != "Service" or runtime.is_hook(obj):
            continue
        spec = obj.get("spec", {})
        found.append(NamingService(obj["metadata"]["name"], obj["metadata"].get("namespace", "default"),
                                   dict(spec.get("selector") or {}), bool(spec.get("publishNotReadyAddresses")),
                                   "rendered", spec.get("clusterIP") == "None"))
    found += [NamingService(s.name, s.namespace, s.selector, s.publish_not_ready, s.made_by, s.headless)
              for s in runtime.controller_services(objects)]
    return found


class ClusterDNS:
    """The records of the rendered objects' pods, as cluster DNS would serve them."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects
        self.pods = runtime.pods(objects)
        self.services = _services(objects)
        self.records: list[PodRecord] = []
        for pod in self.pods:
            self.records += self._records_of(pod)

    def _records_of(self, pod: RuntimePod) -> list[PodRecord]:
        if not pod.hostname or not pod.subdomain:
            return []
        return [PodRecord(f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc.{ZONE}", pod.name, svc.name,
                          not svc.publish_not_ready)
                for svc in self.services
                if svc.name == pod.subdomain and svc.namespace == pod.namespace and svc.selector
                and runtime.selects(svc.selector, pod)]

    def records_of(self, pod_name: str, ready: bool = False) -> list[PodRecord]:
        """The records that point at this pod once it has an IP (and, if ready, once it is Ready)."""
        return [r for r in self.records if r.pod == pod_name and (ready or not r.needs_ready)]

    def lookup_names(self, record: PodRecord, namespace: str) -> tuple[str, ...]:
        """Every name a pod in namespace may ask for that the resolver turns into record.fqdn: the FQDN
        itself and each relative name that a search suffix completes (a hosts file has no search path,
        so the simulation lists them all)."""
        names = [record.fqdn]
        for suffix in search_path(namespace):
            if record.fqdn.endswith("." + suffix):
                names.append(record.fqdn[: -len(suffix) - 1])
        return tuple(names)

    def resolve(self, name: str, namespace: str, ready: frozenset[str] = frozenset()) -> str | None:
        """The pod that name resolves to from a pod in namespace (pods in ready count as Ready), or None.
        Search suffixes first (ndots 5: these names have fewer dots), then the name as given."""
        name = name.rstrip(".")
        candidates = [f"{name}.{suffix}" for suffix in search_path(namespace)] + [name]
        for candidate in candidates:
            for record in self.records:
                if record.fqdn == candidate and (not record.needs_ready or record.pod in ready):
                    return record.pod
        return None

    def why_unresolved(self, name: str, namespace: str) -> str:
        """Why a pod's name gives no record before the pod is Ready: the pod it names, and the Service
        that holds its subdomain's name, or the headless Service that is missing."""
        name = name.rstrip(".")
        for pod in self.pods:
            if not pod.subdomain:
                continue
            short = f"{pod.hostname}.{pod.subdomain}"
            fqdn = f"{short}.{pod.namespace}.svc.{ZONE}"
            if name not in (short, f"{short}.{pod.namespace}", f"{short}.{pod.namespace}.svc", fqdn):
                continue
            holders = [s for s in self.services if s.name == pod.subdomain and s.namespace == pod.namespace]
            wanted = [s for s in runtime.wanted_headless_services(self.objects) if s.name == pod.subdomain]
            skipped = (f"; {wanted[0].made_by} would have made a headless Service of that name but skips an "
                       "existing one") if wanted and not any(s.made_by == wanted[0].made_by for s in holders) else ""
            if not holders:
                return f"{name} names pod {pod.name}, but no Service {pod.subdomain} exists"
            service = holders[0]
            kind = "headless" if service.headless else "not headless"
            if not runtime.selects(service.selector, pod):
                return (f"{name} names pod {pod.name}, but Service {service.name} ({kind}) does not select it"
                        f"{skipped}")
            return (f"{name} names pod {pod.name}, but Service {service.name} ({kind}) publishes it only once the "
                    f"pod is Ready (no publishNotReadyAddresses), and a group's pods look each other up before "
                    f"that{skipped}")
        return f"{name} names no pod of the rendered workloads"
