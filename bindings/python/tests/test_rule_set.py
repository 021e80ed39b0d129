"""RuleSet: compile (from dicts, dataclasses or GitLab JSON), decide, explain, decide_names,
decide_batch, lint, len, close; the one-shot decide and explain."""

import json
import threading

import pytest

import pkgprotect
from conftest import DEMO_RULES, TRICKY_RULES, npm_push, tricky_requests

V = pkgprotect.Verdict


def test_decide_answers_scalars_and_explain_the_full_answer(rule_set):
    request = npm_push("@demo/core", "developer")
    assert rule_set.decide(request) == pkgprotect.Summary(allowed=False, blocking_rules=2, first_blocking_rule=1)
    assert rule_set.explain(request) == pkgprotect.Decision(
        allowed=False,
        blocking_rule_ids=[1, 2],
        reason="blocked by rule 1 (`@demo/*`): push needs at least maintainer (and 1 more rule)",
    )


def test_minimums_compare_with_the_actors_level(rule_set):
    assert rule_set.explain(npm_push("@demo/core", "maintainer")).blocking_rule_ids == [2]
    assert rule_set.decide(npm_push("@demo/core", "maintainer")) == pkgprotect.Summary(False, 1, 2)
    assert rule_set.decide(npm_push("@demo/core", "owner")) == pkgprotect.Summary(True, 0, None)
    assert rule_set.decide(npm_push("@demo/ui", "maintainer")).allowed
    assert rule_set.decide(npm_push("@other/ui", "guest")).allowed
    assert rule_set.decide(npm_push("@demo/ui", "admin")).allowed


def test_matching_is_case_insensitive(rule_set):
    assert rule_set.explain(npm_push("@DEMO/Ui", "developer")).blocking_rule_ids == [1]


def test_deploy_tokens_are_blocked_by_any_matching_rule(rule_set):
    delete = {"package_name": "@demo/core", "package_type": "npm", "action": "delete", "actor": {"type": "deploy_token"}}
    decision = rule_set.explain(delete)
    assert decision.blocking_rule_ids == [1, 2]
    assert "deploy tokens may not delete" in decision.reason
    # rule 2 has no delete minimum: it does not restrict users
    assert rule_set.decide({**delete, "actor": "owner"}).allowed


def test_actor_shorthands_mean_the_same(rule_set):
    forms = [{"type": "user", "access_level": "maintainer"}, "maintainer", 40, {"type": "user", "access_level": 40}]
    answers = [rule_set.explain(npm_push("@demo/core", actor)) for actor in forms]
    assert answers == [answers[0]] * 4
    assert answers[0].blocking_rule_ids == [2]
    assert rule_set.explain(npm_push("@demo/x", "deploy_token")) == rule_set.explain(npm_push("@demo/x", {"type": "deploy_token"}))


def test_container_repository_requests(rule_set):
    request = {"repository_path": "demo-group/demo-project/release/app", "action": "push", "actor": "developer"}
    assert rule_set.decide(request) == pkgprotect.Summary(False, 1, 5)
    assert rule_set.decide({**request, "repository_path": "demo-group/demo-project/dev/app"}).allowed


def test_pypi_rules_compare_normalized_names_for_users_and_literal_names_for_deploy_tokens(rule_set):
    request = {"package_name": "My.Internal-Pkg", "package_type": "pypi", "action": "push"}
    assert rule_set.decide({**request, "actor": "maintainer"}).first_blocking_rule == 3
    assert rule_set.decide({**request, "actor": "deploy_token"}).allowed
    assert rule_set.decide({**request, "package_name": "my_internal_pkg", "actor": "deploy_token"}).first_blocking_rule == 3


def test_rules_of_another_package_type_do_not_apply(rule_set):
    assert rule_set.decide({"package_name": "@demo/core", "package_type": "maven", "action": "push", "actor": "guest"}).allowed


def test_decide_names_answers_each_name_as_decide_does(rule_set):
    names = ["@demo/core", "@demo/ui", "left-pad", "@DEMO/x", ""]
    for actor in ("developer", "maintainer", "owner", "deploy_token", 60):
        verdicts = rule_set.decide_names(names, kind="npm", action="push", actor=actor)
        expected = [V.ALLOWED if rule_set.decide(npm_push(n, actor)).allowed else V.BLOCKED for n in names]
        assert verdicts == expected
    assert rule_set.decide_names(names, kind="npm", action="push", actor="developer") == ["blocked", "blocked", "allowed", "blocked", "allowed"]
    assert rule_set.decide_names(iter(["@demo/a"]), kind="npm", action="delete", actor="maintainer") == [V.BLOCKED]
    assert rule_set.decide_names([], kind="pypi", action="push", actor="guest") == []
    paths = ["demo-group/demo-project/release/x", "demo-group/demo-project/x"]
    assert rule_set.decide_names(paths, kind="container_repository", action="push", actor="developer") == [V.BLOCKED, V.ALLOWED]


def test_verdicts_compare_equal_to_their_names():
    assert V.ALLOWED == "allowed" and str(V.UNDECIDABLE) == "undecidable" and V("blocked") is V.BLOCKED


def _expected_verdicts(rules, requests):
    verdicts = []
    for request in requests:
        try:
            verdicts.append(V.ALLOWED if rules.decide(request).allowed else V.BLOCKED)
        except pkgprotect.DecisionError:
            verdicts.append(V.UNDECIDABLE)
    return verdicts


def test_decide_batch_answers_each_request_as_decide_does_by_both_routes(monkeypatch):
    from pkgprotect import _runtime

    runtime = _runtime.runtime()
    calls = []
    original = runtime.call
    monkeypatch.setattr(runtime, "call", lambda name, *args, **kw: calls.append(name) or original(name, *args, **kw))
    requests = tricky_requests()
    with pkgprotect.RuleSet(TRICKY_RULES) as rules:
        expected = _expected_verdicts(rules, requests)
        assert set(expected) == {V.ALLOWED, V.BLOCKED, V.UNDECIDABLE}
        # grouped by (kind, action, actor) into `decide-names` calls: few groups, many requests
        calls.clear()
        assert rules.decide_batch(requests * 20) == expected * 20
        assert set(calls) == {"rule-set.decide-names"}
        # one `decide-batch` call with a record per request: every request its own group
        distinct = [{**r, "actor": a} for r, a in zip(requests[:4], ("guest", "owner", "deploy_token", "reporter"))]
        expected_distinct = _expected_verdicts(rules, distinct)
        calls.clear()
        assert rules.decide_batch(distinct) == expected_distinct
        assert calls == ["rule-set.decide-batch"]
        calls.clear()
        assert rules.decide_batch([]) == [] and calls == []
        assert rules.decide_batch(iter(requests[:1])) == expected[:1] and calls == ["rule-set.decide-names"]


def test_undecidable_requests_raise_with_the_cause_and_the_rule_field():
    rules = [
        {"id": 9, "package_name_pattern": "zzz", "package_type": "generic", "minimum_access_level_for_push": "owner"},
        {"id": 7, "package_name_pattern": "a*\\", "package_type": "generic", "minimum_access_level_for_push": "maintainer"},
    ]
    request = {"package_name": "abc", "package_type": "generic", "action": "push", "actor": "developer"}
    with pkgprotect.RuleSet(rules) as rule_set:
        for call in (rule_set.decide, rule_set.explain):
            with pytest.raises(pkgprotect.DecisionError) as caught:
                call(request)
            error = caught.value
            assert error.cause == pkgprotect.Unevaluable(rule_id=7, pattern="a*\\")
            assert (error.kind, error.field) == ("unevaluable", "rules[1].package_name_pattern")
            assert "rule 7 cannot be evaluated against `abc`" in error.message
        # a name that never reaches the trailing escape is decided
        assert rule_set.decide({**request, "package_name": "b"}).allowed
        assert rule_set.decide_names(["abc", "b"], kind="generic", action="push", actor="developer") == [V.UNDECIDABLE, V.ALLOWED]
    # from GitLab JSON text the field is found the same way
    with pkgprotect.RuleSet(json.dumps(rules)) as rule_set:
        with pytest.raises(pkgprotect.DecisionError) as caught:
            rule_set.decide(request)
        assert caught.value.field == "rules[1].package_name_pattern"
    container = [{"id": 3, "repository_path_pattern": "g/p/*\\", "minimum_access_level_for_push": "owner"}]
    with pytest.raises(pkgprotect.DecisionError) as caught:
        pkgprotect.decide(container, {"repository_path": "g/p/x", "action": "push", "actor": "guest"})
    assert caught.value.field == "rules[0].repository_path_pattern"


def test_one_shot_decide_and_explain(demo_rules):
    request = npm_push("@demo/core", "developer")
    assert pkgprotect.decide(demo_rules, request) == pkgprotect.Summary(False, 2, 1)
    assert pkgprotect.explain(demo_rules, request).blocking_rule_ids == [1, 2]
    assert pkgprotect.decide(json.dumps(demo_rules), request) == pkgprotect.Summary(False, 2, 1)
    assert pkgprotect.decide([], request) == pkgprotect.Summary(True, 0, None)
    assert pkgprotect.explain("[]", request) == pkgprotect.Decision(True, [], pkgprotect.explain([], request).reason)
    with pytest.raises(pkgprotect.RuleSetError) as caught:
        pkgprotect.decide([{"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "owner"}], npm_push("x", "guest"))
    assert caught.value.cause == pkgprotect.MissingId(0)
    with pytest.raises(pkgprotect.RuleSetError):
        pkgprotect.explain("[{", request)
    with pytest.raises(pkgprotect.DecisionError) as caught:
        pkgprotect.explain([{"id": 4, "package_name_pattern": "@d*\\", "package_type": "npm", "minimum_access_level_for_push": "owner"}], request)
    assert caught.value.cause == pkgprotect.Unevaluable(4, "@d*\\") and caught.value.field == "rules[0].package_name_pattern"


def test_one_shot_and_compiled_answers_agree():
    requests = tricky_requests()
    with pkgprotect.RuleSet(TRICKY_RULES) as rules:
        for request in requests[::3]:
            try:
                expected = rules.explain(request)
            except pkgprotect.DecisionError as error:
                with pytest.raises(pkgprotect.DecisionError) as caught:
                    pkgprotect.explain(TRICKY_RULES, request)
                assert caught.value.cause == error.cause
                continue
            assert pkgprotect.explain(TRICKY_RULES, request) == expected
            assert rules.decide(request) == pkgprotect.decide(TRICKY_RULES, request)


def test_rules_may_be_dataclasses_or_gitlab_json(demo_rules):
    rule = pkgprotect.PackageRule("@demo/*", "npm", "maintainer", id=9)
    with pkgprotect.RuleSet([rule]) as rules:
        assert rules.decide(npm_push("@demo/a", "developer")).first_blocking_rule == 9
    assert rule.to_dict() == {
        "package_name_pattern": "@demo/*",
        "package_type": "npm",
        "minimum_access_level_for_push": "maintainer",
        "minimum_access_level_for_delete": None,
        "id": 9,
    }
    text = json.dumps(demo_rules, indent=2)  # as GitLab's API answers it, any layout
    with pkgprotect.RuleSet.compile(text) as from_text, pkgprotect.RuleSet(tuple(demo_rules)) as from_dicts:
        assert len(from_text) == len(from_dicts) == 4
        for request in tricky_requests()[::5]:
            assert from_text.decide_batch([request]) == from_dicts.decide_batch([request])


def test_lint_reports_findings():
    rules = [
        {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 2, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        {"id": 3, "package_name_pattern": "50%", "package_type": "generic", "minimum_access_level_for_push": "owner"},
    ]
    with pkgprotect.RuleSet(rules) as rule_set:
        findings = rule_set.lint()
    kinds = [(f.kind, f.rule_ids) for f in findings]
    assert ("duplicate_pattern", [1, 2]) in kinds and ("literal_wildcard_lookalike", [3]) in kinds
    assert all(isinstance(f, pkgprotect.Finding) and f.message for f in findings)
    with pkgprotect.RuleSet(rules[:1]) as rule_set:
        assert rule_set.lint() == []


def test_closed_rule_sets_refuse_calls(demo_rules):
    rule_set = pkgprotect.RuleSet(demo_rules)
    assert repr(rule_set) == "<pkgprotect.RuleSet compiled>" and not rule_set.closed
    rule_set.close()
    rule_set.close()
    assert rule_set.closed and repr(rule_set) == "<pkgprotect.RuleSet closed>"
    with pytest.raises(pkgprotect.PkgprotectError, match="the rule set is closed"):
        rule_set.decide(npm_push("x", "guest"))


# ---------------------------------------------------------------------------------------
# Rules the component refuses: every compile cause, with the field in the caller's input

GOOD = {"id": 1, "package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": "owner"}


@pytest.mark.parametrize(
    "rules, cause, field",
    [
        ([GOOD, {"package_name_pattern": "y", "package_type": "npm", "minimum_access_level_for_push": "owner"}], pkgprotect.MissingId(1), "rules[1].id"),
        ([GOOD, {**GOOD, "package_name_pattern": "y"}], pkgprotect.DuplicateId(1), "rules[1].id"),
        ([{**GOOD, "minimum_access_level_for_push": "developer"}], pkgprotect.LevelNotAllowed(1, "minimum_access_level_for_push", "developer"), "rules[0].minimum_access_level_for_push"),
        ([{"id": 2, "repository_path_pattern": "g/p", "minimum_access_level_for_delete": "guest"}], pkgprotect.LevelNotAllowed(2, "minimum_access_level_for_delete", "guest"), "rules[0].minimum_access_level_for_delete"),
        ([GOOD, {**GOOD, "id": 3, "package_name_pattern": " "}], pkgprotect.BlankPattern(3, "package_name_pattern"), "rules[1].package_name_pattern"),
        ([{**GOOD, "package_name_pattern": "p" * 256}], pkgprotect.PatternTooLong(1, "package_name_pattern", 256), "rules[0].package_name_pattern"),
        ([GOOD, {**GOOD, "id": 2, "minimum_acess_level_for_push": "owner"}], pkgprotect.InvalidJson, "rules[1]"),
        ([GOOD, {**GOOD, "id": 2, "package_type": "rubygems"}], pkgprotect.InvalidJson, "rules[1]"),
        ([{**GOOD, "minimum_access_level_for_push": 40}], pkgprotect.InvalidJson, "rules[0]"),
        ([{**GOOD, "id": "1"}], pkgprotect.InvalidJson, "rules[0]"),
        (["@demo/*"], pkgprotect.InvalidJson, "rules[0]"),
        ([GOOD, {**GOOD, "id": 2}, 3], pkgprotect.InvalidJson, "rules[2]"),
        ([GOOD, {**GOOD, "id": 2, "note": "ünïcode 😀"}], pkgprotect.InvalidJson, "rules[1]"),
        ('[{"id": 1}', pkgprotect.InvalidJson(1, 10), "rules"),
        ('[\n  {"id": 1,\n   "package_type": "npm", "colour": 1}]', pkgprotect.InvalidJson(3, 34), "rules"),
        ("{}", pkgprotect.InvalidJson, "rules"),
        ("not json", pkgprotect.InvalidJson(1, 2), "rules"),
        (json.dumps([GOOD, {**GOOD, "package_name_pattern": "y"}]), pkgprotect.DuplicateId(1), "rules[1].id"),
        (json.dumps([{**GOOD, "package_name_pattern": "\t"}]), pkgprotect.BlankPattern(1, "package_name_pattern"), "rules[0].package_name_pattern"),
    ],
)
def test_refused_rules_name_the_cause_and_field(rules, cause, field):
    with pytest.raises(pkgprotect.RuleSetError) as caught:
        pkgprotect.RuleSet(rules)
    error = caught.value
    if isinstance(cause, type):  # our own JSON text: the position is the core's, the rule is ours to name
        assert isinstance(error.cause, cause) and error.cause.line == 1
    else:
        assert error.cause == cause
    assert (error.kind, error.field) == (cause.kind, field)
    assert error.message and isinstance(error, ValueError) and not hasattr(error, "http_status")
    with pytest.raises(pkgprotect.RuleSetError) as one_shot:
        pkgprotect.decide(rules, npm_push("x", "guest"))
    assert (one_shot.value.cause, one_shot.value.field) == (error.cause, field)


def test_causes_no_input_can_reach_are_lifted_too():
    """`too-many-rules` needs more than 2^32 rules (the guest's 64 MiB cap refuses far
    fewer) and `internal` is an engine bug: their lifting is checked on the values
    wasmtime-py gives for them."""
    from wasmtime.component import Record, Variant

    from pkgprotect import _convert

    error = Record()
    error.cause, error.message = Variant("too-many-rules"), "too many rules"
    refused = _convert.compile_error(error, _convert.rule_source([GOOD]))
    assert (refused.cause, refused.kind, refused.field) == (pkgprotect.TooManyRules(), "too_many_rules", "rules")
    error.cause, error.message = None, "the rule set is inconsistent"
    undecided = _convert.decide_error(error, _convert.rule_source([GOOD]))
    assert (undecided.cause, undecided.kind, undecided.field) == (pkgprotect.Internal(), "internal", "rules")
    one_shot = _convert.one_shot_error(Variant("cannot-decide", error), _convert.rule_source("[]"))
    assert isinstance(one_shot, pkgprotect.DecisionError) and one_shot.cause == pkgprotect.Internal()


@pytest.mark.parametrize(
    "rules, field, message",
    [
        ({"id": 1}, "rules", "rules are a list of rule objects or GitLab JSON text"),
        (b"[]", "rules", "rules are a list"),
        (5, "rules", "rules are a list"),
        ([GOOD, {**GOOD, "id": 2, "package_name_pattern": {1, 2}}], "rules[1]", "not JSON"),
        ([{**GOOD, "project_id": float("nan")}], "rules[0]", "not JSON"),
        ('[{"id": 1, "package_name_pattern": "\ud800"}]', "rules", "not valid Unicode"),
    ],
)
def test_rule_lists_that_cannot_be_sent_are_refused_before_the_engine(rules, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        pkgprotect.RuleSet(rules)
    assert caught.value.field == field and message in caught.value.message


# ---------------------------------------------------------------------------------------
# Requests and arguments the SDK cannot send


@pytest.mark.parametrize(
    "request_, field, message",
    [
        ({"package_name": "x", "package_type": "npm", "action": "push"}, "request.actor", "missing field `actor`"),
        ({"package_name": "x", "package_type": "npm", "action": "publish", "actor": "guest"}, "request.action", "unknown action `\"publish\"`"),
        ({"package_name": "x", "action": "push", "actor": "guest"}, "request.package_type", "unknown package type `null`"),
        ({"package_name": "x", "package_type": "container_repository", "action": "push", "actor": "guest"}, "request.package_type", "unknown package type"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": "root"}, "request.actor", "unknown access level `\"root\"`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": 31}, "request.actor", "unknown access level `31`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": True}, "request.actor", "unknown access level `true`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": ["guest"]}, "request.actor", "unknown access level"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "bot"}}, "request.actor.type", "unknown actor type `\"bot\"`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "user"}}, "request.actor", "needs `access_level`"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "user", "access_level": "deploy_token"}}, "request.actor.access_level", "unknown access level"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": {"type": "deploy_token", "access_level": "owner"}}, "request.actor.access_level", "unknown actor field `access_level`"),
        ({"package_name": "x", "repository_path": "y", "action": "push", "actor": "guest"}, "request", "not both"),
        ({"action": "push", "actor": "guest"}, "request", "needs `package_name`"),
        ({"package_name": 1, "package_type": "npm", "action": "push", "actor": "guest"}, "request.package_name", "must be a string"),
        ({"repository_path": "g/p", "package_type": "npm", "action": "push", "actor": "guest"}, "request.package_type", "cannot have `package_type`"),
        ({"repository_path": ["g"], "action": "push", "actor": "guest"}, "request.repository_path", "must be a string"),
        ({"package_name": "x", "package_type": "npm", "action": "push", "actor": "guest", "project": 1}, "request.project", "unknown request field `project`"),
        ({"package_name": "\udc80", "package_type": "npm", "action": "push", "actor": "guest"}, "request.package_name", "not valid Unicode"),
        ({"repository_path": "g/\ud800", "action": "push", "actor": "guest"}, "request.repository_path", "not valid Unicode"),
        ("x", "request", "a decision request is a JSON object"),
    ],
)
def test_bad_requests_are_refused_with_the_field(rule_set, demo_rules, request_, field, message):
    for call in (rule_set.decide, rule_set.explain, lambda r: pkgprotect.decide(demo_rules, r), lambda r: pkgprotect.explain(demo_rules, r)):
        with pytest.raises(pkgprotect.InvalidRequestError) as caught:
            call(request_)
        assert (caught.value.field, isinstance(caught.value, ValueError)) == (field, True)
        assert message in caught.value.message
    if field != "request":
        with pytest.raises(pkgprotect.InvalidRequestError) as caught:
            rule_set.decide_batch([npm_push("ok", "guest"), request_])
        assert caught.value.field == field.replace("request", "requests[1]", 1)


@pytest.mark.parametrize(
    "args, field, message",
    [
        ((["x"], "npm", "push", "guest"), None, None),
        (("x", "npm", "push", "guest"), "names", "names are a list of strings"),
        (({"x": 1}, "npm", "push", "guest"), "names", "names are a list of strings"),
        ((["x", 2], "npm", "push", "guest"), "names[1]", "a name is a string, got `2`"),
        ((["x", "\ud800"], "npm", "push", "guest"), "names[1]", "not valid Unicode"),
        ((["x"], "gems", "push", "guest"), "kind", "unknown target kind `\"gems\"`"),
        ((["x"], "terraform-module", "push", "guest"), "kind", "unknown target kind"),
        ((["x"], "npm", "pull", "guest"), "action", "unknown action `\"pull\"`"),
        ((["x"], "npm", "push", "sudo"), "actor", "unknown access level `\"sudo\"`"),
    ],
)
def test_decide_names_refuses_bad_arguments(rule_set, args, field, message):
    names, kind, action, actor = args
    if field is None:
        assert rule_set.decide_names(names, kind=kind, action=action, actor=actor) == [V.ALLOWED]
        return
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        rule_set.decide_names(names, kind=kind, action=action, actor=actor)
    assert caught.value.field == field and message in caught.value.message


def test_decide_batch_refuses_what_is_not_a_list(rule_set):
    for bad in ({"package_name": "x"}, "x", 3):
        with pytest.raises(pkgprotect.InvalidRequestError, match="requests are a list"):
            rule_set.decide_batch(bad)


def test_threads_share_a_rule_set(rule_set):
    expected = {actor: rule_set.explain(npm_push("@demo/core", actor)) for actor in ("developer", "maintainer", "owner")}
    errors = []

    def work(actor):
        for i in range(100):
            got = rule_set.explain(npm_push("@demo/core", actor)) if i % 2 else rule_set.decide_names(["@demo/core"], kind="npm", action="push", actor=actor)
            want = expected[actor] if i % 2 else [V.ALLOWED if expected[actor].allowed else V.BLOCKED]
            if got != want:
                errors.append((actor, got))

    threads = [threading.Thread(target=work, args=(actor,)) for actor in expected for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_demo_rules_are_unchanged_by_compiling():
    rules = [dict(rule) for rule in DEMO_RULES]
    pkgprotect.RuleSet(rules).close()
    assert rules == DEMO_RULES
