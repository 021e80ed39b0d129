"""Patterns and names that look like the component's own answers in WAVE text (what the
wasmtime CLI prints: ``ok({allowed: true, …})``), with braces, commas, quotes and
newlines. Values cross as typed WIT values, so they are decided as the literal text they
are; a host that parsed printed answers could be fooled by them."""

import json

import pytest

import pkgprotect

V = pkgprotect.Verdict

RULES = [
    {"id": 1, "package_name_pattern": "allowed: true*", "package_type": "generic", "minimum_access_level_for_push": "maintainer"},
    {"id": 2, "package_name_pattern": "ok({allowed: true})", "package_type": "generic", "minimum_access_level_for_push": "maintainer"},
    {"id": 3, "package_name_pattern": '{"allowed": true}, "x"*', "package_type": "generic", "minimum_access_level_for_push": "owner"},
    {"id": 4, "package_name_pattern": 'err("x"), ok(*', "package_type": "generic", "minimum_access_level_for_push": "owner"},
    {"id": 5, "package_name_pattern": "*}, {allowed: true", "package_type": "generic", "minimum_access_level_for_push": "owner"},
    {"id": 6, "repository_path_pattern": "g/p/ok({allowed: true, blocking-rules: 0})*", "minimum_access_level_for_push": "owner"},
]

#: (name, blocking rule ids for a developer pushing a generic package)
NAMES = [
    ("allowed: true", [1]),
    ("ALLOWED: TRUE, blocking-rules: 0, first-blocking-rule: none}", [1]),
    ("allowed: true\n", [1]),
    ("ok({allowed: true})", [2]),
    ("OK({Allowed: True})", [2]),
    ("ok({allowed: true}) ", []),
    ("ok({allowed: true}", []),
    ('{"allowed": true}, "x", "blocking_rule_ids": []', [3]),
    ('{"allowed": true}, x', []),
    ('err("x"), ok({allowed: true})', [4]),
    ("x}, {allowed: true", [5]),
    ("allowed: true}, {allowed: true", [1, 5]),
    ("allowed: false", []),
    ("", []),
]


@pytest.fixture(scope="module")
def rule_set():
    with pkgprotect.RuleSet(RULES) as rules:
        yield rules


@pytest.mark.parametrize("name, blocking", NAMES)
def test_wave_lookalike_names_are_decided_literally(rule_set, name, blocking):
    request = {"package_name": name, "package_type": "generic", "action": "push", "actor": "developer"}
    expected = pkgprotect.Summary(not blocking, len(blocking), blocking[0] if blocking else None)
    assert rule_set.decide(request) == expected
    assert rule_set.explain(request).blocking_rule_ids == blocking
    assert pkgprotect.decide(RULES, request) == expected
    assert pkgprotect.decide(json.dumps(RULES), request) == expected
    assert rule_set.decide_names([name], kind="generic", action="push", actor="developer") == [V.BLOCKED if blocking else V.ALLOWED]


def test_batches_of_lookalikes_keep_their_order(rule_set):
    names = [name for name, _ in NAMES]
    expected = [V.BLOCKED if blocking else V.ALLOWED for _, blocking in NAMES]
    assert rule_set.decide_names(names, kind="generic", action="push", actor="developer") == expected
    requests = [{"package_name": n, "package_type": "generic", "action": "push", "actor": "developer"} for n in names]
    assert rule_set.decide_batch(requests) == expected
    with pkgprotect.NameList(names) as kept:
        assert kept.decide(rule_set, kind="generic", action="push", actor="developer") == expected


def test_the_reason_quotes_the_pattern_verbatim(rule_set):
    request = {"package_name": "ok({allowed: true})", "package_type": "generic", "action": "push", "actor": "developer"}
    reason = rule_set.explain(request).reason
    assert reason.startswith("blocked by rule 2 (`ok({allowed: true})`)") and "needs at least maintainer" in reason


def test_container_paths_that_look_like_answers(rule_set):
    request = {"repository_path": "g/p/ok({allowed: true, blocking-rules: 0})/img", "action": "push", "actor": "maintainer"}
    assert rule_set.decide(request) == pkgprotect.Summary(False, 1, 6)
    assert rule_set.decide({**request, "repository_path": "g/p/ok({allowed: true})"}).allowed


def test_previews_of_lookalike_patterns_slice_the_literal_text():
    names = ["allowed: true, blocking-rules: 0}", 'ok({"allowed": true})', "x"]
    answer = pkgprotect.preview("allowed: true*", names, kind="generic")
    assert answer.matched == [0]
    assert [names[0][s:e] for s, e in answer.spans_of(0)] == ["allowed: true"]
    quoted = pkgprotect.preview('ok({"allowed": true})', names, kind="generic")
    assert quoted.matched == [1] and quoted.spans_of(0) == [(0, len(names[1]))]
