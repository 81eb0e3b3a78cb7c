#!/usr/bin/env bash
# Makes sure the browser tests have a Chromium: $CORTEXKG_CHROMIUM if set, else Debian's
# `chromium` on PATH, which this installs with apt-get when running as root. Idempotent:
# does nothing when the browser is already there. Elsewhere it only explains the options;
# the tests can also use Playwright's own browser (`python -m playwright install chromium`).
set -euo pipefail

if [ -n "${CORTEXKG_CHROMIUM:-}" ]; then
  if [ -x "$CORTEXKG_CHROMIUM" ]; then
    exit 0
  fi
  echo "setup: CORTEXKG_CHROMIUM=$CORTEXKG_CHROMIUM is not an executable file" >&2
  exit 1
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium with apt-get"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
else
  echo "setup: no chromium on PATH. Install it, set CORTEXKG_CHROMIUM to a Chromium binary," >&2
  echo "       or run: .venv/bin/python -m playwright install chromium" >&2
fi
