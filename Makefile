# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell md5sum requirements.txt | cut -c1-12)
PORT ?= 8501
FORECAST_LOG ?= data/forecast-run.log
# pytest-xdist processes for make test and make test-fast; more pytest options, e.g.
# PYTEST_ARGS="-x --durations=20"
TEST_WORKERS ?= 2
PYTEST_ARGS ?=

PUBLIC_PORT ?= 8502
RELEASES ?= data/releases

.PHONY: install run run-public test test-fast bench lint data clean-data

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Build the embedded database when absent; when no stored forecast or anomaly run is up to
## date with the data, forecast and then detect anomalies in the background (niced; about a
## minute each at scale 1, log in $(FORECAST_LOG); the planner and anomalies pages say so
## until they are stored); serve the dashboard on http://localhost:$(PORT) at once.
run: install
	$(BIN)/python -m data ensure
	(nice -n 10 $(BIN)/python -m forecasting run --if-missing --no-progress; \
	 nice -n 10 $(BIN)/python -m forecasting detect --if-missing --quiet) > $(FORECAST_LOG) 2>&1 &
	$(BIN)/python -m dashboard --server.port $(PORT) --server.headless true

## The public performance page for citizens, on the demo government's publication: build
## the embedded database when absent, write an open-data release of what
## config/publication.demo.toml publishes into $(RELEASES), and serve the page (it reads only
## that folder, never the database) on http://localhost:$(PUBLIC_PORT).
run-public: install
	$(BIN)/python -m data ensure
	$(BIN)/python -m metrics publish --out $(RELEASES) --config config/publication.demo.toml
	KPI_PUBLIC_RELEASES=$(RELEASES) $(BIN)/python -m public_page --server.port $(PUBLIC_PORT) --server.headless true

## The whole pytest suite, DuckDB and PostgreSQL (KPI_TEST_POSTGRES_URL, default 127.0.0.1:5432):
## everything but the browser on both cores, then the browser tests on their own (each
## xdist worker would start its own Streamlit servers and Chromium); fails if either fails.
test: install
	status=0; \
	$(BIN)/python -m pytest -m "not e2e" -n $(TEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS) || status=$$?; \
	exit $$status

## For developers, between edits: everything except the browser, the slow (scale 1, real
## files, heavy fixtures) and the PostgreSQL tests, on both cores (goal: under 90 s on 2 idle cores).
test-fast: install
	$(BIN)/python -m pytest -m "not e2e and not slow and not postgres" -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check .

bench: install
	$(BIN)/python -m bench

data: install
	$(BIN)/python -m data generate

clean-data:
	rm -f data/kpi.duckdb data/kpi.duckdb.wal
