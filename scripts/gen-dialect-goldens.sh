#!/usr/bin/env bash
# gen-dialect-goldens.sh [OUT_DIR]
#
# Replays tests/fixtures/dialects/workload.json through prometheus_client (the worktree's
# .venv) and prom-client (bindings-node/node_modules) and writes their expositions into
# OUT_DIR (default: tests/fixtures/dialects, the committed goldens that core/tests/dialects.rs
# compares metricore's dialects against). Needs `scripts/test.sh setup` (the venv) and the
# Node dependencies (`scripts/test.sh node-build`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${root}/tests/fixtures/dialects}"
workload="${root}/tests/fixtures/dialects/workload.json"
mkdir -p "${out}"

"${root}/.venv/bin/python" "${root}/scripts/dialect_goldens.py" "${workload}" "${out}"
node "${root}/scripts/dialect_goldens.js" "${root}/bindings-node/node_modules/prom-client" \
    "${workload}" "${out}"
