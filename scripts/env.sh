# Sourced by the scripts (and by hand: `source scripts/env.sh`) before building: puts the torch
# virtualenv first on PATH so torch-sys links PyPI's libtorch (LIBTORCH_USE_PYTORCH=1 is set in
# .cargo/config.toml), and cargo on PATH.
_st_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case ":$PATH:" in
    *":$_st_root/.venv-torch/bin:"*) ;;
    *) export PATH="$_st_root/.venv-torch/bin:$PATH" ;;
esac
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
unset _st_root
