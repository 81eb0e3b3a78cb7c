#!/usr/bin/env bash
# Installs the npm dependencies (the Pyodide runtime) exactly as package-lock.json pins
# them. Idempotent: `npm ci` runs only when node_modules is missing or older than the lock
# file (npm writes node_modules/.package-lock.json on every install).
set -euo pipefail
cd "$(dirname "$0")/.."

installed=node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
  echo "setup: npm ci"
  # the runtime is a development dependency (the package ships it built): install it even
  # where NODE_ENV=production would leave development dependencies out
  npm ci --include=dev --no-audit --no-fund
fi
