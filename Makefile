PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/cnnviz

lint: $(STAMP)
	$(BIN)/ruff check cnnviz_gui tests
	$(BIN)/ruff format --check cnnviz_gui tests

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	QT_QPA_PLATFORM=offscreen $(BIN)/python tests/benchmarks/bench_summary.py

clean:
	rm -rf $(VENV) build dist *.egg-info

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python docs/make_screenshots.py
