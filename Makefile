# Two commands: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test chromium lint soak bench golden docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kontent-ssg build example-site --offline
	@echo
	@echo "Look at it through a web server (its links are site-root URLs, which file:// cannot follow):"
	@echo "  $(BIN)/kontent-ssg serve example-site --offline"
	@echo "then open http://127.0.0.1:8000/ (live reload; Ctrl+C stops it)"

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

# The browser test drives Debian's Chromium (pip's Playwright cannot download its browsers on
# these machines). Installed here, in the open, when missing; the tests never install anything.
# Where it cannot be installed (no apt-get, not root) the suite still runs and the browser
# test fails saying why.
chromium:
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then \
		echo "chromium: $$(command -v chromium || command -v chromium-browser)"; \
	else \
		echo "chromium is not on PATH: installing Debian's chromium package with apt-get"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| echo "could not install chromium: the browser test will fail"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kontent_ssg

soak: $(STAMP)
	$(BIN)/python -m pytest tests/soak -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/richtext.py
	$(BIN)/python bench/build.py

docs: $(STAMP)
	$(BIN)/python -m tests.support.docs

golden: $(STAMP)
	$(BIN)/python -m tests.support.golden

clean:
	rm -rf $(VENV) example-site/public example-site/.kontent-ssg/build
