# golive: `make run` starts everything locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The suite talks to real PostgreSQL and Redis on this machine (started by .ci/ensure-services),
# in parallel: pytest-xdist worker gwN gets its own test database (test_golive_gwN) and Redis
# database 12+N (tests/parallel.py), so up to four workers fit in Redis databases 12-15.
TEST_WORKERS ?= auto
TEST_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/golive} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/12}
# The SQLite lane (tests/sqlite_lane.py): the incident and guardrail tests again on SQLite, the
# database `make run` uses, with the embedded broker in a file of its own.
SQLITE_TEST_ENV := DATABASE_URL=sqlite:///$(CURDIR)/test-artifacts/sqlite-lane.sqlite3 REDIS_URL= \
	CELERY_BROKER_URL=golivesql+sqlite:///$(CURDIR)/test-artifacts/sqlite-lane-broker.sqlite3

PIP ?= $(BIN)/pip

.PHONY: run deps dev-deps test bench lint format lock audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The stamps are named after the content of the requirements they installed, not their time: a
# git checkout, a pull or `make lock` that leaves the pins as they were installs nothing again.
pins = $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('$(1)', 'rb').read()).hexdigest()[:16])")
RUN_STAMP := $(VENV)/.installed-run-$(call pins,requirements.txt)
DEV_STAMP := $(VENV)/.installed-dev-$(call pins,requirements-dev.txt)

$(RUN_STAMP): | $(BIN)/python
	$(PIP) install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-run*
	touch $@

# requirements-dev.txt pins everything requirements.txt does, at the same versions.
$(DEV_STAMP): | $(BIN)/python
	$(PIP) install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev* $(VENV)/.installed-run*
	touch $@ $(RUN_STAMP)

deps: $(RUN_STAMP)
dev-deps: $(DEV_STAMP)

# The demo provider stands in for the payment provider; the demo migrations' probes call it.
# Its signed webhooks go to the rolling-out demo migration's own receiving URL, verified with the
# secret seed_demo gives that migration (the provider's built-in demo secret unless you set one).
DEMO_WEBHOOK_ENV := DEMO_PROVIDER_WEBHOOK_SECRET=$${DEMO_PROVIDER_WEBHOOK_SECRET:-whsec_Z29saXZlLWRlbW8td2ViaG9vay1zZWNyZXQtMDAwMQ==}
DEMO_ENV := GOLIVE_DEMO_PROVIDER_URL=http://127.0.0.1:$${DEMO_PROVIDER_PORT:-8001} \
	DEMO_PROVIDER_API_KEY=$${DEMO_PROVIDER_API_KEY:-demo-provider-key} \
	DEMO_PROVIDER_WEBHOOK_URL=$${DEMO_PROVIDER_WEBHOOK_URL:-http://127.0.0.1:$${GOLIVE_PORT:-8000}/inbound/webhook-service/webhooks} \
	$(DEMO_WEBHOOK_ENV)

run: $(RUN_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(DEMO_WEBHOOK_ENV) $(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$${GOLIVE_PORT:-8000} \
		--provider-url http://127.0.0.1:$${DEMO_PROVIDER_PORT:-8001}
	@echo
	@echo "golive is starting on http://127.0.0.1:$${GOLIVE_PORT:-8000}/  (log in with a demo login above; Ctrl-C stops everything)"
	@echo "  Webhook service release: rolling out at 25 %; open it and use \"Demo provider\" to make the provider fail."
	@echo "  Control room: http://127.0.0.1:$${GOLIVE_PORT:-8000}/migrations/webhook-service/control-room/"
	@echo
	$(DEMO_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: $(DEV_STAMP)
	bash .ci/ensure-services
	$(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not solo" $(PYTEST_ARGS)
	@# The tests that time themselves against a bound, alone (5: none among the tests asked for).
	$(TEST_ENV) $(BIN)/pytest -m solo $(PYTEST_ARGS) $(SOLO_PYTEST_ARGS) || [ $$? = 5 ]
	mkdir -p test-artifacts
	$(SQLITE_TEST_ENV) $(BIN)/pytest $(SQLITE_PYTEST_ARGS) $$($(BIN)/python -m tests.sqlite_lane)

# Speed and size targets next to their baselines; writes docs/benchmarks.md (about 20 minutes).
# BENCH_ARGS=--smoke checks the harness in a minute or two (CI); --only ofrep,probes picks items.
bench: $(DEV_STAMP)
	bash .ci/ensure-services
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the layers of docs/architecture.md (pyproject.toml, [tool.importlinter])
	$(BIN)/mypy  # services, selectors and gates (pyproject.toml, [tool.mypy])

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(DEV_STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --no-header requirements.in -o requirements.txt
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --no-header requirements-dev.in -o requirements-dev.txt

# Known vulnerabilities in the pinned requirements (pip-audit): fails on any vulnerability and on
# pins left unchecked while others were checked (.ci/audit.py says why and what it could check).
audit: $(DEV_STAMP)
	$(BIN)/python .ci/audit.py

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
