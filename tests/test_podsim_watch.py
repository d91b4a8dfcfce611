"""What podsim's watcher takes for an exec of a container's main process.

A container's process 1 first runs podsim's own launcher (setpriv, after unshare's fork) and then execs
the container's command. On a loaded machine the watcher can read the launcher's command line; taking it
for an exec made the Ray suite see "the engine" start before the leader's script had run at all.
"""

from inference_charts.podsim.group import is_new_exec

SCRIPT = ["bash", "-c", "echo leader", "leader"]


def test_the_launchers_command_line_is_not_an_exec() -> None:
    assert not is_new_exec(["setpriv", "--reuid=1000", "--regid=0", "--clear-groups", "--", *SCRIPT], SCRIPT)
    assert not is_new_exec(["/usr/bin/unshare", "--pid", "--fork", "--", "setpriv"], SCRIPT)


def test_an_engine_exec_is_one_and_an_unchanged_or_empty_read_is_not() -> None:
    assert is_new_exec(["/usr/bin/python3", "-m", "vllm.entrypoints.openai.api_server"], SCRIPT)
    assert not is_new_exec(list(SCRIPT), SCRIPT)
    assert not is_new_exec([], SCRIPT)
