# seisphase — every target bootstraps its own .venv (CPU build of torch first).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TORCH   := torch==2.13.0
OUT     ?= seisphase-demo

.PHONY: install demo demo-quick test test-fast bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[test,seisbench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seisphase demo --out $(OUT)

demo-quick: $(STAMP)
	$(BIN)/seisphase demo --quick --out $(OUT)-quick

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) $(OUT) $(OUT)-quick .pytest_cache
