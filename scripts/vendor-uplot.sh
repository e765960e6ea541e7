#!/usr/bin/env bash
# Vendors uPlot (the dashboard's charts) from the npm registry into the server's assets:
# the minified IIFE build, its stylesheet and its license, committed and compiled into the
# binary with include_str!. Run it to change the pinned version; the build never fetches.
#
# Usage: scripts/vendor-uplot.sh
set -euo pipefail

VERSION=1.6.32
DEST="$(cd "$(dirname "$0")/.." && pwd)/core/src/server/assets"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
(cd "${work}" && npm pack --silent "uplot@${VERSION}" >/dev/null && tar -xzf "uplot-${VERSION}.tgz")
pkg="${work}/package"
mkdir -p "${DEST}"
cp "${pkg}/dist/uPlot.iife.min.js" "${DEST}/uPlot.iife.min.js"
cp "${pkg}/dist/uPlot.min.css" "${DEST}/uPlot.min.css"
cp "${pkg}/LICENSE" "${DEST}/uPlot.LICENSE"
echo "uPlot ${VERSION} vendored into ${DEST}"
