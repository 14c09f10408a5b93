# wpflow — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The demo renders each milestone as the secretariat would have seen it after the project.
DEMO_AS_OF ?= 2008-01-31
PYTEST_ARGS ?= -n 2

.PHONY: install demo test bench serve clean help

help:
	@echo "make demo   - create .venv, install, run every BaltMet Inno milestone pipeline on the sample inputs,"
	@echo "              then the WP final reports and the joint final report"
	@echo "make test   - run the test suite (PostgreSQL at 127.0.0.1:5432, SMTP and Prefect started by the tests)"
	@echo "make bench  - run the benchmarks in bench/ (see docs/performance.md)"
	@echo "make serve  - start a Prefect server, the deployments, the watcher and the UI at http://127.0.0.1:4200"
	@echo "make clean  - remove outputs/ (reports, outbox, archive, database, Prefect history)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/wpflow project check --no-assumptions
	$(BIN)/wpflow run --all --as-of $(DEMO_AS_OF)
	$(BIN)/wpflow report project --as-of $(DEMO_AS_OF)
	@echo
	@echo "Reports:  outputs/reports/baltmet-inno/*.docx and .pdf (every version: outputs/reports/baltmet-inno/history/)"
	@echo "Final:    outputs/reports/baltmet-inno/WP1.docx … WP5.docx (each WP's final report) and final.docx"
	@echo "E-mails:  outputs/outbox/baltmet-inno/*.eml (reports, receipts, 'nothing arrived' to coordinators)"
	@echo "Runs:     make serve, then open http://127.0.0.1:4200"

# lint, format and types first (seconds), then the suite on both cores (pytest-xdist)
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

serve: install
	$(BIN)/wpflow serve

clean:
	rm -rf outputs
