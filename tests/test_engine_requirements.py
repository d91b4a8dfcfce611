"""What the engines need from the pods that a cluster does not give by itself: a user name for a UID
without a passwd entry, and Ray in the image for a group that forms through Ray."""

from __future__ import annotations

import getpass
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import env_of
from inference_charts.checks import requirements, runtime
from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import BASE_VALUES
from inference_charts.render.cases import Case, load_case
from inference_charts.render.merging import deep_merge

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_engine_container_names_its_user_and_home(path: Path, harness: Harness) -> None:
    result = harness.evaluate(load_case(path))
    assert result.ok, result.problems()
    pods = runtime.pods(result.objects) + runtime.hook_job_pods(result.objects)
    assert pods
    for pod in pods:
        for container in pod.init_containers + pod.containers:
            env = env_of(container)
            assert env.get("USER") and env.get("LOGNAME"), f"{pod.name}/{container['name']}"
            assert str(env.get("HOME", "")).startswith("/tmp"), f"{pod.name}/{container['name']}: {env.get('HOME')}"


def _getuser_as(uid: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """getpass.getuser() in a process of this uid, with exactly env: what torch's inductor runs at import."""
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                           sys.executable, "-c", "import getpass; print(getpass.getuser())"],
                          env=env, capture_output=True, text=True, timeout=30)


def test_the_rendered_user_variables_satisfy_getpass_for_a_uid_without_passwd_entry(harness: Harness) -> None:
    import os
    import pwd

    if os.geteuid() != 0:
        pytest.skip("switching to another UID needs root")
    uid = 4242
    with pytest.raises(KeyError):
        pwd.getpwuid(uid)  # the premise: no entry for this UID on this machine
    result = harness.evaluate(Case(chart="vllm-multinode", values=BASE_VALUES, release="who"))
    container = runtime.pods(result.objects)[0].containers[0]
    rendered = {k: v for k, v in env_of(container).items() if k in ("USER", "LOGNAME", "HOME")}
    ok = _getuser_as(uid, {"PATH": os.environ["PATH"], **rendered})
    assert ok.returncode == 0 and ok.stdout.strip() == rendered["USER"], ok.stderr
    broken = _getuser_as(uid, {"PATH": os.environ["PATH"], "HOME": rendered["HOME"]})
    assert broken.returncode != 0 and "uid not found" in broken.stderr, broken.stderr
    assert getpass.getuser()  # this test's own process is unaffected


def _render(harness: Harness, **changes) -> tuple[bool, str]:
    result = harness.evaluate(Case(chart="vllm-multinode", values=deep_merge(BASE_VALUES, changes), release="ray"))
    return result.ok, result.render_error or "\n".join(result.problems())


@pytest.mark.parametrize("tag", ["v0.18.0", "v0.32.0", "nightly", "v1.0.0"])
def test_a_multi_pod_ray_group_refuses_an_image_without_known_ray(harness: Harness, tag: str) -> None:
    ok, message = _render(harness, image={"tag": tag}, launcher={"kind": "ray"})
    assert not ok
    assert "ray.imageCarriesRay" in message and f"vllm/vllm-openai:{tag}" in message and "image.tag" in message


@pytest.mark.parametrize("tag", ["v0.12.0", "v0.17.1", "v0.9.2"])
def test_a_tag_before_v0_18_carries_ray(harness: Harness, tag: str) -> None:
    assert _render(harness, image={"tag": tag}, launcher={"kind": "ray"}) == (True, "")


def test_an_image_said_to_carry_ray_renders_and_one_pod_needs_none(harness: Harness) -> None:
    ray = {"kind": "ray"}
    assert _render(harness, image={"tag": "v0.32.0"}, ray={"imageCarriesRay": True}, launcher=ray) == (True, "")
    ok, message = _render(harness, image={"repository": "registry.local/vllm-with-ray", "tag": "v0.12.0"},
                          launcher=ray)
    assert not ok and "ray.imageCarriesRay" in message  # another repository: its tags say nothing
    one_pod = {"podsPerGroup": 1, "gpusPerPod": 8, "tensorParallelSize": 8, "pipelineParallelSize": 1}
    assert _render(harness, image={"tag": "v0.32.0"}, topology=one_pod, launcher=ray) == (True, "")
    # The native launcher needs no Ray at all.
    assert _render(harness, image={"tag": "v0.32.0"}) == (True, "")


def test_nim_refuses_the_ray_group_check(harness: Harness) -> None:
    values = load_case(Path(__file__).parents[1] / "examples" / "nim-llama-405b-tp8-pp2.yaml").values
    values = deep_merge(values, {"probes": {"rayGroupCheck": True}})
    result = harness.evaluate(Case(chart="nim-multinode", values=values))
    assert not result.ok
    assert "rayGroupCheck" in (result.render_error or "\n".join(result.problems()))


@pytest.mark.parametrize(("changes", "version", "feature"), [
    ({}, "v0.4.0", "networkConfig.subdomainPolicy"),
    ({"cache": {"type": "perPodClaim", "perPodClaim": {"size": "2Ti", "storageClassName": "local-nvme"}}},
     "v0.8.0", "leaderWorkerTemplate.volumeClaimTemplates"),
    ({"group": {"restartPolicy": "RecreateGroupAfterStart"}}, "v0.9.0", "restartPolicy RecreateGroupAfterStart"),
    ({"group": {"subGroupPolicy": {"subGroupSize": 1}}}, "v0.6.0", "subGroupPolicy.subGroupPolicyType"),
])
def test_the_lws_version_a_release_needs_follows_what_it_renders(harness: Harness, changes: dict, version: str,
                                                                 feature: str) -> None:
    result = harness.evaluate(Case(chart="vllm-multinode", values=deep_merge(BASE_VALUES, changes), release="ver"))
    assert result.ok, result.problems()
    assert requirements.lws_minimum(result.objects) == (version, [feature])


def test_an_indexed_job_release_needs_no_lws(harness: Harness) -> None:
    values = deep_merge(BASE_VALUES, {"workload": {"kind": "IndexedJob"}})
    result = harness.evaluate(Case(chart="vllm-multinode", values=values, release="ver"))
    assert result.ok, result.problems()
    assert requirements.lws_minimum(result.objects) is None


@pytest.mark.parametrize("readme", ["docs/requirements.md", "charts/vllm-multinode/README.md",
                                    "charts/nim-multinode/README.md"])
def test_the_readmes_state_every_minimum_version(readme: str) -> None:
    text = (Path(__file__).parents[1] / readme).read_text()
    assert f"Kubernetes {requirements.MIN_KUBERNETES} or newer" in text
    for feature in requirements.LWS_FEATURES:
        assert f"| {feature.name} | {feature.version} |" in text


@pytest.mark.parametrize("feature", [f for f in requirements.LWS_FEATURES if f.value], ids=lambda f: f.value)
def test_the_schema_says_which_lws_a_value_needs(feature: requirements.LwsFeature) -> None:
    from inference_charts.commands.schema_bundle import bundle

    node = bundle("vllm-multinode")
    for key in feature.value.split("."):
        node = node["properties"][key]
    assert f"LeaderWorkerSet {feature.version} or newer" in node["description"], node["description"]
