# Two commands: `make demo` (set up and run the main job) and `make test` (set up and run the tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output

.PHONY: demo test lint install clean gpu-check gpu-wheels

# torch is pinned in the same pip call as the project: otherwise lightning pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0" -e ".[dev,acts]"
	touch $(STAMP)

install: $(STAMP)

# The main job: EC, OC, EggNet and HGNN trained (quick mode) and compared on the same `small` full events:
# every pixel hit is the input (noise and every pT; nothing removed with the truth), beside the
# model-free geometric baseline on the same events.
# Torch threads: the usable cores, at most 4 (a fresh 2-core machine: 11.5 min with two, 15.3 min with one,
# measured in the same hour). On a machine shared with another job set OMP_NUM_THREADS=1: two OpenMP
# threads then spin against it (an HGNN step: 15 s with two threads, 0.6 s with one, measured here).
DEMO_THREADS := $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)
demo: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$(DEMO_THREADS)} WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/trackcore compare --data small --benchmark full_pixel --quick \
		--data-root $(DEMO_DIR)/data_cache --out $(DEMO_DIR)/compare_small_full_pixel_quick

# One worker per core (at most 4: each imports torch), one torch thread per worker.
test: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/pytest -q -n auto --maxprocesses 4

# Whenever a GPU is lent: the GPU tests, a timed full-event inference per family on CUDA and a short CUDA
# training (scripts/gpu_check.py; exits 2 naming the reason where torch sees no GPU).
gpu-check: $(STAMP)
	WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/python scripts/gpu_check.py

# Before the GPU check on the lent device machine, which reaches no package index: the wheels its image lacks
# (trackcore's own included) into outputs/device_wheels, carried to it with scripts/gpu_check_device.sh (README).
gpu-wheels: $(STAMP)
	$(BIN)/python scripts/device_wheels.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
