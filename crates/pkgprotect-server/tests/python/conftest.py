"""Shared helpers: start `pkgprotect serve` on a free port and administer its database."""

import json
import os
import socket
import subprocess
import sqlite3
import time
import urllib.error
import urllib.request
import uuid

import pytest

BIN = os.environ["PKGPROTECT_BIN"]


def admin(db_args, *args):
    out = subprocess.run([BIN, "admin", *db_args, "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_args(backend, tmp_path, prefix):
    """`--data-dir` for SQLite; for PostgreSQL a fresh database on PKGPROTECT_TEST_POSTGRES_URL's
    server (scripts/test.sh starts a throw-away one). Without it the PostgreSQL case is reported
    as skipped, not passed."""
    if backend == "sqlite":
        return ["--data-dir", str(tmp_path)]
    base = os.environ.get("PKGPROTECT_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PKGPROTECT_TEST_POSTGRES_URL not set")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True)
    return ["--database-url", base.rsplit("/", 1)[0] + "/" + name]


def sql(db_args, tmp_path, statement):
    """Run one statement on the database `database_args` made (what no admin command does)."""
    if db_args[0] == "--data-dir":
        with sqlite3.connect(tmp_path / "pkgprotect.sqlite3") as connection:
            connection.execute(statement)
    else:
        subprocess.run(["psql", db_args[1], "-qc", statement], check=True)


def start_server(db_args, port, log=subprocess.DEVNULL, env=None):
    """`pkgprotect serve` on `port`; its output (the tracing log included) goes to `log`."""
    proc = subprocess.Popen([BIN, "serve", *db_args, "--listen", f"127.0.0.1:{port}"],
                            stdout=log, stderr=log, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    # Start-up compiles the component (slow in a debug build on a busy machine): wait up to 60 s.
    for _ in range(1200):
        try:
            urllib.request.urlopen(url + "/api/v4/user", timeout=1)
        except urllib.error.HTTPError:
            return proc, url  # 401: it answers
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")
