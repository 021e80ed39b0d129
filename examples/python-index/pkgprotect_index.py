"""A private Python package index (pypiserver) that enforces GitLab package protection rules.

pypiserver's supported way to embed it is ``pypiserver.app(**config)``, a WSGI app; its
password hook (``auther``) sees only a user name and password, never the package, so the
protection check is a WSGI middleware in front of the app:

- every POST with a ``:action`` is read (up to ``max_upload_bytes``) and parsed with the
  same multipart parser pypiserver uses (its vendored bottle), so both see the same form;
- the user is authenticated against the config (the same check pypiserver then repeats);
- ``file_upload`` and ``doc_upload`` are pushes, ``remove_pkg`` is a delete; the names
  checked are the ``name`` field and, for uploads, the name pypiserver will store the file
  under (from its filename), so a mismatched ``name`` field cannot smuggle a protected file;
- the pkgprotect SDK decides every name as a ``pypi`` package in one call
  (``RuleSet.decide_names``; PyPI normalization is the engine's: the raw name is passed); a
  refused name is explained (``RuleSet.explain``) and gets ``403`` whose reason phrase names
  the rule (twine prints the reason phrase), anything else goes on to pypiserver.

Rules come from a JSON file in GitLab's REST shape (its text goes to the engine as is), or
from a GitLab-compatible server
(``pkgprotect serve`` or GitLab itself) via ``GET /api/v4/projects/:id/packages/protection/rules``
with ``PRIVATE-TOKEN``, fetched again every ``refresh_seconds``. Without rules the index
refuses every protected action (fail closed, 503).

    python pkgprotect_index.py serve --config config.toml
    python pkgprotect_index.py hash-password < password.txt
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import logging
import os
import secrets
import socketserver
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pkgprotect
import pypiserver
from pypiserver.bottle_wrapper import BaseRequest
from pypiserver.pkg_helpers import guess_pkgname_and_version

log = logging.getLogger("pkgprotect_index")

#: pypiserver's ``:action`` values → the protection action they perform.
ACTIONS = {"file_upload": "push", "doc_upload": "push", "remove_pkg": "delete"}
PBKDF2_ITERATIONS = 200_000


class ConfigError(Exception):
    """The config file is missing, unreadable or inconsistent."""


# ---------------------------------------------------------------------------------------
# Users


def hash_password(password: str, salt: Optional[bytes] = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT_HEX$HASH_HEX`` for the config's ``password_pbkdf2``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class User:
    name: str
    access_level: str
    password_pbkdf2: str = field(repr=False)


# ---------------------------------------------------------------------------------------
# Config


@dataclass
class GitLabSource:
    url: str
    project: str
    token_env: str
    refresh_seconds: float


@dataclass
class Config:
    packages_dir: Path
    host: str
    port: int
    users: Dict[str, User]
    rules_file: Optional[Path]
    gitlab: Optional[GitLabSource]
    max_upload_bytes: int

    @classmethod
    def load(cls, path: Path) -> "Config":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read config `{path}`: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config `{path}` is not valid TOML: {error}") from None
        here = path.parent

        def where(value: str) -> Path:
            return (here / value).resolve()

        users = {}
        for name, entry in (data.get("users") or {}).items():
            level = entry.get("access_level")
            if level not in pkgprotect.ACCESS_LEVELS:
                raise ConfigError(
                    f"user `{name}`: unknown access level `{level}` (expected one of: {', '.join(pkgprotect.ACCESS_LEVELS)})"
                )
            if not isinstance(entry.get("password_pbkdf2"), str):
                raise ConfigError(f"user `{name}` needs `password_pbkdf2` (see `pkgprotect_index.py hash-password`)")
            users[name] = User(name, level, entry["password_pbkdf2"])
        gitlab = data.get("gitlab")
        if gitlab is not None:
            missing = [key for key in ("url", "project") if not isinstance(gitlab.get(key), str)]
            if missing:
                raise ConfigError(f"[gitlab] needs `{missing[0]}`")
            gitlab = GitLabSource(
                url=gitlab["url"].rstrip("/"),
                project=gitlab["project"],
                token_env=gitlab.get("token_env", "PKGPROTECT_TOKEN"),
                refresh_seconds=float(gitlab.get("refresh_seconds", 30)),
            )
        rules_file = where(data["rules_file"]) if "rules_file" in data else None
        if (rules_file is None) == (gitlab is None):
            raise ConfigError("set exactly one rule source: `rules_file` or a [gitlab] table")
        return cls(
            packages_dir=where(data.get("packages_dir", "packages")),
            host=data.get("host", "127.0.0.1"),
            port=int(data.get("port", 8080)),
            users=users,
            rules_file=rules_file,
            gitlab=gitlab,
            max_upload_bytes=int(data.get("max_upload_bytes", 100 * 1024 * 1024)),
        )

    def authenticate(self, username: str, password: str) -> Optional[User]:
        user = self.users.get(username)
        return user if user is not None and password_matches(password, user.password_pbkdf2) else None


# ---------------------------------------------------------------------------------------
# Rule sources


class RulesUnavailable(Exception):
    """No rules could be loaded: protected actions are refused."""


class RuleSource:
    """A compiled ``pkgprotect.RuleSet``, reloaded when its source changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rule_set: Optional[pkgprotect.RuleSet] = None

    def _install(self, rules: Union[str, List[dict]]) -> None:
        new = pkgprotect.RuleSet(rules)
        # The previous set is not closed here: another request's thread may still be
        # deciding with it. The SDK frees it once nothing refers to it.
        self._rule_set = new
        log.info("loaded %d protection rules", len(new))

    def current(self) -> pkgprotect.RuleSet:
        raise NotImplementedError


class FileRules(RuleSource):
    """Rules from a JSON file (a list in GitLab's REST shape), reloaded when it changes."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._mtime: Optional[int] = None

    def current(self) -> pkgprotect.RuleSet:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
                if mtime != self._mtime:
                    # GitLab JSON text, parsed and checked by the engine itself.
                    self._install(self.path.read_text(encoding="utf-8"))
                    self._mtime = mtime
            except (OSError, ValueError, pkgprotect.PkgprotectError) as error:
                if self._rule_set is None:
                    raise RulesUnavailable(f"cannot load rules from `{self.path}`: {error}") from None
                log.error("keeping the previous rules: cannot reload `%s`: %s", self.path, error)
            return self._rule_set


class GitLabRules(RuleSource):
    """Rules fetched from ``GET /api/v4/projects/:id/packages/protection/rules``."""

    def __init__(self, source: GitLabSource, opener: Callable = urllib.request.urlopen):
        super().__init__()
        self.source = source
        self._opener = opener
        self._fetched_at = float("-inf")

    def fetch(self) -> List[dict]:
        token = os.environ.get(self.source.token_env)
        if not token:
            raise RulesUnavailable(f"no token: set ${self.source.token_env}")
        project = urllib.parse.quote(self.source.project, safe="")
        rules: List[dict] = []
        page: Optional[str] = "1"
        while page:
            url = f"{self.source.url}/api/v4/projects/{project}/packages/protection/rules?per_page=100&page={page}"
            request = urllib.request.Request(url, headers={"PRIVATE-TOKEN": token, "Accept": "application/json"})
            try:
                with self._opener(request, timeout=10) as response:
                    body = json.load(response)
                    page = response.headers.get("X-Next-Page") or None
            except urllib.error.HTTPError as error:
                raise RulesUnavailable(f"`{self.source.url}` answered {error.code} for project `{self.source.project}`") from None
            except (OSError, ValueError) as error:
                raise RulesUnavailable(f"cannot fetch rules from `{self.source.url}`: {error}") from None
            rules.extend(_rule_list(body, f"`{self.source.url}`"))
        return rules

    def current(self) -> pkgprotect.RuleSet:
        with self._lock:
            if time.monotonic() - self._fetched_at >= self.source.refresh_seconds:
                try:
                    self._install(self.fetch())
                    self._fetched_at = time.monotonic()
                except (RulesUnavailable, pkgprotect.PkgprotectError) as error:
                    if self._rule_set is None:
                        raise RulesUnavailable(str(error)) from None
                    log.error("keeping the previous rules: %s", error)
            return self._rule_set


def _rule_list(value: object, where: str) -> List[dict]:
    if not isinstance(value, list):
        raise ValueError(f"rules from {where} are not a JSON list")
    return value


def rule_source(config: Config) -> RuleSource:
    return FileRules(config.rules_file) if config.rules_file else GitLabRules(config.gitlab)


# ---------------------------------------------------------------------------------------
# The middleware


def _reason_phrase(message: str) -> str:
    """A status line's reason phrase: one line of printable latin-1 (twine prints it)."""
    flat = " ".join(message.split())
    return "".join(c if 32 <= ord(c) < 127 or 160 <= ord(c) < 256 else "?" for c in flat)[:400]


class ProtectionMiddleware:
    """Refuses pypiserver uploads and removals that the protection rules block."""

    def __init__(self, app: Callable, config: Config, rules: RuleSource):
        self.app = app
        self.config = config
        self.rules = rules

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") == "/RPC2":
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._answer(start_response, 400, "bad `Content-Length`")
        if length > self.config.max_upload_bytes:
            return self._answer(start_response, 413, f"upload larger than {self.config.max_upload_bytes} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        parsed = BaseRequest({**environ, "wsgi.input": io.BytesIO(body)})
        action = ACTIONS.get(parsed.forms.get(":action", ""))
        if action is None:
            return self.app(environ, start_response)
        user = self._user(parsed)
        if user is None:
            return self._answer(start_response, 401, "authentication required: unknown user or wrong password",
                                [("WWW-Authenticate", 'Basic realm="pypiserver"')])
        refusal = self._refusal(action, user, self._names(parsed))
        if refusal is not None:
            status, message = refusal
            log.warning("refused %s by `%s` (%s): %s", action, user.name, user.access_level, message)
            return self._answer(start_response, status, message)
        return self.app(environ, start_response)

    def _user(self, parsed: BaseRequest) -> Optional[User]:
        credentials = parsed.auth
        return self.config.authenticate(*credentials) if credentials else None

    @staticmethod
    def _names(parsed: BaseRequest) -> List[str]:
        """The names an action touches: the form's ``name`` and, for an upload, the name
        pypiserver stores the file under."""
        names = [parsed.forms.getunicode("name") or parsed.forms.get("name") or ""]
        content = parsed.files.get("content")
        if content is not None:
            guessed = guess_pkgname_and_version(content.raw_filename)
            if guessed:
                names.append(guessed[0])
        return list(dict.fromkeys(name for name in names if name))

    def _refusal(self, action: str, user: User, names: List[str]) -> Optional[Tuple[int, str]]:
        verb = {"push": "upload", "delete": "removal"}[action]
        try:
            rule_set = self.rules.current()
        except RulesUnavailable as error:
            return 503, f"protection rules are not available, refusing the {verb}: {error}"
        verdicts = rule_set.decide_names(names, kind="pypi", action=action, actor=user.access_level)
        for name, verdict in zip(names, verdicts):
            if verdict is not pkgprotect.Verdict.ALLOWED:
                request = {"package_name": name, "package_type": "pypi", "action": action, "actor": user.access_level}
                try:
                    reason = rule_set.explain(request).reason
                except pkgprotect.DecisionError as error:  # GitLab's query fails for this name: refuse
                    return 403, f"{verb} of `{name}` refused for `{user.name}`: cannot decide, refusing: {error.message}"
                return 403, f"{verb} of `{name}` refused for `{user.name}` ({user.access_level}): {reason}"
            log.info("allowed %s of `%s` by `%s` (%s)", action, name, user.name, user.access_level)
        return None

    @staticmethod
    def _answer(start_response: Callable, status: int, message: str, headers: Optional[list] = None) -> List[bytes]:
        body = (message + "\n").encode("utf-8")
        start_response(
            f"{status} {_reason_phrase(message)}",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *(headers or [])],
        )
        return [body]


def make_app(config: Config, rules: Optional[RuleSource] = None) -> ProtectionMiddleware:
    """pypiserver (uploads need a login; pypi.org fallback off) behind the middleware."""
    config.packages_dir.mkdir(parents=True, exist_ok=True)
    index = pypiserver.app(
        roots=[str(config.packages_dir)],
        authenticate=["update"],
        auther=lambda username, password: config.authenticate(username, password) is not None,
        disable_fallback=True,
    )
    return ProtectionMiddleware(index, config, rules or rule_source(config))


# ---------------------------------------------------------------------------------------
# Command line


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (wsgiref's name)
        log.info("%s %s", self.address_string(), format % args)


def serve(config: Config) -> None:
    app = make_app(config)
    with make_server(config.host, config.port, app, server_class=_ThreadingServer, handler_class=_QuietHandler) as server:
        host, port = server.server_address[:2]
        print(f"pkgprotect-index listening on http://{host}:{port}/ (packages in {config.packages_dir})", flush=True)
        server.serve_forever()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="pkgprotect_index.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the index")
    serve_cmd.add_argument("--config", required=True, type=Path)
    serve_cmd.add_argument("--port", type=int, help="overrides the config's port (0: any free port)")
    commands.add_parser("hash-password", help="read a password on stdin, print its `password_pbkdf2`")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "hash-password":
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            print("error: no password on stdin", file=sys.stderr)
            return 1
        print(hash_password(password))
        return 0
    try:
        config = Config.load(args.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.port is not None:
        config.port = args.port
    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
