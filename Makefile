# One command runner; CI calls `make test` (see .ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
LOCK := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
# Debian's libraries for Chromium, WeasyPrint (pango, cairo, harfbuzz-subset) and the PDF tests.
DEBIAN_DEPS := chromium fonts-dejavu-core poppler-utils libpango-1.0-0 libpangoft2-1.0-0 \
	libcairo2 libharfbuzz-subset0

.PHONY: install run demo test check bench browser-deps services catalogues catalogues-update lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The exact versions of the lock file, checked against their hashes; then Éclair itself.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@# A dependency added to pyproject.toml but not yet locked: say so (run `make lock`).
	$(BIN)/pip check
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
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null \
	  && /sbin/ldconfig -p | grep -q libharfbuzz-subset.so.0 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_DEPS); \
	  else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_DEPS); fi; }

check: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The suite runs on both stores and across processes: PostgreSQL (127.0.0.1:5432, database
# `test`) and Redis (127.0.0.1:6379). Started here when installed but stopped; the tests
# that need them fail (never skip) when they still cannot be reached.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { command -v pg_ctlcluster >/dev/null && \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -1) main start; } || true
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { command -v redis-server >/dev/null && \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	  --dir /var/lib/redis --logfile /var/log/redis/ci.log; } || true

test: install browser-deps services check
	# The load benchmark's short mode: every acknowledged answer counted exactly once.
	$(BIN)/python bench/load.py --short
	ECLAIR_REQUIRE_BROWSER=1 ECLAIR_REQUIRE_POSTGRES=1 ECLAIR_REQUIRE_REDIS=1 \
	  $(BIN)/python -m pytest -p no:cacheprovider

catalogues-update: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --no-location --sort-output --ignore-dirs=".* _* .venv tests bench" -o facilitation/locales/messages.pot .
	# fr_CA holds only what differs from fr_FR (its fallback): it is edited by hand.
	for locale in fr_FR en; do $(BIN)/pybabel update -i facilitation/locales/messages.pot -d facilitation/locales -D messages -l $$locale --no-fuzzy-matching || exit 1; done

# Pins every dependency of pyproject.toml, runtime and test, with their hashes, for every
# platform; pins already in the lock file stay unless pyproject.toml asks otherwise
# (`make lock ARGS=--upgrade` takes the newest of everything). The runtime lock (the
# container's) is the same pins without the test tools.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --generate-hashes --universal \
	  --python-version 3.11 --custom-compile-command "make lock"
lock: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv>=0.5'
	$(UV_COMPILE) --extra test -o $(LOCK) $(ARGS)
	$(UV_COMPILE) -c $(LOCK) -o $(RUNTIME_LOCK)

bench: install
	$(BIN)/python bench/load.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
