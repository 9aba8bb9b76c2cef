# Two promises: `make demo` runs the product, `make test` passes the suite,
# each on a fresh machine. The virtual environment is built on first use and
# cached outside the clone (scripts/ensure-venv), keyed by the requirements.

PY = "$$(scripts/ensure-venv)/bin/python"
BIN = "$$(scripts/ensure-venv)/bin"

# Tests use the real services of the machine; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
TEST_ENV = DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# The edit-test loop leaves out what needs Chromium, a Celery worker process or
# real model weights (the markers in pyproject.toml); `make test` runs them all.
FAST_TESTS = not browser and not worker and not models

.PHONY: help venv demo test test-fast lint format migrate worker web

help:
	@echo "make demo       install, migrate, seed the demo tenants, run web + worker"
	@echo "make test       install, lint, run the whole test suite (PostgreSQL + Redis)"
	@echo "make test-fast  the edit-test loop: no browser, worker or model tests, no lint"
	@echo "make lint       ruff, the import contracts and the OpenAPI document"
	@echo "make format     ruff format"

venv:
	@scripts/ensure-venv

demo:
	@scripts/demo

lint:
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@cd . && $(BIN)/lint-imports
	@$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

format:
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

test: lint
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

test-fast:
	$(TEST_ENV) $(PY) -m pytest -q -m "$(FAST_TESTS)" $(PYTEST_ARGS)

migrate:
	$(PY) manage.py migrate

web:
	$(PY) manage.py runserver

worker:
	$(BIN)/celery -A config worker -Q default,gpu -l info
