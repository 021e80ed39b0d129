#!/usr/bin/env bash
# The main job: the pkgprotect server with its embedded SQLite database in ./pkgprotect-data,
# a demo project (created on first start only) and the protection settings page at /
# (sign in there with the maintainer token it prints).
#
#   scripts/demo.sh                 # listens on 127.0.0.1:8080
#   PORT=9090 scripts/demo.sh
#   PKGPROTECT_PROFILE=debug scripts/demo.sh   # the debug build (scripts/test.sh has built it already)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
PORT=${PORT:-8080}
DATA=${PKGPROTECT_DATA:-pkgprotect-data}

command -v cargo >/dev/null || { echo "error: cargo is not installed (https://rustup.rs)" >&2; exit 1; }
scripts/build-component.sh
if [ -x scripts/build-preview.sh ]; then
    scripts/build-preview.sh --install
fi
# shellcheck source=scripts/lib/cli-build.sh
source scripts/lib/cli-build.sh
build_cli
exec "$PKGPROTECT_CLI" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --demo \
    --static-dir examples/browser-preview
