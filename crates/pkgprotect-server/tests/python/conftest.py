"""Shared helpers: start `pkgprotect serve` on a free port and administer its database."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

BIN = os.environ["PKGPROTECT_BIN"]


def admin(db_args, *args):
    out = subprocess.run([BIN, "admin", *db_args, "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_args, port):
    proc = subprocess.Popen([BIN, "serve", *db_args, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/api/v4/user", timeout=1)
        except urllib.error.HTTPError:
            return proc, url  # 401: it answers
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")
