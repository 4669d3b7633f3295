# Muster's developer commands. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint npm-test-packages sdl lock screenshots clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

demo: install
	$(BIN)/muster demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	rm -f $(VENV)/alembic-check.db
	MUSTER_DATABASE_URL=sqlite+aiosqlite:///$(VENV)/alembic-check.db $(BIN)/alembic upgrade head
	MUSTER_DATABASE_URL=sqlite+aiosqlite:///$(VENV)/alembic-check.db $(BIN)/alembic check

# The npm packages the tests drive (the OpenID Provider, axe-core, the HTTP audit), from their
# lock files, whenever npm is there; without npm those tests are skipped with the reason.
NPM_LOCKS := $(wildcard tests/*/package-lock.json)
NPM_INSTALLED := $(NPM_LOCKS:package-lock.json=node_modules/.package-lock.json)

npm-test-packages: $(NPM_INSTALLED)

tests/%/node_modules/.package-lock.json: tests/%/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/$* --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the tests that need tests/$* will be skipped"; fi

test: lint npm-test-packages
	$(BIN)/pytest

# Write the GraphQL schema's SDL to schema.graphql (a test fails while it is stale).
sdl: install
	$(BIN)/python -c "from schema import schema; print(schema.as_str())" > schema.graphql

# Screenshots of every page, light and dark (and on a phone), into docs/screenshots/.
screenshots: install
	MUSTER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/e2e/test_pages.py

# Re-pin every dependency (after editing pyproject.toml); commit requirements.lock.
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
		-o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache muster-demo.db*
