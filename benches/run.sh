#!/usr/bin/env bash
# One command for BENCHMARKS.md: starts a throw-away PostgreSQL (scripts/lib/postgres.sh),
# builds the bench binary in release mode and runs every engine side by side.
#   benches/run.sh                    # writes BENCHMARKS.md at the repository root
#   PKGPROTECT_BENCH_QUICK=1 benches/run.sh /tmp/quick.md
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-BENCHMARKS.md}
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
cargo build -q --release --locked -p pkgprotect-benches
PKGPROTECT_BENCH_POSTGRES_URL=$PG_URL target/release/compare "$out"
