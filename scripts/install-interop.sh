#!/usr/bin/env bash
# Installs the npm decoders used as independent oracles by tests/interop (laz-perf,
# copc, @loaders.gl/las). Does nothing when they are already installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/interop"
if [[ -f package.json ]] && [[ ! -d node_modules || package.json -nt node_modules ]]; then
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
  touch node_modules
fi
