# fenxiao developer tasks. Everything runs with the virtualenv's own Python (.venv/bin/...).
#
#   make venv      create .venv (if missing) and install the project with its test extras
#   make demo      migrate, load the demo data, collect static files, serve on 127.0.0.1:8000
#   make demo-relay  deliver the webhooks of the demo and its sandbox every 2 s (in a second terminal)
#   make test      the fast test suite on SQLite, 2 xdist workers (PYTEST_ARGS="..." adds options)
#   make test-pg   the same against PostgreSQL and Redis, service tests required
#   make worker    a Celery worker of both queues (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0)
#   make beat      Celery beat with the django-celery-beat DatabaseScheduler
#   make check     Django system checks, "no model change without a migration", the import contracts
#   make messages  extract every gettext string into the zh_Hans catalogues, compile them (needs GNU gettext)
#   make vendor-echarts  re-vendor Apache ECharts from npm (ECHARTS_VERSION=6.1.0) into fenxiao/static/vendor/echarts/
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
.PHONY: help venv migrate demo demo-relay test test-pg worker beat check messages

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

# The demo delivers webhooks to receivers on this machine (127.0.0.1): WEBHOOKS_ALLOW_PRIVATE=1
# here only; production refuses loopback and private addresses (README "Webhooks"). Invite and
# password reset links point at the address the demo serves (FENXIAO_PUBLIC_URL, unless set).
DEMO_ENV = WEBHOOKS_ALLOW_PRIVATE=$${WEBHOOKS_ALLOW_PRIVATE:-1} FENXIAO_PUBLIC_URL="$${FENXIAO_PUBLIC_URL:-http://$(HOST):$(PORT)}"

demo: migrate
	$(WITH_KEY) $(DEMO_ENV) $(PY) manage.py load_demo --base-url http://$(HOST):$(PORT)
	$(WITH_KEY) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(WITH_KEY) $(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The demo's stand-in for beat and the workers: delivers the webhooks of every active tenant (the
# demo and its sandbox twin, once made) every 2 seconds.
demo-relay: venv $(KEY_FILE)
	$(WITH_KEY) $(DEMO_ENV) $(PY) manage.py relay_webhooks --every 2

# Tests run tasks eagerly: CELERY_BROKER_URL is emptied so a broker in the shell cannot leak in
# (tests/integration/test_celery_worker.py starts its own worker and broker setup). The tests use
# tests/settings.py: a key of their own, the memory cache, and no file read (.env included).
# Tests marked slow run only with --run-slow (PYTEST_ARGS=--run-slow; .ci/run passes it).
test: venv
	CELERY_BROKER_URL= $(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

test-pg: venv
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) CELERY_BROKER_URL= \
		$(VENV)/bin/pytest --require-services $(PYTEST_XDIST) $(PYTEST_ARGS)

# One worker for both queues here: `celery` (accrual, settlement, incentives) and `webhooks` (the
# relay and its deliveries; production runs them in a worker of their own, docker-compose.yml).
worker: migrate
	$(WITH_KEY) CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(BROKER_URL)} \
		$(VENV)/bin/celery -A fenxiao worker --loglevel info -Q celery,webhooks

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

# Catalogues (README "Languages"): every app's strings in <app>/locale/zh_Hans/LC_MESSAGES/django.po,
# the project's (fenxiao/, templates included) in fenxiao/locale. makemessages merges the code's
# strings into each catalogue (msgmerge): translations stay, a new string comes in untranslated
# (or "fuzzy" with a guess from a similar one), a string gone from the code stays at the end as
# obsolete ("#~", unused); an app without a locale/ folder gets one, so its strings land in its own
# catalogue. The .mo files are compiled from scratch and committed (running fenxiao needs no
# gettext); then the list of what is left to translate is printed: tests/test_i18n.py fails until
# it is empty and every .mo says what its .po says.
LOCALE_APPS = $(filter-out fenxiao tests bench docs,$(sort $(patsubst %/,%,$(dir $(wildcard */apps.py */models.py)))))
MESSAGES_IGNORE = --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'docs/*' \
	--ignore 'staticfiles/*' --ignore 'build/*' --ignore 'node_modules/*'

messages: venv $(KEY_FILE)
	@command -v xgettext >/dev/null && command -v msgmerge >/dev/null && command -v msgfmt >/dev/null \
		|| { echo "make messages needs GNU gettext (apt-get install gettext)" >&2; exit 1; }
	@for app in $(LOCALE_APPS); do mkdir -p $$app/locale; done
	$(WITH_KEY) $(PY) manage.py makemessages --locale zh_Hans --add-location file $(MESSAGES_IGNORE)
	@# compilemessages skips a .po older than its .mo; git does not keep times, so compile them all
	@find . -path ./.venv -prune -o -path '*/locale/zh_Hans/LC_MESSAGES/django.po' -print | xargs touch
	$(WITH_KEY) $(PY) manage.py compilemessages --locale zh_Hans $(MESSAGES_IGNORE)
	$(PY) -m tests.catalogues

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

# Apache ECharts as a static file (no CDN): dist/echarts.min.js, LICENSE and NOTICE of the npm
# package, with a README giving the version, the source and the file's SHA-256.
ECHARTS_VERSION ?= 6.1.0
.PHONY: vendor-echarts
vendor-echarts:
	sh scripts/vendor-echarts.sh $(ECHARTS_VERSION)
