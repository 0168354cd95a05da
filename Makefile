# Two commands for a newcomer: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup chromium lint format bench-checkin messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: setup
	$(BIN)/python manage.py load_demo
	exec $(BIN)/python -m config.launcher

# Browser tests drive Debian's Chromium; install it when it is missing and we can.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; exit 1; fi; \
	fi

test: $(STAMP) chromium
	mkdir -p var
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

clean:
	rm -rf $(VENV) var
