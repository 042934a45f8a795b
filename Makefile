# newsgraph: `make run` serves the embedded default, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO := articles/demo/stories.jsonl

.PHONY: run test lint format migrate demo clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); } || { \
	  echo "python3 -m venv failed: install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput -v0

demo: migrate
	$(PY) manage.py ingest $(DEMO)

run: demo
	@echo "newsgraph is serving on http://$(HOST):$(PORT)/  (admin: create a user with '$(PY) manage.py createsuperuser')"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The suite runs twice: on SQLite (the embedded default), then on a throw-away
# PostgreSQL cluster, where the integration tests with Redis and real Celery
# workers run too.
test: lint
	.ci/install-packages
	DJANGO_SETTINGS_MODULE=newsgraph.settings.test $(PY) manage.py makemigrations --check --dry-run
	@echo "== pytest on SQLite =="
	$(VENV)/bin/pytest -m "not postgres_only" $(PYTEST_ARGS)
	@echo "== pytest on PostgreSQL =="
	$(PY) -m testkit.servers postgres -- $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data staticfiles
