# Two commands: `make demo` (set up and run the main job) and `make test` (set up and run the tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output

.PHONY: demo test lint install clean

# torch is pinned in the same pip call as the project: otherwise lightning pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0" -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/trackcore simulate --preset small --seed 0 --out $(DEMO_DIR)/small
	$(BIN)/trackcore inspect $(DEMO_DIR)/small

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
