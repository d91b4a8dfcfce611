"""Cluster DNS as a pod sees it: which names resolve to which pod, and why a name does not.

The model, each rule from its source:
  - A pod gets the record <hostname>.<subdomain>.<namespace>.svc.<zone> only through a headless Service
    (clusterIP None) named exactly like its subdomain, in its namespace, that selects it: the
    EndpointSlice controller sets an endpoint's hostname only when pod.Spec.Hostname is set and
    pod.Spec.Subdomain equals the Service's name (kubernetes/kubernetes v1.34.0
    staging/src/k8s.io/endpointslice/utils.go podToEndpoint), and cluster DNS answers hostname records
    for the endpoints of headless Services only (kubernetes/dns docs/specification.md, 2.4 "Records for
    a Headless Service"; coredns/coredns v1.12.1 plugin/kubernetes/kubernetes.go findServices). A
    ClusterIP Service of that name gives the pods no names at all.
  - An endpoint of a pod that is not Ready is published only when the Service sets
    publishNotReadyAddresses (endpointslice utils.go podToEndpoint: Ready is forced true with it, and
    CoreDNS serves ready endpoints). A pod without an IP has no endpoint.
  - A pod's resolver (dnsPolicy ClusterFirst) searches <namespace>.svc.<zone>, svc.<zone>, <zone>
    (kubernetes v1.34.0 pkg/kubelet/network/dns/dns.go generateSearchesForDNSClusterFirst), so
    LWS_LEADER_ADDRESS, <leader>.<subdomain>.<namespace> with no .svc, resolves through the second.
  - A pod's own hostname (and FQDN, when it has a subdomain) is in its own /etc/hosts, written by the
    kubelet (pkg/kubelet/kubelet_pods.go managedHostsFileContent), not in anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import runtime
from .runtime import RuntimePod

ZONE = "cluster.local"


@dataclass(frozen=True)
class HeadlessService:
    name: str
    namespace: str
    selector: dict[str, str]
    publish_not_ready: bool
    made_by: str  # "rendered" or the controller's workload


@dataclass(frozen=True)
class PodRecord:
    """An A record of one pod through one headless Service."""

    fqdn: str
    pod: str
    service: str
    needs_ready: bool


def search_path(namespace: str) -> tuple[str, ...]:
    return (f"{namespace}.svc.{ZONE}", f"svc.{ZONE}", ZONE)


def _services(objects: list[dict[str, Any]]) -> tuple[list[HeadlessService], list[dict[str, Any]]]:
    """Headless Services that will exist (rendered and controller-made) and the rendered non-headless ones."""
    headless, others = [], []
    for obj in objects:
        if obj.get("kind") != "Service" or runtime.is_hook(obj):
            continue
        spec = obj.get("spec", {})
        if spec.get("clusterIP") == "None":
            headless.append(HeadlessService(obj["metadata"]["name"], obj["metadata"].get("namespace", "default"),
                                            dict(spec.get("selector") or {}),
                                            bool(spec.get("publishNotReadyAddresses")), "rendered"))
        else:
            others.append(obj)
    headless += [HeadlessService(s.name, s.namespace, s.selector, s.publish_not_ready, s.made_by)
                 for s in runtime.controller_services(objects)]
    return headless, others


class ClusterDNS:
    """The records of the rendered objects' pods, as cluster DNS would serve them."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects
        self.pods = runtime.pods(objects)
        self.headless, self.other_services = _services(objects)
        self.records: list[PodRecord] = []
        for pod in self.pods:
            self.records += self._records_of(pod)

    def _records_of(self, pod: RuntimePod) -> list[PodRecord]:
        if not pod.hostname or not pod.subdomain:
            return []
        return [PodRecord(f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc.{ZONE}", pod.name, svc.name,
                          not svc.publish_not_ready)
                for svc in self.headless
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
        """Why a pod's name gives no record: the pod it names, and the Service that took its subdomain's
        name or the missing headless Service."""
        name = name.rstrip(".")
        for pod in self.pods:
            if not pod.subdomain:
                continue
            short = f"{pod.hostname}.{pod.subdomain}"
            fqdn = f"{short}.{pod.namespace}.svc.{ZONE}"
            if name not in (short, f"{short}.{pod.namespace}", f"{short}.{pod.namespace}.svc", fqdn):
                continue
            same_name = [o for o in self.other_services if o["metadata"]["name"] == pod.subdomain]
            if same_name:
                svc = same_name[0]
                wanted = [s for s in runtime.wanted_headless_services(self.objects) if s.name == pod.subdomain]
                by = f"; {wanted[0].made_by} would have made it headless but skips an existing name" if wanted else ""
                return (f"{name} names pod {pod.name}, but Service {pod.subdomain} is not headless (type "
                        f"{svc.get('spec', {}).get('type', 'ClusterIP')}): cluster DNS gives no pod names "
                        f"through it{by}")
            headless = [s for s in self.headless if s.name == pod.subdomain and s.namespace == pod.namespace]
            if not headless:
                return f"{name} names pod {pod.name}, but no headless Service {pod.subdomain} exists"
            return f"{name} names pod {pod.name}, but headless Service {pod.subdomain} does not select it"
        return f"{name} names no pod of the rendered workloads"
