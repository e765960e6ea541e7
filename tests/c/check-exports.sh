#!/usr/bin/env bash
# check-exports.sh LIB HEADER [CPPFLAG...]
#
# Fails unless the shared library LIB defines exactly the functions HEADER declares: no
# symbol missing (a declaration C would fail to link) and none extra (an export the header
# does not document). The header goes through the C preprocessor with CPPFLAGs first, which
# drops comments and applies #if: pass -DMETRICORE_TESTING for a library built with the
# `testing` feature, nothing for the release library.
set -euo pipefail

lib="$1"
header="$2"
shift 2

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

# Declared: every `metricore_xxx(` after preprocessing (types are never followed by `(`).
cc -E -P -std=c11 "$@" -x c "${header}" \
    | grep -oE '\bmetricore_[a-z0-9_]+[[:space:]]*\(' \
    | sed -E 's/[[:space:]]*\($//' | sort -u >"${tmp}/declared"
# Exported: every defined dynamic symbol, whatever its type or name.
nm -D --defined-only "${lib}" | awk '{ print $NF }' | sed 's/@.*//' | sort -u >"${tmp}/exported"

if ! diff -u "${tmp}/declared" "${tmp}/exported" >"${tmp}/diff"; then
    echo "exports of ${lib} differ from the declarations in ${header} ($*):" >&2
    echo "  (- declared only, + exported only)" >&2
    grep -E '^[-+][^-+]' "${tmp}/diff" >&2 || true
    exit 1
fi
echo "exports: ${lib} defines exactly the $(wc -l <"${tmp}/declared") functions ${header} declares${*:+ with $*}"
