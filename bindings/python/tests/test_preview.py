"""preview and NameList: positions, spans in code points (sliced with Python's own
``name[start:end]``), undecidable names, and NameList.decide."""

import pytest

import pkgprotect

V = pkgprotect.Verdict


def matched_texts(names, answer):
    """{name: [matched texts]} from a preview, by Python's own slicing."""
    return {names[m]: [names[m][s:e] for s, e in answer.spans_of(i)] for i, m in enumerate(answer.matched)}


def test_preview_marks_the_matched_parts():
    names = ["@demo/ui", "@DEMO/core", "@other/ui", ""]
    answer = pkgprotect.preview("@demo/*", names, kind="npm")
    assert answer == pkgprotect.Preview(matched=[0, 1], spans=[0, 6, 0, 6], span_offsets=[0, 2, 4], undecidable=[])
    assert matched_texts(names, answer) == {"@demo/ui": ["@demo/"], "@DEMO/core": ["@DEMO/"]}


@pytest.mark.parametrize(
    "pattern, names, expected",
    [
        # astral emoji: 1 code point, 2 UTF-16 units, 4 UTF-8 bytes
        ("😀/*", ["😀/straße", "😀x/"], {"😀/straße": ["😀/"]}),
        # ß, and capital ẞ which lowercases to it
        ("*ß", ["pkg-😀-ß", "pkg-😀-SS", "pkg-ẞ"], {"pkg-😀-ß": ["ß"], "pkg-ẞ": ["ẞ"]}),
        # İ (U+0130), whose lowercase is two code points elsewhere
        ("İst*", ["İSTANBUL", "istanbul"], {"İSTANBUL": ["İST"], "istanbul": ["ist"]}),
        # a combining acute accent is a code point of its own
        ("e\u0301*", ["e\u0301clair", "\u00e9clair"], {"e\u0301clair": ["e\u0301"]}),
        ("*clair", ["e\u0301clair"], {"e\u0301clair": ["clair"]}),
        # several literal runs around emoji, a ZWJ family and a flag (many code points each)
        ("a*b*c", ["a😀b😀c", "A👨\u200d👩\u200d👧B🇩🇪C"], {"a😀b😀c": ["a", "b", "c"], "A👨\u200d👩\u200d👧B🇩🇪C": ["A", "B", "C"]}),
        # final sigma is its own letter in PostgreSQL's lower()
        ("*ς", ["ΟΔΟΣ", "οδος"], {"οδος": ["ς"]}),
    ],
)
def test_spans_over_non_ascii_names_slice_with_python_indices(pattern, names, expected):
    answer = pkgprotect.preview(pattern, names, kind="generic")
    assert matched_texts(names, answer) == expected
    with pkgprotect.NameList(names) as kept:
        assert kept.preview(pattern, kind="generic") == answer


def test_preview_normalizes_pypi_names_only_for_pypi():
    names = ["My.Internal-Pkg", "my_internal_pkg"]
    assert pkgprotect.preview("my_internal_*", names, kind="pypi").matched == [0, 1]
    assert pkgprotect.preview("my_internal_*", names, kind="generic").matched == [1]
    assert pkgprotect.preview("my_internal_*", names, kind="container_repository").matched == [1]


def test_preview_reports_names_gitlabs_query_fails_for():
    answer = pkgprotect.preview("a*\\", ["abc", "b", "ab"], kind="generic")
    assert (answer.matched, answer.undecidable) == ([], [0, 2])


def test_a_name_list_keeps_names_for_many_previews_and_decisions():
    names = ["@demo/core", "@demo/ui", "@other/x", "😀"]
    rules = [
        {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 2, "package_name_pattern": "a*\\", "package_type": "npm", "minimum_access_level_for_push": "owner"},
    ]
    with pkgprotect.NameList(iter(names)) as kept, pkgprotect.RuleSet(rules) as rule_set:
        assert len(kept) == 4 and kept.names == tuple(names)
        assert repr(kept) == "<pkgprotect.NameList 4 names>"
        assert kept.preview("@demo/*", kind="npm").matched == [0, 1]
        assert kept.preview("*", kind="npm").matched == [0, 1, 2, 3]
        assert kept.preview("😀", kind="npm").spans == [0, 1]
        for actor in ("developer", "maintainer", "deploy_token"):
            expected = rule_set.decide_names(names, kind="npm", action="push", actor=actor)
            assert kept.decide(rule_set, kind="npm", action="push", actor=actor) == expected
        assert kept.decide(rule_set, kind="npm", action="push", actor="developer") == [V.BLOCKED, V.BLOCKED, V.ALLOWED, V.ALLOWED]
    assert kept.closed
    with pytest.raises(pkgprotect.PkgprotectError, match="the name list is closed"):
        kept.preview("x", kind="npm")


@pytest.mark.parametrize(
    "call, field, message",
    [
        (lambda: pkgprotect.preview(1, ["x"], kind="npm"), "pattern", "a pattern is a string"),
        (lambda: pkgprotect.preview("x", "x", kind="npm"), "names", "names are a list of strings"),
        (lambda: pkgprotect.preview("x", ["x", 2], kind="npm"), "names[1]", "a name is a string, got `2`"),
        (lambda: pkgprotect.preview("x", ["x"], kind="gems"), "kind", "unknown target kind `\"gems\"`"),
        (lambda: pkgprotect.preview("x", ["x"], kind=None), "kind", "unknown target kind `null`"),
        (lambda: pkgprotect.preview("\ud800", ["x"], kind="npm"), "pattern", "not valid Unicode"),
        (lambda: pkgprotect.preview("x", ["x", "y\udfff"], kind="npm"), "names[1]", "not valid Unicode"),
        (lambda: pkgprotect.NameList(["x", None]), "names[1]", "a name is a string"),
        (lambda: pkgprotect.NameList(["\ud800"]), "names[0]", "not valid Unicode"),
        (lambda: pkgprotect.NameList(5), "names", "names are a list of strings"),
        (lambda: pkgprotect.NameList(["x"]).preview(b"x", kind="npm"), "pattern", "a pattern is a string"),
        (lambda: pkgprotect.NameList(["x"]).preview("\ud800", kind="npm"), "pattern", "not valid Unicode"),
        (lambda: pkgprotect.NameList(["x"]).preview("x", kind="rubygems"), "kind", "unknown target kind"),
        (lambda: pkgprotect.NameList(["x"]).decide("[]", kind="npm", action="push", actor="guest"), "rule_set", "expected a RuleSet"),
        (lambda: pkgprotect.NameList(["x"]).decide(pkgprotect.RuleSet([]), kind="npm", action="go", actor="guest"), "action", "unknown action"),
        (lambda: pkgprotect.NameList(["x"]).decide(pkgprotect.RuleSet([]), kind="npm", action="push", actor={"type": "x"}), "actor.type", "unknown actor type"),
    ],
)
def test_preview_and_name_lists_refuse_bad_arguments(call, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        call()
    assert caught.value.field == field and message in caught.value.message
