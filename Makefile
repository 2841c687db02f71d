PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean screenshots package

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

# standalone one-folder build in dist/cnnviz (PyInstaller), then a headless smoke test of it
package: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[package]"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/cnnviz.spec
	bash packaging/smoke_test.sh dist/cnnviz
