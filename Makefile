# The two commands: `make demo` and `make test`. Both set up everything themselves, idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETUP_STAMP := $(VENV)/.setup-done
NPM_STAMP := node_modules/.npm-done
PROFILE ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help setup demo test test-unit lint format synth deploy deploy-local destroy bench clean

help: ## List every target
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(SETUP_STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(SETUP_STAMP) $(NPM_STAMP) ## Create the virtualenv and the project-local CDK CLI (skipped when done)

demo: setup ## Run the whole lakehouse on this machine and print what happened
	$(BIN)/lakehouse demo

test: setup lint ## Lint, then every test (unit, integration against a moto server, infra)
	$(BIN)/pytest -n 2 --dist loadgroup

test-unit: setup ## Only the fast unit tests
	$(BIN)/pytest tests/unit

lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lakehouse generator lambdas stacks glue_jobs app.py

format: setup ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## Every benchmark, one JSON line each
	$(BIN)/lakehouse bench generator --json

clean: ## Remove generated data and caches (keeps the virtualenv)
	rm -rf .demo .bench cdk.out dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache
