#!/usr/bin/env bash
# One command for BENCHMARKS.md, one run: starts a throw-away PostgreSQL (scripts/lib/postgres.sh),
# builds the component and the JS bindings, times the bindings in Node on the generated
# workloads, times the Node SDK (jco) and the Python SDK (wasmtime-py) beside their own
# language's naive loop and runtime floor, then runs every Rust-side engine side by side in the
# release bench binary, which writes the report with the SDK sections and the targets.
#   benches/run.sh                    # writes BENCHMARKS.md at the repository root
#   PKGPROTECT_BENCH_QUICK=1 benches/run.sh /tmp/quick.md
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
out=${1:-BENCHMARKS.md}
scripts/build-component.sh
scripts/build-preview.sh --install
cargo build -q --release --locked -p pkgprotect-benches
mkdir -p target/bench
target/release/compare --export-workloads target/bench/workloads.json
node bindings/js/scripts/bench-workloads.js target/bench/workloads.json > target/bench/js.json

# Node SDK: jco's transpile of the very component, as scripts/test-node.sh builds it.
if [ ! -d bindings/node/node_modules ]; then
    npm ci --prefix bindings/node --no-audit --no-fund --loglevel=error </dev/null
fi
npm --prefix bindings/node run --silent build
node bindings/node/scripts/bench.js > target/bench/node-sdk.md

# Python SDK from its source tree on the same component, in a venv holding only wasmtime-py.
BENCH_VENV=.tools/venv-bench
[ -x "$BENCH_VENV/bin/python" ] || python3 -m venv "$BENCH_VENV"
"$BENCH_VENV/bin/python" -c 'import wasmtime' 2>/dev/null || "$BENCH_VENV/bin/pip" install -q "wasmtime>=50.0.1"
quick_python=(--rounds 9)
[ -z "${PKGPROTECT_BENCH_QUICK:-}" ] || quick_python=(--rounds 3 --requests 500)
{
    PYTHONPATH=bindings/python/src PKGPROTECT_WASM=$ROOT/target/pkgprotect.wasm \
        "$BENCH_VENV/bin/python" -P bindings/python/bench.py --rules 10,50,100,1000 "${quick_python[@]}"
    PYTHONPATH=bindings/python/src PKGPROTECT_WASM=$ROOT/target/pkgprotect.wasm \
        "$BENCH_VENV/bin/python" -P bindings/python/bench.py --rules 50 --profile
} > target/bench/python-sdk.md

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
PKGPROTECT_BENCH_POSTGRES_URL=$PG_URL PKGPROTECT_BENCH_JS=target/bench/js.json \
    PKGPROTECT_BENCH_NODE_SDK=target/bench/node-sdk.md PKGPROTECT_BENCH_PYTHON_SDK=target/bench/python-sdk.md \
    target/release/compare "$out"
