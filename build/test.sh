#!/usr/bin/env bash
# The README's test command (npm test): set up, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
exec .venv/bin/python -m pytest "$@"
