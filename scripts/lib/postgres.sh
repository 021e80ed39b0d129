# Start a throw-away PostgreSQL on 127.0.0.1 for tests; `pg_stop` removes it.
# Installs the Debian package when no server binaries are found. Sets PG_URL.

pg_bin_dir() {
    local ctl
    ctl=$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
    [ -n "$ctl" ] && dirname "$ctl"
}

pg_start() {
    local bin
    bin=$(pg_bin_dir || true)
    if [ -z "$bin" ]; then
        echo "installing postgresql (Debian package)"
        local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
        bin=$(pg_bin_dir)
    fi
    PG_DIR=$(mktemp -d /tmp/pkgprotect-pg.XXXXXX)
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local as_pg=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$PG_DIR"
        as_pg=(runuser -u postgres --)
    fi
    "${as_pg[@]}" "$bin/initdb" -D "$PG_DIR/data" -E UTF8 --locale=C.UTF-8 -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; return 1; }
    "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null \
        || { cat "$PG_DIR/server.log"; return 1; }
    PG_BIN=$bin
    PG_AS=("${as_pg[@]}")
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    export PG_URL
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    # PG_BIN is set only once the server started; a failed initdb leaves just the directory.
    if [ -n "${PG_BIN:-}" ]; then
        "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
}
