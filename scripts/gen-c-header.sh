#!/usr/bin/env bash
# Regenerate the C header with the pinned cbindgen (scripts/lib.sh, CBINDGEN_VERSION).
#
# Usage: scripts/gen-c-header.sh [OUT]   default OUT: include/metricore.h
# `scripts/test.sh c-header` runs it into a temporary file and fails on any difference
# from the committed header.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

out="${1:-include/metricore.h}"
case "${out}" in /*) ;; *) out="${PWD}/${out}" ;; esac
ensure_cbindgen
# The `testing` feature's exports are declared inside #if defined(METRICORE_TESTING)
# ([defines] in cbindgen.toml), so the header does not depend on the features built.
(cd bindings-c && cbindgen --quiet --config cbindgen.toml --crate metricore-c --output "${out}" .)
