import json

from pkgprotect.__main__ import main
from pkgprotect.conformance import run_vectors

VECTORS = {
    "schema": 1,
    "match": [
        {"pattern": "@s/*", "name": "@S/x", "matches": True, "note": "case-insensitive"},
        {"pattern": "a*\\", "name": "abc", "matches": None, "error": "LIKE pattern must not end with escape character"},
    ],
    "validate": [
        {
            "kind": "package",
            "rule": {"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            "valid": True,
            "http_status": 201,
        },
        {
            "kind": "package",
            "rule": {"package_name_pattern": "x", "package_type": "npm"},
            "valid": False,
            "http_status": 400,
            "field": "minimum_access_level_for_push,minimum_access_level_for_delete",
        },
    ],
    "decide": [
        {
            "kind": "package",
            "rules": [{"id": 4, "package_name_pattern": "x*", "package_type": "npm", "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": None}],
            "request": {"package_name": "xy", "package_type": "npm", "action": "push", "actor": {"type": "user", "access_level": "developer"}},
            "allowed": False,
            "blocking_rule_ids": [4],
        }
    ],
}


def test_every_category_passes():
    report = run_vectors(VECTORS)
    assert (report.passed, report.failures) == (5, [])
    assert str(report) == "5 passed, 0 failed"


def test_a_wrong_expectation_is_reported_in_the_shared_words():
    vectors = json.loads(json.dumps(VECTORS))
    vectors["decide"][0]["allowed"] = True
    vectors["validate"][1]["http_status"] = 422
    report = run_vectors(vectors)
    assert report.summary() == "3 passed, 2 failed"
    assert str(report).splitlines()[:3] == [
        'FAIL validate[1]: package {"package_name_pattern":"x","package_type":"npm"}: ',
        "  expected: 422 minimum_access_level_for_push,minimum_access_level_for_delete",
        "  got:      400 minimum_access_level_for_push,minimum_access_level_for_delete",
    ]
    assert "  expected: allowed=true blocking_rule_ids=[4]" in str(report)
    assert "  got:      allowed=false blocking_rule_ids=[4]" in str(report)


def test_a_vector_the_host_cannot_run_is_a_failure_not_a_crash():
    vectors = {"decide": [dict(VECTORS["decide"][0], request={"package_name": "x"})]}
    report = run_vectors(vectors)
    assert report.summary() == "0 passed, 1 failed"
    assert report.failures[0].got.startswith("host failure: request.package_type: unknown package type `null`")


def test_the_command_exits_1_on_failures(tmp_path, capsys):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(VECTORS))
    bad.write_text(json.dumps({"match": [dict(VECTORS["match"][0], matches=False)]}))
    assert main(["conformance", str(good)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "5 passed, 0 failed"
    assert main(["conformance", str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL match[0]: pattern `@s/*` name `@S/x`: case-insensitive")
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_the_command_explains_unreadable_files(tmp_path, capsys):
    assert main(["conformance", str(tmp_path / "missing.json")]) == 1
    assert "error: cannot read vector file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["conformance", str(broken)]) == 1
    assert "is not a valid vector file" in capsys.readouterr().err
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip()
