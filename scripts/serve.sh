#!/usr/bin/env bash
# Build `metricore` (release, features cli) and run `metricore serve` in the foreground with
# the arguments given (default: --demo): the dashboard on http://127.0.0.1:9090/, /metrics
# beside it, until Ctrl-C or --duration. Installs what the build needs first (scripts/lib.sh).
#
# Usage: scripts/serve.sh [--listen ADDR:PORT] [--config FILE] [--demo] [--duration SECONDS] ...
#        scripts/serve.sh --demo --duration 60
# `target/release/metricore serve --help` lists every option.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

ensure_cargo
log "cargo build --release -p metricore --features cli --bin metricore"
cargo build --release -q -p metricore --features cli --bin metricore </dev/null
if [ "$#" -eq 0 ]; then
    set -- --demo
fi
exec target/release/metricore serve "$@"
