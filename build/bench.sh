#!/usr/bin/env bash
# npm run bench [-- --quick]: set up what the benchmarks need (each step skipped when
# current), run the CPython benchmark, the browser benchmark and the offline visit's
# (JSON lines in bench-results/), then write BENCHMARKS.md and its plots from them. --quick: small sizes
# and short budgets, reported in bench-results/ so the committed report stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
bash build/setup_node.sh
bash build/install_chromium.sh
report=()
for arg in "$@"; do
  if [[ $arg == --quick ]]; then
    report=(--out bench-results/BENCHMARKS.md --plots bench-results/plots)
  fi
done
.venv/bin/python -m cortexkg.bench "$@" --out bench-results/cpython.jsonl
.venv/bin/python build/bench_browser.py "$@" --out bench-results/browser.jsonl
.venv/bin/python build/bench_offline.py --out bench-results/offline.jsonl
exec .venv/bin/python -m cortexkg.bench.markdown bench-results/cpython.jsonl \
  bench-results/browser.jsonl bench-results/offline.jsonl "${report[@]}"
