#!/usr/bin/env bash
# Set everything up and run the main job, on a fresh Debian 12 machine as root.
# Idempotent and non-interactive: installs promtool (Debian package `prometheus`)
# and a Python venv at .venv with prometheus_client, builds the workspace, then
# prints the metricore exposition example's Prometheus text and checks it with
# `promtool check metrics`, then takes one resource sample (printed as JSON on
# standard error) and checks its exposition the same way.
#
# Standard output carries only the exposition, so `scripts/setup.sh > metrics.prom`
# works; progress and tool output go to standard error.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

exec 3>&1 1>&2 # fd 3 = the real stdout, for the exposition only

ensure_all
log "cargo build --workspace --examples"
cargo build --workspace --examples </dev/null

log "main job: cargo run -q -p metricore --example exposition"
mkdir -p target
cargo run -q -p metricore --example exposition </dev/null >target/exposition.txt
cat target/exposition.txt >&3
if [ ! -s target/exposition.txt ]; then
    echo "exposition example printed nothing" >&2
    exit 1
fi

log "promtool check metrics"
promtool_check target/exposition.txt

log "main job, resource sampler: cargo run -q -p metricore --example sample"
cargo run -q -p metricore --example sample </dev/null
cargo run -q -p metricore --example sample -- --exposition </dev/null >target/sample.txt
promtool_check target/sample.txt
