# Two commands: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test chromium node lint soak bench bench-realistic bench-webhook golden docs wheel-check clean

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

test: $(STAMP) chromium node
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

# The Netlify cache plugin (JavaScript, written by `init --ci netlify`) is run by its test with
# Node.js: installed the same way, in the open, when missing.
node:
	@if command -v node >/dev/null; then \
		echo "node: $$(command -v node)"; \
	else \
		echo "node is not on PATH: installing Debian's nodejs package with apt-get"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs) \
			|| echo "could not install nodejs: the Netlify plugin test will fail"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kontent_ssg

# The package as users install it: sdist and wheel built (isolated, as pip would) from a clean
# clone of the committed tree, the wheel installed with its dependencies into an empty
# virtual environment, the example site built offline by it and compared with the golden tree.
WHEEL_CHECK := .wheel-check
wheel-check: $(STAMP)
	rm -rf $(WHEEL_CHECK)
	git clone --quiet . $(WHEEL_CHECK)/src
	$(BIN)/python -m build --outdir $(WHEEL_CHECK)/dist $(WHEEL_CHECK)/src
	$(PYTHON) -m venv $(WHEEL_CHECK)/venv
	$(WHEEL_CHECK)/venv/bin/python -m pip install --quiet $(WHEEL_CHECK)/dist/*.whl
	cp -r $(WHEEL_CHECK)/src/example-site $(WHEEL_CHECK)/site
	cd $(WHEEL_CHECK) && venv/bin/kontent-ssg -q build site --offline
	diff -r tests/golden/example-site $(WHEEL_CHECK)/site/public
	@echo "wheel-check: $$(cd $(WHEEL_CHECK)/dist && echo *): installed, built the example site as the golden tree"
	rm -rf $(WHEEL_CHECK)

soak: $(STAMP)
	$(BIN)/python -m pytest tests/soak -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/richtext.py
	$(BIN)/python bench/build.py

# Real-shaped content (components nested 3 deep, two languages) beside Hugo; ~10 minutes at the
# default 1k and 10k articles, so not part of `make bench`. More: BENCH_ARGS="--sizes 100000".
bench-realistic: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/realistic.py $(BENCH_ARGS)

# Webhook -> page on the real-shaped project through the running receiver (1k and 10k, ~3
# minutes). More: BENCH_ARGS="--sizes 10000 --changes 30".
bench-webhook: $(STAMP)
	$(BIN)/python bench/webhook_realistic.py $(BENCH_ARGS)

docs: $(STAMP)
	$(BIN)/python -m tests.support.docs

golden: $(STAMP)
	$(BIN)/python -m tests.support.golden

clean:
	rm -rf $(VENV) $(WHEEL_CHECK) example-site/public example-site/.kontent-ssg/build
