#!/usr/bin/env bash
# The README's test command (npm test): set up what the tests need (each step skipped
# when current), then run every test: CPython unit tests and Chromium browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
bash build/setup_node.sh
bash build/install_chromium.sh
exec .venv/bin/python -m pytest "$@"
