#!/usr/bin/env bash
# Runs every example of README.md with the real wasmtime CLI and compares each printed
# result with the one the README shows.
set -euo pipefail
cd "$(dirname "$0")/../.."
WASMTIME=${WASMTIME:-.tools/venv/bin/wasmtime}
export WASMTIME W=target/pkgprotect.wasm
python3 - examples/wasmtime-cli/README.md <<'PY'
import os, re, subprocess, sys
text = open(sys.argv[1]).read()
pairs = re.findall(r"```sh\n(wasmtime run .*?)\n```\n```\n(.*?)\n```", text, re.S)
assert len(pairs) >= 7, f"found only {len(pairs)} examples"
for command, expected in pairs:
    command = command.replace("wasmtime run", '"$WASMTIME" run', 1)
    got = subprocess.run(["bash", "-c", command], check=True, capture_output=True, text=True).stdout.strip()
    if got != expected.strip():
        sys.exit(f"example differs:\n  {command}\nexpected: {expected}\ngot:      {got}")
print(f"{len(pairs)} wasmtime CLI examples: ok")
PY
