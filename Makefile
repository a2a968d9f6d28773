# NAOMI teaching kit: one-command entry points.
#   make course   set up (if needed), run every chapter into reports/, then build the course website
#   make test     set up (if needed) and run the unit tests plus nbval over every notebook
#   make book     the course website, reports/book/index.html (runs the course first if reports/ has no chapters)
#   make student  the student versions of the chapters, solutions stripped by nbgrader, into student/
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

.PHONY: setup chromium course book student test unit nbval benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	@if [ -n "$(TORCH_SPEC)" ]; then $(PY) -m pip install "$(TORCH_SPEC)"; fi
	$(PY) -m pip install -e ".[dev,browser,course,peers]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Debian's Chromium for tests/test_browser.py. Installed with apt-get when missing and possible
# (root, or password-less sudo); never fatal: without it the browser test skips with a warning.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "note: no /usr/bin/chromium and no apt-get: tests/test_browser.py will be skipped"; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update -q && apt-get install -y -q chromium) >/dev/null || \
		echo "note: apt-get install chromium failed: tests/test_browser.py will be skipped"; \
	elif sudo -n true 2>/dev/null; then \
		(sudo -n apt-get update -q && sudo -n apt-get install -y -q chromium) >/dev/null || \
		echo "note: apt-get install chromium failed: tests/test_browser.py will be skipped"; \
	else \
		echo "note: no /usr/bin/chromium (install it with: sudo apt-get install chromium): tests/test_browser.py will be skipped"; \
	fi

# The website is built from reports/; with --out elsewhere in COURSE_ARGS, run scripts/build_book.py --reports there.
course: setup
	$(PY) scripts/run_course.py $(COURSE_ARGS)
	$(if $(findstring --out,$(COURSE_ARGS)),@echo "note: reports went to --out; build the website with: $(PY) scripts/build_book.py --reports DIR",$(PY) scripts/build_book.py)

book: setup
	@ls reports/[0-9][0-9]_*.ipynb >/dev/null 2>&1 || $(PY) scripts/run_course.py
	$(PY) scripts/build_book.py

student: setup
	$(PY) scripts/make_student.py

test: setup chromium
	$(PY) -m pytest tests $(PYTEST_ARGS)
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/ $(PYTEST_ARGS)

unit: setup chromium
	$(PY) -m pytest tests $(PYTEST_ARGS)

nbval: setup
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/ $(PYTEST_ARGS)

benchmarks: setup
	$(PY) benchmarks/billiards_accuracy.py
	$(PY) benchmarks/speed.py

clean:
	rm -rf reports student .pytest_cache
