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
#: BASE_URL     API base URL of the target, e.g. https://api.pingone.com/v1 (none: the reference)
BASE_URL ?=
#: AUTH_URL     auth base URL (default: auth.pingone.<tld> for api.pingone.<tld>)
AUTH_URL ?=
#: REGION       PingOne region instead of the URLs: com, eu, ca, com.au, sg or asia
REGION ?=
#: ENV_ID       the target's environment id (a UUID)
ENV_ID ?=
#: GATE         must | should | observed: the lowest level whose failures fail the run
GATE ?=
#: CONFORMANCE  claimed class(es): contract, behaviour, security or full (default full)
CONFORMANCE ?=
#: JOBS         parallel workers for 'make run' (pytest-xdist: 2, or auto)
JOBS ?=
#: SHARD        this CI job's share of the suites, K/N (e.g. 2/4); see 'make merge'
SHARD ?=
#: SHARDS       for 'make merge': the shard jobs' reports/ folders, e.g. "shard-1 shard-2"
SHARDS ?=
#: HISTORY      a history file (JSON lines) that 'make report' reads and extends: trends across runs
HISTORY ?=
#: PYTEST_ARGS  more pytest options, e.g. "--requirement P1-CHECK -m must --require-complete"
PYTEST_ARGS ?=
#: ARGS         options of 'make serve' (python -m reference --help)
ARGS ?=
#: BENCH_ARGS   options of the benchmark script
BENCH_ARGS ?=
#: UPDATE_GOLDEN for 'make faults': 1 rewrites tests/faults/golden.json (review the diff)
UPDATE_GOLDEN ?=
#: FAULT_ARGS   more options of tests.faults.matrix (--jobs N, --workdir DIR)
FAULT_ARGS ?=
#: LATENCY_ARGS options of the latency benchmark (benchmarks/latency_wrk.py --help)
LATENCY_ARGS ?=
TARGET_ARGS := $(if $(BASE_URL),--base-url '$(BASE_URL)') $(if $(AUTH_URL),--auth-url '$(AUTH_URL)') \
	$(if $(REGION),--region '$(REGION)') \
	$(if $(ENV_ID),--env-id '$(ENV_ID)') $(if $(GATE),--gate '$(GATE)') \
	$(if $(CONFORMANCE),--conformance '$(CONFORMANCE)') $(if $(JOBS),-n '$(JOBS)') \
	$(if $(SHARD),--shard '$(SHARD)')

# `make -n` would execute any recipe line that names $(MAKE); this alias keeps `make -n run` a dry run.
SUBMAKE = $(MAKE)

# pytest's exit code for an INCOMPLETE verdict under --require-complete (docs/architecture.md).
INCOMPLETE_EXIT_CODE := 14
SUMMARY_FILES := $(REPORTS)/conformance-summary.json $(REPORTS)/conformance-summary.md
JUNIT_XML := $(REPORTS)/junit.xml

.PHONY: help run report test faults merge serve lint bench clean distclean venv node

help: ## list the targets and the variables they read
	@echo "targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "variables (all optional):"
	@sed -n -e 's/^#: /  /p' $(MAKEFILE_LIST)
	@echo "secrets come from the environment only: PINGONE_CLIENT_ID, PINGONE_CLIENT_SECRET"
	@echo "  or PINGONE_ACCESS_TOKEN (see README.md)"

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
# run: the conformance suites, then the HTML report, then pytest's own exit status.
# - The run owns reports/: the previous summary, results and HTML report go first, so nothing
#   of an earlier run survives a run that fails early.
# - The HTML report is built only when tests ran (pytest 0 = pass, 1 = failures, 14 =
#   INCOMPLETE under --require-complete) from the results this run wrote. Any other status
#   (2 interrupted, 4 usage, 5 no test selected, 10-13 configuration) builds no report; the
#   summary then says NO VERDICT and why (pytest writes it; for a usage error that stops pytest
#   before the suite's hooks, make writes it).
# GNU make itself exits 2 whenever a recipe fails; the recipe's status (pytest's) is the N in
# make's closing "Error N" line, and the line before it names it.
run: $(VENV_STAMP) $(NODE_STAMP) ## run the conformance suites, then build the HTML report
	@rm -rf $(ALLURE_RESULTS) $(ALLURE_REPORT) $(SUMMARY_FILES) $(JUNIT_XML)
	@status=0; \
	$(VPY) -m pytest suites --alluredir $(ALLURE_RESULTS) --allure-no-capture \
		--junitxml $(JUNIT_XML) \
		$(TARGET_ARGS) $(PYTEST_ARGS) || status=$$?; \
	case "$$status" in \
		0|1|$(INCOMPLETE_EXIT_CODE)) ;; \
		*) rm -rf $(ALLURE_REPORT); \
		   test -f $(REPORTS)/conformance-summary.json || $(VPY) -m harness.summary no-verdict \
			--exit-code "$$status" --dir $(REPORTS) \
			--reason "pytest stopped before the suites started (see its message above)"; \
		   echo "make run: pytest exited $$status: no test ran to a verdict, no HTML report" >&2; \
		   exit "$$status";; \
	esac; \
	report_status=0; $(SUBMAKE) --no-print-directory report || report_status=$$?; \
	if [ "$$status" -ne 0 ]; then \
		echo "make run: pytest exited $$status" >&2; exit "$$status"; fi; \
	if [ "$$report_status" -ne 0 ]; then \
		echo "make run: the tests passed but the HTML report was not built" >&2; \
		exit "$$report_status"; fi

test: $(VENV_STAMP) $(NODE_STAMP) ## run the project's own tests (schemas, reference, harness, fault catalog, Prism as a target)
	$(VPY) -m pytest tests $(PYTEST_ARGS)

# The full fault matrix: every fault of tests/faults/catalog/ against every suite test, the catch
# rate, and the comparison with tests/faults/golden.json (UPDATE_GOLDEN=1 rewrites it on purpose).
faults: $(VENV_STAMP) ## every fault x every suite test vs tests/faults/golden.json (UPDATE_GOLDEN=1)
	$(VPY) -m tests.faults.matrix $(if $(UPDATE_GOLDEN),--update-golden) $(FAULT_ARGS)

# --- the pieces -----------------------------------------------------------------------------------
report: $(NODE_STAMP) ## build reports/allure-report/index.html from reports/allure-results
	@ls $(ALLURE_RESULTS)/*-result.json >/dev/null 2>&1 || { \
		echo "make report: $(ALLURE_RESULTS) holds no test result; run 'make run' first" >&2; \
		exit 1; }
	@rm -rf $(ALLURE_REPORT)
	$(if $(HISTORY),ALLURE_HISTORY_PATH='$(abspath $(HISTORY))') \
		$(ALLURE) generate $(ALLURE_RESULTS) --config $(ALLURE_CONFIG) --output $(ALLURE_REPORT)
	@test -s $(ALLURE_REPORT)/index.html && grep -qi '<html' $(ALLURE_REPORT)/index.html || { \
		echo "make: $(ALLURE_REPORT)/index.html was not produced" >&2; exit 1; }
	@echo "make: report written to $(ALLURE_REPORT)/index.html"

merge: $(VENV_STAMP) $(NODE_STAMP) ## join CI shards (SHARDS="dir …") into reports/: one verdict, one report
	@test -n "$(SHARDS)" || { echo "make merge: set SHARDS to the shard jobs' reports/ folders" >&2; exit 2; }
	@rm -rf $(ALLURE_RESULTS) $(ALLURE_REPORT) $(SUMMARY_FILES)
	@status=0; $(VPY) -m harness.merge --out $(REPORTS) $(SHARDS) || status=$$?; \
	if [ "$$status" -eq 2 ]; then exit 2; fi; \
	$(SUBMAKE) --no-print-directory report; exit "$$status"

serve: $(VENV_STAMP) ## run the reference implementation on its own (ARGS="--port 8080 ...")
	$(VPY) -m reference $(ARGS)

lint: $(VENV_STAMP) ## ruff check, ruff format --check, mypy on harness and reference
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy harness reference

bench: $(VENV_STAMP) ## print latency under load (wrk, against a bare handler), check-password load, the wall time of 'make run', generated cases/s (pytest beside st run)
	benchmarks/ensure_wrk.sh
	$(VPY) benchmarks/latency_wrk.py $(LATENCY_ARGS)
	$(VPY) benchmarks/check_password_load.py $(BENCH_ARGS)
	MAKE="$(MAKE)" benchmarks/make_run_walltime.sh
	$(VPY) benchmarks/pytest_startup.py
	$(VPY) benchmarks/suite_parallelism.py
	$(VPY) benchmarks/property_throughput.py

# --- cleaning -------------------------------------------------------------------------------------
clean: ## remove generated reports and caches (keeps .venv and node_modules)
	rm -rf $(ALLURE_RESULTS) $(ALLURE_REPORT) $(SUMMARY_FILES) $(JUNIT_XML)
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis .schemathesis
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -path ./.git -prune -o \
		-type d -name __pycache__ -print0 | xargs -0 rm -rf

distclean: clean ## clean, and remove .venv and node_modules too
	rm -rf $(VENV) node_modules
