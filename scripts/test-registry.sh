#!/usr/bin/env bash
# End to end: container repository protection on a real `docker push`. CNCF distribution 2.8
# (Debian `docker-registry`) authenticates through `pkgprotect serve`'s registry token
# service (/jwt/auth); skopeo pushes a small OCI image built here (nothing is downloaded).
# Everything listens on 127.0.0.1 and is stopped on exit.
#
#   scripts/test-registry.sh        # installs docker-registry and skopeo if missing
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
cargo build -q --locked -p pkgprotect-cli
BIN="$ROOT/target/debug/pkgprotect"

WORK=$(mktemp -d /tmp/pkgprotect-registry.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
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

DATA="$WORK/data"
admin() { "$BIN" admin --data-dir "$DATA" --json "$@"; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# A project, a developer and a maintainer with registry tokens, a deploy token.
admin project create g/p >/dev/null
for user in dev maint; do admin user create "$user" >/dev/null; done
admin member add g/p dev developer >/dev/null
admin member add g/p maint maintainer >/dev/null
DEV=$(admin token create dev --scope read_registry --scope write_registry | json_field token)
MAINT=$(admin token create maint --scope read_registry --scope write_registry | json_field token)
MAINT_API=$(admin token create maint --scope api | json_field token)
DEPLOY_JSON=$(admin deploy-token create g/p --scope read_registry --scope write_registry)
DEPLOY=$(json_field token <<<"$DEPLOY_JSON")
DEPLOY_USER=$(json_field username <<<"$DEPLOY_JSON")

PORT=$(free_port)
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --component target/pkgprotect.wasm \
    >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$PORT/-/health"
[ -f "$DATA/registry-auth.crt" ] || { echo "error: no $DATA/registry-auth.crt" >&2; exit 1; }
[ "$(stat -c %a "$DATA/registry-auth.key")" = 600 ] || { echo "error: the key file is not mode 0600" >&2; exit 1; }

# Pushes to g/p/protected* need maintainer.
curl -sf -X POST -H "PRIVATE-TOKEN: $MAINT_API" -H 'Content-Type: application/json' \
    -d '{"repository_path_pattern": "g/p/protected*", "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"}' \
    "http://127.0.0.1:$PORT/api/v4/projects/g%2Fp/registry/protection/repository/rules" >/dev/null

RPORT=$(free_port)
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$RPORT
  secret: pkgprotect-test-only
auth:
  token:
    realm: http://127.0.0.1:$PORT/jwt/auth
    service: container_registry
    issuer: gitlab-issuer
    rootcertbundle: $DATA/registry-auth.crt
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$RPORT/v2/"

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
push() { # EXPECTED(ok|fail) WHAT CREDS PATH
    local expected=$1 what=$2 creds=$3 path=$4 out status
    if out=$(skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds "$creds" \
        "oci:$WORK/image:v1" "docker://127.0.0.1:$RPORT/$path:v1" 2>&1); then status=ok; else status=fail; fi
    if [ "$status" = "$expected" ]; then
        printf 'ok    %-58s push %-20s %s\n' "$what" "$path" "$status${out:+: $(tail -n 1 <<<"$out")}"
    else
        printf 'FAIL  %-58s push %-20s expected %s, got %s: %s\n' "$what" "$path" "$expected" "$status" "$out"
        FAILED=1
    fi
}
push ok   "developer, unprotected path"                     "dev:$DEV"               g/p/app
push fail "developer, protected path (maintainer minimum)"  "dev:$DEV"               g/p/protected-app
push ok   "maintainer, protected path"                      "maint:$MAINT"           g/p/protected-app
push ok   "deploy token with write_registry, unprotected"   "$DEPLOY_USER:$DEPLOY"   g/p/deployed
push fail "deploy token with write_registry, protected"     "$DEPLOY_USER:$DEPLOY"   g/p/protected-deploy
push fail "bad credentials"                                 "dev:glpat-wrong"        g/p/app
push fail "developer, another project's path"               "dev:$DEV"               other/project

# Pull-only access to a protected path keeps working.
if skopeo --insecure-policy inspect --tls-verify=false --creds "dev:$DEV" \
    "docker://127.0.0.1:$RPORT/g/p/protected-app:v1" >/dev/null 2>"$WORK/inspect.err"; then
    echo "ok    developer pulls (inspects) the protected path"
else
    echo "FAIL  developer cannot pull the protected path: $(cat "$WORK/inspect.err")"; FAILED=1
fi

# GitLab's tokens carry only `kid` (libtrust's id of the key), no `x5c`: distribution must find
# the key by that id among rootcertbundle's certificates. Re-sign a token without `x5c`, and
# with a wrong `kid`, and read the protected repository's tags with each.
TOKEN=$(curl -sf -u "dev:$DEV" \
    "http://127.0.0.1:$PORT/jwt/auth?service=container_registry&scope=repository:g/p/protected-app:pull" | json_field token)
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
if ! python3 -c 'import cryptography' 2>/dev/null; then
    echo "skip  kid-only tokens: python3 has no \`cryptography\` to re-sign with"
elif [ "$(kid_check keep)" = 200 ] && [ "$(kid_check wrong)" = 401 ]; then
    echo "ok    a token with only GitLab's kid (no x5c) is accepted; a wrong kid is 401"
else
    echo "FAIL  kid-only tokens: our kid $(kid_check keep), a wrong kid $(kid_check wrong)"; FAILED=1
fi

# Deletes need admin_container_image (maintainer, `api` scope); below a rule's delete minimum
# the token simply lacks `delete`, and the registry refuses.
delete() { # EXPECTED WHAT CREDS PATH
    local expected=$1 what=$2 creds=$3 path=$4 out status
    if out=$(skopeo --insecure-policy delete --tls-verify=false --creds "$creds" \
        "docker://127.0.0.1:$RPORT/$path:v1" 2>&1); then status=ok; else status=fail; fi
    if [ "$status" = "$expected" ]; then
        printf 'ok    %-58s delete %-18s %s\n' "$what" "$path" "$status${out:+: $(tail -n 1 <<<"$out")}"
    else
        printf 'FAIL  %-58s delete %-18s expected %s, got %s: %s\n' "$what" "$path" "$expected" "$status" "$out"
        FAILED=1
    fi
}
delete fail "developer"                                         "dev:$DEV"               g/p/app
delete fail "maintainer, protected path (owner delete minimum)" "maint:$MAINT_API"       g/p/protected-app
delete ok   "maintainer, unprotected path"                      "maint:$MAINT_API"       g/p/app

if [ "$FAILED" != 0 ]; then
    echo "--- pkgprotect serve log"; tail -n 40 "$WORK/serve.log"
    echo "--- registry log"; tail -n 40 "$WORK/registry.log"
    exit 1
fi
echo "registry end to end: every push, pull and delete as expected"
