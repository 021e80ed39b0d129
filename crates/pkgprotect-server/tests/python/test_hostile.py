"""Hostile input against a running `pkgprotect serve`: thousands of generated requests.

Every endpoint (both rule kinds: list, create, update, delete; both decision endpoints,
single and batch) gets malformed bodies, wrong types, hostile paths, query strings, tokens,
methods and content types, sent over raw sockets so that invalid bytes reach the server
unmodified. Each case names the status GitLab gives (or the 2xx where the input is valid),
and every answer must carry GitLab's JSON error shape. No 5xx, no hang, no crash; a normal
request succeeds after every batch; no token value appears in the server's debug log.

SQLite always; PostgreSQL when PKGPROTECT_TEST_POSTGRES_URL is set. The summary line
(`hostile[sqlite]: N requests, 0 5xx, statuses {...}`) is printed and, when
PKGPROTECT_TEST_OUTPUT is set, appended to $PKGPROTECT_TEST_OUTPUT/hostile.txt.
"""

import base64
import collections
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
from conftest import BIN, admin, database_args, free_port, sql, start_server

PROJECT = "hostile/project"
OTHER = "hostile/other"
TIMEOUT = 15  # seconds one answer may take before the case counts as a hang
MB = 1024 * 1024

# Statuses answered by the HTTP layer itself (malformed request line or headers): no JSON body.
PROTOCOL = {400, 413, 414, 431}


class Answer:
    def __init__(self, status, headers, body, closed):
        self.status, self.headers, self.body, self.closed = status, headers, body, closed

    def json(self):
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection over a raw socket; reconnects after the server closes."""

    def __init__(self, port):
        self.port, self.sock, self.reader = port, None, None

    def close(self):
        if self.sock:
            self.reader.close()
            self.sock.close()
        self.sock = self.reader = None

    def exchange(self, head, body=b"", half_close=False):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            self.reader = self.sock.makefile("rb")
        sender = threading.Thread(target=self._send, args=(head + body, half_close))
        sender.start()  # big bodies: read the (early) answer while still sending
        try:
            answer = self._read(head.split(b" ", 1)[0] == b"HEAD")
        except (ConnectionError, socket.timeout, OSError) as error:
            answer = Answer(None, {}, repr(error).encode(), True)
        sender.join()
        if answer.closed or half_close:
            self.close()
        return answer

    def _send(self, data, half_close):
        try:
            self.sock.sendall(data)
            if half_close:
                self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered early and stopped reading: the answer tells

    def _read(self, head_only):
        status_line = self.reader.readline()
        if not status_line:
            return Answer(None, {}, b"connection closed without an answer", True)
        status = int(status_line.split()[1])
        headers = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if head_only or status in (204, 304):
            body = b""
        elif "content-length" in headers:
            body = self.reader.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self.reader.readline().split(b";")[0], 16):
                body += self.reader.read(size)
                self.reader.readline()
            self.reader.readline()
        else:
            body = self.reader.read()
            headers["connection"] = "close"
        return Answer(status, headers, body, headers.get("connection", "").lower() == "close")


def request_head(method, target, headers=(), length=0, chunked=False):
    """The request line and headers as bytes; `headers` are (name, value) pairs of str or bytes."""
    as_bytes = lambda v: v if isinstance(v, bytes) else v.encode()
    lines = [as_bytes(method) + b" " + as_bytes(target) + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [as_bytes(name) + b": " + as_bytes(value) for name, value in headers]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
    elif length is not None:
        lines.append(b"Content-Length: %d" % length)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunks(body, size=64 * 1024):
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


def json_body(answer):
    """(the JSON body, None), or (None, why the answer is not JSON)."""
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return None, f"content-type {answer.headers.get('content-type')!r}"
    try:
        return answer.json(), None
    except ValueError:
        return None, "body is not JSON"


def shape_error(answer, protocol=False):
    """Why the answer is not in GitLab's shape for its status, or None."""
    status = answer.status
    if protocol and status in PROTOCOL:
        return None  # the HTTP layer refused the request before any route saw it
    if status == 204:
        return None if answer.body == b"" else "204 with a body"
    body, problem = json_body(answer)
    if problem:
        return problem
    if 200 <= status < 300:
        return None if isinstance(body, (dict, list)) else "2xx body is not an object or array"
    if not isinstance(body, dict):
        return "error body is not an object"
    if status in (400, 405, 415):
        return None if isinstance(body.get("error"), str) and body["error"] else 'no {"error": "..."}'
    if status == 404 and body == {"error": "404 Not Found"}:
        return None  # GitLab's catch-all route
    if status == 403 and body.get("error") == "insufficient_scope":
        return None if isinstance(body.get("scope"), str) else "insufficient_scope without the scope needed"
    if status == 422:
        errors = body.get("message", {}).get("error") if isinstance(body.get("message"), dict) else None
        ok = isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)
        return None if ok else 'no {"message": {"error": [...]}}'
    message = body.get("message")
    ok = isinstance(message, str) and message.startswith(str(status))
    return None if ok else f'no {{"message": "{status} ..."}}'


class Hostile:
    """Sends cases, checks each answer against its expected statuses and shape, and counts."""

    def __init__(self, url, port, proc, tokens, ids):
        self.url, self.port, self.proc, self.tokens, self.ids = url, port, proc, tokens, ids
        self.conn = Connection(port)
        self.statuses = collections.Counter()
        self.failures = []
        self.tried = 0
        self.serial = 0

    def unique(self, stem):
        self.serial += 1
        return f"{stem}{self.serial}"

    def send(self, name, method, target, expect, *, token="maint", headers=(), body=b"", content_type=None,
             length=None, chunked=False, half_close=False, protocol=False, shape=shape_error):
        """One hostile request; `expect` is the set of statuses GitLab would give. Returns the answer."""
        headers = list(headers)
        if token:
            # Each kind of token in its own header, as GitLab reads them.
            headers.append(("Deploy-Token" if token.endswith("deploy") else "PRIVATE-TOKEN", self.tokens[token]))
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body).encode(), content_type or "application/json"
        if content_type:
            headers.append(("Content-Type", content_type))
        head = request_head(method, target, headers, len(body) if length is None else length, chunked)
        started = time.monotonic()
        answer = self.conn.exchange(head, chunks(body) if chunked else body, half_close)
        self.tried += 1
        self.statuses[answer.status] += 1
        took = time.monotonic() - started
        problem = None
        if answer.status is None:
            problem = f"no answer after {took:.1f}s: {answer.body[:200]!r}"
        elif answer.status not in expect:
            problem = f"status {answer.status}, expected {sorted(expect)}"
        elif method != "HEAD":  # HEAD answers have no body to check
            problem = shape(answer, protocol)
        if problem:
            self.failures.append(f"{name}: {method} {target[:120]!r}: {problem}; body {answer.body[:300]!r}")
        return answer

    def healthy(self, batch):
        """The process lives and a normal request on a fresh connection still succeeds."""
        assert self.proc.poll() is None, f"server died during {batch}"
        self.conn.close()
        answer = Connection(self.port).exchange(
            request_head("GET", paths(1)["pkg.list"][1], [("PRIVATE-TOKEN", self.tokens["maint"])]))
        assert answer.status == 200, f"after {batch}: {answer.status} {answer.body[:200]!r}"


def paths(project, package_rule="1", container_rule="1"):
    """Every endpoint: name -> (method, path)."""
    pkg = f"/api/v4/projects/{project}/packages/protection/rules"
    ctr = f"/api/v4/projects/{project}/registry/protection/repository/rules"
    return {
        "pkg.list": ("GET", pkg), "pkg.create": ("POST", pkg),
        "pkg.update": ("PATCH", f"{pkg}/{package_rule}"), "pkg.delete": ("DELETE", f"{pkg}/{package_rule}"),
        "ctr.list": ("GET", ctr), "ctr.create": ("POST", ctr),
        "ctr.update": ("PATCH", f"{ctr}/{container_rule}"), "ctr.delete": ("DELETE", f"{ctr}/{container_rule}"),
        "pkg.decide": ("POST", f"/api/v4/projects/{project}/packages/protection/decisions"),
        "ctr.decide": ("POST", f"/api/v4/projects/{project}/registry/protection/repository/decisions"),
    }


UNKNOWN_TOKEN = "glpat-" + "0123456789abcdef" * 2 + "deadbeef"  # well-formed, never issued
PKG_DECISION = {"package_name": "@hostile/pkg", "package_type": "npm", "action": "push"}
CTR_DECISION = {"repository_path": f"{PROJECT}/image", "action": "delete"}


def valid_body(h, endpoint):
    """A body the endpoint accepts, so that only the hostile part of a case decides its answer."""
    return {
        "pkg.create": lambda: {"package_name_pattern": h.unique("valid-"), "package_type": "generic",
                               "minimum_access_level_for_push": "maintainer"},
        "ctr.create": lambda: {"repository_path_pattern": h.unique(f"{PROJECT}/valid-"),
                               "minimum_access_level_for_push": "maintainer"},
        "pkg.update": lambda: {"minimum_access_level_for_delete": "owner"},
        "ctr.update": lambda: {"minimum_access_level_for_delete": "owner"},
        "pkg.decide": lambda: PKG_DECISION,
        "ctr.decide": lambda: CTR_DECISION,
    }.get(endpoint, lambda: b"")()


SUCCESS = {"list": 200, "create": 201, "update": 200, "delete": 204, "decide": 200}


# --- batches -------------------------------------------------------------------------------

def batch_auth(h):
    """Bad, expired, malformed, long and non-ASCII tokens in each header; wrong roles; non-members."""
    bad_values = ["", " ", "wrong", UNKNOWN_TOKEN, h.tokens["expired"], h.tokens["maint"] + "x",
                  h.tokens["maint"][:-1], "x" * 10_000, "x" * 100_000, "tökén".encode(), b"\xff\xfe\x80",
                  "' OR '1'='1", "%00", "Bearer " + h.tokens["maint"]]
    headers = []
    for value in bad_values:
        for name in ("PRIVATE-TOKEN", "Deploy-Token", "Job-Token"):
            headers.append([(name, value)])
        headers.append([("Authorization", b"Bearer " + (value if isinstance(value, bytes) else value.encode()))])
    maint = h.tokens["maint"]
    headers += [[("Authorization", v)] for v in ("Basic bWFpbnQ6cGFzcw==", "Bearer", "Bearer ", "Token " + maint,
                                                  maint, "Bearer\t", "Bearer " + "é" * 50)]
    for project in ("1", "hostile%2Fproject", "999999", "no%2Fsuch"):
        for endpoint, (method, path) in paths(project, h.ids["pkg"], h.ids["ctr"]).items():
            for header in headers:
                h.send("auth", method, path, {401}, token=None, headers=header, body=valid_body(h, endpoint))
    # A header too large for any server: the HTTP layer refuses it.
    h.send("auth huge header", "GET", paths(1)["pkg.list"][1], {431}, token=None,
           headers=[("PRIVATE-TOKEN", "x" * MB)], protocol=True)
    # NUL and control characters are not valid in a header at all.
    h.send("auth NUL header", "GET", paths(1)["pkg.list"][1], {400}, token=None,
           headers=[("PRIVATE-TOKEN", b"a\x00b")], protocol=True)

    roles = {  # who -> (rule endpoints, decisions): GitLab hides projects from non-members with 404
        "dev": (403, 200), "guest": (403, 200), "reporter": (403, 200), "outsider": (404, 404),
        "deploy": (401, 200), "other_deploy": (401, 401),
    }
    for project in ("1", "hostile%2Fproject"):
        for endpoint, (method, path) in paths(project, h.ids["pkg"], h.ids["ctr"]).items():
            for who, (rules, decide) in roles.items():
                expect = decide if endpoint.endswith("decide") else rules
                h.send(f"role {who}", method, path, {expect}, token=who, body=valid_body(h, endpoint))
    for who in ("maint", "outsider", "dev"):
        for endpoint, (method, path) in paths("999999").items():
            h.send(f"unknown project as {who}", method, path, {404}, token=who, body=valid_body(h, endpoint))
    # Lowercase scheme: RFC 7235 schemes are case-insensitive, and GitLab accepts `bearer`.
    h.send("bearer lowercase", "GET", paths(1)["pkg.list"][1], {200}, token=None,
           headers=[("Authorization", "bearer " + maint)])
    h.send("bearer padded", "GET", paths(1)["pkg.list"][1], {200}, token=None,
           headers=[("Authorization", "Bearer   " + maint + "  ")])


def batch_paths(h):
    """Path traversal, bad percent-encoding, invalid UTF-8, signs, spaces and huge ids in :id and :rule_id."""
    hostile_ids = ["0", "-1", "+1", "%2B1", "%201", "1%20", "%20", "1.0", "1e0", "0x1", "1_0", "one",
                   "99999999999999999999", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                   "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "%2F", "%2F1", "1%2F", "1%00", "%00", "a%00b",
                   "%", "%G1", "%1", "%%", "%C0%AF", "%C0%80", "%E0%80%AF", "%ED%A0%80", "%FF%FE", "%C3",
                   "%27%20OR%20%271%27%3D%271", "1%3BDROP%20TABLE%20projects", "%2A", "*", "hostile%2Fproject%00",
                   "hostile%2F%2E%2E%2Fproject", "hostile%2Fproject%2F", "%C3%A9", "x" * 10_000, "1" * 5000,
                   b"\xff", b"1\xc3", b"\xc0\xaf"]
    for raw in hostile_ids:
        raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
        for endpoint, (method, path) in paths("{P}", "{R}", "{R}").items():
            target = path.replace("{P}", raw_bytes.decode("latin-1")).replace("{R}", "999999")
            # Raw bytes that are not ASCII cannot be in a URI: the HTTP layer refuses the request line.
            expect = {400} if isinstance(raw, bytes) else {404}
            h.send("path :id", method, target.encode("latin-1"), expect, body=valid_body(h, endpoint),
                   protocol=isinstance(raw, bytes))
    # Rule ids: numeric ones name no rule here (the setup rules must survive this batch).
    for raw in [i.replace(b"1" if isinstance(i, bytes) else "1", b"9" if isinstance(i, bytes) else "9")
                for i in hostile_ids]:
        raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
        for endpoint in ("pkg.update", "pkg.delete", "ctr.update", "ctr.delete"):
            method, path = paths(1, "{R}", "{R}")[endpoint]
            target = path.replace("{R}", raw_bytes.decode("latin-1")).encode("latin-1")
            h.send("path :rule_id", method, target, rule_id_expect(raw), body=valid_body(h, endpoint),
                   protocol=isinstance(raw, bytes))
    # Project by path, any case, as GitLab routes: valid.
    for ref in ("hostile%2Fproject", "HOSTILE%2FPROJECT", "Hostile%2fProject", "01"):
        h.send("project ref", "GET", paths(ref)["pkg.list"][1], {200})
    # Raw traversal segments leave the API's routes: nothing found, nothing served from disk.
    for target in ("/api/v4/projects/1/packages/protection/rules/../../../../../../etc/passwd",
                   "/api/v4/projects/1/../../../Cargo.toml", "/api/v4/../../Cargo.toml", "/api/v4/projects/",
                   "/api/v4/projects/1/packages/protection/rules/1/extra", "/api/v4/projects/1/packages/protection",
                   "/api/v4/projects/1/packages/protection/rules//",
                   "/api/v4", "/api/v4/", "/api/v4/nope", "/api/v4/%FF", "/api/v4/projects/1/packages/protection/rules%2F1"):
        for method in ("GET", "POST", "PATCH", "DELETE"):
            h.send("unknown route", method, target, {404})
    h.send("empty :id", "GET", "/api/v4/projects//packages/protection/rules", {404})
    # Bytes no URI may hold: the HTTP layer refuses them.
    for target in (b"/api/v4/projects/1/packages/protection/rules\x00", b"/api/v4/projects/1 /packages",
                   b"api/v4/projects/1/packages/protection/rules", b"/api/v4/projects/1/packages/protection/rules\x7f",
                   b"/" + b"a" * 70_000):
        h.send("bad request line", "GET", target, {400, 404, 414}, protocol=True)


def rule_id_expect(raw):
    """GitLab declares the rule id `type: Integer`: not an integer is 400 `{"error": "... is invalid"}`;
    an integer that names no rule of the project is 404."""
    if isinstance(raw, bytes):
        return {400}  # not even a URI
    try:
        text = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return {404}  # an id that does not even decode names nothing, as for :id
    digits = text[1:] if text[:1] in ("+", "-") else text
    return {404} if digits.isascii() and digits.isdigit() else {400}


def batch_bodies(h):
    """Malformed, truncated and non-object JSON, deep nesting, duplicate keys, wrong types, missing and
    unknown fields, for create, update and both decision endpoints."""
    malformed = [b"{", b"}", b"{\"a\":", b"{\"package_name_pattern\": \"x\"", b"{'a': 1}", b"{\"a\" 1}",
                 b"{\"a\": 1,}", b"[1,]", b"\x00", b"{\"a\": NaN}", b"{\"a\": Infinity}", b"{\"a\": -Infinity}",
                 b"{\"a\": \"\\ud800\"}", b"{\"a\": \"\\u00\"}", b"{\"a\": \"\x00\"}", b"\xef\xbb\xbf{}",
                 b"{\"a\": 1e999}", b"{\"a\": -1e999}", b"{\"a\": \"\xff\xfe\"}", b"\xff\xfe", b"\xc0\xaf",
                 b"{\"a\": \"\xed\xa0\x80\"}", b"{\"a\": 01}", b"{\"a\": .5}", b"{\"a\": +1}", b"{\"a\": 0x10}",
                 b"{\"a\": tru}", b"{\"a\": nul}", b"{\"a\": \"unterminated}", b"{\"a\":\"\\x41\"}",
                 b"{" * 100_000, b"[" * 100_000, b"{\"a\":" * 10_000 + b"1" + b"}" * 10_000,
                 b"{} {}", b"{}garbage", b"1 2", b"\"\\", b"/* c */ {}"]
    not_objects = [b"[]", b"null", b"1", b"-1", b"1e308", b"\"text\"", b"true", b"false", b"[{}]",
                   b"12345678901234567890123456789012345678901234567890", b"[" * 100 + b"]" * 100]
    writes = ("pkg.create", "ctr.create", "pkg.update", "ctr.update", "pkg.decide", "ctr.decide")
    for endpoint in writes:
        method, path = paths(1, h.ids["pkg"], h.ids["ctr"])[endpoint]
        token = "dev" if endpoint.endswith("decide") else "maint"
        for body in malformed + not_objects:
            for content_type in ("application/json", None):
                h.send(f"body {endpoint}", method, path, {400}, token=token, body=body, content_type=content_type)
        # Whitespace only: no parameters (create: missing; update: nothing to change; decide: no JSON).
        for body in (b"", b" ", b"\r\n\t "):
            expect = {"create": 400, "update": 200, "decide": 400}[endpoint.split(".")[1]]
            h.send(f"empty body {endpoint}", method, path, {expect}, token=token, body=body,
                   content_type="application/json")
        # Deeply nested value inside an otherwise valid object.
        nested = json.dumps(valid_body(h, endpoint))[:-1].encode() + b", \"n\": " + b"[" * 200 + b"]" * 200 + b"}"
        h.send(f"nested {endpoint}", method, path, {400}, token=token, body=nested, content_type="application/json")
    field_types(h)
    decision_types(h)


WRONG_VALUES = [1, -1, 0, 1.5, 1e308, 10 ** 30, True, False, None, [], {}, ["maintainer"], {"a": 1}, "",
                " ", "MAINTAINER", "40", "maintainer ", "maintainer\x00", "ä", "x" * 10_000]


def field_types(h):
    """Every field of create and update, every wrong type; plus missing, unknown and duplicate keys."""
    for endpoint, fields in (("pkg", ["package_name_pattern", "package_type", "minimum_access_level_for_push",
                                      "minimum_access_level_for_delete"]),
                             ("ctr", ["repository_path_pattern", "minimum_access_level_for_push",
                                      "minimum_access_level_for_delete"])):
        create, update = paths(1, h.ids["pkg"], h.ids["ctr"])[f"{endpoint}.create"], \
            paths(1, h.ids[endpoint], h.ids[endpoint])[f"{endpoint}.update"]
        for field in fields:
            for value in WRONG_VALUES:
                body = valid_body(h, f"{endpoint}.create")
                body[field] = value
                h.send(f"type {endpoint}.create {field}={value!r:.20}", *create,
                       expect_field(field, value, creating=True, kind=endpoint), body=body)
                h.send(f"type {endpoint}.update {field}={value!r:.20}", *update,
                       expect_field(field, value, creating=False, kind=endpoint), body={field: value})
            body = valid_body(h, f"{endpoint}.create")
            body.pop(field, None)  # the valid body sends only the push minimum: without it, none at all
            missing = {201} if field == "minimum_access_level_for_delete" else {400}
            h.send(f"missing {endpoint} {field}", *create, missing, body=body)
        # Unknown fields are ignored as Grape does; `id` and `project_id` cannot be chosen.
        body = valid_body(h, f"{endpoint}.create") | {"id": 1, "project_id": 2, "unknown": {"deep": [1]}, "": 1}
        answer = h.send(f"unknown fields {endpoint}", *create, {201}, body=body)
        if answer.status == 201 and (answer.json()["project_id"] != h.ids["project"] or answer.json()["id"] == 1):
            h.failures.append(f"unknown fields {endpoint}: chose id/project_id: {answer.body!r}")
        # Duplicate keys: the last wins, as in Ruby's JSON.
        pattern_field = fields[0]
        first = valid_body(h, f"{endpoint}.create")[pattern_field]
        last = valid_body(h, f"{endpoint}.create")[pattern_field]
        text = json.dumps(valid_body(h, f"{endpoint}.create"))[1:-1]
        raw = f'{{"{pattern_field}": "{first}", {text}, "{pattern_field}": "{last}"}}'.encode()
        answer = h.send(f"duplicate keys {endpoint}", *create, {201}, body=raw, content_type="application/json")
        if answer.status == 201 and answer.json()[pattern_field] != last:
            h.failures.append(f"duplicate keys {endpoint}: stored {answer.json()[pattern_field]!r}, not {last!r}")
        # The same through a form body and the query string (the last of repeated keys wins, as in
        # Rack). Bad percent-encoding and invalid UTF-8 are 400 in GitLab, never stored altered.
        form_cases = [("minimum_access_level_for_push", v, 400) for v in
                      ("", "MAINTAINER", "maintainer%00", "%", "%G1", "%C0%AF", "%FF", "a&b", "=", "+")]
        form_cases += [("minimum_access_level_for_push", "owner", 201), ("unknown", "%00", 400)]
        form_cases += [(pattern_field, v, 400) for v in ("%FF", "%C0%AF", "%ED%A0%80", "%", "%G1", "a%00", "%E2%82")]
        method, path = create
        for name, value, status in form_cases:
            form = lambda: urllib.parse.urlencode(valid_body(h, f"{endpoint}.create")) + f"&{name}={value}"
            h.send(f"form {endpoint} {name}={value}", method, path, {status},
                   body=form().encode(), content_type="application/x-www-form-urlencoded")
            h.send(f"query {endpoint} {name}={value}", method, f"{path}?{form()}", {status})


def expect_field(field, value, creating, kind):
    """The status GitLab gives for `value` in `field` of an otherwise valid create or update."""
    if isinstance(value, (list, dict)):
        return {400}  # Grape: "is invalid" / "does not have a valid value"
    if isinstance(value, str) and "\x00" in value:
        return {400}  # GitLab refuses NUL in any parameter
    if field in ("package_name_pattern", "repository_path_pattern"):
        if value is None or (isinstance(value, str) and not value.strip()):
            return {422}  # Grape lets null and blank through; the model finds the pattern blank
        if kind == "ctr":
            return {422}  # not under the project's path
        return {201 if creating else 200, 422}  # a valid name or not: the model decides
    if field == "package_type":
        return {400}
    # Levels: only the declared names pass Grape; a null passes and reaches the model.
    if value is None:
        if field == "minimum_access_level_for_push":
            return {422} if creating else {200, 422}
        return {201} if creating else {200}
    if value == "" and kind == "ctr" and not creating:
        return {200, 422}  # container updates unset with "" (the model then needs one minimum)
    return {400}


def decision_types(h):
    """Single and batch decisions: wrong types, unknown fields, other actors, batch limits."""
    for endpoint, base, fields in (("pkg.decide", PKG_DECISION, ["package_name", "package_type", "action"]),
                                   ("ctr.decide", CTR_DECISION, ["repository_path", "action"])):
        method, path = paths(1)[endpoint]
        for field in fields:
            for value in WRONG_VALUES:
                body = dict(base) | {field: value}
                ok = field in ("package_name", "repository_path") and isinstance(value, str)
                h.send(f"decide {field}={value!r:.20}", method, path, {200} if ok else {400}, token="dev",
                       body=body)
                h.send(f"batch {field}={value!r:.20}", method, path, {200} if ok else {400}, token="dev",
                       body={"requests": [base, body, base]})
            h.send(f"decide missing {field}", method, path, {400}, token="dev",
                   body={k: v for k, v in base.items() if k != field})
        other = PKG_DECISION if endpoint == "ctr.decide" else CTR_DECISION
        cases = [
            ({"requests": None}, 400), ({"requests": {}}, 400), ({"requests": "x"}, 400), ({"requests": [1]}, 400),
            ({"requests": [None]}, 400), ({"requests": [[]]}, 400), ({"requests": [{}]}, 400), ({"requests": []}, 200),
            ({"requests": [base] * 10_000}, 200), ({"requests": [base] * 10_001}, 400),
            ({"requests": [base], "extra": 1}, 200), (dict(base) | {"unknown": 1}, 400), (other, 400),
            (dict(base) | other, 400), ({"requests": [other]}, 400), (dict(base) | {"action": "PUSH"}, 400),
            (dict(base) | {"actor": {"access_level": "admin"}}, 403),
            ({"requests": [base, dict(base) | {"actor": None}]}, 200),
        ]
        for body, status in cases:
            h.send(f"decide case {json.dumps(body)[:60]}", method, path, {status}, token="dev", body=body)
        # Administrators may name an actor; a malformed one is a parameter error.
        for actor, status in ((None, 200), ({"type": "user", "access_level": "developer"}, 200),
                              ({"type": "deploy_token"}, 200), ({"type": "user", "access_level": "boss"}, 400),
                              ({"access_level": "developer"}, 400), ("deploy_token", 400), (1, 400), ([], 400),
                              ({"type": "user", "access_level": 30}, 400), ({"type": "user", "x": 1}, 400),
                              # A deploy token refuses keys it does not have, as a user does.
                              ({"type": "deploy_token", "x": 1}, 400),
                              ({"type": "deploy_token", "access_level": "owner"}, 400)):
            h.send(f"admin actor {actor!r}", method, path, {status}, token="admin", body=dict(base) | {"actor": actor})


PATTERNS = ["\\", "%", "_", "*", "'", '"', ";", "%_*'\";\\", "\\%", "\\_", "\\*", "a\\", "%%", "__", "**",
            "a'; DROP TABLE projects; --", "\" OR \"1\"=\"1", "1); DELETE FROM package_protection_rules; --",
            "$1", "?", "`", "a%b_c*d", "é", "名前/パッケージ", "🦀", "\u202e", "\ufeff", "a\nb", "\t",
            "../../etc/passwd", "<script>alert(1)</script>", "x" * 255, "x" * 256, "x" * 10_000,
            "\x00", "a\x00b", "a'\x00--", "é" * 255, "🦀" * 255, "%00", "\\x00", "@scope/pkg-*", "a*b*c*d*e*f*g*"]


def batch_patterns(h):
    """SQL metacharacters, NUL, every wildcard and escape, non-ASCII and long patterns: either stored
    exactly as sent or refused in GitLab's shape; then decided against as names."""
    stored = {"pkg": {}, "ctr": {}}
    for pattern in PATTERNS:
        for package_type in ("generic", "npm", "pypi", "maven"):
            body = {"package_name_pattern": pattern, "package_type": package_type,
                    "minimum_access_level_for_push": "owner"}
            answer = h.send(f"pattern {package_type} {pattern!r:.30}", *paths(1)["pkg.create"], pattern_expect(pattern),
                            body=body)
            if answer.status == 201:
                stored["pkg"][answer.json()["id"]] = (pattern, answer.json()["package_name_pattern"])
        for prefix in (f"{PROJECT}/", ""):
            body = {"repository_path_pattern": prefix + pattern, "minimum_access_level_for_delete": "admin"}
            answer = h.send(f"pattern container {prefix + pattern!r:.30}", *paths(1)["ctr.create"],
                            pattern_expect(prefix + pattern), body=body)
            if answer.status == 201:
                stored["ctr"][answer.json()["id"]] = (prefix + pattern, answer.json()["repository_path_pattern"])
        # Names are data to decide on, whatever they hold.
        for method, path, body in (
                (*paths(1)["pkg.decide"], dict(PKG_DECISION) | {"package_name": pattern}),
                (*paths(1)["ctr.decide"], dict(CTR_DECISION) | {"repository_path": f"{PROJECT}/{pattern}"}),
                (*paths(1)["pkg.decide"], {"requests": [dict(PKG_DECISION) | {"package_name": pattern}] * 3})):
            answer = h.send("decide hostile name", method, path, {200}, token="dev", body=body)
            if answer.status == 200:
                decisions = answer.json().get("decisions", [answer.json()])
                if len(decisions) != len(body.get("requests", [body])) or \
                        not all(isinstance(d.get("allowed"), bool) for d in decisions):
                    h.failures.append(f"decide hostile name {pattern!r}: {answer.body[:200]!r}")
    for kind, field in (("pkg", "package_name_pattern"), ("ctr", "repository_path_pattern")):
        listing = h.send("list after patterns", *paths(1)[f"{kind}.list"], {200})
        listed = {rule["id"]: rule[field] for rule in listing.json()}
        for rule_id, (sent, answered) in stored[kind].items():
            if not sent == answered == listed.get(rule_id):
                h.failures.append(f"pattern {sent!r:.40} stored as {answered!r:.40}, listed as {listed.get(rule_id)!r:.40}")


def pattern_expect(pattern):
    if "\x00" in pattern:
        return {400}  # GitLab refuses NUL in any parameter; PostgreSQL text cannot hold it
    if len(pattern) > 255:
        return {422}  # too long: 255 characters at most
    return {201, 422}  # valid for this type or not: the model decides; the round trip is checked


def batch_sizes(h):
    """10 MB bodies (plain, chunked, claimed but not sent), and bodies shorter than announced."""
    big_json = b'{"package_name_pattern": "' + b"x" * (10 * MB) + b'"}'
    for endpoint in ("pkg.create", "ctr.update", "pkg.decide", "ctr.decide", "pkg.update"):
        method, path = paths(1, h.ids["pkg"], h.ids["ctr"])[endpoint]
        token = "dev" if endpoint.endswith("decide") else "maint"
        for body in (big_json, b" " * (10 * MB), b"[" * (10 * MB)):
            h.send(f"10 MB {endpoint}", method, path, {413}, token=token, body=body, content_type="application/json")
            h.send(f"10 MB chunked {endpoint}", method, path, {413}, token=token, body=body,
                   content_type="application/json", chunked=True)
        # Announces 10 MB, sends 100 bytes and closes its side: the body never completes.
        h.send(f"claims 10 MB {endpoint}", method, path, {413}, token=token, body=b"{" * 100,
               content_type="application/json", length=10 * MB, half_close=True)
        h.send(f"claims 1000 bytes {endpoint}", method, path, {400}, token=token, body=b'{"a": 1',
               content_type="application/json", length=1000, half_close=True)
        # A valid body, chunked.
        h.send(f"chunked {endpoint}", method, path, {SUCCESS[endpoint.split('.')[1]]}, token=token,
               body=json.dumps(valid_body(h, endpoint)).encode(), content_type="application/json", chunked=True)
    # Just under and just over the limit.
    method, path = paths(1)["pkg.decide"]
    under = json.dumps({"requests": [PKG_DECISION] * 10}).encode()
    h.send("1 MiB - 1", method, path, {200}, token="dev", body=under + b" " * (MB - len(under)),
           content_type="application/json")
    h.send("1 MiB + 1", method, path, {413}, token="dev", body=under + b" " * (MB + 1 - len(under)),
           content_type="application/json")
    # Malformed framing: the HTTP layer refuses it.
    for length in (b"-1", b"abc", b"1, 2", b"99999999999999999999999"):
        h.send("bad content-length", "POST", path, {400}, token="dev", headers=[("Content-Length", length)],
               length=None, protocol=True)
    h.send("bad chunk size", "POST", path, {400}, token="dev", headers=[("Transfer-Encoding", "chunked")],
           body=b"zz\r\n{}\r\n0\r\n\r\n", length=None, protocol=True)


def stalled_body_does_not_block(h):
    """A client that announces a body and never sends it holds one request, not the server."""
    method, path = paths(1)["pkg.decide"]
    stalled = socket.create_connection(("127.0.0.1", h.port))
    stalled.sendall(request_head(method, path, [("PRIVATE-TOKEN", h.tokens["dev"])], length=1000) + b"{")
    try:
        started = time.monotonic()
        for _ in range(20):
            h.send("beside a stalled body", method, path, {200}, token="dev", body=PKG_DECISION)
        assert time.monotonic() - started < 5
    finally:
        stalled.close()


def unfinished_headers_are_cut_off(h):
    """A client that never finishes its headers (slowloris) is disconnected after the server's
    10 s header-read deadline, and others are served meanwhile."""
    slow = socket.create_connection(("127.0.0.1", h.port), timeout=30)
    try:
        slow.sendall(b"GET /api/v4/user HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        h.send("beside unfinished headers", *paths(1)["pkg.list"], {200})
        while slow.recv(4096):
            pass  # hyper may answer 408 before closing; the point is that it closes
        waited = time.monotonic() - started
        assert 5 < waited < 20, f"connection with unfinished headers closed after {waited:.1f}s"
    finally:
        slow.close()


def batch_pagination(h):
    """GitLab does not paginate these lists: page/per_page are ignored, whatever they hold."""
    values = ["0", "-1", "1", "2", "100", "101", "99999999999999999999", "abc", "", "1.5", "%00", "%", "%G1",
              "%FF", "1e9", "[]", "1%3BDROP"]
    for kind in ("pkg", "ctr"):
        method, path = paths(1)[f"{kind}.list"]
        for name in ("page", "per_page"):
            for value in values:
                h.send(f"pagination {name}={value}", method, f"{path}?{name}={value}", {200})
            h.send(f"pagination repeated {name}", method, f"{path}?{name}=1&{name}=0&{name}=x", {200})
        h.send("pagination both", method, f"{path}?page=-1&per_page=0&page[]=1&per_page[x]=2", {200})


def batch_methods(h):
    """Every method on every route; content types GitLab does not parse."""
    allowed = {"/rules": {"GET", "POST", "HEAD"}, "/rules/1": {"PATCH", "DELETE"}, "/decisions": {"POST"}}
    routes = {"/rules": paths(1)["pkg.list"][1], "/rules/1": paths(1, "999999")["pkg.update"][1],
              "/decisions": paths(1)["pkg.decide"][1], "ctr /rules": paths(1)["ctr.list"][1],
              "ctr /rules/1": paths(1, "999999", "999999")["ctr.update"][1], "ctr /decisions": paths(1)["ctr.decide"][1]}
    for key, path in routes.items():
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FOO"):
            if method not in allowed[key.removeprefix("ctr ")]:
                h.send(f"method {key}", method, path, {405})
    for method in ("G ET", "GET\x00", ""):
        h.send("bad method", method, paths(1)["pkg.list"][1], {400}, protocol=True)
    for content_type in ("application/xml", "text/html", "image/png", "application/octet-stream",
                         "multipart/form-data; boundary=x", "application/json-patch+json", "*/*", "application",
                         "é", b"\xff/\xfe"):
        for endpoint in ("pkg.create", "ctr.update", "pkg.decide"):
            method, path = paths(1, h.ids["pkg"], h.ids["ctr"])[endpoint]
            token = "dev" if endpoint.endswith("decide") else "maint"
            h.send(f"content-type {content_type!r}", method, path, {415}, token=token,
                   body=json.dumps(valid_body(h, endpoint)).encode(), content_type=content_type)
    # JSON with parameters or in other spellings of the JSON type is JSON.
    for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON", "application/json;charset=latin1"):
        h.send(f"content-type {content_type}", *paths(1)["pkg.create"], {201},
               body=json.dumps(valid_body(h, "pkg.create")).encode(), content_type=content_type)
    # text/plain is a type GitLab knows but does not parse: the parameters are missing.
    h.send("content-type text/plain", *paths(1)["pkg.create"], {400},
           body=json.dumps(valid_body(h, "pkg.create")).encode(), content_type="text/plain")


def registry_shape(answer, protocol=False):
    """Why a /jwt/auth answer is not in the shape docker and distribution read, or None: a token
    for 200, `{"errors": [{"code", "message"}]}` for the token service's refusals."""
    if protocol and answer.status in PROTOCOL:
        return None
    if answer.status == 405:
        return shape_error(answer)  # the router's answer, GitLab's shape
    body, problem = json_body(answer)
    if problem:
        return problem
    if answer.status == 200:
        ok = isinstance(body.get("token"), str) and body.get("access_token") == body["token"] \
            and isinstance(body.get("expires_in"), int) and isinstance(body.get("issued_at"), str)
        return None if ok else "200 without token, access_token, expires_in, issued_at"
    errors = body.get("errors") if isinstance(body, dict) else None
    ok = isinstance(errors, list) and len(errors) == 1 and isinstance(errors[0].get("code"), str) \
        and isinstance(errors[0].get("message"), str) and errors[0]["message"]
    if answer.status == 401 and answer.headers.get("www-authenticate") != 'Basic realm="GitLab"':
        return "401 without GitLab's Basic challenge"
    return None if ok else 'no {"errors": [{"code": ..., "message": ...}]}'


def basic(login, password):
    value = login if isinstance(login, bytes) else login.encode()
    value += b":" + (password if isinstance(password, bytes) else password.encode())
    return ("Authorization", "Basic " + base64.b64encode(value).decode())


def batch_registry_tokens(h):
    """GitLab's registry token service: credentials, services, scopes and parameters a client
    or an attacker can send. Refusals are the registry's shape; a subset of access is a 200."""
    jwt = "/jwt/auth?service=container_registry"
    dev, maint = basic("dev", h.tokens["dev"]), basic("maint", h.tokens["maint"])
    protected = f"repository:{h.protected_path}:push,pull"
    send = lambda name, target, expect, headers=(), **kw: h.send(  # noqa: E731
        name, kw.pop("method", "GET"), target, expect, token=None, headers=headers, shape=registry_shape, **kw)
    # Credentials: missing (anonymous: a token granting nothing), wrong, malformed, huge.
    send("registry anonymous", f"{jwt}&scope=repository:{PROJECT}/app:pull", {200})
    for name, header in [("wrong token", basic("dev", UNKNOWN_TOKEN)), ("empty password", basic("dev", "")),
                         ("expired", basic("expired", h.tokens["expired"])), ("no colon", ("Authorization", "Basic " + base64.b64encode(b"dev").decode())),
                         ("not base64", ("Authorization", "Basic ***")), ("bearer", ("Authorization", "Bearer " + h.tokens["dev"])),
                         ("scheme only", ("Authorization", "Basic")), ("non-UTF-8", ("Authorization", b"Basic \xff\xfe")),
                         ("invalid UTF-8 inside", basic(b"\xff", b"\xfe")), ("huge", ("Authorization", "Basic " + "A" * 60_000)),
                         ("deploy token, wrong username", basic("dev", h.tokens["deploy"]))]:
        send(f"registry credentials: {name}", f"{jwt}&scope=repository:{PROJECT}/app:pull", {401}, [header])
    # Valid credentials that reach nothing here: a token granting nothing, never another project's access.
    for name, header in [("deploy token of another project", basic(h.deploy_usernames["other_deploy"], h.tokens["other_deploy"])),
                         ("non-member", basic("outsider", h.tokens["outsider"])), ("guest", basic("guest", h.tokens["guest"]))]:
        answer = send(f"registry {name}", f"{jwt}&scope=repository:{PROJECT}/app:pull,push,delete", {200}, [header])
        if answer.status == 200:
            payload = answer.json()["token"].split(".")[1]
            access = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["access"]
            if access:
                h.failures.append(f"registry {name}: granted {access}")
    # Services: missing, unknown, repeated, hostile.
    for query in ["", "?service=", "?service=docker", "?service=CONTAINER_REGISTRY", "?service=%00",
                  "?service[]=container_registry", "?service=container_registry%20"]:
        send(f"registry service {query!r}", f"/jwt/auth{query}", {404}, [dev])
    for query in ["?service=%FF", "?service=%", "?service=%G0", "?scope=%C3%28&service=container_registry"]:
        send(f"registry bad encoding {query!r}", f"/jwt/auth{query}", {400}, [dev])
    # Scopes: malformed ones grant nothing (200), as distribution's token spec allows.
    for scope in ["", ":", "::", "repository", "repository:", f"repository:{PROJECT}", f"repository:{PROJECT}/app:",
                  f"repository:{PROJECT}/app:fly", f"repository:{PROJECT.upper()}/app:pull", "repository:../../etc:pull",
                  "repository:a:b:c:d:pull", f"repository:{PROJECT}/app:pull:push", "registry:catalog:*",
                  f"repository:{OTHER}/app:pull,push", "repository:nope/none:pull", f"repository:{PROJECT}/" + "a" * 300 + ":pull",
                  f"repository:{PROJECT}/app%00x:pull", f"repository:{PROJECT}/app\u00e9:pull", "repository:%2F%2F:pull",
                  f"repository(foo):{PROJECT}/app:pull", f"repository:{PROJECT}/app:pull,pull,pull", "x" * 5000,
                  f"repository:127.0.0.1:5000/{PROJECT}/app:pull", f"repository:{PROJECT}/app:*"]:
        send(f"registry scope {scope[:40]!r}", f"{jwt}&scope={urllib.parse.quote(scope, safe='')}", {200}, [dev])
    # Many scopes: up to the limit answered, one more refused up front.
    many = "".join(f"&scope=repository:{PROJECT}/app{i}:pull" for i in range(100))
    send("registry 100 scopes", jwt + many, {200}, [dev])
    send("registry 101 scopes", jwt + many + f"&scope=repository:{PROJECT}/x:pull", {400}, [dev])
    send("registry 101 scopes in one", jwt + "&scope=" + "%20".join(f"repository:{PROJECT}/a{i}:pull" for i in range(101)),
         {400}, [dev])
    send("registry repeated parameters", jwt + "&service=container_registry" * 50 + f"&scope=repository:{PROJECT}/app:pull",
         {200}, [dev])
    # Huge query: the HTTP layer's limit, or an answer; never a 5xx.
    send("registry huge scope", f"{jwt}&scope=" + "a" * 70_000, {200, 414}, [dev], protocol=True)
    # Protection: a developer's push on a protected path refuses the whole request, as GitLab.
    answer = send("registry protected push", f"{jwt}&scope={protected}", {403}, [dev])
    if answer.status == 403 and answer.json() != {"errors": [{"code": "DENIED",
                                                             "message": "Pushing to protected repository path forbidden"}]}:
        h.failures.append(f"registry protected push: not GitLab's message: {answer.body!r}")
    send("registry protected push, maintainer", f"{jwt}&scope={protected}", {200}, [maint])
    send("registry protected push among many", jwt + "".join(f"&scope=repository:{PROJECT}/app{i}:pull" for i in range(99)) + f"&scope={protected}", {403}, [dev])
    send("registry deploy token, protected", f"{jwt}&scope={protected}", {403},
         [basic(h.deploy_usernames["deploy"], h.tokens["deploy"])])
    # Methods other than GET; bodies are ignored.
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        send(f"registry method {method}", f"{jwt}&scope=repository:{PROJECT}/app:pull", {405}, [dev], method=method)


def text_shape(answer, protocol=False):
    """/-/metrics and the probes answer plain text; their refusals are GitLab's JSON."""
    if protocol and answer.status in PROTOCOL:
        return None
    if answer.status >= 400:
        return shape_error(answer)
    return None if answer.body else "empty body"


def batch_operations(h):
    """The operations endpoints: any query, header or method; metrics name no path or token."""
    for path in ("/-/metrics", "/-/health", "/-/readiness", "/-/liveness"):
        for query in ("", "?x=%FF", "?" + "a=b&" * 500, "?format=json", "?%00", "?all=1&verbose=1"):
            h.send(f"ops {path}{query[:20]}", "GET", path + query, {200}, token=None, shape=text_shape)
        for header in [("PRIVATE-TOKEN", UNKNOWN_TOKEN), ("Authorization", "Basic ***"), ("Accept", "application/json"),
                       ("Accept-Encoding", "gzip;q=2, *;q=-1"), ("X-Forwarded-For", "x" * 4000)]:
            h.send(f"ops {path} {header[0]}", "GET", path, {200}, token=None, headers=[header], shape=text_shape)
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            h.send(f"ops {path} {method}", method, path, {405}, token=None, shape=text_shape)
    metrics = h.send("ops metrics", "GET", "/-/metrics", {200}, token=None, shape=text_shape).body.decode()
    for token in h.tokens.values():
        if token in metrics:
            h.failures.append("a token appears in /-/metrics")
    if "hostile/" in metrics or "/projects/1/" in metrics:
        h.failures.append("a project path appears in /-/metrics (labels must be route templates)")
    if 'pkgprotect_registry_token_requests_total{outcome="denied"}' not in metrics:
        h.failures.append("registry token refusals are not counted in /-/metrics")


BATCHES = [batch_auth, batch_paths, batch_bodies, batch_patterns, batch_sizes, stalled_body_does_not_block,
           unfinished_headers_are_cut_off, batch_pagination, batch_methods, batch_registry_tokens, batch_operations]


@pytest.fixture(params=["sqlite", "postgres"])
def server(request, tmp_path):
    backend = request.param
    db = database_args(backend, tmp_path, "hostile")
    admin(db, "project", "create", PROJECT)
    admin(db, "project", "create", OTHER)
    tokens = {}
    for user, level in [("maint", "maintainer"), ("dev", "developer"), ("guest", "guest"),
                        ("reporter", "reporter"), ("outsider", None), ("expired", "maintainer"), ("admin", None)]:
        admin(db, "user", "create", user, *(["--admin"] if user == "admin" else []))
        if level:
            admin(db, "member", "add", PROJECT, user, level)
        tokens[user] = admin(db, "token", "create", user)["token"]
    deploy_usernames = {}
    for name, project in [("deploy", PROJECT), ("other_deploy", OTHER)]:
        issued = admin(db, "deploy-token", "create", project)
        tokens[name], deploy_usernames[name] = issued["token"], issued["username"]
    sql(db, tmp_path, "UPDATE tokens SET expires_at = 1 WHERE name = 'expired'")
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        proc, url = start_server(db, free_port(), log=output, env={"RUST_LOG": "debug"})
    try:
        yield backend, proc, url, tokens, log, deploy_usernames
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_hostile_requests(server):
    backend, proc, url, tokens, log, deploy_usernames = server
    port = int(url.rsplit(":", 1)[1])
    base = Hostile(url, port, proc, tokens, {})
    created = [base.send("setup", *paths(1)[f"{kind}.create"], {201}, body=valid_body(base, f"{kind}.create"))
               for kind in ("pkg", "ctr")]
    assert not base.failures, base.failures
    h = Hostile(url, port, proc, tokens, {"pkg": created[0].json()["id"], "ctr": created[1].json()["id"],
                                           "project": created[0].json()["project_id"]})
    h.protected_path = created[1].json()["repository_path_pattern"]  # a pattern without wildcards
    h.deploy_usernames = deploy_usernames
    started = time.monotonic()
    for batch in BATCHES:
        batch(h)
        h.healthy(batch.__name__)
    # Nothing the hostile requests did removed the rules they aimed at.
    for kind in ("pkg", "ctr"):
        listing = Connection(port).exchange(request_head("GET", paths(1)[f"{kind}.list"][1],
                                                         [("PRIVATE-TOKEN", tokens["maint"])]))
        assert h.ids[kind] in [rule["id"] for rule in listing.json()], f"{kind} rule {h.ids[kind]} lost"

    fivexx = sum(n for status, n in h.statuses.items() if status and status >= 500)
    statuses = dict(sorted(h.statuses.items(), key=lambda item: item[0] or 0))
    summary = (f"hostile[{backend}]: {h.tried} requests, {fivexx} 5xx, statuses {statuses}, "
               f"{time.monotonic() - started:.1f}s")
    print(summary)
    if os.environ.get("PKGPROTECT_TEST_OUTPUT"):
        with open(os.path.join(os.environ["PKGPROTECT_TEST_OUTPUT"], "hostile.txt"), "a") as out:
            out.write(summary + "\n")
    assert h.tried > 3000
    assert fivexx == 0, summary
    (log.parent / "failures.txt").write_text("\n".join(h.failures))
    assert not h.failures, f"{len(h.failures)} wrong answers:\n" + "\n".join(h.failures[:60])

    # No token value, valid or hostile, reaches the debug log.
    text = log.read_bytes()
    assert b"pkgprotect server listening" in text, "the log was not captured"
    leaked = [name for name, token in tokens.items() if token.encode() in text]
    leaked += [token for token in (UNKNOWN_TOKEN.encode(), "tökén".encode()) if token in text]
    assert not leaked, f"tokens in the server log: {leaked}"


# --- admin commands ------------------------------------------------------------------------

HOSTILE_TEXT = ["", " ", "-", "--", "../../etc/passwd", "a" * 5000, "tökén", "a'; DROP TABLE users; --",
                "\u202egnp.exe", "%s%n", "${HOME}", "\t\n", "🦀", "1e999", "-1", "9" * 40]


def run_admin(db, *args):
    return subprocess.run([BIN, "admin", *db, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_hostile_admin_commands(backend, tmp_path):
    """Every admin command with hostile arguments: a documented exit code (0 ok, 1 error,
    2 usage), an `error: …` line (or a group's help), never a panic; the database keeps working
    after all of them."""
    db = database_args(backend, tmp_path, "hostile_admin")
    admin(db, "project", "create", PROJECT)
    admin(db, "user", "create", "maint")
    admin(db, "member", "add", PROJECT, "maint", "maintainer")
    existing = tmp_path / "exists.sqlite3"
    existing.write_text("not a database")
    cases = []
    for text in HOSTILE_TEXT:
        cases += [
            ["project", "create", text], ["user", "create", text], ["user", "block", text], ["user", "unblock", text],
            ["member", "add", PROJECT, text, "developer"], ["member", "add", text, "maint", "developer"],
            ["member", "add", PROJECT, "maint", text], ["member", "remove", PROJECT, text],
            ["member", "remove", text, "maint"],
            ["token", "create", text], ["token", "create", "maint", "--scope", text],
            ["token", "create", "maint", "--expires-at", text], ["token", "create", "maint", "--name", text],
            ["token", "list", "--user", text], ["token", "revoke", text],
            ["deploy-token", "create", text], ["deploy-token", "create", PROJECT, "--scope", text],
            ["deploy-token", "create", PROJECT, "--username", text],
            ["deploy-token", "create", PROJECT, "--expires-at", text],
            ["audit", "--project", text], ["audit", "--limit", text],
            ["registry-config", "--server-url", text], ["registry-config", "--registry-listen", text],
            ["registry-config", "--storage", text], ["registry-config", "--registry-issuer", text],
        ]
    cases += [["token", "create", "maint", "--expires-at", date] for date in
              ("2000-01-01", "2026-02-30", "9999-12-31", "0000-01-01", "2026-1-1", "today")]
    cases += [["backup", str(existing)], ["backup", str(tmp_path)], ["backup", "/nonexistent/dir/x.sqlite3"],
              ["backup", ""], ["token", "revoke", "0"], ["token", "revoke", "99999999"], ["audit", "--limit", "0"],
              ["audit", "--limit", "4294967296"], ["nope"], ["token"], ["member", "add"]]
    problems = []
    codes = collections.Counter()
    for args in cases:
        out = run_admin(db, *args)
        codes[out.returncode] += 1
        said = f"admin {' '.join(a[:40] for a in args)!r}: exit {out.returncode}"
        if out.returncode not in (0, 1, 2):
            problems.append(f"{said}, not a documented code; stderr {out.stderr[-300:]!r}")
        if "panicked" in out.stderr or "RUST_BACKTRACE" in out.stderr:
            problems.append(f"{said}: panicked: {out.stderr[-300:]!r}")
        if out.returncode != 0:
            first = out.stderr.strip().splitlines()[0] if out.stderr.strip() else ""
            # A command group without its subcommand shows its help (clap's usage error, exit 2).
            shows_help = out.returncode == 2 and "\nUsage: pkgprotect admin" in out.stderr
            if not first.startswith("error:") and not shows_help:
                problems.append(f"{said}: stderr does not start with `error:`: {out.stderr[:300]!r}")
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:40])
    # Nothing above broke the database: the project still works.
    assert admin(db, "member", "add", PROJECT, "maint", "maintainer")["access_level"] == "maintainer"
    print(f"hostile admin[{backend}]: {len(cases)} commands, exit codes {dict(sorted(codes.items()))}")
