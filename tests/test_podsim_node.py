"""What podsim's kubelet and watcher do as a node would: the runtime's HOME, and what counts as an exec.

A container's process 1 first runs podsim's own launcher (setpriv, after unshare's fork) and then execs
the container's command. On a loaded machine the watcher can read the launcher's command line; taking it
for an exec made the Ray suite see "the engine" start before the leader's script had run at all.
"""

from inference_charts.devtools.podsim.group import is_new_exec

SCRIPT = ["bash", "-c", "echo leader", "leader"]


def test_the_launchers_command_line_is_not_an_exec() -> None:
    assert not is_new_exec(["setpriv", "--reuid=1000", "--regid=0", "--clear-groups", "--", *SCRIPT], SCRIPT)
    assert not is_new_exec(["/usr/bin/unshare", "--pid", "--fork", "--", "setpriv"], SCRIPT)


def test_an_engine_exec_is_one_and_an_unchanged_or_empty_read_is_not() -> None:
    assert is_new_exec(["/usr/bin/python3", "-m", "vllm.entrypoints.openai.api_server"], SCRIPT)
    assert not is_new_exec(list(SCRIPT), SCRIPT)
    assert not is_new_exec([], SCRIPT)


def test_the_runtime_gives_a_uid_with_no_passwd_entry_home_slash_and_keeps_a_rendered_home() -> None:
    from inference_charts.devtools.podsim.kubelet import with_runtime_home

    assert with_runtime_home({"PATH": "/bin"}, 1000)["HOME"] == "/"
    assert with_runtime_home({"HOME": ""}, 0)["HOME"] == "/root"
    assert with_runtime_home({"HOME": "/tmp/home"}, 1000)["HOME"] == "/tmp/home"
