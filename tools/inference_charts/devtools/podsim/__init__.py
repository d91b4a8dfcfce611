"""Pods on one Linux machine, for running the charts' rendered containers for real (tests/integration,
make bench). See docs/ray-group-integration.md.

net           network namespaces on a bridge, addresses, a hosts file for cluster DNS
workloads     rendered objects -> the pods controllers would create, with what they inject
kubelet       sandbox, container environment and process, exec inside a container
sandbox_init  process 1 of a pod: its mounts, hostname and reaping
prober        the kubelet's probe semantics over the rendered probes
gcs_observer  the test's own view of the Ray cluster, polled from outside the pods
group         one group run end to end, its timeline and its cleanup
checks        the assertions about a group run, each returning the problems it found
bench         group-formation figures for make bench
standin/vllm  the engine stand-in (not vLLM)
"""
