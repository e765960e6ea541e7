#!/usr/bin/env bash
# Run every test in every language: Rust (fmt, clippy, docs, tests, loom, benches in
# test mode) and the exposition checks (promtool for the Prometheus text format,
# prometheus_client's OpenMetrics parser for the OpenMetrics format).
#
# Usage: scripts/test.sh [GROUP|STEP ...]
#   no argument   run every step
#   rust          fmt clippy doc test loom bench
#   expo          exposition sample openmetrics
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

ALL_STEPS=(setup fmt clippy doc test loom bench exposition sample openmetrics)
RUST_STEPS=(fmt clippy doc test loom bench)
EXPO_STEPS=(exposition sample openmetrics)

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
            -h | --help)
                awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
                exit 0
                ;;
            *)
                if [[ " ${ALL_STEPS[*]} " == *" ${arg} "* ]]; then
                    WANT[${arg}]=1
                else
                    echo "unknown step or group: ${arg} (steps: ${ALL_STEPS[*]}; groups: all rust expo)" >&2
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
}

loom_tests() {
    # A separate target dir: --cfg loom would otherwise invalidate the normal build cache.
    # LOOM_MAX_PREEMPTIONS bounds models that do not set their own bound (CI has 2 cores).
    RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
        LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" \
        cargo test -p metricore --release --test loom_counter
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

# ---------------------------------------------------------------- steps, in order
step setup setup_tools
step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step doc env RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps
step test cargo test --workspace
step loom loom_tests
step bench cargo bench -p metricore -- --test
step exposition check_exposition
step sample check_sample_exposition
step openmetrics check_openmetrics

# ---------------------------------------------------------------- summary
echo
echo "==> summary"
for i in "${!RESULT_NAMES[@]}"; do
    printf '  %-12s %-6s (%ss)\n' "${RESULT_NAMES[$i]}" "${RESULT_STATUS[$i]}" "${RESULT_SECS[$i]}"
done
echo "steps: ${PASSED} passed, ${FAILED} failed"
[ "${FAILED}" -eq 0 ]
