import threading

import pytest

import pkgprotect
from conftest import npm_push


def test_developer_push_is_blocked_by_every_matching_rule_in_order(rule_set):
    decision = rule_set.decide(npm_push("@demo/core", "developer"))
    assert decision == pkgprotect.Decision(
        allowed=False,
        blocking_rule_ids=[1, 2],
        reason="blocked by rule 1 (`@demo/*`): push needs at least maintainer (and 1 more rule)",
    )


def test_minimums_compare_with_the_actors_level(rule_set):
    assert rule_set.decide(npm_push("@demo/core", "maintainer")).blocking_rule_ids == [2]
    assert rule_set.decide(npm_push("@demo/core", "owner")).allowed
    assert rule_set.decide(npm_push("@demo/ui", "maintainer")).allowed
    assert rule_set.decide(npm_push("@other/ui", "guest")).allowed
    assert rule_set.decide(npm_push("@demo/ui", "admin")).allowed


def test_matching_is_case_insensitive(rule_set):
    assert rule_set.decide(npm_push("@DEMO/Ui", "developer")).blocking_rule_ids == [1]


def test_deploy_tokens_are_blocked_by_any_matching_rule(rule_set):
    delete = {"package_name": "@demo/core", "package_type": "npm", "action": "delete", "actor": {"type": "deploy_token"}}
    decision = rule_set.decide(delete)
    assert decision.blocking_rule_ids == [1, 2]
    assert "deploy tokens may not delete" in decision.reason
    # rule 2 has no delete minimum: it does not restrict users
    assert rule_set.decide({**delete, "actor": "owner"}).allowed


def test_actor_shorthands_mean_the_same(rule_set):
    forms = [{"type": "user", "access_level": "maintainer"}, "maintainer", 40]
    answers = [rule_set.decide(npm_push("@demo/core", actor)) for actor in forms]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0].blocking_rule_ids == [2]
    assert rule_set.decide(npm_push("@demo/x", "deploy_token")) == rule_set.decide(npm_push("@demo/x", {"type": "deploy_token"}))


def test_container_repository_requests(rule_set):
    request = {"repository_path": "demo-group/demo-project/release/app", "action": "push", "actor": "developer"}
    assert rule_set.decide(request).blocking_rule_ids == [5]
    assert rule_set.decide({**request, "repository_path": "demo-group/demo-project/dev/app"}).allowed


def test_pypi_rules_compare_normalized_names_for_users_and_literal_names_for_deploy_tokens(rule_set):
    request = {"package_name": "My.Internal-Pkg", "package_type": "pypi", "action": "push"}
    assert rule_set.decide({**request, "actor": "maintainer"}).blocking_rule_ids == [3]
    assert rule_set.decide({**request, "actor": "deploy_token"}).allowed
    assert rule_set.decide({**request, "package_name": "my_internal_pkg", "actor": "deploy_token"}).blocking_rule_ids == [3]


def test_rules_of_another_package_type_do_not_apply(rule_set):
    assert rule_set.decide({"package_name": "@demo/core", "package_type": "maven", "action": "push", "actor": "guest"}).allowed


def test_decide_batch_answers_each_request_as_decide_does(rule_set):
    requests = [npm_push(name, actor) for name in ("@demo/core", "@demo/ui", "left-pad") for actor in ("developer", "maintainer", "deploy_token", 50)]
    batch = rule_set.decide_batch(requests)
    assert batch == [rule_set.decide(request) for request in requests]
    assert [d.allowed for d in batch].count(False) == 5
    assert rule_set.decide_batch([]) == []
    assert rule_set.decide_batch(iter(requests[:2])) == batch[:2]


TRAILING_ESCAPE_RULES = [
    {"id": 7, "package_name_pattern": "a*\\", "package_type": "generic", "minimum_access_level_for_push": "maintainer"},
]


def test_a_rule_that_cannot_be_evaluated_fails_closed():
    request = {"package_name": "abc", "package_type": "generic", "action": "push", "actor": "developer"}
    with pkgprotect.RuleSet(TRAILING_ESCAPE_RULES) as rules:
        with pytest.raises(pkgprotect.DecisionError, match=r"rule 7 cannot be evaluated against `abc`") as caught:
            rules.decide(request)
        assert "treat as refused" in str(caught.value)
        # a name that never reaches the trailing escape is decided
        assert rules.decide({**request, "package_name": "b"}).allowed
        answers = rules.decide_batch([request, {**request, "package_name": "b"}])
        assert isinstance(answers[0], pkgprotect.DecisionError) and answers[0].message == caught.value.message
        assert isinstance(answers[1], pkgprotect.Decision) and answers[1].allowed


def test_one_shot_decide(demo_rules):
    assert pkgprotect.decide(demo_rules, npm_push("@demo/core", "developer")).blocking_rule_ids == [1, 2]
    assert pkgprotect.decide([], npm_push("@demo/core", "developer")).allowed
    with pytest.raises(pkgprotect.InvalidRuleError):
        pkgprotect.decide([{"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "owner"}], npm_push("x", "guest"))


def test_rules_may_be_dataclasses(demo_rules):
    rule = pkgprotect.PackageRule("@demo/*", "npm", "maintainer", id=9)
    with pkgprotect.RuleSet([rule]) as rules:
        assert rules.decide(npm_push("@demo/a", "developer")).blocking_rule_ids == [9]
    assert rule.to_dict() == {
        "package_name_pattern": "@demo/*",
        "package_type": "npm",
        "minimum_access_level_for_push": "maintainer",
        "minimum_access_level_for_delete": None,
        "id": 9,
    }


def test_lint_reports_findings():
    rules = [
        {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 2, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
    ]
    with pkgprotect.RuleSet(rules) as rule_set:
        findings = rule_set.lint()
    assert [(f.kind, f.rule_ids) for f in findings] == [("duplicate_pattern", [1, 2])]
    assert "same pattern" in findings[0].message
    with pkgprotect.RuleSet(rules[:1]) as rule_set:
        assert rule_set.lint() == []


@pytest.mark.parametrize(
    "rules, field, status, message",
    [
        ([{"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "owner"}], "id", 422, "has no `id`"),
        ([{"id": 1, "package_name_pattern": " ", "package_type": "npm", "minimum_access_level_for_push": "owner"}], "package_name_pattern", 422, "is blank"),
        ([{"id": 1, "package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "developer"}], "minimum_access_level_for_push", 422, "cannot be `developer`"),
        ([{"id": 1, "package_name_pattern": "x", "package_type": "npm", "minimum_acess_level_for_push": "owner"}], "minimum_acess_level_for_push", 400, "unknown field `minimum_acess_level_for_push`"),
        ([{"id": 1, "package_name_pattern": "x", "package_type": "rubygems"}], "package_type", 400, "unknown package type `\"rubygems\"`"),
        ([{"id": 1, "package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": 40}], "minimum_access_level_for_push", 400, "unknown access level `40`"),
        ([{"id": "1", "package_name_pattern": "x", "package_type": "npm"}], "id", 400, "`id` must be an integer"),
        ([{"id": True, "package_name_pattern": "x", "package_type": "npm"}], "id", 400, "`id` must be an integer"),
        ([{"id": 1, "package_name_pattern": 5, "package_type": "npm"}], "package_name_pattern", 400, "must be a string"),
        ([{"id": 1}], "base", 400, "a rule needs `package_name_pattern`"),
        ([{"id": 1, "package_name_pattern": "x", "repository_path_pattern": "y"}], "base", 400, "not both"),
        ([{"id": 1, "repository_path_pattern": "g/p", "package_type": "npm"}], "package_type", 400, "cannot have `package_type`"),
        (["@demo/*"], "base", 400, "a rule is a JSON object"),
        ({"id": 1}, "base", 400, "rules are a list"),
    ],
)
def test_bad_rules_are_refused_with_the_field(rules, field, status, message):
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.RuleSet(rules)
    error = caught.value
    assert (error.field, error.http_status) == (field, status)
    assert message in error.message
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "request_, field, message",
    [
        ({"package_name": "x", "package_type": "npm", "action": "push"}, "actor", "missing field `actor`"),
        ({"package_name": "x", "package_type": "npm", "action": "publish", "actor": "guest"}, "action", "unknown action `\"publish\"`"),
        ({"package_name": "x", "action": "push", "actor": "guest"}, "package_type", "unknown package type `null`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": "root"}, "actor", "unknown access level `\"root\"`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": 31}, "actor", "unknown access level `31`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "bot"}}, "actor", "unknown actor type `\"bot\"`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "user"}}, "actor", "needs `access_level`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "deploy_token", "access_level": "owner"}}, "actor", "unknown actor field `access_level`"),
        ({"package_name": "x", "repository_path": "y", "action": "push", "actor": "guest"}, "base", "not both"),
        ({"action": "push", "actor": "guest"}, "base", "needs `package_name`"),
        ({"package_name": 1, "package_type": "npm", "action": "push", "actor": "guest"}, "package_name", "must be a string"),
        ({"repository_path": "g/p", "package_type": "npm", "action": "push", "actor": "guest"}, "package_type", "cannot have `package_type`"),
        ({"repository_path": ["g"], "action": "push", "actor": "guest"}, "repository_path", "must be a string"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": "guest", "project": 1}, "project", "unknown field `project`"),
        ("x", "request", "a decision request is a JSON object"),
    ],
)
def test_bad_requests_are_refused_with_the_field(rule_set, request_, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        rule_set.decide(request_)
    assert caught.value.field == field
    assert message in caught.value.message
    assert caught.value.http_status == 400


def test_a_bad_request_in_a_batch_names_its_position(rule_set):
    with pytest.raises(pkgprotect.InvalidRequestError, match=r"request at position 1: unknown action"):
        rule_set.decide_batch([npm_push("x", "guest"), {**npm_push("x", "guest"), "action": "pull"}])
    with pytest.raises(pkgprotect.InvalidRequestError, match="requests are a list"):
        rule_set.decide_batch(npm_push("x", "guest"))


def test_close_frees_the_rule_set_and_later_calls_fail(demo_rules):
    rules = pkgprotect.RuleSet(demo_rules)
    assert len(rules) == 4 and not rules.closed
    assert repr(rules) == "<pkgprotect.RuleSet 4 rules>"
    rules.close()
    rules.close()
    assert rules.closed and repr(rules) == "<pkgprotect.RuleSet closed>"
    for call in (lambda: rules.decide(npm_push("x", "guest")), rules.lint, lambda: rules.decide_batch([])):
        with pytest.raises(pkgprotect.PkgprotectError, match="the rule set is closed"):
            call()
    with pkgprotect.RuleSet(demo_rules) as managed:
        assert not managed.closed
    assert managed.closed


def test_threads_share_a_rule_set(rule_set):
    expected = {actor: rule_set.decide(npm_push("@demo/core", actor)) for actor in ("developer", "maintainer", "owner")}
    errors = []

    def work(actor):
        for _ in range(200):
            got = rule_set.decide(npm_push("@demo/core", actor))
            if got != expected[actor]:
                errors.append((actor, got))

    threads = [threading.Thread(target=work, args=(actor,)) for actor in expected for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
