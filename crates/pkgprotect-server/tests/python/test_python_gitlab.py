"""python-gitlab (the real client, from PyPI) against `pkgprotect serve`.

Run by scripts/test.sh: PKGPROTECT_BIN names the `pkgprotect` binary. Each test module
run starts its own server on a free 127.0.0.1 port with a fresh SQLite data directory.
"""

import tempfile

import gitlab
import pytest
from conftest import admin, free_port, start_server

PROJECT = "my-group/my-project"


@pytest.fixture(scope="module")
def server():
    db = ["--data-dir", tempfile.mkdtemp(prefix="pkgprotect-pygitlab-")]
    admin(db, "project", "create", PROJECT)
    tokens = {}
    for user, level in [("maint", "maintainer"), ("dev", "developer"), ("outsider", None)]:
        admin(db, "user", "create", user)
        if level:
            admin(db, "member", "add", PROJECT, user, level)
        tokens[user] = admin(db, "token", "create", user)["token"]
    proc, url = start_server(db, free_port())
    yield url, tokens
    proc.terminate()
    proc.wait(timeout=10)


def client(server, user):
    url, tokens = server
    return gitlab.Gitlab(url, private_token=tokens[user])


@pytest.mark.parametrize("ref", [1, PROJECT])
def test_package_rules_lifecycle(server, ref):
    project = client(server, "maint").projects.get(ref, lazy=True)
    rules = project.package_protection_rules
    rule = rules.create({"package_name_pattern": f"@acme/by-{'id' if ref == 1 else 'path'}-*",
                         "package_type": "npm", "minimum_access_level_for_push": "maintainer"})
    assert rule.package_type == "npm" and rule.minimum_access_level_for_push == "maintainer"
    assert any(r.id == rule.id for r in rules.list(get_all=True))
    assert any(r.id == rule.id for r in rules.list(iterator=True))
    rule.minimum_access_level_for_delete = "owner"
    rule.save()  # PATCH
    again = [r for r in rules.list(get_all=True) if r.id == rule.id][0]
    assert again.minimum_access_level_for_delete == "owner"
    rules.delete(rule.id)
    assert all(r.id != rule.id for r in rules.list(get_all=True))


@pytest.mark.parametrize("ref", [1, PROJECT])
def test_container_rules_lifecycle(server, ref):
    project = client(server, "maint").projects.get(ref, lazy=True)
    rules = project.registry_protection_repository_rules
    rule = rules.create({"repository_path_pattern": f"{PROJECT}/img-{str(ref).replace('/', '-')}-*",
                         "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"})
    rule.minimum_access_level_for_push = ""  # GitLab: an empty string unsets
    rule.save()
    listed = [r for r in rules.list(get_all=True) if r.id == rule.id][0]
    assert listed.minimum_access_level_for_push is None
    assert listed.minimum_access_level_for_delete == "owner"
    rules.delete(rule.id)


def test_error_paths(server):
    project = client(server, "maint").projects.get(PROJECT, lazy=True)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as bad:
        project.package_protection_rules.create({"package_name_pattern": "x", "package_type": "composer",
                                                 "minimum_access_level_for_push": "maintainer"})
    assert bad.value.response_code == 400
    assert "package_type does not have a valid value" in bad.value.error_message
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as invalid:
        project.package_protection_rules.create({"package_name_pattern": "*-nope", "package_type": "pypi",
                                                 "minimum_access_level_for_push": "maintainer"})
    assert invalid.value.response_code == 422
    project.package_protection_rules.create({"package_name_pattern": "dup", "package_type": "generic",
                                             "minimum_access_level_for_push": "owner"})
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as dup:
        project.package_protection_rules.create({"package_name_pattern": "dup", "package_type": "generic",
                                                 "minimum_access_level_for_push": "owner"})
    assert dup.value.response_code == 422
    assert "has already been taken" in str(dup.value.error_message)

    url, _ = server
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError) as unauthorized:
        gitlab.Gitlab(url, private_token="glpat-wrong").projects.get(PROJECT, lazy=True).package_protection_rules.list(get_all=True)
    assert unauthorized.value.response_code == 401
    with pytest.raises(gitlab.exceptions.GitlabListError) as forbidden:
        client(server, "dev").projects.get(PROJECT, lazy=True).package_protection_rules.list(get_all=True)
    assert forbidden.value.response_code == 403
    with pytest.raises(gitlab.exceptions.GitlabListError) as hidden:
        client(server, "outsider").projects.get(PROJECT, lazy=True).package_protection_rules.list(get_all=True)
    assert hidden.value.response_code == 404
