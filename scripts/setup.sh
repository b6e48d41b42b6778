#!/usr/bin/env bash
# Installs what building and testing the workspace needs, idempotently: Debian build tools and
# the `fortunes` package (the natural-language corpus the bundled models train on, about 2.5 MB
# of text in /usr/share/games/fortunes), a Rust toolchain check, and the Python virtualenvs:
# .venv (substrate clients, pytest), .venv-asi, .venv-bt (bittensor 10.2.0) and .venv-torch
# (PyPI torch 2.13.0: the libtorch tch links, plus transformers for the interop tests).
# Safe to run again at any time.
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }

need_pkgs=()
for pkg in build-essential pkg-config git curl ca-certificates fortunes; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    log "installing Debian packages: ${need_pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
else
    log "Debian packages present"
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "[setup] error: no Rust toolchain (cargo) found; install one with rustup" >&2
        exit 1
    fi
fi
log "$(cargo --version)"

# Python virtualenv with the third-party clients the end-to-end tests use.
python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import venv' >/dev/null 2>&1; then
    echo "[setup] error: $python_bin with the venv module is required" >&2
    exit 1
fi
root="$(cd "$(dirname "$0")/.." && pwd)"

# make_venv DIR REQUIREMENTS: create DIR if missing and install REQUIREMENTS when they changed.
make_venv() {
    local venv="$1" reqs="$2" stamp want
    stamp="$venv/.requirements.sha256"
    want="$(sha256sum "$reqs" | cut -d' ' -f1)"
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        "$python_bin" -m venv "$venv"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing $(basename "$reqs") into $(basename "$venv")"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs"
        echo "$want" > "$stamp"
    else
        log "$(basename "$venv"): packages present"
    fi
}
make_venv "$root/.venv" "$root/tests/requirements.txt"
make_venv "$root/.venv-asi" "$root/tests/requirements-asi.txt"
make_venv "$root/.venv-bt" "$root/tests/requirements-bt.txt"
make_venv "$root/.venv-torch" "$root/tests/requirements-torch.txt"
# The SDK's proof-of-work registration wants torch importable (the `bittensor[torch]` extra):
# .venv-bt sees .venv-torch's packages after its own through a .pth file, instead of a second
# 4.8 GB copy of torch.
site_of() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
site_of "$root/.venv-torch" > "$(site_of "$root/.venv-bt")/subtensor-torch.pth"

# polkadot.js (@polkadot/api, pinned in tests/clients/pjs/package-lock.json) for the network
# tests; Node.js and npm from Debian when missing.
if ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    log "installing Debian packages: nodejs npm"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
pjs="$root/tests/clients/pjs"
pjs_want="$(sha256sum "$pjs/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$pjs/node_modules/.lock.sha256" 2>/dev/null)" != "$pjs_want" ]; then
    log "installing @polkadot/api into tests/clients/pjs"
    (cd "$pjs" && npm ci --no-audit --no-fund --silent)
    echo "$pjs_want" > "$pjs/node_modules/.lock.sha256"
else
    log "tests/clients/pjs: packages present"
fi
