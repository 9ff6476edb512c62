#!/usr/bin/env bash
# Start the Master from a checkout: make .venv (Debian and Ubuntu have no `python` command and
# refuse system-wide pip), install the pinned requirements when they changed, then run
# `main.py` with this script's arguments, e.g. `bash scripts/start.sh admin list`.
# PYTHON names the interpreter that makes the venv (default: python3; 3.11 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "start: no $python here; the Master needs Python 3.11 or newer" \
    "(Debian, Ubuntu: sudo apt install python3 python3-venv)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "start: the Master needs Python 3.11 or newer; $python is" \
    "$("$python" --version 2>&1 || echo 'not runnable')" >&2
  exit 1
fi

# A .venv left without pip (a venv made while ensurepip was missing) is made again.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "start: $python cannot make a virtual environment (no ensurepip);" \
      "on Debian and Ubuntu: sudo apt install python3-venv" >&2
    exit 1
  fi
  echo "start: making .venv with $python" >&2
  rm -rf .venv
  "$python" -m venv .venv
fi

# Installed again only when requirements.txt changed since the last install here.
digest=$(.venv/bin/python -c \
  'import hashlib; print(hashlib.sha256(open("requirements.txt", "rb").read()).hexdigest())')
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$digest" ]; then
  echo "start: installing requirements.txt into .venv" >&2
  # --no-compile: Python compiles what it imports on first use; compiling every installed
  # module up front doubles the install's time.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile \
    -r requirements.txt
  echo "$digest" >.venv/.requirements.sha256
fi

exec .venv/bin/python main.py "$@"
