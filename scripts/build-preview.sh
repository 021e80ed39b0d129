#!/usr/bin/env bash
# Builds the JS bindings (bindings/js/pkg: wasm-pack --target web, used by Node and browsers,
# with the hand-written src/glue.js and src/errors.js it imports) and copies them beside the
# browser preview page (examples/browser-preview/pkg).
#
#   scripts/build-preview.sh            # build if a source is newer than the build; without the
#                                       # wasm toolchain, say what is missing and exit 0
#   scripts/build-preview.sh --install  # first install what is missing (scripts/test.sh does)
#
# Installs go to fixed places and are skipped when the right version is there: the rustup
# target, wasm-pack and wasm-bindgen-cli (cargo install into ~/.cargo/bin), npm devDependencies
# (bindings/js/node_modules: binaryen's wasm-opt, typescript, playwright-core). Nothing is
# downloaded from GitHub: wasm-pack finds wasm-bindgen and wasm-opt on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JS=bindings/js
PAGE_PKG=examples/browser-preview/pkg
WASM_PACK_VERSION=0.15.1
# Must equal the `wasm-bindgen = "=…"` pin in Cargo.toml: the CLI refuses other versions.
WASM_BINDGEN_VERSION=0.2.130
CARGO_ROOT=${CARGO_HOME:-$HOME/.cargo}
export PATH="$CARGO_ROOT/bin:$ROOT/$JS/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=never

install=false
[ "${1:-}" = --install ] && install=true

version_of() { "$1" --version 2>/dev/null | awk '{print $2}'; }
has_target() { rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; }
npm_stamp() { sha256sum "$JS/package-lock.json" | cut -d' ' -f1; }
npm_fresh() { [ -f "$JS/node_modules/.pkgprotect-stamp" ] && [ "$(cat "$JS/node_modules/.pkgprotect-stamp")" = "$(npm_stamp)" ]; }

if $install; then
    t=$SECONDS
    has_target || rustup target add wasm32-unknown-unknown
    if [ "$(version_of wasm-pack)" != "$WASM_PACK_VERSION" ]; then
        echo "installing wasm-pack $WASM_PACK_VERSION (cargo install, several minutes)…"
        cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --root "$CARGO_ROOT"
    fi
    if [ "$(version_of wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
        echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (cargo install, several minutes)…"
        # Not --locked: its lock file pins a yanked crate (see shared/toolchain.md).
        cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$CARGO_ROOT"
    fi
    if ! npm_fresh; then
        (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error)
        npm_stamp > "$JS/node_modules/.pkgprotect-stamp"
    fi
    echo "wasm toolchain ready ($((SECONDS - t))s)"
fi

missing=()
has_target || missing+=("rustup target wasm32-unknown-unknown")
[ "$(version_of wasm-pack)" = "$WASM_PACK_VERSION" ] || missing+=("wasm-pack $WASM_PACK_VERSION")
[ "$(version_of wasm-bindgen)" = "$WASM_BINDGEN_VERSION" ] || missing+=("wasm-bindgen-cli $WASM_BINDGEN_VERSION")
[ -x "$JS/node_modules/.bin/wasm-opt" ] || missing+=("npm packages in $JS (binaryen's wasm-opt)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "browser preview not built: missing ${missing[*]}."
    echo "  scripts/build-preview.sh --install   # installs them (about 10-20 minutes of cargo install)"
    exit 0
fi

wasm=$JS/pkg/pkgprotect_js_bg.wasm
stale=$(find "$JS/src" "$JS/Cargo.toml" crates/pkgprotect/src crates/pkgprotect/Cargo.toml Cargo.lock scripts/build-preview.sh \
    -newer "$wasm" -print -quit 2>/dev/null || echo "no build yet")
if [ -f "$wasm" ] && [ -z "$stale" ]; then
    echo "bindings/js/pkg is up to date"
else
    echo "building the JS bindings (wasm-pack build --release --target web)…"
    # --mode no-install: use the wasm-bindgen on PATH, never download one.
    # The profile is set here, not in the workspace's [profile.release], so that only the wasm
    # build changes: size-optimised (opt-level z, fat LTO, one codegen unit: 198 KB instead of
    # 294 KB), except the core at opt-level 2, which keeps a 10,000-name preview near 1 ms
    # (2.6 ms at z) for 18 KB. Measurements: bindings/js/README.md.
    wasm-pack --quiet build "$JS" --release --target web --out-dir pkg --out-name pkgprotect_js \
        --no-pack --mode no-install -- \
        --config 'profile.release.opt-level="z"' --config 'profile.release.package.pkgprotect.opt-level=2' \
        --config 'profile.release.lto="fat"' --config 'profile.release.codegen-units=1' \
        --config 'profile.release.panic="abort"'
fi
# The generated module imports ./glue.js (src/glue.rs), which imports ./errors.js: hand-written
# JS that wasm-bindgen does not copy for `raw_module` imports, so it goes beside the module here.
for f in errors.js glue.js; do
    cmp -s "$JS/src/$f" "$JS/pkg/$f" || cp "$JS/src/$f" "$JS/pkg/$f"
done
mkdir -p "$PAGE_PKG"
for f in pkgprotect_js.js pkgprotect_js_bg.wasm errors.js glue.js; do
    cmp -s "$JS/pkg/$f" "$PAGE_PKG/$f" || cp "$JS/pkg/$f" "$PAGE_PKG/$f"
done
echo "bindings/js/pkg: $(wc -c < "$wasm") bytes of wasm; the preview page loads $PAGE_PKG"
