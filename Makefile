# wpflow — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The demo renders each milestone as the secretariat would have seen it after the project.
DEMO_AS_OF ?= 2008-01-31
PYTEST_ARGS ?= -n 2

.PHONY: install demo test test-system check bench bench-dask bench-expansion serve clean help

help:
	@echo "make demo   - create .venv, install, run every BaltMet Inno milestone pipeline on the sample inputs,"
	@echo "              then the WP final reports and the joint final report"
	@echo "make test   - lint, types and the test suite, system tests aside (about 3 minutes; PostgreSQL at"
	@echo "              127.0.0.1:5432, SMTP and Prefect started by the tests)"
	@echo "make test-system - the end-to-end system tests: serve, workers, Dask, kill -9, outages (about 5 minutes)"
	@echo "make check  - both, what .ci/run runs"
	@echo "make bench  - run the benchmarks in bench/, 10-13 minutes (see docs/performance.md)"
	@echo "make bench-dask - the validate stage on Dask against threads (opt-in; 4-8 minutes)"
	@echo "make bench-expansion - wpflow validate on a 40 MB workbook unpacking to 470 MB (also in make bench; 1-3 minutes)"
	@echo "make serve  - start a Prefect server, the deployments, the watcher and the UI at http://127.0.0.1:4200"
	@echo "make clean  - remove outputs/ (reports, outbox, archive, database, Prefect history)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The PDFs need the templates' fonts' metric twins and python3-uno beside LibreOffice: installed
# when missing (quiet when present; never LibreOffice itself, never fails without apt).
demo: install
	@scripts/install-render-tools.sh --pdf
	$(BIN)/wpflow project check --no-assumptions
	$(BIN)/wpflow run --all --as-of $(DEMO_AS_OF)
	$(BIN)/wpflow report project --as-of $(DEMO_AS_OF)
	@echo
	@echo "Reports:  outputs/reports/baltmet-inno/*.docx and .pdf (every version: outputs/reports/baltmet-inno/history/)"
	@echo "Final:    outputs/reports/baltmet-inno/WP1.docx … WP5.docx (each WP's final report) and final.docx"
	@echo "E-mails:  outputs/outbox/baltmet-inno/*.eml (reports, receipts, 'nothing arrived' to coordinators)"
	@echo "Runs:     make serve, then open http://127.0.0.1:4200"

# lint and format first (a second), then the suite on both cores (pytest-xdist) with mypy
# beside it (15-30 s on a fresh clone, Prefect's annotations included; the suite waits on
# servers and leaves CPU to spare); mypy's report follows the suite's. The system tests (pytest -m system: whole topologies, kill -9,
# outages) have their own target.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@nice -n 19 $(BIN)/mypy > $(VENV)/mypy.log 2>&1 & types=$$!; \
	echo "$(BIN)/python -m pytest $(PYTEST_ARGS) -m 'not system'  (and $(BIN)/mypy beside it)"; \
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not system"; tests=$$?; \
	wait $$types; typed=$$?; echo "$(BIN)/mypy:"; cat $(VENV)/mypy.log; \
	test $$tests -eq 0 -a $$typed -eq 0

test-system: install
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m system

check: test test-system

bench: install
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/bench_programme.py --quick

bench-dask: install
	$(BIN)/python bench/run_all.py --only dask

bench-expansion: install
	$(BIN)/python bench/run_all.py --only expansion

serve: install
	$(BIN)/wpflow serve

clean:
	rm -rf outputs
