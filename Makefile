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

.PHONY: run test bench lint format lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# The demo provider stands in for the payment provider; the demo migrations' probes call it.
DEMO_ENV := GOLIVE_DEMO_PROVIDER_URL=http://127.0.0.1:$${DEMO_PROVIDER_PORT:-8001} \
	DEMO_PROVIDER_API_KEY=$${DEMO_PROVIDER_API_KEY:-demo-provider-key}

run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$${GOLIVE_PORT:-8000} \
		--provider-url http://127.0.0.1:$${DEMO_PROVIDER_PORT:-8001}
	@echo
	@echo "golive is starting on http://127.0.0.1:$${GOLIVE_PORT:-8000}/  (log in with a demo login above; Ctrl-C stops everything)"
	@echo "  Webhook service release: rolling out at 25 %; open it and use \"Demo provider\" to make the provider fail."
	@echo "  Control room: http://127.0.0.1:$${GOLIVE_PORT:-8000}/migrations/webhook-service/control-room/"
	@echo
	$(DEMO_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

test: $(VENV)/.installed-dev
	bash .ci/ensure-services
	$(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not solo" $(PYTEST_ARGS)
	@# The tests that time themselves against a bound, alone (5: none among the tests asked for).
	$(TEST_ENV) $(BIN)/pytest -m solo $(PYTEST_ARGS) $(SOLO_PYTEST_ARGS) || [ $$? = 5 ]
	mkdir -p test-artifacts
	$(SQLITE_TEST_ENV) $(BIN)/pytest $(SQLITE_PYTEST_ARGS) $$($(BIN)/python -m tests.sqlite_lane)

# Speed and size targets next to their baselines; writes docs/benchmarks.md (about 20 minutes).
# BENCH_ARGS=--smoke checks the harness in a minute or two (CI); --only ofrep,probes picks items.
bench: $(VENV)/.installed-dev
	bash .ci/ensure-services
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --no-header requirements.in -o requirements.txt
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --no-header requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
