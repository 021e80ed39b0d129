#!/usr/bin/env bash
# Fuzz the core (and the component against it) with cargo-fuzz (libFuzzer + AddressSanitizer), corpora seeded from the
# shared conformance vectors. Installs cargo-fuzz when missing; the machine's one stable
# toolchain builds the fuzzers with RUSTC_BOOTSTRAP=1 (no nightly can be fetched here).
#
#   scripts/fuzz.sh            # the core's targets, 60 s each (the bounded run in scripts/test.sh)
#   SECONDS_PER_TARGET=3600 scripts/fuzz.sh matcher   # a long run of one target
#   scripts/fuzz.sh native_vs_component   # the component against the core (builds wasmtime
#                                         # sanitized, most of a CI step; `cargo test` runs the same
#                                         # comparison as a property test, crates/pkgprotect-host)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
SHARED=${PKGPROTECT_SHARED:-$ROOT/../shared}
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(matcher decide validate)
# native_vs_component runs the component through the host crate (scripts/build-component.sh).
export PKGPROTECT_COMPONENT=${PKGPROTECT_COMPONENT:-$ROOT/target/pkgprotect.wasm}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
export RUSTC_BOOTSTRAP=1

python3 - "$SHARED/conformance/gitlab-vectors.json" fuzz/corpus <<'PY'
import json, os, sys
vectors = json.load(open(sys.argv[1]))
root = sys.argv[2]
types = {"npm": 0, "pypi": 1, "generic": 2}
levels = {None: 0, "maintainer": 1, "owner": 2, "admin": 3}
actors = {"deploy_token": 0, "developer": 1, "maintainer": 2, "owner": 3, "admin": 4}
def write(target, i, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    open(f"{root}/{target}/vector-{i:05}", "wb").write(data.encode())
for i, v in enumerate(vectors["match"]):
    write("matcher", i, v["pattern"] + "\0" + v["name"])
for i, v in enumerate(vectors["validate"]):
    write("validate", i, json.dumps(v["rule"]))
for i, v in enumerate(vectors["decide"]):
    r = v["request"]
    target = types.get(r.get("package_type"), 3 if "repository_path" in r else 2)
    actor = r["actor"].get("access_level", "deploy_token")
    head = f"{target}{actors.get(actor, 1)}{0 if r['action'] == 'push' else 1}{r.get('package_name', r.get('repository_path', ''))}"
    lines = [head] + [f"{types.get(rule.get('package_type'), 3 if 'repository_path_pattern' in rule else 2)}"
                      f"{levels.get(rule.get('minimum_access_level_for_push'), 0)}{levels.get(rule.get('minimum_access_level_for_delete'), 0)}"
                      f"{rule.get('package_name_pattern', rule.get('repository_path_pattern', ''))}" for rule in v["rules"]]
    write("decide", i, "\n".join(lines))
    write("native_vs_component", i, "\n".join(lines))
PY

cd fuzz
for target in "${TARGETS[@]}"; do
    echo "==> fuzz $target for ${SECONDS_PER_TARGET}s"
    mkdir -p "artifacts/$target"
    log="artifacts/$target/last-run.log"
    status=0
    features=(); [ "$target" = native_vs_component ] && features=(--features component)
    cargo fuzz run -O "${features[@]}" "$target" "corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=512 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR|thread .* panicked|artifact_prefix|Test unit written)" "$log" || true
    if ls "artifacts/$target"/crash-* "artifacts/$target"/leak-* >/dev/null 2>&1; then
        echo "fuzz target $target found a failure: fuzz/artifacts/$target (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target <file>)" >&2
        exit 1
    fi
    # A build failure (or any other early exit) leaves no artifact: it must not pass as a run.
    if [ "$status" -ne 0 ]; then
        tail -n 30 "$log" >&2
        echo "fuzz target $target did not run to its time limit (exit $status); log: fuzz/$log" >&2
        exit 1
    fi
done
