# fenxiao developer tasks. Everything runs with the virtualenv's own Python (.venv/bin/...).
#
#   make venv      create .venv (if missing) and install the project with its test extras
#   make demo      migrate, load the demo data, collect static files, serve on 127.0.0.1:8000
#   make test      the fast test suite on SQLite, 2 xdist workers (PYTEST_ARGS="..." adds options)
#   make test-pg   the same against PostgreSQL and Redis, service tests required
#   make worker    a Celery worker   (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0)
#   make beat      Celery beat with the django-celery-beat DatabaseScheduler
#   make check     Django system checks, "no model change without a migration", the import contracts
#
# SECRET_KEY: the server refuses to start without one (DEBUG off). The targets below that run
# Django use $$SECRET_KEY when set, else the per-clone random key in .local-secret-key, generated
# on first use (git- and docker-ignored; delete it to rotate: sessions and tokens then end).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fenxiao-installed

PYTEST_ARGS ?=
# pytest-xdist workers for make test / test-pg (each its own test database); PYTEST_XDIST= runs
# in one process (for --pdb, -s).
PYTEST_XDIST ?= -n 2
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/fenxiao
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
BROKER_URL ?= redis://127.0.0.1:6379/0
KEY_FILE := .local-secret-key
WITH_KEY = SECRET_KEY="$${SECRET_KEY:-$$(cat $(KEY_FILE))}"

.DEFAULT_GOAL := help
.PHONY: help venv migrate demo test test-pg worker beat check

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# A target whose recipe fails is deleted, never left looking up to date.
.DELETE_ON_ERROR:

# The venv counts as made only once it has a working pip ($(VENV_OK), written last). One left
# half-made by an earlier run (python -m venv failed or was killed after creating bin/python,
# so it has no pip) is removed and made again; a failure now removes what it made.
VENV_OK := $(VENV)/.fenxiao-venv-ok
$(VENV_OK):
	@if [ -x $(PY) ] && $(PY) -m pip --version >/dev/null 2>&1; then :; else \
		if [ -e $(VENV) ]; then echo "make venv: $(VENV) is half-made (no working pip): making it again"; fi; \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) && $(PY) -m pip --version >/dev/null \
			|| { rm -rf $(VENV); echo "make venv: '$(PYTHON) -m venv $(VENV)' failed; nothing kept" >&2; exit 1; }; \
	fi
	@touch $@

# Re-install only when pyproject.toml changes (or the venv is new): quick when up to date. The
# stamp goes first and comes back only after pip and an import check succeed, so an install that
# fails half-way is retried by the next `make venv` instead of hidden by a stamp.
$(STAMP): pyproject.toml | $(VENV_OK)
	@rm -f $@
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -c 'import django, rest_framework, celery, psycopg, pytest, pytest_django, xdist, hypothesis, playwright, fenxiao'
	@touch $@

venv: $(STAMP)

# A random key per clone, readable by its owner only.
$(KEY_FILE): | $(VENV_OK)
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp && mv $@.tmp $@
	@echo "generated $@ (this clone's SECRET_KEY)"

migrate: venv $(KEY_FILE)
	$(WITH_KEY) $(PY) manage.py migrate --noinput

# Invite and reset links point at the address the demo serves (FENXIAO_PUBLIC_URL, unless set).
DEMO_URL = FENXIAO_PUBLIC_URL="$${FENXIAO_PUBLIC_URL:-http://$(HOST):$(PORT)}"

demo: migrate
	$(WITH_KEY) $(DEMO_URL) $(PY) manage.py load_demo --base-url http://$(HOST):$(PORT)
	$(WITH_KEY) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(WITH_KEY) $(DEMO_URL) $(PY) manage.py runserver $(HOST):$(PORT)

# Tests run tasks eagerly: CELERY_BROKER_URL is emptied so a broker in the shell cannot leak in
# (tests/integration/test_celery_worker.py starts its own worker and broker setup). The tests use
# tests/settings.py: a key of their own, the memory cache, and no file read (.env included).
# Tests marked slow run only with --run-slow (PYTEST_ARGS=--run-slow; .ci/run passes it).
test: venv
	CELERY_BROKER_URL= $(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

test-pg: venv
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CELERY_BROKER_URL= \
		$(VENV)/bin/pytest --require-services $(PYTEST_XDIST) $(PYTEST_ARGS)

worker: migrate
	$(WITH_KEY) CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(BROKER_URL)} \
		$(VENV)/bin/celery -A fenxiao worker --loglevel info

beat: migrate
	$(WITH_KEY) CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(BROKER_URL)} \
		$(VENV)/bin/celery -A fenxiao beat --loglevel info \
		--scheduler django_celery_beat.schedulers:DatabaseScheduler

# The import contracts (pyproject.toml [tool.importlinter]): layers one way, no import cycles, the
# domain never imports the API (CONVENTIONS "Layers"). lint-imports reads every import statement,
# function-local ones too.
check: venv $(KEY_FILE)
	$(WITH_KEY) $(PY) manage.py check
	$(WITH_KEY) $(PY) manage.py makemigrations --check --dry-run --noinput
	$(VENV)/bin/lint-imports

# Benchmark (bench/README.md): PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 needed.
#   make bench     throughput/latency benchmark, small default (BENCH_ARGS="--scale 0|1|2|3 ...")
#   make bench-full  the same at 1,000,000 distributors (--scale 2)
BENCH_ARGS ?=
.PHONY: bench bench-full

# The bench's one partner key posts far more than a shop would, and its portal phase logs in
# dozens of distributors from 127.0.0.1 within a minute: its servers get high limits for both.
BENCH_ENV = $(WITH_KEY) PARTNER_API_RATE_PER_MINUTE=$${PARTNER_API_RATE_PER_MINUTE:-1000000} \
	LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=$${LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS:-100000}

bench: venv $(KEY_FILE)
	$(BENCH_ENV) $(VENV)/bin/python bench/run.py $(BENCH_ARGS)

bench-full: venv $(KEY_FILE)
	$(BENCH_ENV) $(VENV)/bin/python bench/run.py --scale 2 $(BENCH_ARGS)
