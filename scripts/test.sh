#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# A real PostgreSQL server for the tests that run the store on it (they start a private cluster).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# Headless Chromium for the panel's browser tests (Debian's build: Playwright downloads none),
# with a CJK font so that the Chinese and Japanese screenshots show text, not boxes.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wqy; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
fi

# A container engine and debootstrap for the image tests (tests/image): they start their own
# dockerd and make the image's base from Debian's packages, with no registry of images.
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
for dir in tests/node bench examples/js; do
  if [ -f "$dir/package.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
