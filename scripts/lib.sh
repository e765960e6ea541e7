#!/usr/bin/env bash
# Shared helpers for scripts/setup.sh and scripts/test.sh.
# Source it from the repository root:  . scripts/lib.sh
# Every ensure_* function is idempotent and non-interactive.

# Put rustup's cargo on PATH when it is installed there but not yet on PATH.
if [ -d "${HOME:-/root}/.cargo/bin" ]; then
    case ":${PATH}:" in
        *":${HOME:-/root}/.cargo/bin:"*) ;;
        *) PATH="${HOME:-/root}/.cargo/bin:${PATH}" ;;
    esac
    export PATH
fi

export DEBIAN_FRONTEND=noninteractive

VENV_DIR="${VENV_DIR:-.venv}"
# Pinned: the Python package's build (maturin), tests (pytest, pytest-timeout, psutil, mypy for
# stubtest), interop peers (hdrhistogram is `import hdrh`), the exposition checks, and the
# apps whose libraries import prometheus_client themselves (metricore.install()'s tests:
# FastAPI under uvicorn with prometheus-fastapi-instrumentator, Flask with
# prometheus-flask-exporter).
PY_PACKAGES=(
    prometheus_client==0.26.0
    maturin==1.16.0
    pytest==9.2.0
    pytest-timeout==2.4.0
    hdrhistogram==0.10.8
    mypy==2.4.1
    psutil==7.2.2
    fastapi==0.163.2
    uvicorn==0.54.0
    prometheus-fastapi-instrumentator==8.1.0
    flask==3.1.3
    prometheus-flask-exporter==0.23.2
)

log() {
    printf '==> %s\n' "$*"
}

# Run a command as root: directly when we are root, else through sudo -n.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo -n "$@"
    fi
}

_APT_UPDATED=0
apt_update_once() {
    if [ "${_APT_UPDATED}" -eq 0 ]; then
        log "apt-get update"
        as_root apt-get update -qq </dev/null || return 1
        _APT_UPDATED=1
    fi
}

# apt_install PKG... : install Debian packages without recommends or prompts.
apt_install() {
    apt_update_once || return 1
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "$@" </dev/null
}

# promtool ships in Debian's `prometheus` package (/usr/bin/promtool).
# Installing the package may start a prometheus service; nothing here relies on it.
ensure_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        return 0
    fi
    apt_install prometheus || return 1
    command -v promtool >/dev/null 2>&1 || {
        echo "promtool still missing after installing prometheus" >&2
        return 1
    }
}

# cbindgen, pinned: point releases change the generated header, and the committed
# include/metricore.h must match what this exact version writes (scripts/test.sh c-header).
CBINDGEN_VERSION="0.29.4"
ensure_cbindgen() {
    ensure_cargo || return 1
    if command -v cbindgen >/dev/null 2>&1 \
        && [ "$(cbindgen --version 2>/dev/null)" = "cbindgen ${CBINDGEN_VERSION}" ]; then
        return 0
    fi
    log "cargo install --locked cbindgen --version ${CBINDGEN_VERSION}"
    cargo install --locked --quiet cbindgen --version "${CBINDGEN_VERSION}" </dev/null || return 1
    [ "$(cbindgen --version 2>/dev/null)" = "cbindgen ${CBINDGEN_VERSION}" ] || {
        echo "cbindgen on PATH is '$(cbindgen --version 2>&1)', not ${CBINDGEN_VERSION}" >&2
        return 1
    }
}

# The C toolchain and checkers for tests/c: a C compiler, pkg-config and valgrind (Debian
# packages), each installed only when missing. gcc brings AddressSanitizer and UBSan.
ensure_c_tools() {
    local missing=()
    command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
    command -v nm >/dev/null 2>&1 || missing+=(binutils)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || return 1
    fi
}

# Python venv at $VENV_DIR with the pinned PY_PACKAGES in it.
ensure_venv() {
    local py="${VENV_DIR}/bin/python"
    # A venv whose interpreter no longer runs (moved or removed base Python) is rebuilt.
    if [ -e "${VENV_DIR}" ] && ! "${py}" -c 'pass' >/dev/null 2>&1; then
        log "removing broken venv at ${VENV_DIR}"
        rm -rf "${VENV_DIR}"
    fi
    if [ ! -x "${py}" ]; then
        log "creating Python venv at ${VENV_DIR}"
        if ! python3 -m venv "${VENV_DIR}" 2>/dev/null; then
            # Debian's own python3 needs python3-venv for `-m venv`.
            rm -rf "${VENV_DIR}"
            apt_install python3-venv || return 1
            python3 -m venv "${VENV_DIR}" || return 1
        fi
    fi
    # A stamp holding the pinned list: pip runs only when the list changed since the last install.
    local stamp="${VENV_DIR}/.metricore-packages" want
    want="$(printf '%s\n' "${PY_PACKAGES[@]}")"
    if [ "$(cat "${stamp}" 2>/dev/null)" != "${want}" ] \
        || ! "${py}" -c 'import prometheus_client' >/dev/null 2>&1; then
        log "pip install ${PY_PACKAGES[*]} into ${VENV_DIR}"
        "${py}" -m pip install --quiet --disable-pip-version-check \
            "${PY_PACKAGES[@]}" </dev/null || return 1
        printf '%s\n' "${want}" >"${stamp}"
    fi
}

ensure_cargo() {
    command -v cargo >/dev/null 2>&1 || {
        echo "cargo not found on PATH (nor in \$HOME/.cargo/bin)" >&2
        return 1
    }
}

# ensure_node_deps: Node (apt-get fallback when `node` is missing) and bindings-node's
# pinned devDependencies. `npm ci` runs when node_modules is missing or package-lock.json
# changed since the last install (a stamp holds the lockfile's hash); if `npm ci` fails on
# an optional platform package the registry lacks, `npm install` with the committed lock
# is the fallback (STYLE.md, toolchain notes).
ensure_node_deps() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm || return 1
    fi
    local dir=bindings-node stamp want
    stamp="${dir}/node_modules/.metricore-lock-stamp"
    want="$(sha256sum "${dir}/package-lock.json" | cut -d' ' -f1)" || return 1
    if [ -d "${dir}/node_modules" ] && [ "$(cat "${stamp}" 2>/dev/null)" = "${want}" ]; then
        return 0
    fi
    log "npm ci in ${dir}"
    (cd "${dir}" && { npm ci --no-audit --no-fund </dev/null \
        || npm install --no-audit --no-fund </dev/null; }) || return 1
    printf '%s\n' "${want}" >"${stamp}"
}

# ensure_dashboard_deps: Debian's chromium and tests/dashboard's pinned puppeteer-core (it
# drives the system browser and downloads none), installed as ensure_node_deps installs
# bindings-node's.
ensure_dashboard_deps() {
    command -v chromium >/dev/null 2>&1 || apt_install chromium || return 1
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm || return 1
    fi
    local dir=tests/dashboard stamp want
    stamp="${dir}/node_modules/.metricore-lock-stamp"
    want="$(sha256sum "${dir}/package-lock.json" | cut -d' ' -f1)" || return 1
    if [ -d "${dir}/node_modules" ] && [ "$(cat "${stamp}" 2>/dev/null)" = "${want}" ]; then
        return 0
    fi
    log "npm ci in ${dir}"
    (cd "${dir}" && npm ci --no-audit --no-fund </dev/null) || return 1
    printf '%s\n' "${want}" >"${stamp}"
}

# Everything the scripts need beyond the Rust toolchain.
ensure_all() {
    ensure_cargo || return 1
    ensure_promtool || return 1
    ensure_venv || return 1
}

# promtool_check FILE: `promtool check metrics` on FILE; fails on a parse error and on
# any lint finding but one: node_exporter's own memory names (node_memory_MemTotal_bytes
# and friends), which the resource sampler keeps for dashboards' sake and which
# promtool's lint calls camelCase. promtool exits 3 for lint findings, 1 for errors.
promtool_check() {
    local file="$1" out rc=0 findings
    out="$(promtool check metrics <"${file}" 2>&1)" || rc=$?
    findings="$(printf '%s\n' "${out}" | grep -v "^node_memory_[A-Za-z]*_bytes metric names should be written in 'snake_case' not 'camelCase'$" | grep -v '^$' || true)"
    if [ -n "${findings}" ] || { [ "${rc}" -ne 0 ] && [ "${rc}" -ne 3 ]; }; then
        printf '%s\n' "${out}" >&2
        echo "promtool check metrics: exit ${rc} on ${file}" >&2
        return 1
    fi
    echo "promtool check metrics: ok on ${file} ($(grep -vc '^#' "${file}") sample lines)"
}

# build_python_wheel: build the `metricore` abi3 wheel with maturin (release, into
# target/wheels) and install it into the venv, replacing any earlier build.
build_python_wheel() {
    rm -f target/wheels/metricore-*.whl
    "${VENV_DIR}/bin/maturin" build --release --quiet -m bindings-python/Cargo.toml \
        -i "${VENV_DIR}/bin/python" -o target/wheels </dev/null || return 1
    "${VENV_DIR}/bin/python" -m pip install --quiet --disable-pip-version-check \
        --force-reinstall --no-deps target/wheels/metricore-*.whl </dev/null
}
