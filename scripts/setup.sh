#!/usr/bin/env bash
# Installs what building and testing the workspace needs, idempotently:
# Debian build tools and a Rust toolchain check. Safe to run again at any time.
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }

need_pkgs=()
for pkg in build-essential pkg-config git curl ca-certificates; do
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
