"""The NIM chart and the Indexed Job workload kind: every matrix case renders clean, and the rendered
objects mean what the case's choices ask for. Expectations come from the choices, never the output."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import env_of, of_kind, one
from inference_charts.checks import runtime
from inference_charts.devtools.matrix import MatrixCase, nim_matrix, nim_profile, vllm_indexed_job_matrix
from inference_charts.devtools.podsim.kubelet import expand

NIM = nim_matrix()
JOBS = vllm_indexed_job_matrix() + [m for m in NIM if m.workload == "IndexedJob"]
CASES = vllm_indexed_job_matrix() + NIM


def test_nim_matrix_covers_every_choice() -> None:
    assert len(NIM) >= 100
    assert {m.layout for m in NIM} == {"values", "profile-name", "profile-hash"}
    assert {m.fabric for m in NIM} == {"infiniband", "roce", "ethernet", "nvlink"}
    assert {m.cache for m in NIM} == {"pvc", "existingClaim", "nfs", "hostPath", "emptyDir", "perPodClaim"}
    assert {m.workload for m in NIM} == {"LeaderWorkerSet", "IndexedJob"}
    assert {m.image for m in NIM} == {"model-specific", "model-free"}
    assert {m.topology.name for m in NIM if m.layout == "values"} >= {"2x8-tp8-pp2", "2x8-tp16-pp1", "4x8-tp8-pp4"}


@pytest.mark.parametrize("m", CASES, ids=lambda m: m.case.name)
def test_case_renders_clean(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    assert result.ok, "\n".join(result.problems())


def _all_containers(pod: runtime.RuntimePod) -> list[dict]:
    return pod.init_containers + pod.containers


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_json_logging_off_in_every_container(m: MatrixCase, evaluated) -> None:
    pods = runtime.pods(evaluated(m).objects)
    assert len(pods) == m.replicas * m.topology.pods
    for pod in pods:
        for container in _all_containers(pod):
            assert env_of(container)["NIM_JSONL_LOGGING"] == "0", f"{pod.name}/{container['name']}"


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_layout_from_one_place(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        for container in _all_containers(pod):
            env = env_of(container)
            if m.layout == "values":
                assert env["NIM_TENSOR_PARALLEL_SIZE"] == str(m.topology.tensor)
                assert env["NIM_PIPELINE_PARALLEL_SIZE"] == str(m.topology.pipeline)
                assert "NIM_MODEL_PROFILE" not in env
            else:
                assert env["NIM_MODEL_PROFILE"] == nim_profile(m.topology, m.layout)
                assert "NIM_TENSOR_PARALLEL_SIZE" not in env and "NIM_PIPELINE_PARALLEL_SIZE" not in env


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_credentials_and_model_source(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        for container in _all_containers(pod):
            env = env_of(container)
            assert env["NGC_API_KEY"] == {"secretKeyRef": {"name": "ngc-api", "key": "NGC_API_KEY"}}
            assert env["NIM_CACHE_PATH"] == "/opt/nim/.cache"
            if m.image == "model-free":
                assert env["NIM_MODEL_PATH"] == "hf://deepseek-ai/DeepSeek-R1"
                assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "hf-token", "key": "token"}}
            else:
                assert "NIM_MODEL_PATH" not in env and "HF_TOKEN" not in env
            mounts = [mt["mountPath"] for mt in container["volumeMounts"] if mt["name"] == "model-cache"]
            assert mounts == ["/opt/nim/.cache"]
        assert pod.spec["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                                               "fsGroupChangePolicy": "OnRootMismatch", "runAsNonRoot": True,
                                               "seccompProfile": {"type": "RuntimeDefault"}}
        assert pod.spec["imagePullSecrets"] == [{"name": "ngc-secret"}]


def _role_command(m: MatrixCase, pod: runtime.RuntimePod) -> list[str]:
    """The command line a pod runs in its role: for Indexed Jobs, the half its rank selects."""
    (container,) = pod.containers
    argv = [str(a) for a in container.get("command", []) + container.get("args", [])]
    if m.workload != "IndexedJob":
        return argv
    leader_argc = int(argv[2].split("leader_argc=")[1].split()[0])
    role_args = argv[4:]
    return role_args[:leader_argc] if pod.is_leader else role_args[leader_argc:]


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_commands_per_role(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        argv = _role_command(m, pod)
        env = env_of(pod.containers[0])
        # As NVIDIA's operator runs NIM: args only, so the image's entrypoint runs first.
        assert "command" not in pod.containers[0]
        assert all("command" not in init for init in pod.init_containers)
        assert env["HF_HOME"] == f"{m.case.values.get('cache', {}).get('mountPath', '/opt/nim/.cache')}/huggingface/hub"
        if m.topology.pods == 1:
            assert argv == ["nim-serve"]
            assert "NIM_MULTI_NODE" not in env
            continue
        assert env["NIM_NUM_COMPUTE_NODES"] == str(m.topology.pods)
        assert env["NIM_MULTI_NODE"] == "1"
        rank_field = ("metadata.annotations['batch.kubernetes.io/job-completion-index']" if m.workload == "IndexedJob"
                      else "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']")
        assert env["NIM_NODE_RANK"] == {"fieldRef": {"fieldPath": rank_field}}
        if m.workload == "IndexedJob":  # one template: the dispatch exports the role (see the Job test below)
            assert "NIM_LEADER_ROLE" not in env
        else:
            assert env["NIM_LEADER_ROLE"] == ("1" if pod.is_leader else "0")
        if pod.is_leader:
            assert argv == ["nim-serve-ray", "--head", "--port", "6379"]
        else:
            assert argv[:2] == ["bash", "-c"]
            assert argv[2].rstrip().endswith('exec nim-serve-ray --head-address "${head}"')


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_probes_use_nim_health_endpoints(m: MatrixCase, evaluated) -> None:
    for pod in runtime.pods(evaluated(m).objects):
        if not pod.is_leader:
            # Workers are probed with `ray status` against the head, as NVIDIA's operator probes them.
            (container,) = pod.containers
            for name in ("startupProbe", "livenessProbe"):
                script = " ".join(container[name]["exec"]["command"])
                assert "ray status --address" in script and "RAY_GROUP_CHECK" not in script, script
                assert m.workload == "IndexedJob" or "python3" not in script, script
            continue
        (container,) = pod.containers
        probes = {name: container[name] for name in ("startupProbe", "readinessProbe", "livenessProbe")}
        if m.workload == "IndexedJob":
            scripts = {name: " ".join(probe["exec"]["command"]) for name, probe in probes.items()}
            assert "/v1/health/ready" in scripts["startupProbe"] and "/v1/health/ready" in scripts["readinessProbe"]
            assert "/v1/health/live" in scripts["livenessProbe"]
        else:
            assert probes["readinessProbe"]["httpGet"]["path"] == "/v1/health/ready"
            assert probes["startupProbe"]["httpGet"]["path"] == "/v1/health/ready"
            liveness = probes["livenessProbe"]
            # No group check for NIM (probes.rayGroupCheck accepts only false): the engine's endpoint.
            assert liveness["httpGet"]["path"] == "/v1/health/live"
        period = probes["startupProbe"]["periodSeconds"]
        assert probes["startupProbe"]["failureThreshold"] * period >= 7200
        assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]


@pytest.mark.parametrize("m", NIM, ids=lambda m: m.case.name)
def test_nim_preload_downloads_once_on_a_shared_cache(m: MatrixCase, evaluated) -> None:
    preload = m.cache in ("pvc", "hostPath")  # the matrix enables preload for these two
    shared = m.cache == "pvc"
    for pod in runtime.pods(evaluated(m).objects):
        inits = pod.init_containers
        if not preload or (shared and m.workload == "LeaderWorkerSet" and not pod.is_leader):
            assert inits == []
            continue
        (init,) = inits
        assert init["name"] == "download-model"
        assert "command" not in init
        argv = [str(a) for a in init["args"]]
        download = ["download-to-cache"] + (["--profiles", nim_profile(m.topology, m.layout)] if m.layout != "values"
                                            else [])
        assert argv[-len(download):] == download
        guarded = shared and m.workload == "IndexedJob" and m.topology.pods > 1
        assert (argv[:2] == ["bash", "-c"]) == guarded
        assert init["resources"]["limits"]["nvidia.com/gpu"] == str(m.topology.gpus)


@pytest.mark.parametrize("m", JOBS, ids=lambda m: m.case.name)
def test_indexed_job_shape(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    jobs = of_kind(result.objects, "Job")
    assert of_kind(result.objects, "LeaderWorkerSet") == []
    assert len(jobs) == m.replicas
    headless = [s for s in of_kind(result.objects, "Service") if s["spec"].get("clusterIP") == "None"]
    (headless,) = headless
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert "ports" not in headless["spec"]
    pods = runtime.pods(result.objects)
    assert all(runtime.selects(headless["spec"]["selector"], pod) for pod in pods)
    namespace = m.case.namespace
    for job in jobs:
        spec = job["spec"]
        assert spec["completionMode"] == "Indexed"
        assert spec["completions"] == spec["parallelism"] == m.topology.pods
        template = spec["template"]["spec"]
        assert template["restartPolicy"] == "OnFailure"
        assert template["subdomain"] == headless["metadata"]["name"]
        env = env_of(template["containers"][0])
        name = job["metadata"]["name"]
        assert env["MULTINODE_LEADER_ADDRESS"] == f"{name}-0.{headless['metadata']['name']}.{namespace}.svc"
        assert env["MULTINODE_NODE_RANK"] == {
            "fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}


@pytest.mark.parametrize("m", JOBS, ids=lambda m: m.case.name)
def test_indexed_job_only_index_zero_is_exposed(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    service = next(s for s in of_kind(result.objects, "Service") if s["spec"].get("clusterIP") != "None")
    pods = runtime.pods(result.objects)
    selected = sorted(p.name for p in pods if runtime.selects(service["spec"]["selector"], p))
    assert selected == sorted(f"{job['metadata']['name']}-0" for job in of_kind(result.objects, "Job"))
    assert [p["port"] for p in service["spec"]["ports"]] == [8000]


def _write_stub(folder: Path, name: str) -> None:
    path = folder / name
    path.write_text('#!/bin/sh\necho "stub $(basename "$0") $*"\necho "role=${NIM_LEADER_ROLE:-unset}"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(("chart", "launcher"), [("vllm-multinode", "ray"), ("vllm-multinode", "native"),
                                                 ("nim-multinode", "")])
def test_indexed_job_container_runs_the_role_of_its_rank(chart: str, launcher: str, evaluated,
                                                         tmp_path: Path) -> None:
    """The one Job container, run by bash with the engine and Ray replaced by stubs that print their
    arguments (after the kubelet's $(VAR) expansion): index 0 runs the leader's command line, another
    index the worker's, which joins the leader once the leader's port answers."""
    m = next(c for c in JOBS if c.chart == chart and c.topology.pods == 2 and c.layout == "values"
             and c.launcher == launcher)
    job = of_kind(evaluated(m).objects, "Job")[0]
    container = job["spec"]["template"]["spec"]["containers"][0]
    for stub in ("nim-serve-ray", "ray", "vllm", "python3"):
        _write_stub(tmp_path, stub)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = str(listener.getsockname()[1])
    env = {k: v for k, v in env_of(container).items() if isinstance(v, str)}
    env.update({"PATH": f"{tmp_path}:{os.environ['PATH']}", "POD_IP": "127.0.0.1",
                "MULTINODE_LEADER_ADDRESS": "127.0.0.1", "MULTINODE_RAY_PORT": port,
                "MULTINODE_RENDEZVOUS_PORT": port, "MULTINODE_HEAD_WAIT_TIMEOUT_SECONDS": "10",
                "MULTINODE_LEADER_WAIT_TIMEOUT_SECONDS": "10"})

    def run(rank: str) -> str:
        argv = [expand(str(a), env) for a in container.get("command", []) + container.get("args", [])]
        done = subprocess.run(argv, env={**env, "MULTINODE_NODE_RANK": rank},
                              capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    try:
        leader, worker = run("0"), run("1")
    finally:
        listener.close()
    if chart == "nim-multinode":
        # args only (the image's entrypoint runs first); the dispatch exports the role's NIM_LEADER_ROLE.
        assert "command" not in container
        assert "stub nim-serve-ray --head --port 6379\nrole=1" in leader
        assert f"stub nim-serve-ray --head-address 127.0.0.1:{port}\nrole=0" in worker
    elif launcher == "native":
        assert "ray" not in leader + worker
        assert "stub vllm serve" in leader and "--node-rank 0 --master-addr 127.0.0.1" in leader
        assert "--headless" not in leader
        assert "stub vllm serve" in worker and worker.rstrip().endswith(
            "--headless --node-rank 1 --master-addr 127.0.0.1\nrole=unset")
    else:
        assert f"stub ray start --head --port={port} --node-ip-address=127.0.0.1" in leader
        assert "stub vllm serve" in leader and "--distributed-executor-backend ray" in leader
        assert f"stub ray start --address=127.0.0.1:{port} --node-ip-address=127.0.0.1" in worker
        assert "vllm serve" not in worker


@pytest.mark.parametrize("m", [CASES[0], NIM[0], NIM[-1]], ids=lambda m: m.case.name)
def test_smoke_test_hook(m: MatrixCase, evaluated) -> None:
    result = evaluated(m)
    pod = one(result.objects, "Pod")
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert annotations["argocd.argoproj.io/hook"] == "Skip"
    service = next(s for s in of_kind(result.objects, "Service") if s["spec"].get("clusterIP") != "None")
    env = env_of(pod["spec"]["containers"][0])
    assert env["SMOKE_BASE_URL"] == f"http://{service['metadata']['name']}.{m.case.namespace}.svc:8000"
    served = m.case.values["model"].get("servedModelName") or m.case.values["model"].get("name", "")
    assert env["SMOKE_MODEL"] == served
    assert not any(runtime.selects(s["spec"].get("selector") or {}, runtime.RuntimePod(
        pod["metadata"]["name"], "x", pod["metadata"]["labels"], pod["spec"], "Pod", 0, 1))
        for s in of_kind(result.objects, "Service")), "a Service selects the test pod"


class _StubEngine:
    """A local HTTP server answering /v1/models and /v1/chat/completions with canned bodies, so the
    rendered smoke-test script can be run for real against good and bad answers."""

    def __init__(self, models: list[str], chat_status: int, chat_body: dict) -> None:
        import http.server
        import json
        import threading

        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(200, {"object": "list", "data": [{"id": m} for m in models]})

            def do_POST(self) -> None:
                stub.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self._answer(chat_status, chat_body)

            def log_message(self, *args: object) -> None:
                pass

        self.requests: list[dict] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


GOOD_CHAT = {"choices": [{"message": {"role": "assistant", "content": "ready"}}]}


@pytest.mark.parametrize(("models", "chat_status", "chat_body", "passes", "shown"), [
    (["meta-llama/Llama-3.1-405B-Instruct"], 200, GOOD_CHAT, True, "ready"),
    (["some-other-model"], 200, GOOD_CHAT, False, "some-other-model"),
    (["meta-llama/Llama-3.1-405B-Instruct"], 500, {"error": "engine dead"}, False, "engine dead"),
    (["meta-llama/Llama-3.1-405B-Instruct"], 200, {"choices": []}, False, "no message content"),
])
def test_smoke_test_script_against_a_stub_engine(models, chat_status, chat_body, passes, shown, evaluated) -> None:
    pod = one(evaluated(CASES[0]).objects, "Pod")
    container = pod["spec"]["containers"][0]
    env = {k: v for k, v in env_of(container).items() if isinstance(v, str)}
    stub = _StubEngine(models, chat_status, chat_body)
    try:
        env["SMOKE_BASE_URL"] = stub.url
        done = subprocess.run(container["command"], env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=60)
    finally:
        stub.close()
    assert (done.returncode == 0) == passes, done.stdout + done.stderr
    assert shown in done.stdout + done.stderr
    if chat_status == 200 and models == ["meta-llama/Llama-3.1-405B-Instruct"]:
        (request,) = stub.requests
        assert request["model"] == env["SMOKE_MODEL"]
        assert request["max_tokens"] == int(env["SMOKE_MAX_TOKENS"])
