#!/usr/bin/env bash
# Runs every pkgprotect test on a fresh machine: installs what is missing (rustup targets,
# tools from crates.io/npm/PyPI, Debian packages), skips what is already there.
#
#   scripts/test.sh            # everything
#   PKGPROTECT_SHARED=/path    # where shared/ lives (default: ../shared next to the repo)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PKGPROTECT_SHARED=${PKGPROTECT_SHARED:-$(cd "$ROOT/../shared" 2>/dev/null && pwd || echo "$ROOT/../shared")}
export CARGO_TERM_COLOR=never
VECTORS="$PKGPROTECT_SHARED/conformance/gitlab-vectors.json"
OUT="$ROOT/test-output"
mkdir -p "$OUT"

# Each step's wall time is printed when the next starts, and all of them at the end.
STEP_NAME=""; STEP_START=$SECONDS; STEP_TIMES=()
step_done() {
    [ -n "$STEP_NAME" ] || return 0
    local took=$((SECONDS - STEP_START))
    STEP_TIMES+=("$(printf '%5ss  %s' "$took" "$STEP_NAME")")
    printf '    (%ss)\n' "$took"
}
step() { step_done; STEP_NAME=$*; STEP_START=$SECONDS; printf '\n==> %s\n' "$*"; }
started=$SECONDS

[ -f "$VECTORS" ] || { echo "error: conformance vectors not found at $VECTORS (set PKGPROTECT_SHARED)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "error: cargo is not installed (https://rustup.rs)" >&2; exit 1; }

# Build everything the later steps run before any of them starts timing or waiting, so that a
# fresh clone spends its compile time here and every wait below bounds a start-up, not a build.
# The release build is the main job's (scripts/demo.sh): the steps here run the debug build, which
# the tests need anyway, and spare CI a second, optimized build of wasmtime (about 5 minutes on
# a 2-core VM, 2026-12-06).
step "build: the component (and its test-only fault build), the CLI (debug), the JS bindings toolchain"
scripts/build-component.sh
scripts/build-fault-component.sh
cargo build -q --locked -p pkgprotect-cli
scripts/build-preview.sh --install

step "lint: cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "component: lint the guest for wasm32; the host crate packages on its own"
cargo clippy --locked -p pkgprotect-component --target wasm32-unknown-unknown -- -D warnings
cargo clippy --locked -p pkgprotect-component --target wasm32-unknown-unknown --features fault-injection -- -D warnings
# The files `cargo package` would ship: the WIT and the enum table are the crate's own
# (symlinks into the component crate, packaged as files), so the crate builds on its own.
# (A full `cargo package` also needs its path dependencies on crates.io first.)
host_files=$(cargo package --locked -p pkgprotect-host --list --allow-dirty)
for needed in wit/policy.wit src/same_enums.rs; do
    grep -qx "$needed" <<<"$host_files" || { echo "error: the pkgprotect-host package lacks $needed" >&2; exit 1; }
done

step "cargo test (unit, integration, proptest, doc tests)"
cargo test --workspace --locked

step "conformance: pkgprotect conformance --host native | component | wasmtime-cli"
cargo build -q --locked -p pkgprotect-cli
"$ROOT/target/debug/pkgprotect" conformance --host native "$VECTORS"
"$ROOT/target/debug/pkgprotect" conformance --host component "$VECTORS"
"$ROOT/target/debug/pkgprotect" conformance --host wasmtime-cli --wasmtime "$ROOT/.tools/venv/bin/wasmtime" --sample 120 "$VECTORS"
# Patterns and names that read like WAVE output (`allowed: true*`, braces, quotes): data to every host.
for host in native component; do
    "$ROOT/target/debug/pkgprotect" conformance --host "$host" tests/vectors/wave-lookalikes.json
done
"$ROOT/target/debug/pkgprotect" conformance --host wasmtime-cli --wasmtime "$ROOT/.tools/venv/bin/wasmtime" tests/vectors/wave-lookalikes.json

step "wasmtime CLI: the examples in examples/wasmtime-cli/README.md"
examples/wasmtime-cli/check.sh

# native vs component runs as a property test in `cargo test` (crates/pkgprotect-host); its fuzz
# target is for long runs, since its sanitized wasmtime build alone took most of this step.
step "fuzz: matcher and decide against the reference, validation totality (60 s each)"
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60} scripts/fuzz.sh

step "server and CLI: tests against a throw-away PostgreSQL (SQLite ran with cargo test)"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
# 10,000 projects (both rule kinds) decided through a 2-instance pool here; 400 ran on SQLite.
PKGPROTECT_TEST_POSTGRES_URL=$PG_URL PKGPROTECT_TEST_PROJECTS=10000 cargo test -p pkgprotect-server --locked -- --ignored --nocapture 2>&1 \
    | grep -vE '^\s*$'
# The CLI's PostgreSQL cases (`admin backup` pointing at `pg_dump`).
PKGPROTECT_TEST_POSTGRES_URL=$PG_URL cargo test -p pkgprotect-cli --locked --test all -- --ignored

step "server: python-gitlab (real client from PyPI), kill -9 durability (SQLite, PostgreSQL)"
VENV="$ROOT/.tools/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import gitlab, pytest, sys; sys.exit(gitlab.__version__ != "8.6.0")' 2>/dev/null \
    || "$VENV/bin/pip" install -q python-gitlab==8.6.0 pytest==8.3.5
cargo build -q --locked -p pkgprotect-cli
PKGPROTECT_TEST_POSTGRES_URL=$PG_URL PKGPROTECT_BIN="$ROOT/target/debug/pkgprotect" "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    crates/pkgprotect-server/tests/python

step "registry: docker-registry (CNCF distribution 2.8) + skopeo push through pkgprotect's /jwt/auth"
scripts/test-registry.sh

step "main job: scripts/demo.sh serves the demo project; its printed curl lines work"
DEMO_DATA=$(mktemp -d /tmp/pkgprotect-demo.XXXXXX)
DEMO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PKGPROTECT_PROFILE=debug PKGPROTECT_DATA=$DEMO_DATA PORT=$DEMO_PORT scripts/demo.sh > "$OUT/serve-demo.txt" 2>&1 &
DEMO_PID=$!
trap 'kill $DEMO_PID 2>/dev/null || true; pg_stop' EXIT
# Everything demo.sh builds was built in the first step: this waits for start-up only.
for _ in $(seq 120); do grep -q "listening on" "$OUT/serve-demo.txt" && break; sleep 1; done
grep -q "listening on" "$OUT/serve-demo.txt" || { cat "$OUT/serve-demo.txt"; exit 1; }
# Run every curl line the demo printed, as a newcomer would.
python3 - "$OUT/serve-demo.txt" <<'PY'
import re, subprocess, sys
text = open(sys.argv[1]).read()
commands = re.findall(r"^  (curl .*?)(?=\n  (?:curl|open)|\n\n)", text.replace("\\\n", " "), re.S | re.M)
assert len(commands) == 4, commands
outputs = [subprocess.run(c, shell=True, check=True, capture_output=True, text=True).stdout for c in commands]
assert '"package_name_pattern":"@demo/*"' in outputs[0], outputs[0]
assert '"id":' in outputs[1], outputs[1]
assert '"allowed":false' in outputs[2], outputs[2]
assert '"allowed":false' in outputs[3], outputs[3]
print("demo curl lines: ok")
PY
kill "$DEMO_PID"; wait "$DEMO_PID" 2>/dev/null || true
rm -rf "$DEMO_DATA"

step "CLI smoke test on the demo rules"
PKGPROTECT_PROFILE=debug scripts/cli-demo.sh > "$OUT/demo.txt"
grep -q "blocked: blocked by rule" "$OUT/demo.txt"

# ---- JS bindings and browser preview (bindings/js, examples/browser-preview) ----------------
step "JS bindings: wasm toolchain (installed if missing), wasm-pack build of bindings/js"
# Installs into fixed places and skips what is there: rustup target, wasm-pack and
# wasm-bindgen-cli in ~/.cargo/bin, npm devDependencies in bindings/js/node_modules.
scripts/build-preview.sh --install

step "JS bindings: tsc --noEmit on a typed usage file"
npm --prefix bindings/js run --silent typecheck

step "JS bindings: node --test (every function, bad input, vectors through NameList)"
npm --prefix bindings/js test

step "JS bindings: conformance vectors through the bindings"
npm --prefix bindings/js run --silent conformance -- "$VECTORS"

step "browser preview: the settings page in headless Chromium (playwright-core, axe-core) against pkgprotect serve"
if [ ! -x /usr/bin/chromium ]; then
    as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
cargo build -q --locked -p pkgprotect-cli
PKGPROTECT_BIN="$ROOT/target/debug/pkgprotect" PKGPROTECT_TEST_OUTPUT="$OUT" \
    npm --prefix bindings/js run --silent test:browser
echo "screenshots: $OUT/settings-*.png; axe: $OUT/settings-axe.json; timing: $OUT/settings-keystroke-timing.json"
# ---- end of JS bindings and browser preview ---------------------------------------------------

# ---- the same component in non-Rust registries (bindings/node, bindings/python, examples) ----
step "Node SDK over pkgprotect.wasm (jco), conformance, Verdaccio plugin with real npm"
PKGPROTECT_BIN="$ROOT/target/debug/pkgprotect" scripts/test-node.sh

step "Python SDK over pkgprotect.wasm (wasmtime-py), conformance, pypiserver with real twine"
PKGPROTECT_BIN="$ROOT/target/debug/pkgprotect" scripts/test-python.sh

step_done
printf '\nstep times:\n'; printf '%s\n' "${STEP_TIMES[@]}"
printf '\nall tests passed in %ss\n' "$((SECONDS - started))"
