# The two commands of the README, and what they need. Everything is installed here,
# nothing by hand: a virtualenv in .venv, and Debian packages when missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# poppler: pdfsig/pdftoppm/pdftotext for checking sealed PDFs; the fonts are embedded in every PDF.
# The Song, Kai and Hei packages are the fonts' fallbacks; the faces used are Fandol's (FONTS_BUILD below).
# chromium: the browser tests drive Debian's Chromium with Playwright.
# libnss3-tools: certutil, to trust Gongwen's root in the NSS store pdfsig checks seals against;
# openssl: the tests check Gongwen's RFC 3161 timestamps with `openssl ts -verify`.
# kannel, kannel-extras: the SMS gateway (bearerbox, smsbox) and its fake SMS centre (fakesmsc), which the
# tests start on loopback to send real texts through.
# ocrmypdf, tesseract-ocr, tesseract-ocr-chi-sim: paper and external documents' scans made searchable (OCR);
# libreoffice-writer-nogui: the text of their .doc and .wps editable files (soffice --headless).
APT_PACKAGES := poppler-utils poppler-data fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei chromium libnss3-tools openssl \
	kannel kannel-extras ocrmypdf tesseract-ocr tesseract-ocr-chi-sim libreoffice-writer-nogui

.PHONY: demo test services

# Start Gongwen with the demo organisation on SQLite (var/gongwen.db) and print where to log in.
demo: $(STAMP)
	$(VENV)/bin/gongwen demo
	$(VENV)/bin/gongwen serve --host $${HOST:-127.0.0.1} --port $${PORT:-5000}

# Run every test, on SQLite and PostgreSQL, plus the Celery path on Redis.
test: $(STAMP) services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

# The Fandol faces (仿宋, 宋, 楷, 黑), unpacked from Debian's texlive-lang-chinese without installing
# it (it pulls all of TeX Live) and converted to TrueType, once; see handlers/documents/typesetting/fonts_build.py.
FONTS_BUILD := handlers/documents/typesetting/fonts_build.py

$(STAMP): pyproject.toml package.json $(FONTS_BUILD)
	@if [ -n "$(APT_PACKAGES)" ]; then missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi; fi
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	npm install --no-audit --no-fund --loglevel=error   # package.json: bootstrap, bootstrap-icons, bpmn-js, pdfjs-dist, axe-core (tests), served from node_modules/
	$(PY) -m handlers.documents.typesetting.fonts_build   # into var/fonts (GONGWEN_FONT_DIR); skips faces there
	touch $(STAMP)

# PostgreSQL and Redis for the tests: started when they are installed but down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { command -v pg_ctlcluster >/dev/null && \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 1; } || true
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { command -v redis-server >/dev/null && \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	    --dir /var/lib/redis --logfile /var/log/redis/ci.log && sleep 1; } || true
