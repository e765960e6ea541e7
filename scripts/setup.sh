#!/usr/bin/env bash
# Set everything up and run the main job, on a fresh Debian 12 machine as root.
# Idempotent and non-interactive: installs promtool (Debian package `prometheus`)
# and a Python venv at .venv with prometheus_client, builds the workspace, then
# prints the metricore exposition example's Prometheus text and checks it with
# `promtool check metrics`, then takes one resource sample (printed as JSON on
# standard error) and checks its exposition the same way, then builds the Python
# package and runs its quick start (bindings-python/examples/quickstart.py; its
# exposition goes to standard error and through promtool as well), then builds
# libmetricore and runs the C example (tests/c/example.c) the same way, then builds
# the npm package (addon and legacy reference) and runs the Node quick start
# (bindings-node/examples/quickstart.js) the same way.
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

# The Python API: build the `metricore` wheel into the venv and run the quick start, which
# prints its registry's Prometheus text (here on standard error, so that standard output
# stays one exposition) and metricore's own views (quantiles, latency stats, an HDR blob).
log "main job, Python API: maturin build + bindings-python/examples/quickstart.py"
build_python_wheel
"${VENV_DIR}/bin/python" bindings-python/examples/quickstart.py </dev/null >target/python-exposition.txt
cat target/python-exposition.txt
promtool_check target/python-exposition.txt

# The C ABI: build libmetricore and tests/c/example.c against include/metricore.h, run it
# and check its exposition (on standard error, like the Python one).
log "main job, C API: tests/c/run.sh example"
ensure_c_tools
tests/c/run.sh example </dev/null >target/c-exposition.txt
cat target/c-exposition.txt
promtool_check target/c-exposition.txt

# The Node API: npm install (pinned devDependencies), build the addon and the legacy
# reference, run the quick start (exposition on standard error, checked by promtool).
log "main job, Node API: npm run build + bindings-node/examples/quickstart.js"
ensure_node_deps
(cd bindings-node && npm run --silent build) </dev/null
node bindings-node/examples/quickstart.js </dev/null >target/node-exposition.txt
cat target/node-exposition.txt
promtool_check target/node-exposition.txt
