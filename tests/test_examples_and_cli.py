"""Every example renders clean, its summary states what its values ask for, and the CLI's exit codes
and messages are right."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from inference_charts.checks.harness import Harness
from inference_charts.commands import cli
from inference_charts.commands.summary import render_summary
from inference_charts.render.cases import example_files, load_case

EXAMPLES = example_files()


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_renders_clean_and_summary_is_right(path: Path, harness: Harness) -> None:
    case = load_case(path)
    result = harness.evaluate(case)
    assert result.ok, result.problems()
    if case.values.get("preflight", {}).get("only"):
        summary = render_summary(result)
        assert f"hook      Job/{case.release}-{case.chart}-preflight runs on helm pre-install" in summary
        assert "workload" not in summary and "invariants: no problems" in summary
        return
    defaults = {"tensorParallelSize": 8, "pipelineParallelSize": 2} if case.chart == "vllm-multinode" else {}
    topology = {"replicas": 1, "podsPerGroup": 2, "gpusPerPod": 8, **defaults, **case.values.get("topology", {})}
    summary = render_summary(result)
    groups, pods, gpus = topology["replicas"], topology["podsPerGroup"], topology["gpusPerPod"]
    assert f"{groups} group(s) x {pods} pod(s)" in summary
    assert f"{gpus} per pod, {gpus * pods} per group, {gpus * pods * groups} in all" in summary
    profile_name = case.values.get("model", {}).get("profile")
    if profile_name:
        assert f"NIM_MODEL_PROFILE={profile_name}" in summary
    else:
        tensor, pipeline = topology["tensorParallelSize"], topology["pipelineParallelSize"]
        data = topology.get("dataParallelSize", 1)
        if data > 1:
            expert = ", expert parallel" if topology.get("expertParallel") else ""
            across = "one pod" if pods == 1 else "vLLM's native launcher across pods"
            assert (f"TP {tensor} x PP {pipeline} x DP {data} = {tensor * pipeline * data} GPUs per group "
                    f"({across}{expert})") in summary
        else:
            assert f"TP {tensor} x PP {pipeline} = {tensor * pipeline} GPUs per group" in summary
    profile = case.values.get("fabric", {}).get("profile", "infiniband")
    assert f"fabric    {profile}:" in summary
    indexed = case.values.get("workload", {}).get("kind") == "IndexedJob"
    # An Indexed Job's leader is completion index 0 of group g's Job <fullname>-g; a LeaderWorkerSet's is
    # pod g of the LWS <fullname>-group.
    base = f"{case.release}-{case.chart}" + ("" if indexed else "-group")
    leaders = ", ".join(f"{base}-{g}{'-0' if indexed else ''}" for g in range(groups))
    assert f"-> {leaders}" in summary
    if pods > 1 and not indexed:
        # NIM and vLLM's Ray launcher meet at the Ray head; vLLM's native launcher (its multi-pod default)
        # at the leader's rendezvous.
        native = case.chart == "vllm-multinode" and case.values.get("launcher", {}).get("kind", "native") == "native"
        meeting = "vLLM's rendezvous and NCCL" if native else "Ray and NCCL"
        assert f"headless Service {base} (made by LeaderWorkerSet): {meeting} between pods" in summary
    assert "invariants: no problems" in summary


def test_render_command_prints_summary(capsys) -> None:
    assert cli.main(["render", str(EXAMPLES[0])]) == 0
    out = capsys.readouterr().out
    assert "parallel  TP" in out and "exposed" in out


def test_check_command_fails_on_bad_values(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"chart": "vllm-multinode", "values": {
        "model": {"name": "m"}, "topology": {"tensorParallelSize": 4}}}))
    good = EXAMPLES[0]
    assert cli.main(["check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"ok     {good}" in out
    assert f"FAILED {bad}" in out and "tensorParallelSize x pipelineParallelSize = 4 x 2 = 8" in out


def test_plain_values_file_needs_chart(tmp_path: Path, capsys) -> None:
    plain = tmp_path / "values.yaml"
    plain.write_text(yaml.safe_dump({"model": {"name": "m"}}))
    assert cli.main(["render", str(plain)]) == 2
    assert "needs --chart" in capsys.readouterr().err
    assert cli.main(["render", str(plain), "--chart", "vllm-multinode"]) == 0


def test_gen_check_passes_on_clean_tree() -> None:
    assert cli.main(["gen", "--check"]) == 0


def _notes(harness: Harness, **changes) -> str:
    from inference_charts.devtools.bad_values import BASE_VALUES
    from inference_charts.render.merging import deep_merge

    values = deep_merge(BASE_VALUES, changes)
    return harness.embedded.render("vllm-multinode", values, "r", "ns").notes


def test_notes_warn_about_tensor_parallelism_over_tcp(harness: Harness) -> None:
    risky = _notes(harness, topology={"tensorParallelSize": 16, "pipelineParallelSize": 1},
                   fabric={"profile": "ethernet"})
    assert "tensor parallelism spans 16 GPUs over TCP" in risky
    assert "tensorParallelSize=8 with pipelineParallelSize=2" in risky
    assert "over TCP" not in _notes(harness, fabric={"profile": "ethernet"})
    assert "over TCP" not in _notes(harness, topology={"tensorParallelSize": 16, "pipelineParallelSize": 1})


def test_notes_warn_about_unshared_cache(harness: Harness) -> None:
    assert "every pod downloads the model itself" in _notes(harness, cache={"type": "emptyDir"})
    assert "downloads the model itself" not in _notes(harness)
    assert "svc/r-vllm-multinode" in _notes(harness)
