#!/usr/bin/env bash
# Build the C library in release mode and install it under PREFIX:
#   PREFIX/lib/libmetricore.so.1          the shared library (SONAME libmetricore.so.1, the
#                                         ABI version), with libmetricore.so -> libmetricore.so.1
#   PREFIX/lib/libmetricore.a             the static library
#   PREFIX/include/metricore.h            the committed header
#   PREFIX/lib/pkgconfig/metricore.pc     for `cc app.c $(pkg-config --cflags --libs metricore)`
#                                         (`pkg-config --static` adds the system libraries
#                                         libmetricore.a needs)
#
# Usage: scripts/install-c.sh PREFIX
# The installed library is built without the `testing` feature: it exports exactly the
# functions the header declares outside `#if defined(METRICORE_TESTING)`, which is checked
# before anything is installed.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: scripts/install-c.sh PREFIX" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

prefix="$1"
mkdir -p "${prefix}"
prefix="$(cd "${prefix}" && pwd)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
abi="$(sed -n 's/^#define METRICORE_ABI_VERSION \([0-9]*\)$/\1/p' include/metricore.h)"
# What rustc prints for `--print native-static-libs` on Linux; tests/c/run.sh links the
# static test programs with the same list.
native_static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

ensure_cargo
log "cargo build --release -p metricore-c"
cargo build --release -q -p metricore-c </dev/null
stage="$(mktemp -d)"
trap 'rm -rf "${stage}"' EXIT
# Copied at once, so a concurrent build of the `testing` variant cannot slip in.
cp target/release/libmetricore.so target/release/libmetricore.a "${stage}/"
tests/c/check-exports.sh "${stage}/libmetricore.so" include/metricore.h

log "install into ${prefix}"
install -d "${prefix}/lib/pkgconfig" "${prefix}/include"
install -m 0755 "${stage}/libmetricore.so" "${prefix}/lib/libmetricore.so.${abi}"
ln -sf "libmetricore.so.${abi}" "${prefix}/lib/libmetricore.so"
install -m 0644 "${stage}/libmetricore.a" "${prefix}/lib/libmetricore.a"
install -m 0644 include/metricore.h "${prefix}/include/metricore.h"
cat >"${prefix}/lib/pkgconfig/metricore.pc" <<PC
prefix=${prefix}
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: metricore
Description: Lock-free counters, gauges and HDR histograms with Prometheus/OpenMetrics exposition (C API)
Version: ${version}
Libs: -L\${libdir} -lmetricore
Libs.private: ${native_static_libs}
Cflags: -I\${includedir}
PC
echo "installed metricore ${version} (C ABI ${abi}) into ${prefix}"
