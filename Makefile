# PingOne user-password conformance suite: the commands a person and CI both run.
#
# Every target bootstraps what it needs (the virtualenv from requirements.lock, node_modules from
# package-lock.json) and is safe to run again. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# --- tools ----------------------------------------------------------------------------------------
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.synced-with-requirements.lock
NODE_STAMP := node_modules/.synced-with-package-lock.json
ALLURE := node_modules/.bin/allure

# --- where results land ---------------------------------------------------------------------------
REPORTS := reports
ALLURE_RESULTS := $(REPORTS)/allure-results
ALLURE_REPORT := $(REPORTS)/allure-report
ALLURE_CONFIG := allurerc.mjs

# --- target selection and gate (all optional; no BASE_URL: the embedded reference) -----------------
BASE_URL ?=
AUTH_URL ?=
ENV_ID ?=
GATE ?=
PYTEST_ARGS ?=
ARGS ?=
BENCH_ARGS ?=
TARGET_ARGS := $(if $(BASE_URL),--base-url '$(BASE_URL)') $(if $(AUTH_URL),--auth-url '$(AUTH_URL)') \
	$(if $(ENV_ID),--env-id '$(ENV_ID)') $(if $(GATE),--gate '$(GATE)')

# `make -n` would execute any recipe line that names $(MAKE); this alias keeps `make -n run` a dry run.
SUBMAKE = $(MAKE)

# Exit codes that mean "bad configuration, no test ran" (see docs/architecture.md).
CONFIG_EXIT_CODES := 10 11 12 13

.PHONY: help run report test serve lint bench clean distclean venv node

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --- bootstrap ------------------------------------------------------------------------------------
venv: $(VENV_STAMP) ## create or sync .venv from requirements.lock

# The venv is synced in place rather than deleted: installs what the lock pins, removes what it no
# longer lists, then checks that the result is consistent. The stamp is newer than the lock only
# after all of that succeeded.
$(VENV_STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
		echo "make: $(PYTHON) is $$($(PYTHON) --version 2>&1); Python 3.11 or newer is required" >&2; \
		exit 1; }
	@test -x $(VPY) || { echo "make: creating $(VENV) with $$($(PYTHON) --version)"; \
		$(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-input -r requirements.lock
	@extra="$$($(VPY) -m pip freeze --disable-pip-version-check --exclude-editable \
		| sed -e 's/[=<>@ ].*//' | tr 'A-Z_.' 'a-z--' | sort -u \
		| comm -23 - <(sed -e 's/[=<>@ ].*//' -e '/^[#-]/d' -e '/^$$/d' requirements.lock \
		| tr 'A-Z_.' 'a-z--' | sort -u))"; \
	if [ -n "$$extra" ]; then echo "make: removing packages not in requirements.lock:" $$extra; \
		$(VPY) -m pip uninstall --quiet --disable-pip-version-check -y $$extra; fi
	$(VPY) -m pip check --disable-pip-version-check
	@touch $@

node: $(NODE_STAMP) ## install node_modules from package-lock.json

$(NODE_STAMP): package.json package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "make: Node.js 20+ and npm are required (the HTML report, Prism as a test target)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
		echo "make: node $$(node --version) is too old; Node.js 20 or newer is required" >&2; \
		exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# --- the two main commands ------------------------------------------------------------------------
# run: the conformance suites, then ALWAYS the HTML report, then pytest's own exit status. A
# configuration exit code (10-13) means no test ran, so it passes through, no report is built and
# a previous run's report is removed (it no longer matches the emptied allure-results).
# When the tests pass but the report cannot be built, the run fails with the report's status.
# GNU make itself exits 2 whenever a recipe fails; the recipe's status (pytest's) is the N in
# make's closing "Error N" line, and the line before it names it.
run: $(VENV_STAMP) $(NODE_STAMP) ## run the conformance suites, then build the HTML report
	@status=0; \
	$(VPY) -m pytest suites --alluredir $(ALLURE_RESULTS) --clean-alluredir --allure-no-capture \
		$(TARGET_ARGS) $(PYTEST_ARGS) || status=$$?; \
	for code in $(CONFIG_EXIT_CODES); do \
		if [ "$$status" -eq "$$code" ]; then \
			rm -rf $(ALLURE_REPORT); \
			echo "make run: pytest exited $$status (configuration: no test ran, no report)" >&2; \
			exit "$$status"; fi; \
	done; \
	report_status=0; $(SUBMAKE) --no-print-directory report || report_status=$$?; \
	if [ "$$status" -ne 0 ]; then \
		echo "make run: pytest exited $$status" >&2; exit "$$status"; fi; \
	if [ "$$report_status" -ne 0 ]; then \
		echo "make run: the tests passed but the HTML report was not built" >&2; \
		exit "$$report_status"; fi

test: $(VENV_STAMP) $(NODE_STAMP) ## run the project's own tests (schemas, reference, harness, fault catalog, Prism as a target)
	$(VPY) -m pytest tests $(PYTEST_ARGS)

# --- the pieces -----------------------------------------------------------------------------------
report: $(NODE_STAMP) ## build reports/allure-report/index.html from reports/allure-results
	@test -d $(ALLURE_RESULTS) || { \
		echo "make: $(ALLURE_RESULTS) does not exist; run 'make run' first" >&2; exit 1; }
	@rm -rf $(ALLURE_REPORT)
	$(ALLURE) generate $(ALLURE_RESULTS) --config $(ALLURE_CONFIG) --output $(ALLURE_REPORT)
	@test -s $(ALLURE_REPORT)/index.html && grep -qi '<html' $(ALLURE_REPORT)/index.html || { \
		echo "make: $(ALLURE_REPORT)/index.html was not produced" >&2; exit 1; }
	@echo "make: report written to $(ALLURE_REPORT)/index.html"

serve: $(VENV_STAMP) ## run the reference implementation on its own (ARGS="--port 8080 ...")
	$(VPY) -m reference $(ARGS)

lint: $(VENV_STAMP) ## ruff check, ruff format --check, mypy on harness and reference
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy harness reference

bench: $(VENV_STAMP) ## print check-password load figures and the wall time of 'make run'
	$(VPY) benchmarks/check_password_load.py $(BENCH_ARGS)
	MAKE="$(MAKE)" benchmarks/make_run_walltime.sh

# --- cleaning -------------------------------------------------------------------------------------
clean: ## remove generated reports and caches (keeps .venv and node_modules)
	rm -rf $(ALLURE_RESULTS) $(ALLURE_REPORT) $(REPORTS)/conformance-summary.json \
		$(REPORTS)/conformance-summary.md
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -path ./.git -prune -o \
		-type d -name __pycache__ -print0 | xargs -0 rm -rf

distclean: clean ## clean, and remove .venv and node_modules too
	rm -rf $(VENV) node_modules
