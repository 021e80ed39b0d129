# Builds the `pkgprotect` CLI in the profile PKGPROTECT_PROFILE names (release by default; debug
# where a debug build exists already, as in scripts/test.sh) and sets PKGPROTECT_CLI to it.
build_cli() {
    local profile=${PKGPROTECT_PROFILE:-release} flags=()
    case $profile in
        release) flags=(--release) ;;
        debug) ;;
        *) echo "error: PKGPROTECT_PROFILE must be release or debug, not \`$profile\`" >&2; exit 2 ;;
    esac
    echo "building pkgprotect ($profile)…" >&2
    cargo build -q "${flags[@]}" --locked -p pkgprotect-cli
    PKGPROTECT_CLI=target/$profile/pkgprotect
}
