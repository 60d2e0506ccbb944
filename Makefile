# chartclerk: `make run` starts the service, `make test` runs every check.
# Each target does its own set-up on a fresh Debian machine: system packages when missing
# (tesseract with English and orientation data, fonts), then a .venv with the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= config.yaml
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd fonts-dejavu-core
# Only the tests need a browser: Debian's chromium, driven by Playwright (no browser download).
TEST_APT_PACKAGES := chromium
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo)

export OMP_THREAD_LIMIT := 1

.PHONY: run test setup system-deps test-deps lint typecheck pytest soak bench demo clean

run: setup
	$(BIN)/chartclerk --config $(CONFIG) run

test: setup test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest -q

setup: system-deps $(STAMP)
	@# Byte-code written ahead: with PYTHONDONTWRITEBYTECODE set (containers often set it),
	@# every command would otherwise compile the project's modules again at start.
	@$(BIN)/python -m compileall -q -j 0 chartclerk_errors.py chartclerk_files.py clerk index records scanner synthetic >/dev/null

system-deps:
	@if ! command -v tesseract >/dev/null 2>&1 \
	    || ! tesseract --list-langs 2>/dev/null | grep -qx eng \
	    || ! tesseract --list-langs 2>/dev/null | grep -qx osd \
	    || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
	    || ! $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then \
	  echo "installing system packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) python3-venv; \
	fi

test-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing system packages for the browser tests: $(TEST_APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(TEST_APT_PACKAGES); \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

soak: setup
	$(BIN)/python benchmarks/crash_harness.py --kills 60 --docs 120
	$(BIN)/python benchmarks/crash_harness.py --scenario disk-full
	$(BIN)/python benchmarks/crash_harness.py --scenario db-locked

bench: setup
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_search.py
	$(BIN)/python benchmarks/bench_accuracy.py
	$(BIN)/python benchmarks/bench_import.py

demo: setup
	$(BIN)/chartclerk --config $(CONFIG) demo

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
