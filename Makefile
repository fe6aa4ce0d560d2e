# reviewflow — every command the README names. Each target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The CDK CLI runs `python3 app.py` (cdk.json): make it the project's interpreter.
export PATH := $(abspath $(VENV))/bin:$(abspath node_modules/.bin):$(PATH)


.PHONY: chromium install run serve check test test-unit test-infra test-workflow lint format typecheck imports synth bench clean

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,cdk,dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; fi; }

install: $(PY_STAMP) $(NODE_STAMP)

## The main job: the whole pipeline, offline, on the sample reviews (approves what needs a person).
run: install
	$(BIN)/reviewflow run samples/reviews.jsonl --decide approve --out outcomes.jsonl

## The local stack as a server: AWS-compatible endpoint, approval pages and inbox on 127.0.0.1.
serve: install
	$(BIN)/reviewflow serve

## The static checks CI blocks on, in this order, stopping at the first that fails.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## The static checks, then every test tier (unit, infra, workflow, browser).
test: check chromium
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-infra: install
	$(BIN)/python -m pytest tests/infra

test-workflow: install
	$(BIN)/python -m pytest tests/workflow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

## The import contracts of pyproject.toml ([tool.importlinter]), from the repository root.
imports: install
	$(BIN)/lint-imports

synth: install
	node_modules/.bin/cdk synth --quiet

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .reviewflow

# The auto path's critical path on AWS before and after the Parallel states (stated latencies).
bench: bench-critical-path
bench-critical-path: install
	$(BIN)/python -m bench.critical_path
