# Two commands for a newcomer: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run dev test setup chromium lint format bench-checkin messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	mkdir -p -m 700 var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# `run`: debug off, a secret key of this installation's own (config/settings/local.py). `dev`: the
# same system with the developer's profile (debug pages, the dev-only key), never on a network
# others can reach. The sample data goes into the embedded SQLite database only, or into
# DATABASE_URL's when DEMO=1.
dev: export DJANGO_SETTINGS_MODULE = config.settings.dev
run dev: setup
	$(BIN)/python manage.py load_demo --only-embedded
	exec $(BIN)/python -m config.launcher

# Browser tests drive Debian's Chromium; install it when it is missing and we can.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; exit 1; fi; \
	fi

test: $(STAMP) chromium
	mkdir -p -m 700 var
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The source strings are English, so the English catalogue is the source text itself: msgen fills
# it, after msgattrib empties the guesses msgmerge marked fuzzy.
messages:
	$(BIN)/python manage.py makemessages -l ja -l en --ignore=.venv --ignore=var --ignore=bench
	msgattrib --clear-fuzzy --empty -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	msgen -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench-checkin: $(STAMP)
	$(BIN)/python bench/checkin.py

# var/ holds the data: the SQLite database, the secret key, the demo passwords, the backups.
# Deleted only when asked: CONFIRM=1, or "yes" typed at the question on a terminal.
clean:
	@echo "make clean deletes $(VENV)/ and var/, with the data in it:"
	@ls -A var 2>/dev/null | sed 's|^|  var/|' || true
	@if [ "$(CONFIRM)" != 1 ]; then \
	  if [ -t 0 ]; then printf 'Type yes to delete them: '; read answer; else answer=; fi; \
	  if [ "$$answer" != yes ]; then echo "Nothing deleted (make clean CONFIRM=1 deletes without asking)."; exit 1; fi; \
	fi
	rm -rf $(VENV) var
