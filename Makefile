# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

NODE_CLIENTS := tests/e2e/node/node_modules/.package-lock.json

.PHONY: demo test check unit bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tidings demo

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# The Node analytics clients the end-to-end tests drive (skipped by the test if npm is absent).
# `install --no-save` follows the committed lock without rewriting it; npm 11's `ci` refuses
# this lock over other platforms' optional packages (msgpackr-extract).
$(NODE_CLIENTS): tests/e2e/node/package-lock.json
	if command -v npm >/dev/null 2>&1; then npm install --prefix tests/e2e/node --no-save --no-audit --no-fund --loglevel=error; fi

test: check $(NODE_CLIENTS)
	$(BIN)/pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache tidings.db* tidings-demo.db* tidings-demo-report.html tests/e2e/node/node_modules
