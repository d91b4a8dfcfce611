"""The checks: what a rendered release must satisfy, and the models of the cluster they rest on.

harness       render a case and run every check on it: one call, one result
kube_schemas  Kubernetes' OpenAPI schemas (oldest and newest supported) and the custom-resource schemas
invariants    the suite's own rules (parallel arithmetic, leader-only exposure, names, fabric, cache)
pss           Pod Security Standards, "restricted"
pod_security  a release against "restricted", with the charts' documented exceptions by name
netpol        NetworkPolicy ingress evaluation
reachability  a release's NetworkPolicies: Ray and NCCL closed to all but the group, the API to its clients
refusal       Helm's refusal to render, read back into findings naming the value
runtime       what the controllers make of the rendered workloads (LeaderWorkerSet, Job), cited upstream
cluster_dns   which names resolve to which pod, as cluster DNS serves them, cited upstream
requirements  which LeaderWorkerSet and Kubernetes versions a release needs
umbrella      which engine charts an umbrella release installs

A check reads rendered objects and returns findings; it renders nothing and runs nothing.
"""
