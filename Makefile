# Two commands: `make dev` runs the platform, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/ticketflow dev

# Debian's docker-compose checks docker-compose.yml (`config`, no daemon needed) in the tests;
# installed here when missing, skipped by the tests where it cannot be.
test: $(STAMP)
	command -v docker-compose >/dev/null || (apt-get update -qq && apt-get install -y -qq \
		--no-install-recommends docker-compose) || echo "docker-compose not installed: its check is skipped"
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .ticketflow
