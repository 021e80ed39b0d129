#!/usr/bin/env bash
# Node tests: the Node SDK (bindings/node: pkgprotect.wasm through jco) and the Verdaccio
# plugin example (examples/verdaccio-plugin: real Verdaccio, pkgprotect serve and npm).
#
#   scripts/test-node.sh
#   PKGPROTECT_SHARED=/path    # where shared/ lives (default: ../shared next to the repo)
#
# Needs target/pkgprotect.wasm (scripts/build-component.sh) and target/debug/pkgprotect
# (cargo build -p pkgprotect-cli), built beforehand. Installs the npm packages each directory's
# package-lock.json names into its node_modules, and skips that when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PKGPROTECT_SHARED=${PKGPROTECT_SHARED:-$(cd "$ROOT/../shared" 2>/dev/null && pwd || echo "$ROOT/../shared")}
VECTORS="$PKGPROTECT_SHARED/conformance/gitlab-vectors.json"

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "error: $*" >&2; exit 1; }
started=$SECONDS

[ -f target/pkgprotect.wasm ] || fail "target/pkgprotect.wasm is missing: run scripts/build-component.sh first"
[ -x target/debug/pkgprotect ] || fail "target/debug/pkgprotect is missing: run \`cargo build -p pkgprotect-cli\` first"
[ -f "$VECTORS" ] || fail "conformance vectors not found at \`$VECTORS\` (set PKGPROTECT_SHARED)"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are required (Node 20 or newer)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || fail "node $(node --version) is too old: Node 20 or newer is required"

# `npm ci` in $1 unless its node_modules was installed from the same package-lock.json.
install() {
    local dir=$1 marker=$1/node_modules/.pkgprotect-lock.sha256 want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
        echo "$dir/node_modules: up to date"
        return
    fi
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error </dev/null
    echo "$want" > "$marker"
}

step "Node SDK: npm packages (bindings/node/node_modules), jco transpile of target/pkgprotect.wasm"
install bindings/node
npm --prefix bindings/node run --silent build

step "Node SDK: tsc --noEmit on a typed usage file"
npm --prefix bindings/node run --silent typecheck

step "Node SDK: node --test (every export, bad input, vectors, parity with bindings/js when built)"
npm --prefix bindings/node test

step "Node SDK: conformance vectors through the component"
npm --prefix bindings/node run --silent conformance -- "$VECTORS"

step "Verdaccio plugin: npm packages (examples/verdaccio-plugin/node_modules)"
install examples/verdaccio-plugin

step "Verdaccio plugin: unit tests, then real Verdaccio 6 + pkgprotect serve + npm publish/unpublish"
npm --prefix examples/verdaccio-plugin test

printf '\nnode tests passed in %ss\n' "$((SECONDS - started))"
