# The README's two commands: `make run` and `make test`. Both set up their own virtualenv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test migrate clean docker-up docker-down docker-logs

$(VENV)/.runtime: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.runtime
	$(PY) run.py serve

migrate: $(VENV)/.runtime
	$(PY) run.py migrate

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

# PostgreSQL 15, Redis 7, two app replicas behind nginx (docker-compose.yml; settings from .env).
docker-up:
	docker compose up -d --build

docker-down:
	docker compose down

docker-logs:
	docker compose logs -f --tail=200

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
