#!/usr/bin/env bash
# End to end: container repository protection on a real `docker push`. CNCF distribution 2.8
# (Debian `docker-registry`) authenticates through `pkgprotect serve`'s registry token
# service (/jwt/auth); skopeo pushes a small OCI image built here (nothing is downloaded).
# Everything listens on 127.0.0.1 and is stopped on exit.
#
# The scenario runs twice: one server on SQLite, then two servers sharing one throw-away
# PostgreSQL (the registry asks the first, rules change through python-gitlab on the second).
#
#   scripts/test-registry.sh        # installs docker-registry, skopeo and python-gitlab if missing
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
    echo "installing docker-registry and skopeo (Debian packages)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-registry skopeo >/dev/null
fi
[ -f target/pkgprotect.wasm ] || scripts/build-component.sh
VENV="$ROOT/.tools/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import gitlab, sys; sys.exit(gitlab.__version__ != "8.6.0")' 2>/dev/null \
    || "$VENV/bin/pip" install -q python-gitlab==8.6.0 pytest==8.3.5
cargo build -q --locked -p pkgprotect-cli
BIN="$ROOT/target/debug/pkgprotect"

WORK=$(mktemp -d /tmp/pkgprotect-registry.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    pg_stop
    rm -rf "$WORK"
}
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # URL
    local i
    for i in $(seq 1 100); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "error: nothing answers at $1" >&2
    return 1
}

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# A tiny OCI image layout: one gzip'd tar layer holding one file.
python3 - "$WORK/image" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs)
def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)
tar_bytes = io.BytesIO()
with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
    content = b"hello from pkgprotect\n"
    info = tarfile.TarInfo("hello.txt"); info.size = len(content); info.mtime = 0
    tar.addfile(info, io.BytesIO(content))
diff_id = "sha256:" + hashlib.sha256(tar_bytes.getvalue()).hexdigest()
layer, layer_size = blob(gzip.compress(tar_bytes.getvalue(), mtime=0))
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
config_digest, config_size = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}]}).encode()
manifest_digest, manifest_size = blob(manifest)
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOF


FAILED=0
report() { # WHAT DETAIL CONDITION... (a command; `[[` through bash -c would lose the variables)
    local what=$1 detail=$2; shift 2
    if "$@"; then printf 'ok    %s\n' "$what"; else printf 'FAIL  %s: %s\n' "$what" "$detail"; FAILED=1; fi
}
has() { [[ "$1" == *"$2"* ]]; } # TEXT PART
push() { # EXPECTED(ok|fail) WHAT CREDS PATH
    local expected=$1 what=$2 creds=$3 path=$4 out status
    if out=$(skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds "$creds" \
        "oci:$WORK/image:v1" "docker://127.0.0.1:$RPORT/$path:v1" 2>&1); then status=ok; else status=fail; fi
    if [ "$status" = "$expected" ]; then
        printf 'ok    %-58s push   %-20s %s\n' "$what" "$path" "$status${out:+: $(tail -n 1 <<<"$out")}"
    else
        printf 'FAIL  %-58s push   %-20s expected %s, got %s: %s\n' "$what" "$path" "$expected" "$status" "$out"
        FAILED=1
    fi
}
pull() { # EXPECTED(ok|fail) WHAT CREDS PATH
    local expected=$1 what=$2 creds=$3 path=$4 out status
    if out=$(skopeo --insecure-policy inspect --tls-verify=false --creds "$creds" \
        "docker://127.0.0.1:$RPORT/$path:v1" 2>&1 >/dev/null); then status=ok; else status=fail; fi
    if [ "$status" = "$expected" ]; then
        printf 'ok    %-58s pull   %-20s %s\n' "$what" "$path" "$status${out:+: $(tail -n 1 <<<"$out")}"
    else
        printf 'FAIL  %-58s pull   %-20s expected %s, got %s: %s\n' "$what" "$path" "$expected" "$status" "$out"
        FAILED=1
    fi
}
delete() { # EXPECTED WHAT CREDS PATH
    local expected=$1 what=$2 creds=$3 path=$4 out status
    if out=$(skopeo --insecure-policy delete --tls-verify=false --creds "$creds" \
        "docker://127.0.0.1:$RPORT/$path:v1" 2>&1); then status=ok; else status=fail; fi
    if [ "$status" = "$expected" ]; then
        printf 'ok    %-58s delete %-20s %s\n' "$what" "$path" "$status${out:+: $(tail -n 1 <<<"$out")}"
    else
        printf 'FAIL  %-58s delete %-20s expected %s, got %s: %s\n' "$what" "$path" "$expected" "$status" "$out"
        FAILED=1
    fi
}
token_request() { # CREDS SCOPE [SERVER_PORT] → "STATUS BODY"
    curl -s -u "$1" -w '\n%{http_code}' \
        "http://127.0.0.1:${3:-$PORT}/jwt/auth?service=container_registry&scope=$2" \
        | python3 -c 'import sys; *body, status = sys.stdin.read().split("\n"); print(status, "\n".join(body))'
}
start_server() { # DATA_DIR → SERVER_PORT; the server's pid joins PIDS
    SERVER_PORT=$(free_port)
    "$BIN" serve "${DB_ARGS[@]}" --data-dir "$1" --listen "127.0.0.1:$SERVER_PORT" --component target/pkgprotect.wasm \
        >>"$WORK/serve.log" 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$SERVER_PORT/-/health"
}

scenario() { # sqlite | postgres
    local backend=$1
    echo
    echo "--- $backend"
    rm -rf "$WORK/data" "$WORK/data-b" "$WORK/storage" "$WORK/serve.log" "$WORK/registry.log"
    DATA="$WORK/data"
    DB_ARGS=()
    if [ "$backend" = postgres ]; then
        pg_start
        DB_ARGS=(--database-url "$PG_URL")
    fi
    admin() { "$BIN" admin "${DB_ARGS[@]}" --data-dir "$DATA" --json "$@"; }

    # A project and one user of each kind, with registry tokens; `api` tokens for deletes
    # (admin_container_image) and rules; a deploy token.
    admin project create g/p >/dev/null
    for user in rep dev maint own stranger; do admin user create "$user" >/dev/null; done
    admin member add g/p rep reporter >/dev/null
    admin member add g/p dev developer >/dev/null
    admin member add g/p maint maintainer >/dev/null
    admin member add g/p own owner >/dev/null
    registry_token() { admin token create "$1" --scope read_registry --scope write_registry | json_field token; }
    REP=$(registry_token rep); DEV=$(registry_token dev); MAINT=$(registry_token maint)
    STRANGER=$(registry_token stranger)
    MAINT_API=$(admin token create maint --scope api | json_field token)
    OWN_API=$(admin token create own --scope api | json_field token)
    local deploy_json
    deploy_json=$(admin deploy-token create g/p --scope read_registry --scope write_registry)
    DEPLOY=$(json_field token <<<"$deploy_json")
    DEPLOY_USER=$(json_field username <<<"$deploy_json")

    start_server "$DATA"; PORT=$SERVER_PORT
    [ -f "$DATA/registry-auth.crt" ] || { echo "error: no $DATA/registry-auth.crt" >&2; exit 1; }
    if [ "$backend" = sqlite ]; then
        [ "$(stat -c %a "$DATA/registry-auth.key")" = 600 ] || { echo "error: the key file is not mode 0600" >&2; exit 1; }
    fi
    # The second instance (PostgreSQL): same database, its own data directory.
    PORT_B=$PORT
    if [ "$backend" = postgres ]; then start_server "$WORK/data-b"; PORT_B=$SERVER_PORT; fi

    # Pushes to g/p/protected* need maintainer, deletes owner.
    curl -sf -X POST -H "PRIVATE-TOKEN: $MAINT_API" -H 'Content-Type: application/json' \
        -d '{"repository_path_pattern": "g/p/protected*", "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"}' \
        "http://127.0.0.1:$PORT/api/v4/projects/g%2Fp/registry/protection/repository/rules" >/dev/null

    # The registry's configuration is the one `pkgprotect admin registry-config` prints.
    RPORT=$(free_port)
    admin registry-config >/dev/null # --json: just proves it runs; the YAML follows
    "$BIN" admin "${DB_ARGS[@]}" --data-dir "$DATA" registry-config --server-url "http://127.0.0.1:$PORT" \
        --registry-listen "127.0.0.1:$RPORT" --storage "$WORK/storage" >"$WORK/registry.yml"
    docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$RPORT/v2/"

    push ok   "developer, unprotected path"                     "dev:$DEV"               g/p/app
    push fail "developer, protected path (maintainer minimum)"  "dev:$DEV"               g/p/protected-app
    push ok   "maintainer, protected path"                      "maint:$MAINT"           g/p/protected-app
    push ok   "deploy token with write_registry, unprotected"   "$DEPLOY_USER:$DEPLOY"   g/p/deployed
    push fail "deploy token with write_registry, protected"     "$DEPLOY_USER:$DEPLOY"   g/p/protected-deploy
    push fail "reporter, unprotected path"                      "rep:$REP"               g/p/reporter-app
    push fail "non-member"                                      "stranger:$STRANGER"     g/p/stranger-app
    push fail "bad credentials"                                 "dev:glpat-wrong"        g/p/app
    push fail "developer, another project's path"               "dev:$DEV"               other/project

    pull ok   "developer, protected path (pulls are not protected)" "dev:$DEV"           g/p/protected-app
    pull ok   "reporter, protected path"                        "rep:$REP"               g/p/protected-app
    pull fail "non-member"                                      "stranger:$STRANGER"     g/p/app

    # The token requests themselves, as docker would show them.
    local answer
    answer=$(token_request "dev:$DEV" "repository:g/p/protected-app:push,pull")
    report "the developer's token request for a protected push answers 403 with GitLab's message" "$answer" \
        has "$answer" '403 {"errors":[{"code":"DENIED","message":"Pushing to protected repository path forbidden"}]}'
    answer=$(token_request "dev:glpat-wrong" "repository:g/p/app:pull")
    report "a wrong token's request answers 401 with a body the client shows" "$answer" \
        has "$answer" '401 {"errors":[{"code":"UNAUTHORIZED","message":"HTTP Basic: Access denied.'

    # Every instance signs with the key the registry trusts: a token from the second one reads
    # the protected repository's tags.
    local token status
    token=$(curl -sf -u "rep:$REP" \
        "http://127.0.0.1:$PORT_B/jwt/auth?service=container_registry&scope=repository:g/p/protected-app:pull" | json_field token)
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$RPORT/v2/g/p/protected-app/tags/list")
    report "a token from instance :$PORT_B is accepted by the registry that asks :$PORT" "registry answered $status" \
        [ "$status" = 200 ]

    if [ "$backend" = sqlite ]; then kid_only_tokens; fi

    # A rule created through GitLab's own client (on the second instance) applies to the next
    # token request, and so does a change to it.
    push ok   "maintainer, before a rule exists for it"         "maint:$MAINT"           g/p/late-app
    "$VENV/bin/python" - "http://127.0.0.1:$PORT_B" "$OWN_API" <<'PY'
import sys, gitlab
url, token = sys.argv[1:]
rules = gitlab.Gitlab(url, private_token=token).projects.get("g/p", lazy=True).registry_protection_repository_rules
rules.create({"repository_path_pattern": "g/p/late*", "minimum_access_level_for_push": "owner"})
PY
    push fail "maintainer, after python-gitlab created an owner rule" "maint:$MAINT"     g/p/late-app
    push ok   "owner, the same path"                            "own:$OWN_API"           g/p/late-app
    "$VENV/bin/python" - "http://127.0.0.1:$PORT_B" "$OWN_API" <<'PY'
import sys, gitlab
url, token = sys.argv[1:]
rules = gitlab.Gitlab(url, private_token=token).projects.get("g/p", lazy=True).registry_protection_repository_rules
for rule in rules.list(get_all=True):
    if rule.repository_path_pattern == "g/p/late*":
        rule.minimum_access_level_for_push = "maintainer"
        rule.save()
PY
    push ok   "maintainer, after python-gitlab lowered it to maintainer" "maint:$MAINT"  g/p/late-app

    # Deletes need admin_container_image (maintainer, `api` scope); below a rule's delete
    # minimum the token simply lacks `delete`, and the registry refuses.
    delete fail "developer"                                         "dev:$DEV"           g/p/app
    delete fail "maintainer, protected path (owner delete minimum)" "maint:$MAINT_API"   g/p/protected-app
    delete ok   "owner, protected path (owner delete minimum)"      "own:$OWN_API"       g/p/protected-app
    delete ok   "maintainer, unprotected path"                      "maint:$MAINT_API"   g/p/app

    if [ "$FAILED" != 0 ]; then
        echo "--- pkgprotect serve log"; tail -n 40 "$WORK/serve.log"
        echo "--- registry log"; tail -n 40 "$WORK/registry.log"
        exit 1
    fi
    # Every token request was logged with who asked and what they got.
    report "the refused token request is in the server's log with user and reason" "$(grep 'registry token' "$WORK/serve.log" | tail -n 3)" \
        grep -q 'registry token refused.*user="dev".*Pushing to protected repository path forbidden' "$WORK/serve.log"
    report "a granted token request is in the server's log with user and access" "$(grep 'registry token' "$WORK/serve.log" | tail -n 3)" \
        grep -q 'registry token granted.*user="maint".*repository:g/p/protected-app:' "$WORK/serve.log"
    [ "$FAILED" = 0 ] || exit 1

    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    pg_stop
}

kid_only_tokens() {
    # GitLab's tokens carry only `kid` (libtrust's id of the key), no `x5c`: distribution must
    # find the key by that id among rootcertbundle's certificates. Re-sign a token without `x5c`,
    # and with a wrong `kid`, and read the protected repository's tags with each.
    TOKEN=$(curl -sf -u "dev:$DEV" \
        "http://127.0.0.1:$PORT/jwt/auth?service=container_registry&scope=repository:g/p/protected-app:pull" | json_field token)
    if ! python3 -c 'import cryptography' 2>/dev/null; then
        echo "skip  kid-only tokens: python3 has no \`cryptography\` to re-sign with"
    elif [ "$(kid_check keep)" = 200 ] && [ "$(kid_check wrong)" = 401 ]; then
        echo "ok    a token with only GitLab's kid (no x5c) is accepted; a wrong kid is 401"
    else
        echo "FAIL  kid-only tokens: our kid $(kid_check keep), a wrong kid $(kid_check wrong)"; FAILED=1
    fi
}
kid_check() { # KID(keep|wrong) → HTTP status of the registry
    python3 - "$TOKEN" "$DATA/registry-auth.key" "http://127.0.0.1:$RPORT/v2/g/p/protected-app/tags/list" "$1" <<'PY'
import base64, json, sys, urllib.error, urllib.request
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
token, key_file, url, kid = sys.argv[1:]
head, payload, _ = token.split(".")
header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
del header["x5c"]
if kid == "wrong":
    header["kid"] = ":".join(["AAAA"] * 12)
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
signing_input = enc(json.dumps(header, separators=(",", ":")).encode()) + "." + payload
key = serialization.load_pem_private_key(open(key_file, "rb").read(), None)
signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + signing_input + "." + enc(signature)})
try:
    print(urllib.request.urlopen(request).status)
except urllib.error.HTTPError as error:
    print(error.code)
PY
}

scenario sqlite
scenario postgres

# The runnable example (examples/container-registry) as its README says to run it.
PKGPROTECT_DATA="$WORK/example" PORT=$(free_port) REGISTRY_PORT=$(free_port) PKGPROTECT_BIN="$BIN" \
    examples/container-registry/run.sh --check
echo
echo "registry end to end (SQLite; two instances on PostgreSQL): every push, pull and delete as expected"
