# Two commands do all the setup:
#   make run    create/refresh .venv, install, build the demo case and open it
#   make test   the same environment plus test extras and system packages, then the suite headless
#   make lint   ruff, import-linter and mypy (the type checker, configured in pyproject.toml)
#   make docs   build the user guide into build/site (what Help > User guide opens)
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
TEST_STAMP := $(VENV)/.stamp-test-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test docs system-packages lint bench clean-venv

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; Python 3.11 is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

system-packages:
	bash packaging/install-system-packages.sh

run: system-packages $(STAMP)
	$(VENV)/bin/examiner gui --demo

test: system-packages $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

docs: $(TEST_STAMP)
	$(PY) packaging/gen_cli_reference.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir build/site

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check examiner tests bench codecs
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
