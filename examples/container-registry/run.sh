#!/usr/bin/env bash
# A container registry whose pushes, pulls and deletes are authorized by pkgprotect, as
# GitLab's registry is: `pkgprotect serve` (SQLite in ./registry-example-data) and Debian's
# `docker-registry` (CNCF distribution), both on 127.0.0.1, the registry configured by
# `pkgprotect admin registry-config`. On first start it creates project `demo/app`, a
# maintainer and a developer with registry tokens, and a rule: pushes to `demo/app/release*`
# need maintainer, deletes there owner. It prints the commands to try, then runs until Ctrl-C.
#
#   examples/container-registry/run.sh              # pkgprotect on :8080, the registry on :5000
#   PORT=9090 REGISTRY_PORT=5001 examples/container-registry/run.sh
#   examples/container-registry/run.sh --check      # one push and one refused push, then exit
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8080}
REGISTRY_PORT=${REGISTRY_PORT:-5000}
DATA=${PKGPROTECT_DATA:-registry-example-data}
CHECK=0
[ "${1:-}" = --check ] && CHECK=1

if ! command -v docker-registry >/dev/null; then
    echo "installing docker-registry (Debian package)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-registry >/dev/null
fi
[ -f target/pkgprotect.wasm ] || scripts/build-component.sh
BIN=${PKGPROTECT_BIN:-}
if [ -z "$BIN" ]; then
    echo "building pkgprotect…"
    cargo build -q --locked -p pkgprotect-cli
    BIN=target/debug/pkgprotect
fi
admin() { "$BIN" admin --data-dir "$DATA" "$@"; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

PIDS=()
stop() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
wait_for() { # URL
    local i
    for i in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "error: nothing answers at $1" >&2
    return 1
}

TOKENS="$DATA/example-tokens.txt"
if [ ! -f "$TOKENS" ]; then
    admin --json project create demo/app >/dev/null
    admin --json user create maintainer >/dev/null
    admin --json user create developer >/dev/null
    admin --json member add demo/app maintainer maintainer >/dev/null
    admin --json member add demo/app developer developer >/dev/null
    {
        echo "MAINTAINER_API=$(admin --json token create maintainer --scope api | json_field token)"
        echo "MAINTAINER=$(admin --json token create maintainer --scope read_registry --scope write_registry | json_field token)"
        echo "DEVELOPER=$(admin --json token create developer --scope read_registry --scope write_registry | json_field token)"
    } >"$TOKENS.new"
    chmod 600 "$TOKENS.new"
    mv "$TOKENS.new" "$TOKENS"
fi
# shellcheck disable=SC1090
source "$TOKENS"

"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --component target/pkgprotect.wasm \
    >"$DATA/serve.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$PORT/-/readiness"
RULES_URL="http://127.0.0.1:$PORT/api/v4/projects/demo%2Fapp/registry/protection/repository/rules"
if [ "$(curl -sf -H "PRIVATE-TOKEN: $MAINTAINER_API" "$RULES_URL")" = "[]" ]; then
    curl -sf -X POST -H "PRIVATE-TOKEN: $MAINTAINER_API" -H 'Content-Type: application/json' \
        -d '{"repository_path_pattern": "demo/app/release*", "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"}' \
        "$RULES_URL" >/dev/null
fi

admin registry-config --server-url "http://127.0.0.1:$PORT" --registry-listen "127.0.0.1:$REGISTRY_PORT" \
    --storage "$(realpath -m "$DATA/registry-storage")" >"$DATA/registry.yml"
docker-registry serve "$DATA/registry.yml" >"$DATA/registry.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$REGISTRY_PORT/v2/"

REGISTRY=127.0.0.1:$REGISTRY_PORT
if [ "$CHECK" = 1 ]; then
    # Pushes an image the registry already has a copy of in no repository: built here, tiny.
    command -v skopeo >/dev/null || { echo "error: --check needs skopeo" >&2; exit 1; }
    IMAGE=$(mktemp -d)
    mkdir -p "$IMAGE/blobs/sha256"
    python3 - "$IMAGE" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(root, "blobs", "sha256", digest), "wb").write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}
config = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode())
manifest = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config}, "layers": []}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
    "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, open(os.path.join(root, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(root, "oci-layout"), "w"))
PY
    copy() { skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds "$1" "oci:$IMAGE:v1" "docker://$REGISTRY/$2:v1"; }
    copy "maintainer:$MAINTAINER" demo/app/release
    if copy "developer:$DEVELOPER" demo/app/release 2>/dev/null; then
        echo "error: the developer pushed to the protected demo/app/release" >&2; exit 1
    fi
    copy "developer:$DEVELOPER" demo/app/dev
    rm -rf "$IMAGE"
    echo "example checked: the maintainer pushed demo/app/release, the developer was refused there and pushed demo/app/dev"
    exit 0
fi

cat <<EOT

pkgprotect:  http://127.0.0.1:$PORT   (settings page: sign in with $MAINTAINER_API)
registry:    http://$REGISTRY         (config: $DATA/registry.yml)

Try it (tokens are in $TOKENS):
  skopeo login --tls-verify=false -u developer -p $DEVELOPER $REGISTRY
  skopeo copy --dest-tls-verify=false docker://docker.io/library/busybox:latest docker://$REGISTRY/demo/app/dev:v1       # allowed
  skopeo copy --dest-tls-verify=false docker://docker.io/library/busybox:latest docker://$REGISTRY/demo/app/release:v1   # refused: 403
  docker login $REGISTRY -u maintainer -p $MAINTAINER   # docker and podman need $REGISTRY as an insecure registry

Logs: $DATA/serve.log (one line per token request: user, scopes, grant or refusal), $DATA/registry.log
Ctrl-C stops both.
EOT
wait -n "${PIDS[@]}"
