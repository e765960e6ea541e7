#!/usr/bin/env bash
# Builds libmetricore (release, with the `testing` and `server` features) and runs the C test programs
# against the committed include/metricore.h, each one:
#   static    linked with libmetricore.a
#   shared    linked with libmetricore.so
#   asan      linked with libmetricore.so, compiled with -fsanitize=address,undefined
#             (leak detection on; the Rust library is not instrumented, but every malloc
#             and free goes through ASan's allocator)
#   ubsan     test_fork only, linked with libmetricore.so, compiled with -fsanitize=undefined
#             (in place of its asan run: see the comment at the run)
#   valgrind  the shared build under valgrind --leak-check=full (errors and definite or
#             indirect leaks fail the run)
#
# Usage: tests/c/run.sh [test|bench|example] [--quick]
#   test     (default) the matrix above for test_api, test_threads, test_fixtures,
#            test_collector, test_server, test_fork (not under valgrind), example
#   bench    tests/c/bench.c: ns/op through the ABI beside the same loop in Rust
#   example  build tests/c/example.c and print its exposition
# The last line of `test` is `N passed, M failed` over the runs; the exit code is non-zero
# when any run failed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
ROOT="${PWD}"
OUT="${ROOT}/target/c-tests"
LIB="${OUT}/lib"
BIN="${OUT}/bin"
mode="${1:-test}"
quick=0
for a in "$@"; do [ "${a}" = "--quick" ] && quick=1; done

# The system libraries libmetricore.a needs (rustc --print native-static-libs on Linux);
# scripts/install-c.sh writes the same list into metricore.pc's Libs.private.
NATIVE_STATIC_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -I"${ROOT}/include" -I"${ROOT}/tests/c" -DMETRICORE_TESTING -DMETRICORE_SERVER)

log() { printf '==> %s\n' "$*" >&2; }

build_lib() {
    log "cargo build --release -p metricore-c --features testing,server"
    cargo build --release -q -p metricore-c --features testing,server </dev/null || return 1
    mkdir -p "${LIB}" "${BIN}"
    # Copied at once: a later build of the release library without the feature (the
    # install step) overwrites target/release.
    cp -f target/release/libmetricore.so target/release/libmetricore.a "${LIB}/" || return 1
    ln -sf libmetricore.so "${LIB}/libmetricore.so.1" # the SONAME the programs ask for
    tests/c/check-exports.sh "${LIB}/libmetricore.so" include/metricore.h -DMETRICORE_TESTING -DMETRICORE_SERVER
}

# compile NAME VARIANT SOURCES...: tests/c programs in three link variants.
compile() {
    local name="$1" variant="$2"
    shift 2
    local out="${BIN}/${name}.${variant}"
    case "${variant}" in
        static) cc "${CFLAGS[@]}" -O1 "$@" "${LIB}/libmetricore.a" ${NATIVE_STATIC_LIBS} -o "${out}" ;;
        shared) cc "${CFLAGS[@]}" -O1 "$@" -L"${LIB}" -Wl,-rpath,"${LIB}" -lmetricore -lpthread -lm -o "${out}" ;;
        asan) cc "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer "$@" -L"${LIB}" -Wl,-rpath,"${LIB}" -lmetricore -lpthread -lm -o "${out}" ;;
        ubsan) cc "${CFLAGS[@]}" -O1 -fsanitize=undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer "$@" -L"${LIB}" -Wl,-rpath,"${LIB}" -lmetricore -lpthread -lm -o "${out}" ;;
    esac
}

RUNS_PASSED=0
RUNS_FAILED=0
FAILED_RUNS=()

# run LABEL CMD...: one run of a test program; its output is kept in OUT/logs.
run() {
    local label="$1"
    shift
    mkdir -p "${OUT}/logs"
    local logf="${OUT}/logs/${label}.log"
    if "$@" >"${logf}" 2>&1 </dev/null; then
        RUNS_PASSED=$((RUNS_PASSED + 1))
        printf '  %-28s ok      %s\n' "${label}" "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "${logf}" | tail -1)"
    else
        RUNS_FAILED=$((RUNS_FAILED + 1))
        FAILED_RUNS+=("${label}")
        printf '  %-28s FAILED  (log: %s)\n' "${label}" "${logf#"${ROOT}"/}"
        tail -n 40 "${logf}" | sed 's/^/    | /'
    fi
}

# The example's exposition must carry what it recorded and pass promtool when available.
check_example() {
    local bin="$1" out="${OUT}/example.prom"
    "${bin}" >"${out}" || return 1
    grep -q '^http_requests_total{method="GET",code="200"} ' "${out}" || {
        echo "example printed no GET 200 counter" >&2
        return 1
    }
    grep -q '^http_request_duration_seconds_bucket{method="GET",le="+Inf"} ' "${out}" || {
        echo "example printed no latency histogram" >&2
        return 1
    }
    if command -v promtool >/dev/null 2>&1; then
        promtool check metrics <"${out}" || return 1
        echo "promtool check metrics: ok"
    else
        echo "promtool not installed: skipped promtool check metrics (scripts/lib.sh ensure_promtool installs it)"
    fi
    "${bin}" --openmetrics | tail -n 1 | grep -qx '# EOF' || return 1
    echo "1 passed, 0 failed"
}

run_tests() {
    build_lib || return 1
    local threads_n=200000 threads_vg=20000
    if [ "${quick}" -eq 1 ]; then threads_n=50000; fi
    log "compile tests/c (static, shared, asan)"
    local v
    for v in static shared asan; do
        compile test_api "${v}" tests/c/test_api.c || return 1
        compile test_threads "${v}" tests/c/test_threads.c || return 1
        compile test_collector "${v}" tests/c/test_collector.c || return 1
        compile test_fork "${v}" tests/c/test_fork.c || return 1
        compile test_server "${v}" tests/c/test_server.c || return 1
        compile test_fixtures "${v}" tests/c/test_fixtures.c tests/c/json.c || return 1
        compile example "${v}" tests/c/example.c || return 1
    done
    compile test_fork ubsan tests/c/test_fork.c || return 1
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    # A hung fork child's threads' stacks go to the log before it is killed.
    command -v gdb >/dev/null 2>&1 && export METRICORE_HANG_GDB=1
    local vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect)
    local have_vg=1
    command -v valgrind >/dev/null 2>&1 || have_vg=0
    log "run"
    for v in static shared asan valgrind; do
        local b="${v}" pre=()
        if [ "${v}" = valgrind ]; then
            if [ "${have_vg}" -eq 0 ]; then
                echo "  valgrind not installed: valgrind runs skipped (scripts/lib.sh ensure_c_tools installs it)"
                RUNS_FAILED=$((RUNS_FAILED + 1))
                FAILED_RUNS+=("valgrind-missing")
                continue
            fi
            b=shared
            pre=("${vg[@]}")
        fi
        run "test_api.${v}" "${pre[@]}" "${BIN}/test_api.${b}"
        if [ "${v}" = valgrind ]; then
            run "test_threads.${v}" "${pre[@]}" "${BIN}/test_threads.${b}" "${threads_vg}"
        else
            run "test_threads.${v}" "${BIN}/test_threads.${b}" "${threads_n}"
        fi
        run "test_fixtures.${v}" "${pre[@]}" "${BIN}/test_fixtures.${b}" tests/fixtures
        run "test_collector.${v}" "${pre[@]}" "${BIN}/test_collector.${b}"
        run "test_server.${v}" "${pre[@]}" "${BIN}/test_server.${b}"
        # Under valgrind every fork runs the child through the whole emulator: minutes for
        # what the other runs check in seconds. Under ASan a few children in a hundred hang
        # inside ASan's own allocator: the child's first malloc waits in
        # SizeClassAllocator64::GetFromAllocator for a region mutex of the sanitizer runtime
        # that another parent thread held in malloc when the process forked (this runtime
        # does not lock its allocator across fork; a hung child's stack, printed with
        # METRICORE_HANG_GDB=1, shows it). No lock of metricore's is involved, so test_fork
        # runs under UBSan alone in place of ASan; every other program runs under both.
        case "${v}" in
            static | shared) run "test_fork.${v}" "${BIN}/test_fork.${b}" ;;
            asan) run "test_fork.ubsan" "${BIN}/test_fork.ubsan" ;;
            *) echo "  test_fork.${v}: skipped (see the comment in tests/c/run.sh)" ;;
        esac
        if [ "${v}" = valgrind ]; then
            run "example.${v}" "${pre[@]}" "${BIN}/example.${b}"
        else
            run "example.${v}" check_example "${BIN}/example.${b}"
        fi
    done
    if [ "${RUNS_FAILED}" -gt 0 ]; then
        echo "failed runs: ${FAILED_RUNS[*]}"
    fi
    echo "c tests: ${RUNS_PASSED} passed, ${RUNS_FAILED} failed"
    [ "${RUNS_FAILED}" -eq 0 ]
}

run_bench() {
    build_lib || return 1
    # -O2 and the static library: what a C service linking metricore gets. The shared build
    # is timed too: calls through the PLT cost an indirect jump more.
    cc "${CFLAGS[@]}" -O2 tests/c/bench.c "${LIB}/libmetricore.a" ${NATIVE_STATIC_LIBS} \
        -o "${BIN}/bench.static" || return 1
    cc "${CFLAGS[@]}" -O2 tests/c/bench.c -L"${LIB}" -Wl,-rpath,"${LIB}" -lmetricore -lm \
        -o "${BIN}/bench.shared" || return 1
    local args=()
    # Quick runs (the test script's) report the bar but do not gate on it: timings on two
    # shared cores are too noisy to fail a build on. A full run enforces it.
    if [ "${quick}" -eq 1 ]; then args=(--quick --no-bar); fi
    echo "static library:"
    "${BIN}/bench.static" "${args[@]}" || return 1
    echo "shared library:"
    "${BIN}/bench.shared" "${args[@]}" --no-bar
}

case "${mode}" in
    test) run_tests ;;
    bench) run_bench ;;
    example)
        build_lib >&2 || exit 1
        compile example shared tests/c/example.c || exit 1
        "${BIN}/example.shared" "${@:2}"
        ;;
    --quick) run_tests ;;
    *)
        echo "usage: tests/c/run.sh [test|bench|example] [--quick]" >&2
        exit 2
        ;;
esac
