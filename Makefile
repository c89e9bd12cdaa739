# Optimization for Deep Learning — every task of the course is one make target.
#
#   make lab      set up .venv (first time, or when pyproject.toml / the lock changed) and start
#                 JupyterLab on the course; extra options: make lab ARGS="--no-browser --port 8899"
#   make test     set up .venv likewise, then the unit/property tests and every notebook (nbval)
#   make help     the other targets
#
# The environment is a plain venv: python3.11 -m venv .venv, course_lib installed editable with
# its dev extra, every version held to requirements-lock.txt (-c constraints), and a Jupyter
# kernel "course" registered inside the venv (--sys-prefix). The conda route is in README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LOCK := requirements-lock.txt
STAMP := $(VENV)/.course-installed
KERNEL_NAME := course
KERNEL_DISPLAY := Optimization for DL (course)

# Options passed through to the command a target runs (jupyter lab, the benchmarks, the grader).
ARGS ?=
# make lab: the folder JupyterLab serves (tests/test_browser.py serves a copy of the notebooks)
LAB_ROOT ?= $(CURDIR)
# make test: pytest-xdist workers (2 cores on CI); extra pytest options; notebooks for nbval.
JOBS ?= 2
PYTEST_ARGS ?=
# exercises/ are not run by nbval: their answer cells raise NotImplementedError and their test
# cells fail by design. tests/test_exercises.py executes them and checks exactly that.
NBVAL_NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb solutions/*.ipynb))
NBVAL_CELL_TIMEOUT ?= 600
# make grade
SUBMISSIONS ?=
OUT ?= grades/grades.csv
TIMEOUT ?=
# make slides / make book: notebooks are executed once into build/executed/ (they are committed
# without outputs) and published from there. reveal.js and MathJax come from npm, pinned by
# course_lib/publish/web/package-lock.json, and are copied next to the decks and into the book,
# so both work without a network.
EXECUTED := build/executed
WEB := build/web
WEB_STAMP := $(WEB)/node_modules/.installed
SLIDES_DIR := build/slides
BOOK_DIR := build/book
SLIDE_NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9][0-9]*_*.ipynb))
DECKS := $(patsubst notebooks/%.ipynb,$(SLIDES_DIR)/%.slides.html,$(SLIDE_NOTEBOOKS))
BOOK_NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]*_*.ipynb solutions/[0-9][0-9]*_*.ipynb))
# A notebook's outputs depend on the course's code; how they are published does not.
COURSE_CODE := $(shell find course_lib -name '*.py' -not -path 'course_lib/publish/*')
PUBLISH_CODE := $(shell find course_lib/publish -type f -not -name '*.pyc')

# Jupyter refuses to start as root (CI, containers) without being told it is on purpose.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export JUPYTER_PLATFORM_DIRS := 1
# debugpy (inside ipykernel) warns about frozen modules on every kernel start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help env lab test bench exercises grade slides book animations unit-tests autoencoder-race readme hooks lock clean \
	distclean

help:
	@echo "make lab        set up .venv and start JupyterLab (ARGS=\"--no-browser --port 8899\")"
	@echo "make test       unit/property tests + every lecture and solution notebook (nbval)"
	@echo "make bench      benchmarks -> BENCHMARKS.md (ARGS=--quick for a short run)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make grade      SUBMISSIONS=\"submitted/\" OUT=grades/grades.csv [TIMEOUT=seconds] [ARGS=\"--jobs 4\"]"
	@echo "make slides     notebooks/*.ipynb -> reveal.js slides in $(SLIDES_DIR)/ (offline)"
	@echo "make book       the executed course as a static site in $(BOOK_DIR)/html/ (offline)"
	@echo "make animations lecture 03's optimizer race as GIFs -> build/animations/ (Pillow, no ffmpeg)"
	@echo "make unit-tests lecture 05a's full run -> course_lib/results/unit_tests_full.csv.gz (~20 s, 2 cores)"
	@echo "make autoencoder-race lecture 04's Hessian-free claim test -> course_lib/results/ (~30 min)"
	@echo "make readme     regenerate README.md's course map from course_lib/publish/course_map.py"
	@echo "make hooks      git filter that strips notebook outputs on commit (nbstripout)"
	@echo "make lock       regenerate $(LOCK) from a fresh venv"
	@echo "make clean      remove build products; make distclean also removes .venv"

# ---------------------------------------------------------------- environment
$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found. Install Python 3.11," \
	  "pass another interpreter (make lab PYTHON=python3.12), or use the conda route in" \
	  "README.md." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstalls whenever pyproject.toml or the lock is newer than the last install. The settings
# override makes Markdown (this README) open rendered in JupyterLab, not in the text editor.
$(STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL_NAME) \
	  --display-name "$(KERNEL_DISPLAY)" >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}}}' \
	  > $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

env: $(STAMP)

# ---------------------------------------------------------------- the two commands
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(LAB_ROOT)" --LabApp.default_url=/lab/tree/README.md \
	  $(ALLOW_ROOT) $(ARGS)

# One pytest run, so one summary line. --dist loadfile keeps all cells of a notebook on one
# worker, in order, in one kernel. Matplotlib draws off-screen (Agg) in the tests and kernels.
# The decks and the book are built first, both notebooks executed on two cores at once, so the
# browser tests find them ready. A build that fails does not stop the run: the deck and book
# tests run make again and report the failure (and the other tests still run). Without npm
# the deck and book tests skip (on CI they fail).
# One BLAS thread per process: pytest-xdist workers, nbval kernels and the browser's kernels
# already fill the cores, and several threads per small matrix product made batched runs up to
# ten times slower (lecture 02's SGD sweep: 106 s with OpenBLAS's threads, 16 s with one).
test bench: export OMP_NUM_THREADS := 1
test bench: export OPENBLAS_NUM_THREADS := 1
test bench: export MKL_NUM_THREADS := 1
test: export MPLBACKEND := Agg
test: $(STAMP)
	-@if command -v npm >/dev/null; then $(MAKE) -j $(JOBS) slides book; fi
	$(PY) -m pytest -n $(JOBS) --dist loadfile --durations=15 \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) \
	  $(PYTEST_ARGS) tests $(NBVAL_NOTEBOOKS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 0; fi; exit $$rc; }

# ---------------------------------------------------------------- course tasks
bench: export MPLBACKEND := Agg
bench: $(STAMP)
	$(PY) -m benchmarks.run $(ARGS)

exercises: $(STAMP)
	$(PY) -m course_lib.exercises $(ARGS)

grade: export MPLBACKEND := Agg
grade: $(STAMP)
	@[ -n "$(SUBMISSIONS)" ] || { echo 'make grade: name the notebooks or folders to grade, e.g.' \
	  'make grade SUBMISSIONS="submitted/" OUT=grades/grades.csv' >&2; exit 2; }
	mkdir -p "$(dir $(OUT))"
	$(PY) -m course_lib.grade $(SUBMISSIONS) --out $(OUT) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	  $(ARGS)

# ---------------------------------------------------------------- publishing
$(WEB_STAMP): course_lib/publish/web/package.json course_lib/publish/web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found. The slides and the book bundle" \
	  "reveal.js and MathJax from npm (once): install Node.js and npm." >&2; exit 1; }
	mkdir -p $(WEB)
	cp $^ $(WEB)/
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Inline figures (the kernel's default backend), widget state saved with the notebook. Kept
# between runs (make would delete them as intermediate files of the decks).
.PRECIOUS: $(EXECUTED)/%.ipynb
$(EXECUTED)/%.ipynb: %.ipynb $(COURSE_CODE) $(STAMP)
	$(PY) -m course_lib.publish execute $< $@

$(SLIDES_DIR)/%.slides.html: $(EXECUTED)/notebooks/%.ipynb $(PUBLISH_CODE) $(WEB_STAMP)
	$(PY) -m course_lib.publish slides $< --out $(SLIDES_DIR) --node-modules $(WEB)/node_modules

# Open build/slides/NN_*.slides.html in a browser (no network needed), or serve the folder.
slides: $(STAMP) $(DECKS)
	@[ -n "$(DECKS)" ] || { echo "make slides: no notebooks in notebooks/" >&2; exit 1; }

$(BOOK_DIR)/html/index.html: $(BOOK_NOTEBOOKS:%=$(EXECUTED)/%) $(wildcard exercises/*.ipynb) \
  $(PUBLISH_CODE) $(WEB_STAMP)
	$(PY) -m course_lib.publish book --executed $(EXECUTED) --out $(BOOK_DIR) \
	  --node-modules $(WEB)/node_modules

# Open build/book/html/index.html, or: python -m http.server --directory build/book/html
book: $(STAMP) $(BOOK_DIR)/html/index.html

readme: $(STAMP)
	$(PY) -m course_lib.publish readme

# Lecture 03's race (7 optimizers x 3 surfaces, with and without gradient noise) as GIFs, for
# slides or a web page that cannot run the notebook's JavaScript player.
animations: export MPLBACKEND := Agg
animations: $(STAMP)
	$(PY) -m course_lib.race --out build/animations $(ARGS)

# Lecture 05a's whole catalogue (Schaul et al.) x eight optimizers; the notebook reads the file
# this writes and checks that its own quick run equals the file's rows.
unit-tests: $(STAMP)
	$(PY) -m course_lib.unit_tests --full --out course_lib/results/unit_tests_full.csv.gz $(ARGS)

# Lecture 04: Hessian-free against tuned first-order methods on the digits' deep autoencoder.
autoencoder-race: export MPLBACKEND := Agg
autoencoder-race: $(STAMP)
	$(PY) -m course_lib.autoencoder_race $(ARGS)

# ---------------------------------------------------------------- maintenance
hooks: $(STAMP)
	$(BIN)/nbstripout --install --attributes .gitattributes

# A fresh venv with the newest releases the ranges allow, frozen. Review the diff, run make test.
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip
	build/lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Exact versions of everything CI installs (Python 3.11, Linux x86_64), used as -c"; \
	  echo "# constraints by make lab / make test. Regenerate with make lock after changing"; \
	  echo "# pyproject.toml's ranges."; \
	  build/lock-venv/bin/python -m pip freeze --all --exclude-editable; } > $(LOCK)
	rm -rf build/lock-venv
	@echo "wrote $(LOCK); the next make lab / make test reinstalls from it"

clean:
	rm -rf build .pytest_cache .hypothesis *.egg-info course_lib.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
