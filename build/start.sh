#!/usr/bin/env bash
# npm start: set up and build (both skipped when current), then serve dist/ on
# http://127.0.0.1:${PORT:-8000}/ until interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/build.sh
exec .venv/bin/python build/serve.py
