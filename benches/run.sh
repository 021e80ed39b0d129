#!/usr/bin/env bash
# One command for BENCHMARKS.md: starts a throw-away PostgreSQL (scripts/lib/postgres.sh),
# builds the component and the JS bindings, times the bindings in Node on the generated
# workloads, then runs every engine side by side in the release bench binary.
#   benches/run.sh                    # writes BENCHMARKS.md at the repository root
#   PKGPROTECT_BENCH_QUICK=1 benches/run.sh /tmp/quick.md
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-BENCHMARKS.md}
scripts/build-component.sh
scripts/build-preview.sh --install
cargo build -q --release --locked -p pkgprotect-benches
mkdir -p target/bench
target/release/compare --export-workloads target/bench/workloads.json
node bindings/js/scripts/bench-workloads.js target/bench/workloads.json > target/bench/js.json
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
PKGPROTECT_BENCH_POSTGRES_URL=$PG_URL PKGPROTECT_BENCH_JS=target/bench/js.json target/release/compare "$out"
