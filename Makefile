# One command runner; CI calls `make test` (see .ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: install run demo test check bench browser-deps catalogues catalogues-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed catalogues

catalogues: | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy --statistics -d facilitation/locales -D messages

run: install
	$(BIN)/python run.py $(ARGS)

demo: install
	$(BIN)/python run.py --demo $(ARGS)

# Debian's Chromium drives the browser tests; browser downloads do not work here.
browser-deps:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libcairo2; \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libcairo2; fi; }

check: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install browser-deps check
	# The load benchmark's short mode: every acknowledged answer counted exactly once.
	$(BIN)/python bench/load.py --short
	ECLAIR_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider

catalogues-update: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location --sort-output --ignore-dirs=".* _* .venv tests bench" -o facilitation/locales/messages.pot .
	# fr_CA holds only what differs from fr_FR (its fallback): it is edited by hand.
	for locale in fr_FR en; do $(BIN)/pybabel update -i facilitation/locales/messages.pot -d facilitation/locales -D messages -l $$locale --no-fuzzy-matching || exit 1; done

bench: install
	$(BIN)/python bench/load.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
