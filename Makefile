# LeanRoute task runner. `make demo` and `make test` set up what they need themselves.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Extra pytest arguments for every lane, e.g. make test PYTEST_ARGS="-k registration -x"
PYTEST_ARGS ?=

.PHONY: help venv demo test fuzz extension lint bench clean

help:
	@echo "make demo       build the sample city into build/demo and print the memory report"
	@echo "make test       set up the venv and run the module, binary and packaging test lanes"
	@echo "make fuzz       the self-made attacks at a larger size (LEANROUTE_FUZZ_SCALE, default 5)"
	@echo "make extension  fetch the psutil wheels, build and validate dist/leanroute-*.zip"
	@echo "make lint       ruff check"
	@echo "make bench      run the benchmarks into bench/results.json, docs/benchmarks.md (~7 min)"
	@echo "make clean      remove build outputs (not the venv)"

# The development environment: bpy 5.0.1 (the whole of Blender as a module), pytest,
# pytest-blender, ruff; LeanRoute itself installed editable as `leanroute`.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Writes build/demo/{sample.osm,demo.blend,demo-report.json} and prints the memory table.
demo: venv
	$(PY) -m leanroute demo --out-dir build/demo

test: venv
	$(PY) tests/lanes.py $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

# The self-made attacks that run in every `make test` at scale 1 (mutated OSM/GPX/jobs files and
# options, random user edits between rebuilds, random kill points), here at a larger size.
FUZZ_SCALE ?= 5
fuzz: venv
	@mkdir -p build
	LEANROUTE_FUZZ_SCALE=$(FUZZ_SCALE) LEANROUTE_FUZZ_LOG=build/fuzz.jsonl $(PY) -m pytest -q \
		-p no:cacheprovider tests/test_fuzz_inputs.py tests/test_ownership_fuzz.py \
		tests/test_batch_kill_points.py

extension: venv
	$(PY) -m tools.build_extension --output-dir dist

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Each script measures its variants side by side, interleaved, repeated, and writes
# bench/results/<name>.json with its rows; report.py collects them into bench/results.json
# and docs/benchmarks.md, and fails if a required row is missing or older than this run.
bench: venv
	@mkdir -p build && touch build/.bench-started
	$(PY) bench/parse_bench.py
	$(PY) bench/geometry_bench.py
	$(PY) bench/hygiene_overhead.py
	$(PY) bench/gc_build.py
	$(PY) bench/rebuild_leak.py
	$(PY) bench/batch_throughput.py
	$(PY) bench/batch_memory.py
	$(PY) bench/stage_overhead.py
	$(PY) bench/gc_policy.py --repeats 6
	$(PY) bench/panel_refresh.py
	$(PY) bench/scale_bench.py
	$(PY) bench/report.py --strict --since-file build/.bench-started

clean:
	rm -rf dist build leanroute.egg-info .pytest_cache .ruff_cache
