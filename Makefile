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
	$(BIN)/pip install -q "torch==2.13.0" -e ".[dev,acts]"
	touch $(STAMP)

install: $(STAMP)

# The main job: EC, OC, EggNet and HGNN trained (quick mode) and compared on the same `small` events.
# One torch thread: these graphs are small, and on a machine shared with another job two OpenMP
# threads spin against it (an HGNN step: 15 s with two threads, 0.6 s with one, measured here).
demo: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/trackcore compare --data small --quick \
		--data-root $(DEMO_DIR)/data_cache --out $(DEMO_DIR)/compare_small_quick

# One worker per core (at most 4: each imports torch), one torch thread per worker.
test: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/pytest -q -n auto --maxprocesses 4

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
