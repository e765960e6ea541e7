#!/usr/bin/env bash
# Run every test in every language: Rust (fmt, clippy, docs, tests, loom, benches in
# test mode) and the exposition checks (promtool for the Prometheus text format,
# prometheus_client's OpenMetrics parser for the OpenMetrics format).
#
# Usage: scripts/test.sh [GROUP|STEP ...]
#   no argument   run every step
#   rust          fmt clippy doc test loom soak bench server dashboard
#   expo          exposition sample openmetrics
#   python        py-build py-test py-stubtest compat-py py-bench (the `metricore` Python package)
#   c             c-header c-test c-install c-bench (the C ABI: libmetricore, include/metricore.h)
#   node          node-build dialect-goldens node-typings node-types node-lint node-test compat-node node-pack node-bench (the `metricore` npm package)
#   STEP          any single step name below, e.g. `scripts/test.sh clippy loom`
#
# Self-sufficient on a fresh Debian 12 machine: installs promtool and the Python
# venv first (scripts/lib.sh). Every step runs even after an earlier one failed;
# the last line is always `steps: N passed, M failed`, and the exit code is 0
# only when every step passed.
set -u
set -o pipefail

cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

ALL_STEPS=(setup fmt clippy doc test loom soak bench server dashboard exposition sample openmetrics py-build py-test py-stubtest compat-py py-bench c-header c-test c-install c-bench node-build dialect-goldens node-typings node-types node-lint node-test compat-node node-pack node-bench)
RUST_STEPS=(fmt clippy doc test loom soak bench server dashboard)
EXPO_STEPS=(exposition sample openmetrics)
PY_STEPS=(py-build py-test py-stubtest compat-py py-bench)
C_STEPS=(c-header c-test c-install c-bench)
NODE_STEPS=(node-build dialect-goldens node-typings node-types node-lint node-test compat-node node-pack node-bench)

# ---------------------------------------------------------------- selection
declare -A WANT=()
if [ "$#" -eq 0 ]; then
    for s in "${ALL_STEPS[@]}"; do WANT[$s]=1; done
else
    WANT[setup]=1
    for arg in "$@"; do
        case "${arg}" in
            all) for s in "${ALL_STEPS[@]}"; do WANT[$s]=1; done ;;
            rust) for s in "${RUST_STEPS[@]}"; do WANT[$s]=1; done ;;
            expo) for s in "${EXPO_STEPS[@]}"; do WANT[$s]=1; done ;;
            python) for s in "${PY_STEPS[@]}"; do WANT[$s]=1; done ;;
            c) for s in "${C_STEPS[@]}"; do WANT[$s]=1; done ;;
            node) for s in "${NODE_STEPS[@]}"; do WANT[$s]=1; done ;;
            -h | --help)
                awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
                exit 0
                ;;
            *)
                if [[ " ${ALL_STEPS[*]} " == *" ${arg} "* ]]; then
                    WANT[${arg}]=1
                else
                    echo "unknown step or group: ${arg} (steps: ${ALL_STEPS[*]}; groups: all rust expo python c node)" >&2
                    exit 2
                fi
                ;;
        esac
    done
fi

wanted() { [ -n "${WANT[$1]:-}" ]; }

# ---------------------------------------------------------------- step runner
RESULT_NAMES=()
RESULT_STATUS=()
RESULT_SECS=()
PASSED=0
FAILED=0

# step NAME CMD [ARG...]: run CMD if NAME is selected, record ok/FAILED, go on.
step() {
    local name="$1"
    shift
    wanted "${name}" || return 0
    log "${name}: $*"
    local start="${SECONDS}" status
    if "$@" </dev/null; then
        status=ok
        PASSED=$((PASSED + 1))
    else
        status=FAILED
        FAILED=$((FAILED + 1))
        echo "!!! step ${name} FAILED" >&2
    fi
    RESULT_NAMES+=("${name}")
    RESULT_STATUS+=("${status}")
    RESULT_SECS+=("$((SECONDS - start))")
}

# ---------------------------------------------------------------- step bodies
setup_tools() {
    ensure_cargo || return 1
    if wanted exposition || wanted sample; then ensure_promtool || return 1; fi
    if wanted openmetrics; then ensure_venv || return 1; fi
    # py-test checks the exposition with promtool too.
    if wanted py-test; then ensure_promtool || return 1; fi
    if wanted py-build || wanted py-test || wanted py-stubtest || wanted compat-py || wanted py-bench; then
        ensure_venv || return 1
    fi
    # The C ABI: cbindgen (pinned) for the header check; a C compiler, pkg-config, valgrind
    # and nm for the C tests; promtool for the example's exposition.
    if wanted c-header; then ensure_cbindgen || return 1; fi
    if wanted c-test || wanted c-install || wanted c-bench || wanted c-header; then
        ensure_c_tools || return 1
    fi
    if wanted c-test || wanted c-install; then ensure_promtool || return 1; fi
    # The npm package: Node and the pinned devDependencies (@napi-rs/cli, prom-client);
    # node-test checks the exposition with promtool too.
    if wanted node-build || wanted node-typings || wanted node-types || wanted node-lint \
        || wanted node-test || wanted compat-node || wanted node-pack || wanted node-bench; then
        ensure_node_deps || return 1
    fi
    if wanted node-test; then ensure_promtool || return 1; fi
    if wanted dashboard; then ensure_dashboard_deps || return 1; fi
}

# include/metricore.h is generated by the pinned cbindgen and committed: regenerate it into
# a temporary file and fail on any difference.
c_header() {
    local tmp rc=0
    tmp="$(mktemp)"
    scripts/gen-c-header.sh "${tmp}" || rc=1
    if [ "${rc}" -eq 0 ] && ! diff -u include/metricore.h "${tmp}"; then
        echo "include/metricore.h differs from what cbindgen ${CBINDGEN_VERSION} generates:" \
            "run scripts/gen-c-header.sh and commit the result" >&2
        rc=1
    fi
    rm -f "${tmp}"
    [ "${rc}" -eq 0 ] && echo "include/metricore.h matches cbindgen ${CBINDGEN_VERSION}'s output"
    return "${rc}"
}

# scripts/install-c.sh into a temporary prefix, then build the example app the way a C user
# does, with pkg-config (shared, then static), run it and check its exposition.
# (Each command carries its own `|| return 1`: steps run inside `if`, where set -e is off.)
c_install_into() {
    local tmp="$1" libs
    scripts/install-c.sh "${tmp}/prefix" || return 1
    local -x PKG_CONFIG_PATH="${tmp}/prefix/lib/pkgconfig"
    # shellcheck disable=SC2046 # pkg-config prints a list of words
    cc -std=c11 -Wall -Wextra -Werror tests/c/example.c \
        $(pkg-config --cflags --libs metricore) -o "${tmp}/example" || return 1
    readelf -d "${tmp}/example" | grep -q 'NEEDED.*\[libmetricore\.so\.1\]' || {
        echo "the example does not load libmetricore.so.1" >&2
        return 1
    }
    LD_LIBRARY_PATH="${tmp}/prefix/lib" "${tmp}/example" >"${tmp}/example.prom" || return 1
    grep -q '^http_requests_total{method="GET",code="200"} 667$' "${tmp}/example.prom" || {
        echo "the example's exposition lacks its GET 200 count" >&2
        return 1
    }
    promtool_check "${tmp}/example.prom" || return 1
    # Static: libmetricore.a plus the system libraries `pkg-config --static` names.
    libs="$(pkg-config --static --libs-only-l metricore)" || return 1
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Werror tests/c/example.c $(pkg-config --cflags metricore) \
        "$(pkg-config --variable=libdir metricore)/libmetricore.a" ${libs/-lmetricore/} \
        -o "${tmp}/example-static" || return 1
    if readelf -d "${tmp}/example-static" | grep -q libmetricore; then
        echo "the static example still needs libmetricore.so" >&2
        return 1
    fi
    "${tmp}/example-static" --openmetrics | tail -n 1 | grep -qx '# EOF' || return 1
    echo "pkg-config builds (shared and static) of tests/c/example.c: ok"
}

c_install() {
    local tmp rc=0
    tmp="$(mktemp -d)"
    c_install_into "${tmp}" || rc=1
    rm -rf "${tmp}"
    return "${rc}"
}

# pytest against the installed wheel (run from bindings-python/, whose python/ source tree is
# not on sys.path, so the tests exercise what users install).
py_test() {
    local py
    py="$(cd "${VENV_DIR}" && pwd)/bin/python" || return 1
    (cd bindings-python && "${py}" -m pytest)
}

# The hand-written stubs against the built module (no allowlist needed), then mypy over the
# installed package: the pure-Python skin type-checks against those stubs.
py_stubtest() {
    local py
    py="$(cd "${VENV_DIR}" && pwd)/bin/python" || return 1
    mkdir -p target/stubtest
    (cd target/stubtest && "${py}" -m mypy.stubtest metricore._native \
        && "${py}" -m mypy --ignore-missing-imports -p metricore)
}

# The differential suite (tests/compat/python): seeded call sequences through prometheus_client
# and metricore side by side, every observable result compared; accepted differences only as
# tests/compat/python/differences.json lists them. COMPAT_SEED / COMPAT_CASES change the run.
compat_py() {
    "${VENV_DIR}/bin/python" tests/compat/python/run.py
}

# Ours beside prometheus_client and hdrh, short run; prints ns/op, ratios and the bars. Bars
# are reported, not enforced: two shared cores make single-run timings too noisy to gate on.
py_bench() {
    "${VENV_DIR}/bin/python" -m metricore.bench --quick
}

# The HTTP server and `metricore serve` (features server, tls, cli; off in the steps above):
# lint, docs, its unit tests, the server's integration tests (real HTTP, WebSocket and TLS
# clients on loopback) and the program run as a process. One feature set, so one build.
server_tests() {
    cargo clippy -p metricore --features cli --all-targets -- -D warnings &&
        cargo clippy -p metricore-c --features server,testing --all-targets -- -D warnings &&
        RUSTDOCFLAGS=-Dwarnings cargo doc -p metricore --features cli --no-deps &&
        cargo test -p metricore --features cli --lib server:: &&
        cargo test -p metricore --features cli --test server --test cli
}

# The dashboard in Debian's headless Chromium (tests/dashboard): `metricore serve --demo`
# (the debug build the server step made), frames counted in the page, charts filled, a
# screenshot left in target/artifacts/dashboard.png.
dashboard_test() {
    cargo build -p metricore --features cli --bin metricore &&
        env -C tests/dashboard METRICORE_BIN="${PWD}/target/debug/metricore" \
            ARTIFACTS="${PWD}/target/artifacts" node --test dashboard.test.mjs
}

loom_tests() {
    # A separate target dir: --cfg loom would otherwise invalidate the normal build cache.
    # LOOM_MAX_PREEMPTIONS bounds models that do not set their own bound (CI has 2 cores).
    RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
        LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" \
        cargo test -p metricore --release --test loom_counter --test loom_histogram
}

# promtool check metrics (Debian 12's promtool 2.42), as observed by feeding it input:
#   exit 0  valid text, no lint findings; prints nothing (also for empty input!)
#   exit 3  parses, but lint findings, e.g. "x no help text" or
#           'x counter metrics should have "_total" suffix'
#   exit 1  parse error, e.g. "error while linting: text format parsing error in
#           line 2: ...", a second TYPE line, or an exemplar (not allowed in 0.0.4)
# Everything goes to stderr. It does NOT catch duplicate series or a histogram
# without le="+Inf". promtool_check (scripts/lib.sh) fails on any finding but one
# named exception, node_exporter's camelCase node_memory_*_bytes names.
check_exposition() {
    mkdir -p target
    cargo run -q -p metricore --example exposition >target/exposition.txt || return 1
    if [ ! -s target/exposition.txt ]; then
        echo "exposition example printed nothing" >&2
        return 1
    fi
    promtool_check target/exposition.txt
}

check_sample_exposition() {
    mkdir -p target
    cargo run -q -p metricore --example sample -- --exposition >target/sample.txt || return 1
    grep -q '^process_resident_memory_bytes ' target/sample.txt || {
        echo "sample example printed no process_resident_memory_bytes" >&2
        return 1
    }
    promtool_check target/sample.txt
}

check_openmetrics() {
    mkdir -p target
    cargo run -q -p metricore --example exposition -- --openmetrics >target/exposition.om || return 1
    "${VENV_DIR}/bin/python" scripts/check_openmetrics.py target/exposition.om
}

# The napi addon (release) plus the generated index.js / index.d.ts. The generated files are
# copied first so that node-typings can compare what this build wrote with what was there.
node_build() {
    mkdir -p target/node-typings
    cp bindings-node/index.js bindings-node/index.d.ts target/node-typings/ 2>/dev/null || true
    (cd bindings-node && npm run --silent build)
}

# index.js and index.d.ts are generated by `napi build` and committed: fail when the build
# changed them (against the copies node-build took; without a build in this run, a fresh
# build is compared with the files as they are).
node_typings() {
    if ! wanted node-build; then node_build || return 1; fi
    local f rc=0
    for f in index.js index.d.ts; do
        if ! diff -u "target/node-typings/${f}" "bindings-node/${f}"; then
            echo "bindings-node/${f} differs from what napi build generates: commit the regenerated file" >&2
            rc=1
        fi
    done
    [ "${rc}" -eq 0 ] && echo "bindings-node/index.js and index.d.ts match napi build's output"
    return "${rc}"
}

# The hand-written typings (lib/*.d.ts, legacy's generated ones) compile under --strict with
# a TypeScript user's code (test/types/usage.ts), resolved through the package's exports.
node_types() {
    (cd bindings-node && node_modules/.bin/tsc -p test/types/tsconfig.json) \
        && echo "bindings-node typings: tsc --strict ok"
}

# `npm pack` makes a tarball that installs into an empty project and works there: the
# addon loads, the skin and the subpath exports resolve, and an exposition renders.
node_pack_into() {
    local tmp="$1" tarball
    tarball="$(cd bindings-node && npm pack --silent --pack-destination "${tmp}")" || return 1
    mkdir -p "${tmp}/app" || return 1
    (cd "${tmp}/app" && npm init -y >/dev/null \
        && npm install --no-audit --no-fund --silent "${tmp}/${tarball}") || return 1
    (cd "${tmp}/app" && node -e "
        const m = require('metricore')
        const legacy = require('metricore/legacy')
        const { experiment } = require('metricore/shadow')
        const reg = new m.Registry()
        const c = new m.Counter({ name: 'packed_total', help: 'P.', registers: [reg] })
        c.inc(3)
        const p = legacy.calculatePercentiles([1, 2, 3, 4])
        const same = experiment({ name: 'pack', control: () => 1, candidate: () => 1, registry: reg })()
        reg.metrics().then((text) => {
          if (!/^packed_total 3$/m.test(text) || p.max !== 4 || same !== 1) { console.error(text); process.exit(1) }
          console.log('npm pack: ' + '${tarball}' + ' installs and works')
        })") || return 1
}

node_pack() {
    local tmp rc=0
    tmp="$(mktemp -d)"
    node_pack_into "${tmp}" || rc=1
    rm -rf "${tmp}"
    return "${rc}"
}

# The committed dialect goldens (tests/fixtures/dialects) are what prometheus_client and
# prom-client write for the workload beside them today: regenerate them into a temporary
# directory from the installed clients and fail, showing the difference, if any changed.
dialect_goldens() {
    local tmp rc=0 f
    tmp="$(mktemp -d)"
    scripts/gen-dialect-goldens.sh "${tmp}" || rc=1
    if [ "${rc}" -eq 0 ]; then
        for f in "${tmp}"/*.txt; do
            if ! diff -u "tests/fixtures/dialects/$(basename "${f}")" "${f}"; then
                echo "tests/fixtures/dialects/$(basename "${f}") differs from what the client writes now (- committed, + client): rerun scripts/gen-dialect-goldens.sh and check core/tests/dialects.rs" >&2
                rc=1
            fi
        done
    fi
    rm -rf "${tmp}"
    [ "${rc}" -eq 0 ] && echo "dialect goldens match prometheus_client and prom-client"
    return "${rc}"
}

# ---------------------------------------------------------------- steps, in order
step setup setup_tools
step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step doc env RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps
step test cargo test --workspace
step loom loom_tests
# A day of traffic, accelerated (core/tests/soak.rs; METRICORE_SOAK_SCALE, METRICORE_SOAK_FULL=1).
step soak cargo test --release -p metricore --test soak -- --ignored --nocapture
step bench cargo bench -p metricore -- --test
step server server_tests
step dashboard dashboard_test
step exposition check_exposition
step sample check_sample_exposition
step openmetrics check_openmetrics
step py-build build_python_wheel
step py-test py_test
step py-stubtest py_stubtest
step compat-py compat_py
step py-bench py_bench
step c-header c_header
step c-test tests/c/run.sh test
step c-install c_install
step c-bench tests/c/run.sh bench --quick
step node-build node_build
step dialect-goldens dialect_goldens
step node-typings node_typings
step node-types node_types
step node-lint env -C bindings-node npm run --silent lint
step node-test env -C bindings-node npm test --silent
# The prom-client API, differentially: the same seeded call sequences through prom-client
# (the devDependency) and metricore; tests/compat/node/accepted-differences.json lists the
# only differences allowed.
step compat-node node tests/compat/node/run.js
step node-pack node_pack
step node-bench env -C bindings-node node bench.js --quick

# ---------------------------------------------------------------- summary
echo
echo "==> summary"
for i in "${!RESULT_NAMES[@]}"; do
    printf '  %-12s %-6s (%ss)\n' "${RESULT_NAMES[$i]}" "${RESULT_STATUS[$i]}" "${RESULT_SECS[$i]}"
done
echo "steps: ${PASSED} passed, ${FAILED} failed"
[ "${FAILED}" -eq 0 ]
