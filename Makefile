# NAOMI teaching kit: one-command entry points.
#   make course   set up (if needed) and run every chapter into reports/
#   make test     set up (if needed) and run the unit tests plus nbval over every notebook
#
# GPU users: create .venv yourself, install the torch build for your CUDA version into it
# first (see README), then run `make course TORCH_SPEC=` so the CPU pin is skipped.

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.naomi-installed
COURSE_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup course test unit nbval benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	@if [ -n "$(TORCH_SPEC)" ]; then $(PY) -m pip install "$(TORCH_SPEC)"; fi
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

course: setup
	$(PY) scripts/run_course.py $(COURSE_ARGS)

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/ $(PYTEST_ARGS)

unit: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)

nbval: setup
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/ $(PYTEST_ARGS)

benchmarks: setup
	$(PY) benchmarks/billiards_accuracy.py
	$(PY) benchmarks/speed.py

clean:
	rm -rf reports .pytest_cache
