#!/usr/bin/env bash
# npm run build: set up what the build needs (each step skipped when current), then
# assemble dist/. Arguments go to build_site.py (e.g. --numpy-wheel PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
bash build/setup_node.sh
exec .venv/bin/python build/build_site.py "$@"
