# Helpdesk: build, lint, test and run targets. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-builtin-rules

# ---------------------------------------------------------------- python
# Python 3.13 (the Lambda runtime): pyenv's 3.13.x if there is one, else
# python3.13 on PATH, else python3. Override with `make PYTHON=...`.
PYENV_DIR := $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PY313 := $(lastword $(sort $(wildcard $(PYENV_DIR)/versions/3.13.*/bin/python3.13)))
PYTHON := $(or $(PY313),$(shell command -v python3.13 2>/dev/null),python3)
# Directory of the real interpreter: prepended to PATH for `sam build`, which
# looks for a `python3.13` binary matching the function runtime.
PYTHON_BIN_DIR = $(shell $(PYTHON) -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin"))')

VENV := .venv
VENV_SAM := .venv-sam
VENV_CHECKOV := .venv-checkov
VENV_STAMP := $(VENV)/.installed
VENV_SAM_STAMP := $(VENV_SAM)/.installed
VENV_CHECKOV_STAMP := $(VENV_CHECKOV)/.installed
PIP_FLAGS := --quiet --disable-pip-version-check

SAM := $(VENV_SAM)/bin/sam
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1}
CHECKOV := $(VENV_CHECKOV)/bin/checkov
# Offline: no package-update check, no platform mapping, no guideline download, no API key.
CHECKOV_ENV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE
CHECKOV_FLAGS := --framework cloudformation serverless --skip-download --compact --quiet
TEMPLATE := template.yaml
BUILD_DIR := .aws-sam/build

export SAM_CLI_TELEMETRY := 0

.PHONY: test venv venv-sam venv-checkov ruff mypy lint build run bench reliability clean distclean \
  web-deps web-build web-typecheck browser-check deploy-web redrive

# ----------------------------------------------------------------- venvs
venv: $(VENV_STAMP)
venv-sam: $(VENV_SAM_STAMP)
venv-checkov: $(VENV_CHECKOV_STAMP)

$(VENV_STAMP): requirements-dev.txt requirements-fuzz.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements-dev.txt -r requirements-fuzz.txt
	@touch $@

$(VENV_SAM_STAMP): requirements-sam.txt
	@test -x $(VENV_SAM)/bin/python || $(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install $(PIP_FLAGS) -r requirements-sam.txt
	@touch $@

$(VENV_CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(VENV_CHECKOV)/bin/python || $(PYTHON) -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/python -m pip install $(PIP_FLAGS) -r requirements-checkov.txt
	@touch $@

# ------------------------------------------------------------ the checks
test: venv
	$(MAKE) --no-print-directory ruff
	$(MAKE) --no-print-directory mypy
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory web-typecheck
	$(MAKE) --no-print-directory web-build
	$(MAKE) --no-print-directory browser-check
	$(VENV)/bin/python -m pytest -q tests

ruff: venv
	$(VENV)/bin/ruff check .

mypy: venv
	$(VENV)/bin/mypy

# sam validate --lint, cfn-lint and checkov work offline: a region, no credentials. checkov's
# suppressions are in template.yaml (Metadata checkov skip), each with its reason.
lint: venv venv-sam venv-checkov
	$(SAM_ENV) $(SAM) validate --lint --template-file $(TEMPLATE)
	$(SAM_ENV) $(VENV)/bin/cfn-lint $(TEMPLATE)
	$(CHECKOV_ENV) $(CHECKOV) -f $(TEMPLATE) $(CHECKOV_FLAGS)

# Offline build (no Docker): pip fetches arm64 wheels for the layer from the
# package registry; sam needs python3.13 on PATH.
# sam build writes no bytecode, and Lambda's code directories are read-only: without the
# .pyc that infra.bytecode writes, every cold start compiles every module it imports.
build: venv venv-sam
	PATH="$(PYTHON_BIN_DIR):$$PATH" $(SAM_ENV) $(SAM) build \
	  --template-file $(TEMPLATE) --build-dir $(BUILD_DIR)
	$(VENV)/bin/python -m infra.bytecode $(BUILD_DIR)

# --------------------------------------------------------------- web app
# web/ (DESIGN §9): Node 20.19+ and npm. `npm ci` when node_modules is missing or the lock
# changed (stamp), the Vite build when a source is newer than web/dist.
WEB := web
WEB_STAMP := $(WEB)/node_modules/.installed
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
  $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package.json
NODE_MISSING := Node 20.19+ and npm are needed to build web/ (apt-get install nodejs npm)

web-deps: $(WEB_STAMP)

$(WEB_STAMP): $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "$(NODE_MISSING)"; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web-build: $(WEB)/dist/index.html

$(WEB)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build
	@touch $@

web-typecheck: web-deps
	cd $(WEB) && npm run --silent typecheck

# The browser tests drive Debian's chromium (or a browser Playwright installed); without one,
# stop here with the way to get it rather than skip them.
browser-check:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null || \
	  ls $(HOME)/.cache/ms-playwright/chromium-*/ >/dev/null 2>&1 || \
	  { echo "No browser for the web tests (tests/web): install Debian's chromium: apt-get install -y chromium"; exit 1; }

# Build, write config.json from the stack's outputs, sync to its bucket, invalidate CloudFront.
ENV ?= dev
deploy-web: web-build
	$(WEB)/scripts/deploy.sh $(ENV)

# ------------------------------------------------------------ operations
# Run again what a dead-letter queue holds (docs/operations.md): QUEUE is the queue's logical id
# (JobsDeadLetterQueue, NotifierDeadLetterQueue, MailIngestDeadLetterQueue,
# AttachmentCheckDeadLetterQueue); each message is
# invoked again on the function that failed it and deleted once that run succeeds.
# DRY_RUN=1 only shows the events. Needs AWS credentials for the stack's account.
STACK ?= helpdesk-$(ENV)
redrive: venv
	@test -n "$(QUEUE)" || { echo "QUEUE=<a dead-letter queue's logical id> (docs/operations.md)"; exit 2; }
	$(VENV)/bin/python -m infra.redrive --stack $(STACK) --queue $(QUEUE) $(if $(DRY_RUN),--dry-run)

# ----------------------------------------------------------- run / bench
# The local stack (moto + HTTP front + SMTP + schedules). PORT and SMTP_PORT
# from the environment pass through.
run: venv web-build
	$(VENV)/bin/python -m infra.localstack

bench: venv
	$(VENV)/bin/python -m bench

# The template area runs checkov from .venv-checkov (cfn-lint and the SAM translator are in
# .venv; the suite does not use the SAM CLI): installed first, so a fresh clone measures it.
reliability: venv venv-checkov
	CHECKOV=$(abspath $(CHECKOV)) PYTHONPATH=.:layers/domain $(VENV)/bin/python -m tests.reliability

clean:
	rm -rf .aws-sam .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./$(VENV_SAM) -prune -o -path ./$(VENV_CHECKOV) -prune -o \
	  -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) $(VENV_SAM) $(VENV_CHECKOV) $(WEB)/node_modules $(WEB)/dist
