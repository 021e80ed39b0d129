#!/usr/bin/env bash
# Build the test-only component with fault injection: target/pkgprotect-fault.wasm, the guest
# with cargo feature `fault-injection` (the contract plus `pkgprotect:fault/faults`, see
# crates/pkgprotect-component/wit-fault/fault.wit). For pkgprotect-host's `fault` tests only;
# target/pkgprotect.wasm (scripts/build-component.sh) is built without it.
#
# Its own profile (`component-fault` in Cargo.toml): debug assertions on, so that the core's
# check that only an injected invariant ever refuses runs inside the component too (a
# violation traps, and the tests fail); no LTO and no wasm-opt, since no size budget applies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
OUT=target/pkgprotect-fault.wasm

# shellcheck source=scripts/lib/component-tools.sh
source scripts/lib/component-tools.sh
cargo build -q --locked -p pkgprotect-component --target wasm32-unknown-unknown --features fault-injection \
    --profile component-fault
"$VENV/bin/wasm-tools" component new target/wasm32-unknown-unknown/component-fault/pkgprotect_component.wasm \
    -o "$OUT.tmp"
# Debugging sections only slow the tests' compile of it; the name section stays, for readable
# trap backtraces.
"$VENV/bin/wasm-tools" strip "$OUT.tmp" -o "$OUT"
rm -f "$OUT.tmp"
"$VENV/bin/wasm-tools" validate "$OUT"
if "$VENV/bin/wasm-tools" component wit "$OUT" | grep -E '^\s*import '; then
    echo "error: $OUT has imports; hosts load it as they load target/pkgprotect.wasm, with none" >&2
    exit 1
fi
echo "built $OUT: $(stat -c %s "$OUT") bytes (test only: fault injection, debug assertions)"
