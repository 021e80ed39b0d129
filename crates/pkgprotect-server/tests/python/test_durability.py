"""kill -9 during write load: every acknowledged write survives, the database reopens.

SQLite runs in WAL with synchronous=FULL; PostgreSQL with fsync on. PostgreSQL needs
PKGPROTECT_TEST_POSTGRES_URL (scripts/test.sh starts a throw-away server); without it that
case is reported as skipped, not passed.
"""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import admin, database_args, free_port, start_server

PROJECT = "dur/project"


def post(url, token, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_keeps_every_acknowledged_write(backend, tmp_path):
    db = database_args(backend, tmp_path, "durability")
    admin(db, "project", "create", PROJECT)
    admin(db, "user", "create", "maint")
    admin(db, "member", "add", PROJECT, "maint", "maintainer")
    token = admin(db, "token", "create", "maint")["token"]
    port = free_port()
    proc, url = start_server(db, port)
    rules_url = f"{url}/api/v4/projects/dur%2Fproject/packages/protection/rules"
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def writer(worker):
        n = 0
        while not stop.is_set():
            pattern = f"w{worker}-{n}-*"
            n += 1
            try:
                status, body = post(rules_url, token, {"package_name_pattern": pattern, "package_type": "generic",
                                                       "minimum_access_level_for_push": "maintainer"})
            except (urllib.error.URLError, ConnectionError, OSError):
                continue  # the server is gone: this write was never acknowledged
            assert status == 201, body
            with lock:
                acknowledged.append(pattern)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    proc.kill()  # SIGKILL: no shutdown, no flush
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 50, "the load did not get going"

    proc, url = start_server(db, port)
    try:
        request = urllib.request.Request(rules_url, headers={"PRIVATE-TOKEN": token})
        with urllib.request.urlopen(request) as response:
            stored = {rule["package_name_pattern"] for rule in json.loads(response.read())}
        missing = [p for p in acknowledged if p not in stored]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        status, _ = post(rules_url, token, {"package_name_pattern": "after-restart", "package_type": "generic",
                                            "minimum_access_level_for_push": "owner"})
        assert status == 201
        print(f"{backend}: {len(acknowledged)} acknowledged writes before kill -9, all present after restart")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
