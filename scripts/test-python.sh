#!/usr/bin/env bash
# The Python SDK (bindings/python) and the pypiserver example (examples/python-index):
# builds the wheel with target/pkgprotect.wasm inside, installs it into a fresh venv (with the
# newest wasmtime-py its dependency range allows), runs the SDK's tests, every shared
# conformance vector through it, a bench smoke run, the SDK's tests again under every other
# CPython found, and the index's twine tests.
#
#   scripts/test-python.sh
#   PKGPROTECT_SHARED=/path   where shared/ lives (default: ../shared next to the repo)
#   PKGPROTECT_BIN=/path      a built `pkgprotect` for the index's [gitlab] rule-source test
#                             (default: target/debug/pkgprotect or target/release/pkgprotect if built)
#   PKGPROTECT_PYTHONS="…"    other interpreters to run the SDK's tests under
#                             (default: whichever of CPython 3.9, 3.12, 3.13 exist on PATH or in
#                             pyenv's versions; "" for none)
#
# Installs what is missing, and skips what is there: a tools venv at .tools/venv-py with
# build, hatchling and twine at fixed versions (PyPI). Needs python3 ≥ 3.11 and
# target/pkgprotect.wasm (scripts/build-component.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${PKGPROTECT_SHARED:-$ROOT/../shared}
VECTORS=$SHARED/conformance/gitlab-vectors.json
TOOLS=$ROOT/.tools/venv-py
TOOL_PINS=(build==1.6.1 hatchling==1.33.0 twine==7.0.0)
TEST_PINS=(pytest==8.3.5 pypiserver==2.4.2)
PYTHON=${PYTHON:-python3}
started=$SECONDS
step() { printf '\n==> %s\n' "$*"; }
pip_quiet=(-q --disable-pip-version-check --no-input)

[ -f target/pkgprotect.wasm ] || { echo "error: target/pkgprotect.wasm is missing: build it first with scripts/build-component.sh" >&2; exit 1; }
[ -f "$VECTORS" ] || { echo "error: conformance vectors not found at \`$VECTORS\` (set PKGPROTECT_SHARED)" >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || { echo "error: \`$PYTHON\` is missing or older than Python 3.11 (set PYTHON)" >&2; exit 1; }

step "tools venv .tools/venv-py: ${TOOL_PINS[*]}"
[ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
if "$TOOLS/bin/python" - "${TOOL_PINS[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
def installed(pin):
    name, wanted = pin.split("==")
    try:
        return version(name) == wanted
    except PackageNotFoundError:
        return False
sys.exit(0 if all(installed(pin) for pin in sys.argv[1:]) else 1)
PY
then
    echo "already installed"
else
    "$TOOLS/bin/pip" install "${pip_quiet[@]}" "${TOOL_PINS[@]}"
fi

step "wheel: bindings/python/dist (the component copied in at build time)"
rm -rf bindings/python/dist
env -u PKGPROTECT_WASM "$TOOLS/bin/python" -m build --wheel --no-isolation --outdir bindings/python/dist bindings/python >/dev/null
WHEEL=$(ls bindings/python/dist/pkgprotect-*.whl)
echo "$WHEEL ($(wc -c <"$WHEEL") bytes)"

step "fresh venv: the wheel, its wasmtime dependency, ${TEST_PINS[*]}"
WORK=$(mktemp -d /tmp/pkgprotect-python.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install "${pip_quiet[@]}" "$WHEEL" "${TEST_PINS[@]}"
# -P: never import pkgprotect from the working directory, only the installed wheel.
"$VPY" -P -c 'import pkgprotect, sys; print("pkgprotect from", pkgprotect.__file__); sys.exit(not pkgprotect.__file__.startswith(sys.prefix))'
"$VPY" -P -c 'from importlib.metadata import version; import platform; print("CPython", platform.python_version(), "wasmtime-py", version("wasmtime"))'
unset PKGPROTECT_WASM

step "SDK tests (pytest)"
(cd bindings/python && "$VPY" -P -m pytest -q)

step "conformance: python -m pkgprotect conformance $VECTORS"
"$VPY" -P -m pkgprotect conformance "$VECTORS"

step "bench smoke (bindings/python/bench.py checks its answers against the naive loop)"
"$VPY" -P bindings/python/bench.py --rules 20 --requests 200 --rounds 1 >/dev/null && echo "ok"
"$VPY" -P bindings/python/bench.py --rules 10 --profile >/dev/null && echo "profile ok"

if [ -z "${PKGPROTECT_PYTHONS+set}" ]; then
    PKGPROTECT_PYTHONS=""
    for version in 3.9 3.12 3.13; do
        candidate=python$version
        if ! "$candidate" -c 'import sys' >/dev/null 2>&1; then  # e.g. a pyenv shim for a version not selected
            candidate=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" 2>/dev/null | tail -n 1)
        fi
        if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
            PKGPROTECT_PYTHONS+=" $candidate"
        fi
    done
fi
for other in $PKGPROTECT_PYTHONS; do
    step "SDK tests under $other (fresh venv: the wheel, wasmtime, pytest)"
    venv="$WORK/venv-$(basename "$other")"
    "$other" -m venv "$venv"
    "$venv/bin/python" -m pip install "${pip_quiet[@]}" "$WHEEL" "${TEST_PINS[0]}"
    "$venv/bin/python" -c 'from importlib.metadata import version; import platform; print("CPython", platform.python_version(), "wasmtime-py", version("wasmtime"))'
    (cd bindings/python && "$venv/bin/python" -m pytest -q -p no:cacheprovider)
done

step "examples/python-index: pypiserver + the SDK, real twine uploads"
if [ -z "${PKGPROTECT_BIN:-}" ]; then
    for candidate in target/debug/pkgprotect target/release/pkgprotect; do
        if [ -x "$candidate" ]; then PKGPROTECT_BIN=$ROOT/$candidate; break; fi
    done
fi
[ -n "${PKGPROTECT_BIN:-}" ] || echo "note: no pkgprotect binary built: the [gitlab] rule-source test will be skipped"
(cd examples/python-index && PKGPROTECT_BIN=${PKGPROTECT_BIN:-} PKGPROTECT_TWINE="$TOOLS/bin/twine" \
    PKGPROTECT_BUILD_PYTHON="$TOOLS/bin/python" "$VPY" -P -m pytest -q -rs)

echo
echo "python: all passed in $((SECONDS - started)) s"
