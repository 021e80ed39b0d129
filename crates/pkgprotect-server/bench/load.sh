#!/usr/bin/env bash
# Load benchmark over loopback with wrk (Debian package): decisions/s for single and batch
# decision requests, rule-list requests and registry token requests (/jwt/auth: a push scope
# decided against the container rules, then an RS256 signature), for each engine the server has.
#
#   crates/pkgprotect-server/bench/load.sh            # 5 s per row
#   DURATION=10s CONNECTIONS=64 crates/pkgprotect-server/bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
BATCH=${BATCH:-100}
RULES=${RULES:-50}
ENGINES=${ENGINES:-component native}

if ! command -v wrk >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get install -y -qq wrk >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null; }
fi
cargo build -q --release --locked -p pkgprotect-cli
pp=$PWD/target/release/pkgprotect
work=$(mktemp -d /tmp/pkgprotect-load.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$pp" admin --data-dir "$work/data" project create acme/registry >/dev/null
"$pp" admin --data-dir "$work/data" user create maint >/dev/null
"$pp" admin --data-dir "$work/data" user create dev >/dev/null
"$pp" admin --data-dir "$work/data" member add acme/registry maint maintainer >/dev/null
"$pp" admin --data-dir "$work/data" member add acme/registry dev developer >/dev/null
MAINT=$("$pp" admin --data-dir "$work/data" token create maint 2>/dev/null)
DEV=$("$pp" admin --data-dir "$work/data" token create dev 2>/dev/null)
export TOKEN=$DEV

cat > "$work/single.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["PRIVATE-TOKEN"] = os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"package_name":"@acme/pkg-%d","package_type":"npm","action":"push"}', n % 100)
  return wrk.format(nil, nil, nil, body)
end
LUA
python3 - "$BATCH" > "$work/batch.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"requests": [{"package_name": f"@acme/pkg-{i}", "package_type": "npm", "action": "push"} for i in range(n)]}))
PY
cat > "$work/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["PRIVATE-TOKEN"] = os.getenv("TOKEN")
local f = io.open("$work/batch.json"); wrk.body = f:read("*a"); f:close()
LUA
cat > "$work/list.lua" <<'LUA'
wrk.headers["PRIVATE-TOKEN"] = os.getenv("MAINT_TOKEN")
LUA
export MAINT_TOKEN=$MAINT
# docker's token request: HTTP Basic, one repository scope with push and pull.
BASIC="Basic $(printf 'dev:%s' "$DEV" | base64 -w0)"
export BASIC
cat > "$work/token.lua" <<'LUA'
wrk.headers["Authorization"] = os.getenv("BASIC")
local n = 0
request = function()
  n = n + 1
  local path = string.format("/jwt/auth?service=container_registry&scope=repository:acme/registry/app-%d:push,pull", n % 100)
  return wrk.format("GET", path)
end
LUA

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port/api/v4/projects/1"

rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }

echo "| engine | workload | requests/s | decisions/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
for engine in $ENGINES; do
    "$pp" serve --data-dir "$work/data" --listen "127.0.0.1:$port" --engine "$engine" --component "$PWD/target/pkgprotect.wasm" >"$work/server-$engine.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/v4/user" && break; sleep 0.1; done
    if [ ! -f "$work/rules-created" ]; then
        for i in $(seq 1 "$RULES"); do
            case $((i % 4)) in
                0) pattern="@acme/pkg-$i" ;; 1) pattern="@acme/lib-$i-*" ;; 2) pattern="*-tool-$i" ;; *) pattern="*core$i*" ;;
            esac
            curl -sf -o /dev/null -X POST -H "PRIVATE-TOKEN: $MAINT" -H 'Content-Type: application/json' \
                -d "{\"package_name_pattern\":\"$pattern\",\"package_type\":\"npm\",\"minimum_access_level_for_push\":\"maintainer\"}" \
                "$base/packages/protection/rules"
        done
        for i in $(seq 1 10); do
            curl -sf -o /dev/null -X POST -H "PRIVATE-TOKEN: $MAINT" -H 'Content-Type: application/json' \
                -d "{\"repository_path_pattern\":\"acme/registry/release-$i*\",\"minimum_access_level_for_push\":\"maintainer\"}" \
                "$base/registry/protection/repository/rules"
        done
        touch "$work/rules-created"
    fi
    for workload in single batch list token; do
        case $workload in
            single) url="$base/packages/protection/decisions"; per=1 ;;
            batch) url="$base/packages/protection/decisions"; per=$BATCH ;;
            list) url="$base/packages/protection/rules"; per=0 ;;
            token) url="http://127.0.0.1:$port/jwt/auth"; per=1 ;;
        esac
        wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/$workload.lua" "$url" >"$work/wrk.txt" 2>&1
        if grep -q "Non-2xx" "$work/wrk.txt"; then cat "$work/wrk.txt" >&2; exit 1; fi
        rps=$(rate "$work/wrk.txt")
        decisions=$(python3 -c "print(f'{$rps * $per:,.0f}' if $per else '–')")
        label=$workload; [ "$workload" = batch ] && label="batch of $BATCH"; [ "$workload" = list ] && label="list $RULES rules"
        [ "$workload" = token ] && label="registry token (push,pull)"
        printf '| %s | %s | %s | %s | %s | %s |\n' "$engine" "$label" "$(python3 -c "print(f'{$rps:,.0f}')")" "$decisions" \
            "$(pct "$work/wrk.txt" 50%)" "$(pct "$work/wrk.txt" 99%)"
    done
    kill "$server"; wait "$server" 2>/dev/null || true
done
echo
echo "wrk -t1 -c$CONNECTIONS -d$DURATION on 127.0.0.1, server and wrk sharing $(nproc) cores; $RULES npm rules (exact/prefix/suffix/infix), 10 container rules; token rows: one decision and one RS256 signature per request."
