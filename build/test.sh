#!/usr/bin/env bash
# The README's test command (npm test): set up what the tests need (each step skipped
# when current), then run every test: CPython unit tests and Chromium browser tests.
# With no arguments the unit tests (CPU-bound, no browser) run beside the browser tests
# (which wait on Chromium much of the time), so the two cores share the work; their
# report follows the browser tests'. Arguments go to one pytest run, as given.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
bash build/setup_node.sh
bash build/install_chromium.sh
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
unit_log=$(mktemp)
trap 'rm -f "$unit_log"' EXIT
.venv/bin/python -m pytest tests/unit -p no:cacheprovider --durations=15 >"$unit_log" 2>&1 &
unit=$!
browser_status=0
# two workers, each test file on one of them (a module's shared page and server stay
# together), handed out heaviest first as tests/browser/conftest.py orders them (xdist
# would reorder files by their number of tests, leaving the few long ones for the end);
# the first worker to start builds dist/ (conftest.py)
.venv/bin/python -m pytest tests/browser -n 2 --dist loadfile --no-loadscope-reorder --durations=15 || browser_status=$?
unit_status=0
wait "$unit" || unit_status=$?
echo "--- CPython unit tests (run beside the browser tests) ---"
cat "$unit_log"
echo "npm test: browser tests exit $browser_status, unit tests exit $unit_status"
[ "$browser_status" -eq 0 ] && [ "$unit_status" -eq 0 ]
