#!/usr/bin/env bash
# Load run over many projects with wrk (Debian package): decisions/s, p50/p99 and the server's
# resident memory for 1, 1,000 and 10,000 active projects (hot set and uniform), single and
# batched decisions, the component engine beside the native engine in the same run.
#
#   crates/pkgprotect-server/bench/projects.sh              # 10,000 projects, 5 s per row
#   PROJECTS=2000 DURATION=3s crates/pkgprotect-server/bench/projects.sh
#   ACTIVES=10000 crates/pkgprotect-server/bench/projects.sh   # only the 10,000-project rows
#   PKGPROTECT_BIN=/tmp/old/pkgprotect COMPONENT=/tmp/old/pkgprotect.wasm …  # another build
#
# Prints a markdown table (the server README's Performance section comes from it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PROJECTS=${PROJECTS:-10000}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
BATCH=${BATCH:-100}
ENGINES=${ENGINES:-component native}
SERVE_ARGS=${SERVE_ARGS:-}  # more `serve` flags, e.g. "--instance-memory-mib 128"
ACTIVES=${ACTIVES:-1 1000 $PROJECTS}  # which active-project counts to measure

if ! command -v wrk >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get install -y -qq wrk >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null; }
fi
# Another build side by side (e.g. before and after a change): PKGPROTECT_BIN and COMPONENT.
COMPONENT=${COMPONENT:-$PWD/target/pkgprotect.wasm}
pp=${PKGPROTECT_BIN:-}
if [ -z "$pp" ]; then
    [ -f target/pkgprotect.wasm ] || scripts/build-component.sh >/dev/null
    cargo build -q --release --locked -p pkgprotect-cli
    pp=$PWD/target/release/pkgprotect
fi
work=$(mktemp -d /tmp/pkgprotect-projects.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# The schema through the CLI, then the projects, memberships and rules in one transaction:
# 10,000 CLI calls would measure process start-up, not the server.
"$pp" admin --data-dir "$work/data" user create dev >/dev/null
export TOKEN
TOKEN=$("$pp" admin --data-dir "$work/data" token create dev 2>/dev/null)
python3 - "$work/data/pkgprotect.sqlite3" "$PROJECTS" <<'PY'
import sqlite3, sys
db, projects = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
with db:
    for i in range(1, projects + 1):
        path = f"group-{i}/project"
        db.execute("INSERT INTO projects (id, full_path, full_path_lower) VALUES (?, ?, ?)", (i, path, path))
        db.execute("INSERT INTO members (project_id, user_id, access_level) VALUES (?, 1, 30)", (i,))
        # Five package rules (exact, prefix, suffix, infix, wildcard scope) and two container rules.
        for pattern in (f"@p{i}/core", f"@p{i}/lib-*", "*-tool", f"*core{i}*", "@internal/*"):
            db.execute("INSERT INTO package_protection_rules (project_id, package_name_pattern, package_type,"
                       " minimum_access_level_for_push) VALUES (?, ?, 'npm', 40)", (i, pattern))
        for pattern in (f"{path}/release*", f"{path}/*-prod"):
            db.execute("INSERT INTO container_repository_protection_rules (project_id, repository_path_pattern,"
                       " minimum_access_level_for_push) VALUES (?, ?, 50)", (i, pattern))
PY

# Each request picks a project: uniform over the active set, or a hot set (90% of requests
# on the first 1% of the active projects, at least one).
cat > "$work/pick.lua" <<'LUA'
local active = tonumber(os.getenv("ACTIVE"))
local hot = os.getenv("SHAPE") == "hot"
local batch = tonumber(os.getenv("BATCH_SIZE"))
local token = os.getenv("TOKEN")
local hot_size = math.max(1, math.floor(active / 100))
math.randomseed(os.time())
local function project()
  if hot and math.random() < 0.9 then return math.random(1, hot_size) end
  return math.random(1, active)
end
local function one(p, n)
  return string.format('{"package_name":"@p%d/lib-%d","package_type":"npm","action":"push"}', p, n)
end
request = function()
  local p = project()
  local body
  if batch > 1 then
    local items = {}
    for n = 1, batch do items[n] = one(p, n) end
    body = '{"requests":[' .. table.concat(items, ",") .. ']}'
  else
    body = one(p, math.random(1, 1000))
  end
  return wrk.format("POST", "/api/v4/projects/" .. p .. "/packages/protection/decisions",
    {["Content-Type"] = "application/json", ["PRIVATE-TOKEN"] = token}, body)
end
LUA

# The sweep before a row's warm-up: every active project in turn, SWEEPS times, so that
# every pool instance has compiled the sets the row uses (a random warm-up of 10,000 projects
# at batch rates reaches a third of them, and the row would measure compiles, not decisions).
# Python with keep-alive connections: wrk cannot stop after a number of requests.
cat > "$work/sweep.py" <<'PY'
import http.client, os, sys, threading
port, active, sweeps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
headers = {"Content-Type": "application/json", "PRIVATE-TOKEN": os.environ["TOKEN"]}
failures = []
def sweep(worker, workers):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for n in range(worker, active * sweeps, workers):
        p = n % active + 1
        body = '{"package_name":"@p%d/lib-0","package_type":"npm","action":"push"}' % p
        connection.request("POST", f"/api/v4/projects/{p}/packages/protection/decisions", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failures.append((p, response.status))
threads = [threading.Thread(target=sweep, args=(w, 16)) for w in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
if failures:
    sys.exit(f"sweep: {len(failures)} requests failed, first {failures[0]}")
PY
SWEEPS=${SWEEPS:-3}

rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }

# Every engine's server runs at once (one SQLite file, read only here), and each row is
# measured for every engine back to back: the machine's drift then hits both sides of a ratio.
declare -A rates ports servers
for engine in $ENGINES; do
    ports[$engine]=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$pp" serve --data-dir "$work/data" --listen "127.0.0.1:${ports[$engine]}" --engine "$engine" \
        --component "$COMPONENT" $SERVE_ARGS >"$work/server-$engine.log" 2>&1 &
    servers[$engine]=$!
    for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:${ports[$engine]}/-/liveness" && break; sleep 0.1; done
done
rows=()
for active in $ACTIVES; do
    for engine in $ENGINES; do
        python3 "$work/sweep.py" "${ports[$engine]}" "$active" "$SWEEPS"
    done
    for shape in uniform hot; do
        [ "$active" = 1 ] && [ "$shape" = hot ] && continue
        for batch in 1 "$BATCH"; do
            for engine in $ENGINES; do
                url="http://127.0.0.1:${ports[$engine]}"
                # The same load first, unmeasured.
                ACTIVE=$active SHAPE=$shape BATCH_SIZE=$batch wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" \
                    -s "$work/pick.lua" "$url" >/dev/null 2>&1
                ACTIVE=$active SHAPE=$shape BATCH_SIZE=$batch wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency \
                    -s "$work/pick.lua" "$url" >"$work/wrk.txt" 2>&1
                if grep -q "Non-2xx" "$work/wrk.txt"; then cat "$work/wrk.txt" >&2; tail -20 "$work/server-$engine.log" >&2; exit 1; fi
                rps=$(rate "$work/wrk.txt")
                key="$active-$shape-$batch"
                rates[$engine-$key]=$(python3 -c "print($rps * $batch)")
                rss=$(ps -o rss= -p "${servers[$engine]}" | tr -d ' ')
                rows+=("$engine|$key|$(python3 -c "print(f'{$rps * $batch:,.0f}')")|$(pct "$work/wrk.txt" 50%)|$(pct "$work/wrk.txt" 99%)|$((rss / 1024)) MiB")
            done
        done
    done
done
for engine in $ENGINES; do kill "${servers[$engine]}"; wait "${servers[$engine]}" 2>/dev/null || true; done
# Component rows first, then native, as the README's table reads.
mapfile -t rows < <(printf '%s\n' "${rows[@]}" | awk -F'|' '{print ($1 == "component" ? 0 : 1) "\t" NR "\t" $0}' | sort -k1,1n -k2,2n | cut -f3-)

echo "| engine | active projects | requests | decisions/s | p50 | p99 | resident memory | component ÷ native |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
    IFS='|' read -r engine key decisions p50 p99 rss <<<"$row"
    IFS='-' read -r active shape batch <<<"$key"
    ratio="–"
    if [ "$engine" = component ] && [ -n "${rates[native-$key]:-}" ]; then
        ratio=$(python3 -c "print(f'{${rates[component-$key]} / ${rates[native-$key]}:.2f}')")
    fi
    requests="single"; [ "$batch" != 1 ] && requests="batch of $batch"
    label=$(python3 -c "print(f'{$active:,}')"); [ "$active" != 1 ] && label="$label, $shape"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$engine" "$label" "$requests" "$decisions" "$p50" "$p99" "$rss" "$ratio"
done
echo
echo "wrk -t1 -c$CONNECTIONS -d$DURATION on 127.0.0.1, server and wrk sharing $(nproc) cores; SQLite; $PROJECTS projects × (5 npm + 2 container rules); a developer deciding package pushes; hot = 90% of requests on 1% of the active projects; each active count after $SWEEPS sweeps over its projects, each row after a $WARMUP warm-up of the same load; engines measured row by row, back to back; resident memory after the row."
