# Paydesk. `make demo` runs the app on the embedded default; `make test` runs the tests.
# `make help` lists every target.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The real services, for `make test-services` and `make stack` (override on the command line).
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/paydesk
REDIS_URL ?= redis://127.0.0.1:6379/0

# Webhook settings of the demo only: anyone who reads this file knows them.
DEMO_STRIPE_WEBHOOK_SECRET ?= whsec_paydesk_demo_only
DEMO_PAYPAL_WEBHOOK_ID ?= WEBHOOK_ID
# The demo shop signs its customers' identities for the chat widget with this.
DEMO_CHAT_IDENTITY_SECRET ?= paydesk_demo_chat_identity_only
EVENT ?= payment_intent.payment_failed

# The browser tests drive Debian's Chromium (Playwright's own browser download does not work
# offline; with fonts, emoji included, for its screenshots) and the translation tests run GNU
# gettext; `make test` installs them when missing.
CHROMIUM ?= /usr/bin/chromium
XGETTEXT ?= /usr/bin/xgettext
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

URL := http://$(if $(filter 0.0.0.0 ::,$(HOST)),localhost,$(HOST)):$(PORT)

# The embedded default: SQLite, in-memory channel layer, Celery tasks run in-process.
EMBEDDED := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_TASK_ALWAYS_EAGER
DEMO := $(EMBEDDED) DEBUG=1 STRIPE_WEBHOOK_SECRETS=$(DEMO_STRIPE_WEBHOOK_SECRET) \
	PAYPAL_WEBHOOK_ID=$(DEMO_PAYPAL_WEBHOOK_ID) \
	DEMO_CHECKOUT=1 CHAT_IDENTITY_SECRET=$(DEMO_CHAT_IDENTITY_SECRET) \
	EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH=sent-mail \
	SITE_URL=$(URL) CUSTOMER_RETURN_URL=$(URL)/demo/checkout/
SERVICES := env DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL)

.PHONY: help venv install tools demo demo-webhook test test-services lint stack clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: $(BIN)/python ## create .venv (with python3.11, or PYTHON=…)

install: $(VENV)/.installed ## install requirements/lock.txt into .venv (when the lock changed)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements/lock.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	touch $@

tools: $(CHROMIUM) $(XGETTEXT) ## install what the tests need from Debian (when missing)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (apt-get)…"
	$(APT_INSTALL) chromium fonts-dejavu-core fonts-noto-color-emoji \
		|| ($(SUDO) apt-get update && $(APT_INSTALL) chromium fonts-dejavu-core fonts-noto-color-emoji)

$(XGETTEXT):
	@echo "Installing GNU gettext for the translation tests (apt-get)…"
	$(APT_INSTALL) gettext || ($(SUDO) apt-get update && $(APT_INSTALL) gettext)

demo: install ## migrate, load the demo data, serve on http://127.0.0.1:8000/ (PORT=…)
	$(DEMO) $(BIN)/python manage.py migrate --noinput -v0
	$(DEMO) $(BIN)/python manage.py collectstatic --noinput -v0
	$(DEMO) LOG_LEVEL=WARNING $(BIN)/python manage.py load_demo_data
	@echo
	@echo "Paydesk demo: $(URL)/  (admin: $(URL)/admin/, API docs: $(URL)/api/docs/)"
	@echo "Stripe webhooks: POST $(URL)/webhooks/stripe/  signing secret $(DEMO_STRIPE_WEBHOOK_SECRET)"
	@echo "  send a signed sample from another terminal: make demo-webhook [EVENT=charge.failed]"
	@echo "PayPal webhooks: POST $(URL)/webhooks/paypal/  webhook id $(DEMO_PAYPAL_WEBHOOK_ID)"
	@echo "Demo shop with the chat widget: $(URL)/demo/checkout/  (?email=… plays another customer)"
	@echo "Emails (to customers, agents, admins) are written to sent-mail/; beat runs SLA and deadline reminders."
	@echo "Stop with Ctrl-C."
	@echo
# Beat runs the periodic work (SLA reminders, dispute deadlines, the digest, sweeps); with Celery
# eager it runs each task itself, on the same SQLite file. Ctrl-C stops it with the server.
	$(DEMO) $(BIN)/celery -A helpdesk beat --loglevel WARNING --pidfile= &
	exec $(DEMO) $(BIN)/uvicorn helpdesk.asgi:application --host $(HOST) --port $(PORT) --ws-per-message-deflate false

demo-webhook: ## sign a sample Stripe event (EVENT=…) and post it to the running demo
	@body=$$(sed -e "s/evt_000000000000000000000000/evt_demo_$$(date +%s%N)/" \
		-e "s/\"created\": [0-9]*/\"created\": $$(date +%s)/" \
		payments/demo_payloads/stripe/$(EVENT).json); \
	t=$$(date +%s); \
	sig=$$(printf '%s.%s' "$$t" "$$body" \
		| openssl dgst -sha256 -hmac '$(DEMO_STRIPE_WEBHOOK_SECRET)' -r | cut -d' ' -f1); \
	curl -sS -H "Stripe-Signature: t=$$t,v1=$$sig" -H 'Content-Type: application/json' \
		--data-binary "$$body" $(URL)/webhooks/stripe/; echo

test: install tools ## run the tests on the embedded default (not those marked `services`)
	$(EMBEDDED) $(BIN)/pytest -m "not services" $(PYTEST_ARGS)

test-services: install tools ## run every test against PostgreSQL and Redis (DATABASE_URL=…, REDIS_URL=…)
	$(SERVICES) $(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

stack: install ## production shape without Docker: 2 web processes (8001, 8002), worker, beat
	@base='$(DATABASE_URL)'; base="$${base%%\?*}"; db="$${base##*/}"; admin="$${base%/*}/postgres"; \
	if ! psql "$$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$$db'" | grep -q 1; then \
		createdb --maintenance-db="$$admin" "$$db"; echo "Created database $$db."; \
	fi
	$(SERVICES) $(BIN)/python manage.py migrate --noinput
	$(SERVICES) $(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Paydesk stack: http://127.0.0.1:8001/ and http://127.0.0.1:8002/ (Ctrl-C stops all)"
# .env holds the docker-compose settings (hostnames like `postgres`): honcho must not read it.
	exec $(SERVICES) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -e /dev/null

clean: ## remove generated files and the demo database (keeps .venv)
	rm -rf staticfiles .pytest_cache .ruff_cache .hypothesis test-artifacts sent-mail
	rm -f db.sqlite3 db.sqlite3-shm db.sqlite3-wal
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
