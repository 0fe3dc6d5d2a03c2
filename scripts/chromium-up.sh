#!/usr/bin/env bash
# Make sure a Chromium exists for page analysis and its tests: Debian's `chromium` package where
# apt is available (as root, or through sudo), else the browser Playwright downloads.
# Idempotent: does nothing when one is already found. Prints the path it found.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}

found() { "$PYTHON" -c 'from adapters.web.browser import find_chromium; p = find_chromium(); print(p or ""); raise SystemExit(0 if p else 1)'; }

if found; then exit 0; fi
if command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian's chromium (about a minute)..." >&2
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
else
  "$PYTHON" -m playwright install chromium
fi
found
