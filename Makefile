VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SCAN_VENV := .venv-scan
SCAN_INSTALLED := $(SCAN_VENV)/.installed
STAGE ?= dev
DATA_DIR ?= .data/dynamodb
WEB := clients/web
WEB_INSTALLED := $(WEB)/node_modules/.installed
WEB_BUILT := $(WEB)/dist/app.js

.PHONY: fit run test lint web web-package package bench audit import-words import-activities frontend-config console-events reset-data clean

BASE_PYTHON := $(shell sh devtools/runtime_python.sh)
PYTHON_VERSION = import sys; print(sys.version_info[:2])

# The virtualenv is (re)built whenever a requirements file or the base Python changes.
$(INSTALLED): requirements.txt requirements-dev.txt devtools/runtime_python.sh
	test "$$($(PYTHON) -c '$(PYTHON_VERSION)' 2>/dev/null)" = "$$($(BASE_PYTHON) -c '$(PYTHON_VERSION)')" \
	  || $(BASE_PYTHON) -m venv --clear $(VENV)
	$(PYTHON) -m pip install --quiet pip==26.2.1  # chalice 1.34 needs pip<26.3
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

$(SCAN_INSTALLED): requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $(SCAN_INSTALLED)

FITTING := functions/fitting
FITTING_INSTALLED := $(FITTING)/node_modules/.installed

# FSRS-6 parameters fitted per learner (functions/fitting, Node: the MIT binding of fsrs-rs).
$(FITTING_INSTALLED): $(FITTING)/package.json $(FITTING)/package-lock.json
	cd $(FITTING) && npm ci --no-audit --no-fund --loglevel=error
	touch $(FITTING_INSTALLED)

$(WEB_INSTALLED): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_INSTALLED)

# The browser client and the /app page of make run (clients/web), types generated from openapi.yaml.
$(WEB_BUILT): $(WEB_INSTALLED) $(wildcard $(WEB)/src/*.ts) $(WEB)/static/index.html openapi.yaml
	cd $(WEB) && npm run --silent build

web: $(WEB_BUILT)

# The client as the npm package a frontend installs: out/web/lang-portal-study-sessions-client-<version>.tgz
web-package: $(WEB_INSTALLED)
	mkdir -p out/web
	cd $(WEB) && npm pack --pack-destination ../../out/web --loglevel=error

run: $(INSTALLED) $(WEB_BUILT)
	$(PYTHON) -m devtools.local_run

test: $(INSTALLED) $(SCAN_INSTALLED) lint $(WEB_BUILT) $(FITTING_INSTALLED)
	cd $(WEB) && npm test --silent
	cd $(FITTING) && node --test
	$(PYTHON) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

package: $(INSTALLED)
	$(PYTHON) -m devtools.package --stage $(STAGE) --out out/$(STAGE)

# Every learner due a fit, fitted now against make run's DynamoDB Local (README, "Personalised scheduling").
fit: $(INSTALLED) $(FITTING_INSTALLED)
	$(PYTHON) -m devtools.fit_due

bench: $(INSTALLED)
	$(PYTHON) -m devtools.bench

audit: $(INSTALLED)
	$(PYTHON) -m devtools.audit --stage $(or $(AUDIT_STAGE),local) $(if $(REBUILD),--rebuild) $(if $(LEARNER),--learner $(LEARNER))

import-words: $(INSTALLED)
	$(PYTHON) -m devtools.import_words words --file "$(FILE)" --group "$(GROUP)" --stage $(if $(filter command line,$(origin STAGE)),$(STAGE),local)

import-activities: $(INSTALLED)
	$(PYTHON) -m devtools.import_words activities --file "$(FILE)" --stage $(if $(filter command line,$(origin STAGE)),$(STAGE),local)

# No default stage here: without STAGE, or with an empty one, it says what it needs (STAGE=local for make run's settings).
frontend-config: $(INSTALLED)
	@$(PYTHON) -m devtools.frontend_config $(if $(and $(filter command line environment,$(origin STAGE)),$(strip $(STAGE))),--stage $(STAGE))

console-events: $(INSTALLED)
	$(PYTHON) -m devtools.console_events --stage $(STAGE) $(if $(CLIENT_ID),--client-id $(CLIENT_ID))

reset-data:
	rm -rf "$(DATA_DIR)"

clean:
	rm -rf $(VENV) $(SCAN_VENV) .cache out .pytest_cache .hypothesis $(WEB)/node_modules $(WEB)/dist $(WEB)/lib $(WEB)/LICENSE
