# pzcat: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PZCAT   = $(VENV)/bin/pzcat
HOST   ?= 127.0.0.1
PORT   ?= 8001
JOBS   ?= 2

.PHONY: install demo build test lint lint-workflows bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pzcat needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed ## create .venv and install pzcat with its dependencies

build: install ## validate the catalog, build the site and the Datasette previews
	$(PZCAT) build

# The demo signs tokens with a throw-away secret unless PZCAT_SECRET is set (never commit a real one).
DEMO_SECRET ?= pzcat-demo-secret-not-for-production

demo: build ## validate, build everything and serve it at one local URL
	@export PZCAT_SECRET="$${PZCAT_SECRET:-$(DEMO_SECRET)}"; \
	  echo "demo download token (valid 1 day; paste it at /-/token or send it as a Bearer header):"; \
	  $(PZCAT) token create demo-user --expires 1d 2>/dev/null; \
	  exec $(PZCAT) serve --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .

# workflows, issue forms and the Dockerfile: any finding fails (also tests/github/test_gh_workflows.py)
lint-workflows: install
	$(VENV)/bin/zizmor --offline --persona=pedantic --no-progress .github/
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-issue-forms \
	  .github/ISSUE_TEMPLATE/submit-product.yml .github/ISSUE_TEMPLATE/combine-run.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-issue-config .github/ISSUE_TEMPLATE/config.yml
	$(VENV)/bin/hadolint Dockerfile

# The packages whose doctests run with the tests. `ruff format --check .` holds every Python file
# to the formatter (run `.venv/bin/ruff format .` before committing).
PACKAGES = pzcat pzcat_datasette site_builder pipelines pzcat_github

test: install lint-workflows ## lint, types, then the whole test suite and the doctests
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n $(JOBS) --dist loadfile -q
	$(PY) -m pytest --doctest-modules $(PACKAGES) -q -n 0 -p no:cacheprovider

bench: install ## run every benchmark (minutes; prints and saves figures in benchmarks/results/)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf build site test-artifacts .pytest_cache
