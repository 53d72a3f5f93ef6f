# The two commands of the README (`make demo`, `make test`) and the developer loop.
# Each target creates .venv if it is missing and installs torch first, pinned, then ospo in editable mode.
# On a machine that already has the torch it wants (a GPU image), pass TORCH= to keep it: `make test TORCH=torch`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
FLAGS ?=
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-notebooks test-compat docs browser-test chromium readme check-sync clean
.DEFAULT_GOAL := test

$(VENV)/.installed: settings.ini setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q "$(TORCH)"
	$(PY) -m pip install --disable-pip-version-check -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## The main job on the built-in default model (the ShapeWorld Janus): the whole OSPO loop, 2 iterations, oracle before/after; resumes.
## Torch at one thread unless OMP_NUM_THREADS says otherwise: on a shared 2-core machine two threads ran 13x slower.
demo: export OMP_NUM_THREADS ?= 1
demo: install
	$(BIN)/ospo run shapeworld outputs/run
	$(BIN)/ospo status outputs/run

## Every test: library == notebooks, all notebooks (minus `slow`/`gpu` cells unless FLAGS names them), the docs build,
## the docs site (and a run report) in headless Chromium.
test: install check-sync test-notebooks test-compat docs browser-test

check-sync: install
	$(BIN)/nbdev_export
	@if [ -n "$$(git status --porcelain -- ospo 2>/dev/null)" ]; then \
	  git status --porcelain -- ospo; echo "FAILED: ospo/ does not match nbs/; run nbdev_export and commit"; exit 1; fi

test-notebooks: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing --flags "$(FLAGS)"  # 2 notebooks at a time, 1 thread each
	@echo "notebooks: $$(find nbs -name '*.ipynb' -not -path '*/.*' -not -name '_*' | wc -l) passed, 0 failed"

## The GPU image's transformers release (5.17) on the notebooks that reach into its internals (the decode step, `generate`,
## `Trainer`'s checkpointing): installed beside the venv's own in .cache/, first on the path for these runs only.
COMPAT_TRANSFORMERS ?= 5.17.0
COMPAT_DIR := .cache/transformers-$(COMPAT_TRANSFORMERS)
test-compat: install
	test -d $(COMPAT_DIR)/transformers || $(PY) -m pip install --disable-pip-version-check -q --no-deps \
	  --target $(COMPAT_DIR) "transformers==$(COMPAT_TRANSFORMERS)" "huggingface-hub>=1.5,<2"
	for nb in 02_sampling 02a_bench 09_train; do \
	  PYTHONPATH=$(abspath $(COMPAT_DIR)) OMP_NUM_THREADS=1 $(BIN)/nbdev_test --path nbs/$$nb.ipynb || exit 1; done
	@echo "notebooks on transformers $$(PYTHONPATH=$(abspath $(COMPAT_DIR)) $(PY) -c 'import transformers; print(transformers.__version__)'): passed"

## The documentation site from the notebooks, offline, into _proc/_docs (see .ci/build_docs.py); fails on a broken page.
docs: install chromium
	$(PY) .ci/build_docs.py

## Debian's Chromium and chromedriver for the browser test, and npm (KaTeX for the docs), installed with apt where missing.
chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium, chromium-driver and npm with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver npm >/dev/null; \
	  else echo "cannot install Chromium here: apt-get needs root (install chromium, chromium-driver and npm)"; fi; fi

## The built site (`make docs`) and a run report in headless Chromium: unrendered formulas, broken links and images,
## JavaScript errors and network requests fail it; screenshots go to _proc/screenshots/.
browser-test: install chromium
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then $(PY) .ci/browser_test.py; \
	else echo "SKIPPED browser test: no Chromium, and apt-get could not install it (see above)"; fi

## README.md from nbs/index.ipynb, offline (nbconvert in place of Quarto).
readme: install
	$(PY) .ci/build_docs.py --readme

clean:
	rm -rf _proc _docs outputs
