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

# Lambda bundling strips arm64 shared libraries with llvm-strip (see stacks/constructs/lambda_bundling.py).
TOOLS_STAMP := $(VENV)/.tools-done
$(TOOLS_STAMP): $(SETUP_STAMP)
	@command -v llvm-strip >/dev/null || command -v llvm-strip-14 >/dev/null || \
	  { echo "installing llvm (llvm-strip) from Debian's packages"; apt-get update -qq && apt-get install -y -qq llvm; }
	@touch $@

setup: $(SETUP_STAMP) $(NPM_STAMP) $(TOOLS_STAMP) ## Create the virtualenv, the project-local CDK CLI and tools (skipped when done)

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
	$(BIN)/lakehouse bench cdc --json
	$(BIN)/lakehouse bench load --json
	$(BIN)/lakehouse bench dbt --json
	$(BIN)/lakehouse bench sinks --json

# CDK. PROFILE=dev|prod|localstack; the AWS account and region come from your credentials (AWS_PROFILE,
# AWS_REGION), as the CDK CLI resolves them. ALERT_EMAIL subscribes an address to the alert topic.
LOCALSTACK_URL ?= http://localhost:4566
CDK_CONTEXT = -c profile=$(PROFILE) $(if $(ALERT_EMAIL),-c alert_email=$(ALERT_EMAIL))
LOCALSTACK_ENV = AWS_ENDPOINT_URL=$(LOCALSTACK_URL) AWS_ENDPOINT_URL_S3=$(LOCALSTACK_URL) \
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=$${AWS_REGION:-us-east-1}

synth: setup ## Synthesize PROFILE's stacks into cdk.out (arm64 Lambda bundling, cdk-nag checked)
	cdk synth --all $(CDK_CONTEXT) --quiet

deploy: setup ## Bootstrap and deploy PROFILE (default dev) to the account of your AWS credentials
	cdk bootstrap $(CDK_CONTEXT)
	cdk deploy --all $(CDK_CONTEXT) --require-approval broadening

deploy-local: setup ## Deploy the localstack profile to LocalStack at LOCALSTACK_URL with cdklocal
	$(LOCALSTACK_ENV) cdklocal bootstrap -c profile=localstack
	$(LOCALSTACK_ENV) cdklocal deploy --all -c profile=localstack --require-approval never

destroy: setup ## Delete PROFILE's stacks (dev/localstack buckets emptied first; prod keeps data)
ifeq ($(PROFILE),localstack)
	$(LOCALSTACK_ENV) cdklocal destroy --all -c profile=localstack --force
else
	$(BIN)/python -m stacks.teardown --profile $(PROFILE)
	cdk destroy --all $(CDK_CONTEXT) --force
endif

clean: ## Remove generated data and caches (keeps the virtualenv)
	rm -rf .demo .bench cdk.out dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache
