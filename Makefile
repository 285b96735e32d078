# Two commands: `make dev` runs the platform, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/ticketflow dev

# Debian's docker-compose checks docker-compose.yml (`config`, no daemon needed) in the tests;
# installed here when missing.
test: $(STAMP) browser
	command -v docker-compose >/dev/null || (apt-get update -qq && apt-get install -y -qq \
		--no-install-recommends docker-compose)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider

# The browser tests (tests/e2e/test_flow_viewer.py) drive Debian's chromium with chromedriver.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null) || \
	  { echo "the browser tests need chromium and chromium-driver (apt-get install them)" >&2; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .ticketflow
