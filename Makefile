# The fitness one map. `make demo` starts the app on the demo city; `make test` runs everything.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

OGC_PORT ?= 5080
# The suite in three workers on the two cores (about a third of its time is waiting on browsers, servers and
# the database, so a third worker fills it: 17 min against 25 with two); an idle worker takes tests from the
# busy ones; the slowest 30 printed.  PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n 3 --dist worksteal --durations=30

.PHONY: setup setup-test system-app system-test demo demo-data ogc-api test bench bench-store bench-coverage bench-ingest bench-planning bench-export bench-one-map bench-operations bench-sign-in bench-uploads bench-booking bench-emergency bench-need bench-tiles bench-province bench-serve bench-users bench-period-report clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# the tests' and benchmarks' tools besides what runs
$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PY) -m pip install -q -r requirements-test.txt
	touch $(TEST_STAMP)

system-app:
	bash scripts/install_system.sh app

system-test:
	bash scripts/install_system.sh test

setup: system-app $(STAMP)

setup-test: system-test $(TEST_STAMP)

demo-data: setup
	$(PY) -m demo.city --if-missing data/demo_city.gpkg

demo: demo-data
	$(PY) -m webmap.one_map
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

# Read-only OGC API - Features over the configured store (loopback; HOST=0.0.0.0 to serve the intranet).
ogc-api: demo-data
	$(PY) -m services.ogc_api --port $(OGC_PORT) $(if $(HOST),--host $(HOST)) $(if $(DATABASE_URL),--role viewer)

test: setup-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" DATABASE_URL= ONEMAP_REQUIRE_ALL=1 $(PY) -m pytest $(PYTEST_ARGS)

bench: bench-store bench-coverage bench-ingest bench-planning bench-export bench-operations bench-sign-in bench-uploads bench-booking bench-emergency bench-need bench-tiles bench-province bench-serve bench-users

bench-store: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_store_write

bench-coverage: setup-test
	$(PY) -m bench.bench_coverage

bench-ingest: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_ingest

bench-planning: setup-test
	$(PY) -m bench.bench_planning

bench-export: setup-test
	$(PY) -m bench.bench_export

bench-period-report: setup-test demo-data
	$(PY) -m bench.bench_period_report

bench-one-map: setup-test
	$(PY) -m bench.bench_one_map

bench-operations: setup-test
	$(PY) -m bench.bench_operations

bench-uploads: setup-test
	$(PY) -m bench.bench_uploads

bench-sign-in: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_sign_in

bench-booking: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_booking

bench-emergency: setup-test
	$(PY) -m bench.bench_emergency

bench-need: setup-test
	$(PY) -m bench.bench_need

bench-tiles: setup-test
	$(PY) -m bench.bench_tiles

bench-province: setup-test
	$(PY) -m bench.bench_province

bench-serve: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_serve

# Ten planners at once: N people open the coverage page, change their inputs and solve a plan together.
bench-users: setup-test
	ONEMAP_TEST_DATABASE_URL="$$(bash scripts/postgis.sh)" $(PY) -m bench.bench_users

clean:
	rm -rf $(VENV) data/demo_city.gpkg tests/artifacts
