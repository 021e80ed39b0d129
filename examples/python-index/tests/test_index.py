"""The index end to end: pypiserver + the middleware on 127.0.0.1, real dists built with
`build`, uploaded with the real `twine`.

Tools: `$PKGPROTECT_TWINE` (default: `twine` beside this Python) and `$PKGPROTECT_BUILD_PYTHON`
(a Python with `build` and `hatchling`; default: this one). The [gitlab] rule source runs
against a real `pkgprotect serve` when `$PKGPROTECT_BIN` names the binary.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
import pkgprotect_index  # noqa: E402

PASSWORD = "s3cret-for-tests"
USERS = {"dev": "developer", "lead": "maintainer", "boss": "owner"}


def tool(env_name, default):
    path = os.environ.get(env_name) or default
    if not path or not Path(path).exists():
        pytest.fail(f"`{path}` not found: set ${env_name} (scripts/test-python.sh does)")
    return path


TWINE = os.environ.get("PKGPROTECT_TWINE") or str(Path(sys.executable).with_name("twine"))
BUILD_PYTHON = os.environ.get("PKGPROTECT_BUILD_PYTHON") or sys.executable


# ---------------------------------------------------------------------------------------
# Fixtures: dists, an index


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """Tiny sdists and wheels, built for real: {project name: [files]}."""
    python = tool("PKGPROTECT_BUILD_PYTHON", BUILD_PYTHON)
    root = tmp_path_factory.mktemp("projects")
    built = {}
    for name in ("my_internal_pkg", "My.Internal-Tools", "corp-release", "public-lib", "public-other"):
        project = root / name
        module = name.lower().replace("-", "_").replace(".", "_")
        (project / module).mkdir(parents=True)
        (project / module / "__init__.py").write_text("VALUE = 1\n")
        (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            [project]
            name = "{name}"
            version = "0.1.0"
            [tool.hatch.build.targets.wheel]
            packages = ["{module}"]
        """))
        out = project / "dist"
        subprocess.run([python, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(project)],
                       check=True, capture_output=True, text=True)
        built[name] = sorted(out.iterdir())
        assert {p.suffix for p in built[name]} == {".gz", ".whl"}, built[name]
    return built


def write_config(directory, source):
    users = "".join(
        f'[users.{user}]\naccess_level = "{level}"\npassword_pbkdf2 = "{pkgprotect_index.hash_password(PASSWORD, iterations=1000)}"\n'
        for user, level in USERS.items()
    )
    config = directory / "config.toml"
    config.write_text(f'packages_dir = "packages"\nport = 0\n{source}\n{users}')
    return config


class Index:
    """`pkgprotect_index.py serve` on a free port of 127.0.0.1, its log in a file."""

    def __init__(self, config, env=None):
        self.dir = config.parent
        self.log = open(self.dir / "index.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "pkgprotect_index.py"), "serve", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env={**os.environ, **(env or {})},
        )
        line = self._first_line(timeout=30)
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the index did not start: {line!r}\n{(self.dir / 'index.log').read_text()}")
        self.url = line.split("listening on ", 1)[1].split()[0]

    def _first_line(self, timeout):
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return lines[0] if lines else ""

    def packages(self):
        return sorted(p.name for p in (self.dir / "packages").iterdir())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("index")
    shutil.copy(HERE / "rules.json", directory / "rules.json")
    served = Index(write_config(directory, 'rules_file = "rules.json"'))
    yield served
    served.stop()


def twine_upload(index, user, files, password=PASSWORD):
    env = {**os.environ, "COLUMNS": "400", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": "1"}
    for key in [k for k in env if k.startswith("TWINE_")]:
        del env[key]
    run = subprocess.run(
        [tool("PKGPROTECT_TWINE", TWINE), "upload", "--repository-url", index.url, "-u", user, "-p", password,
         "--non-interactive", "--disable-progress-bar", *map(str, files)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run.stdout + run.stderr)  # rich's colours and cursor codes
    return run.returncode, " ".join(plain.split())


def post_form(index, user, fields, files=()):
    """A multipart POST as twine sends it; (status, reason, body)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    for field, filename, content in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(index.url, data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode(),
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.reason, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.reason, error.read().decode()


# ---------------------------------------------------------------------------------------
# Uploads with twine


def test_a_developer_cannot_upload_a_protected_name(index, dists):
    code, output = twine_upload(index, "dev", dists["my_internal_pkg"])
    assert code != 0
    assert "HTTPError: 403 Forbidden from" in output
    # the name as twine sends it in the form
    assert ("upload of `my-internal-pkg` refused for `dev` (developer): "
            "blocked by rule 3 (`my_internal_*`): push needs at least maintainer") in output
    assert not any(p.startswith("my_internal_pkg") for p in index.packages())


def test_pypi_names_are_compared_normalized(index, dists):
    code, output = twine_upload(index, "dev", dists["My.Internal-Tools"][:1])
    assert code != 0
    assert "upload of `My.Internal-Tools` refused for `dev` (developer): blocked by rule 3 (`my_internal_*`)" in output


def test_a_maintainer_can_upload_a_protected_name(index, dists):
    code, output = twine_upload(index, "lead", dists["my_internal_pkg"])
    assert code == 0, output
    assert [p for p in index.packages() if p.startswith("my_internal_pkg")] == [p.name for p in dists["my_internal_pkg"]]
    with urllib.request.urlopen(index.url + "simple/my-internal-pkg/", timeout=10) as page:
        listed = page.read().decode()
    assert all(d.name in listed for d in dists["my_internal_pkg"])


def test_anyone_can_upload_an_unprotected_name(index, dists):
    code, output = twine_upload(index, "dev", dists["public-lib"])
    assert code == 0, output
    assert {d.name for d in dists["public-lib"]} <= set(index.packages())


def test_minimums_differ_per_rule(index, dists):
    code, output = twine_upload(index, "lead", dists["corp-release"][:1])
    assert code != 0
    assert "refused for `lead` (maintainer): blocked by rule 4 (`corp-release`): push needs at least owner" in output
    code, output = twine_upload(index, "boss", dists["corp-release"][:1])
    assert code == 0, output


def test_a_wrong_password_is_refused_before_any_decision(index, dists):
    code, output = twine_upload(index, "lead", dists["public-other"][:1], password="wrong")
    assert code != 0
    assert "401 Unauthorized" in output
    assert not any(p.startswith("public_other") for p in index.packages())


# ---------------------------------------------------------------------------------------
# What twine does not do: removals, forged forms


def test_removal_needs_the_delete_minimum(index, dists):
    wheel = next(d for d in dists["My.Internal-Tools"] if d.suffix == ".whl")
    code, output = twine_upload(index, "lead", [wheel])
    assert code == 0, output
    form = {":action": "remove_pkg", "name": "my_internal_tools", "version": "0.1.0"}
    status, reason, body = post_form(index, "lead", form)
    assert status == 403
    assert reason == body.strip() == (
        "removal of `my_internal_tools` refused for `lead` (maintainer): blocked by rule 3 (`my_internal_*`): delete needs at least owner"
    )
    assert wheel.name in index.packages()
    status, _, _ = post_form(index, "boss", form)
    assert status == 200
    assert wheel.name not in index.packages()


def test_a_name_field_cannot_smuggle_a_protected_file(index, dists):
    wheel = next(d for d in dists["my_internal_pkg"] if d.suffix == ".whl")
    fields = {":action": "file_upload", "name": "public-lib", "version": "9.9.9", "protocol_version": "1"}
    status, reason, _ = post_form(index, "dev", fields, [("content", "my_internal_pkg-9.9.9-py3-none-any.whl", wheel.read_bytes())])
    assert status == 403
    assert reason.startswith("upload of `my_internal_pkg` refused for `dev` (developer): blocked by rule 3")
    assert "my_internal_pkg-9.9.9-py3-none-any.whl" not in index.packages()


def test_reads_are_not_checked(index):
    with urllib.request.urlopen(index.url + "simple/", timeout=10) as page:
        assert page.status == 200


# ---------------------------------------------------------------------------------------
# Rule sources


def test_the_rules_file_is_reloaded_when_it_changes(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"id": 1, "package_name_pattern": "a*", "package_type": "pypi", "minimum_access_level_for_push": "owner"}]))
    source = pkgprotect_index.FileRules(rules)
    request = {"package_name": "abc", "package_type": "pypi", "action": "push", "actor": "developer"}
    assert source.current().decide(request).first_blocking_rule == 1
    time.sleep(0.01)
    rules.write_text(json.dumps([{"id": 2, "package_name_pattern": "b*", "package_type": "pypi", "minimum_access_level_for_push": "owner"}]))
    assert source.current().decide(request).allowed
    for broken in ("{not json", '[{"id": 3, "package_name_pattern": "a*", "package_type": "pypi", "minimum_acess_level_for_push": "owner"}]'):
        time.sleep(0.01)
        rules.write_text(broken)
        assert source.current().decide(request).allowed  # the previous rules stay
    with pytest.raises(pkgprotect_index.RulesUnavailable, match="cannot load rules from"):
        pkgprotect_index.FileRules(tmp_path / "missing.json").current()
    misspelt = tmp_path / "misspelt.json"
    misspelt.write_text('[{"id": 3, "package_name_pattern": "a*", "package_type": "pypi", "minimum_acess_level_for_push": "owner"}]')
    with pytest.raises(pkgprotect_index.RulesUnavailable, match=r"cannot load rules from .*unknown field `minimum_acess_level_for_push`"):
        pkgprotect_index.FileRules(misspelt).current()


def test_a_name_the_rules_cannot_decide_is_refused(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"id": 8, "package_name_pattern": "team*\\", "package_type": "pypi", "minimum_access_level_for_push": "owner"}]))
    config = pkgprotect_index.Config.load(write_config(tmp_path, 'rules_file = "rules.json"'))
    middleware = pkgprotect_index.ProtectionMiddleware(None, config, pkgprotect_index.FileRules(rules))
    lead, boss = config.users["lead"], config.users["boss"]
    status, message = middleware._refusal("push", lead, ["public-lib", "team-tools"])
    assert status == 403
    assert message.startswith("upload of `team-tools` refused for `lead`: cannot decide, refusing: rule 8 cannot be evaluated against `team-tools`")
    assert middleware._refusal("push", lead, ["public-lib", "other"]) is None
    # an owner meets the rule's minimum: GitLab's query never evaluates it
    assert middleware._refusal("push", boss, ["team-tools"]) is None


def test_the_config_is_checked(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('rules_file = "r.json"\n[gitlab]\nurl = "http://x"\nproject = "g/p"\n')
    with pytest.raises(pkgprotect_index.ConfigError, match="exactly one rule source"):
        pkgprotect_index.Config.load(config)
    config.write_text('rules_file = "r.json"\n[users.eve]\naccess_level = "root"\npassword_pbkdf2 = "x"\n')
    with pytest.raises(pkgprotect_index.ConfigError, match="user `eve`: unknown access level `root`"):
        pkgprotect_index.Config.load(config)
    shipped = pkgprotect_index.Config.load(HERE / "config.example.toml")
    assert shipped.authenticate("dev", "secret").access_level == "developer"
    assert shipped.authenticate("dev", "Secret") is None and shipped.authenticate("nobody", "secret") is None


def pkgprotect_admin(binary, data, *args):
    out = subprocess.run([binary, "admin", "--data-dir", str(data), "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.fixture
def gitlab_server(tmp_path):
    """A real `pkgprotect serve` with project `grp/proj`, a maintainer token and one rule."""
    binary = os.environ.get("PKGPROTECT_BIN")
    if not binary:
        pytest.skip("PKGPROTECT_BIN not set (scripts/test-python.sh sets it when target/*/pkgprotect exists)")
    data = tmp_path / "server-data"
    pkgprotect_admin(binary, data, "project", "create", "grp/proj")
    pkgprotect_admin(binary, data, "user", "create", "alice")
    pkgprotect_admin(binary, data, "member", "add", "grp/proj", "alice", "maintainer")
    token = pkgprotect_admin(binary, data, "token", "create", "alice")["token"]
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen([binary, "serve", "--engine", "native", "--data-dir", str(data), "--listen", "127.0.0.1:0"], stdout=log, stderr=log)
    try:
        url = None
        for _ in range(600):
            text = (tmp_path / "server.log").read_text()
            if "listening on" in text:
                url = "http://" + text.split("listening on", 1)[1].split()[0].strip("`").removeprefix("http://")
                break
            time.sleep(0.05)
        assert url, (tmp_path / "server.log").read_text()
        rule = {"package_name_pattern": "team_*", "package_type": "pypi", "minimum_access_level_for_push": "maintainer"}
        request = urllib.request.Request(f"{url}/api/v4/projects/grp%2Fproj/packages/protection/rules", data=json.dumps(rule).encode(),
                                         method="POST", headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            created = json.load(response)
        yield url, token, created["id"]
    finally:
        server.terminate()
        server.wait(10)


def test_rules_can_come_from_pkgprotect_serve(tmp_path, gitlab_server, dists):
    url, token, rule_id = gitlab_server
    config = write_config(tmp_path, f'[gitlab]\nurl = "{url}"\nproject = "grp/proj"\ntoken_env = "INDEX_TEST_TOKEN"\n')
    source = pkgprotect_index.GitLabRules(pkgprotect_index.Config.load(config).gitlab)
    os.environ.pop("INDEX_TEST_TOKEN", None)
    with pytest.raises(pkgprotect_index.RulesUnavailable, match=r"no token: set \$INDEX_TEST_TOKEN"):
        source.current()
    os.environ["INDEX_TEST_TOKEN"] = "glpat-wrong"
    with pytest.raises(pkgprotect_index.RulesUnavailable, match="answered 401"):
        source.current()
    os.environ["INDEX_TEST_TOKEN"] = token
    try:
        request = {"package_name": "Team.Tools", "package_type": "pypi", "action": "push", "actor": "developer"}
        assert source.current().decide(request).first_blocking_rule == rule_id
        assert source.current().explain(request).blocking_rule_ids == [rule_id]
        served = Index(config)
        try:
            code, output = twine_upload(served, "dev", dists["public-lib"][:1])
            assert code == 0, output
        finally:
            served.stop()
    finally:
        del os.environ["INDEX_TEST_TOKEN"]


def test_without_rules_protected_actions_fail_closed(tmp_path, dists):
    config = write_config(tmp_path, '[gitlab]\nurl = "http://127.0.0.1:9"\nproject = "grp/proj"\ntoken_env = "INDEX_TEST_NO_TOKEN"\n')
    served = Index(config, env={"INDEX_TEST_NO_TOKEN": ""})
    try:
        code, output = twine_upload(served, "boss", dists["public-lib"][:1])
    finally:
        served.stop()
    assert code != 0
    assert "503 Service Unavailable" in output
    assert "protection rules are not available, refusing the upload: no token: set $INDEX_TEST_NO_TOKEN" in output
