# Cited Health: the one entry point for every task. `make` or `make help` lists them.

# -- Variables (override on the command line: make html SPHINXOPTS=...) ---------
PYTHON     ?= python3
VENV       ?= .venv
# -n: nitpicky, every unresolved reference warns; -W: a warning is an error;
# --keep-going: report every warning of a build, not just the first.
SPHINXOPTS ?= -n -W --keep-going
# Parallel read and write (one process per core): 200 articles build in about
# half the time. Our extension is parallel-safe (what it keeps on env merges),
# and the output is byte-for-byte the same as a serial build (`JOBS=1` for that).
JOBS       ?= auto
SOURCEDIR  := docs
BUILDDIR   ?= _build
# The live preview's own environment and output: a command-line build and the
# preview never read or publish each other's unchecked pages.
PREVIEWDIR ?= $(BUILDDIR)/preview
HOST       ?= 127.0.0.1
PORT       ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist). The whole suite runs in one (its session
# fixtures build the real site once per process); the fast layer in one per core.
PYTEST_JOBS ?= 0
FAST_JOBS   ?= auto
NPM        ?= npm
# Lighthouse launches this browser (Debian's, as the browser tests do).
CHROME_PATH ?= /usr/bin/chromium
# Per page; Lighthouse's simulated performance score varies a little run to run.
AUDIT_RUNS ?= 1
# Edits of each kind the preview benchmark makes.
BENCH_EDITS ?= 10
# e.g. BENCH_ARGS="--runs 1 --sizes 1 20 --pdf-sizes 1 --pdf-edit-sizes 1" for a quick try.
BENCH_ARGS ?=
# make review-status REVIEW_ARGS=--json (JSON), REVIEW_ARGS=--fail-on-overdue
# (exit 1 on an overdue review: for an editors' scheduled CI job).
REVIEW_ARGS ?=
# make new-article TITLE="..." [TOPIC="..."] [AUTHOR="..."] [SLUG=...]: the
# recipe reads them from its environment, so no quote in a title can break it.
export TITLE TOPIC AUTHOR SLUG

BIN         := $(VENV)/bin
# Our extension on the import path (for the commands that run it); an outer PYTHONPATH is kept.
EXTPATH     := $(SOURCEDIR)/_ext$${PYTHONPATH:+:$$PYTHONPATH}
SPHINXBUILD := $(BIN)/sphinx-build
# Copies the PDFs into the built site in one step (our extension's publish command).
PDFTOOL     := PYTHONPATH=$(SOURCEDIR)/_ext $(BIN)/python -m citedhealth.publish
# Debian packages the browser tests need. The site and its PDFs need none:
# Typst comes from pip, with its fonts.
APT_PACKAGES := chromium
# Where dpkg is missing (not Debian), these commands stand for the packages.
SYSTEM_COMMANDS := chromium

.DEFAULT_GOAL := help
.PHONY: help venv system-deps html pdf site livehtml bench-preview review-status new-article test test-fast lint check audit bench clean

help: ## List the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The virtual environment is made on first use and refreshed when the pins change.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed ## Make the virtual environment from requirements.txt

system-deps: ## Install Chromium (for the browser tests) from Debian's apt if missing (as root), else say what to install
	@if command -v dpkg-query >/dev/null 2>&1; then \
		missing=$$(for p in $(APT_PACKAGES); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	else \
		missing=$$(for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null 2>&1 || echo $$c; done); \
	fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing from Debian's apt:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "Missing:" $$missing >&2; \
		echo "Install, as root: apt-get install --no-install-recommends $(APT_PACKAGES)" >&2; \
		exit 1; \
	fi

html: venv ## Build the HTML site into _build/html
	$(SPHINXBUILD) -M html $(SOURCEDIR) $(BUILDDIR) $(SPHINXOPTS) -j $(JOBS)

# Our `typst` builder, on the HTML build's doctrees (one environment for both):
# one tagged PDF/UA-1 per article, typeset in-process, only changed ones again.
pdf: venv ## Build one tagged PDF per article into _build/pdf/ (Typst, from pip)
	$(SPHINXBUILD) -b typst -d $(BUILDDIR)/doctrees $(SOURCEDIR) $(BUILDDIR)/pdf $(SPHINXOPTS) -j $(JOBS)

# The PDFs go into the HTML output last, replacing its pdf/ folder in one step,
# so the site never links to a PDF that is not there.
site: pdf html ## Build the deployable site: the HTML with every article's PDF in _build/html/pdf/
	$(PDFTOOL) $(BUILDDIR)/pdf $(BUILDDIR)/html/pdf

# Our warm builder on sphinx-autobuild's server (docs/_ext/citedhealth/preview):
# Sphinx stays in memory between saves, so a saved article is served in about
# 0.1 s rather than a new sphinx-build's 1 s; build errors show in the browser.
# Each build also typesets the PDF of every article it writes
# (citedhealth_pdf_with_html), so "Download PDF" serves the page just saved.
livehtml: venv ## Build (PDFs too), serve on HOST:PORT, rebuild on every save (errors shown in the browser)
	PYTHONPATH=$(SOURCEDIR)/_ext $(BIN)/python -m citedhealth.preview $(SOURCEDIR) $(PREVIEWDIR)/html \
		--host $(HOST) --port $(PORT) $(SPHINXOPTS) -d $(PREVIEWDIR)/doctrees

# The build's own reading of the project (dummy builder: no output), with its
# environment kept in $(BUILDDIR)/review-doctrees, so a second run reads only what changed.
review-status: venv ## Every article's review dates (overdue, due within 30 days, fine) and reading grade
	@PYTHONPATH=$(EXTPATH) $(BIN)/python -m citedhealth.review $(SOURCEDIR) \
		--doctrees $(BUILDDIR)/review-doctrees $(REVIEW_ARGS)

new-article: venv ## Start an article: make new-article TITLE="Does Vitamin D Help Bones?" [TOPIC=...]
	@PYTHONPATH=$(EXTPATH) $(BIN)/python -m citedhealth.new_article $(SOURCEDIR) \
		--title "$$TITLE" --topic "$$TOPIC" --author "$$AUTHOR" --slug "$$SLUG"

bench-preview: venv ## Time save-to-served for the live preview against stock sphinx-autobuild
	$(BIN)/python benchmarks/preview_latency.py $(BENCH_EDITS)

# Chromium is installed (system-deps) only when the browser tests are selected
# and it is missing; `make test PYTEST_ARGS="-m 'not browser'"` installs nothing.
test: venv ## Run the whole test suite (installs Chromium first if the browser tests need it)
	@case "$(PYTEST_ARGS)" in *"not browser"*) ;; *) $(MAKE) --no-print-directory system-deps ;; esac
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) $(PYTEST_ARGS)

# The extension's unit tests on small roots and the upstream contract
# (tests marked `fast`, see tests/conftest.py): seconds, not minutes.
test-fast: venv ## Run the fast layer: unit tests on small roots and the upstream contract (under 30 s)
	$(BIN)/python -m pytest -m fast -n $(FAST_JOBS) $(PYTEST_ARGS)

lint: venv ## Lint Python (ruff), prose (codespell) and .readthedocs.yaml (schema)
	$(BIN)/ruff check docs tests $(wildcard benchmarks)
	$(BIN)/ruff format --check docs tests $(wildcard benchmarks)
	$(BIN)/codespell docs README.md
	$(BIN)/check-jsonschema --builtin-schema vendor.readthedocs .readthedocs.yaml

check: lint test ## Lint, then run every test: what CI runs

# Lighthouse and its dependencies, exactly as package-lock.json pins them
# (`npm ci`); node and npm come from Debian's apt if missing.
node_modules/.installed: package.json package-lock.json
	@command -v $(NPM) >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
		else echo "Missing npm. Install, as root: apt-get install nodejs npm" >&2; exit 1; fi; }
	$(NPM) ci --no-audit --no-fund
	touch $@

audit: html system-deps node_modules/.installed ## Lighthouse (mobile) scores of the built site served on 127.0.0.1
	CHROME_PATH=$(CHROME_PATH) $(BIN)/python benchmarks/audit.py $(BUILDDIR)/html --runs $(AUDIT_RUNS)
# Generated corpora of 1 to 200 articles in a temporary folder, built as `make html`
# and `make pdf` do; each timing is the median of 5 runs. Takes a while (~15 min).
bench: venv system-deps ## Time builds at 1-200 articles, PDFs, live preview, page weight; JSON in _build/bench/
	$(BIN)/python benchmarks/bench.py --sphinxopts "$(SPHINXOPTS) -j $(JOBS)" --output $(BUILDDIR)/bench $(BENCH_ARGS)

clean: ## Remove build output
	rm -rf $(BUILDDIR)
