"""Runs shared/conformance vector files through this SDK, answering each category as the
Rust hosts (crates/pkgprotect-conformance) and the JS runner do, and describing answers in
the same words, so that a failure reads the same in every host:

- ``match``: ``preview(pattern, [name], kind="container_repository")`` (plain ``ILIKE``;
  GitLab's error when the name is ``undecidable``);
- ``validate``: ``validate_rule(params, {kind, project_path, existing_rules})``;
- ``decide``: a ``RuleSet`` of the vector's rules (sent as GitLab JSON) explaining its
  request; ``decide`` (the scalar answer) must agree with ``explain`` on every vector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

from . import InvalidRuleError, RuleSet, Summary, preview, validate_rule


@dataclass
class Failure:
    vector: str
    note: str
    expected: str
    got: str


@dataclass
class Report:
    passed: int = 0
    failures: List[Failure] = field(default_factory=list)

    def record(self, vector: str, note: str, expected: str, got: str) -> None:
        if expected == got:
            self.passed += 1
        else:
            self.failures.append(Failure(vector, note, expected, got))

    def summary(self) -> str:
        """The plain last line every runner prints."""
        return f"{self.passed} passed, {len(self.failures)} failed"

    def __str__(self) -> str:
        lines = [f"FAIL {f.vector}: {f.note}\n  expected: {f.expected}\n  got:      {f.got}" for f in self.failures]
        lines.append(self.summary())
        return "\n".join(lines)


def _host_call(answer: Callable[[], str]) -> str:
    try:
        return answer()
    except Exception as error:  # a host failure is a failed vector, reported, never raised
        field_name = getattr(error, "field", None)
        return f"host failure: {f'{field_name}: ' if field_name else ''}{getattr(error, 'message', error)}"


def _show_validate(status: int, fields: List[str]) -> str:
    return f"{status} {' | '.join(fields)}" if fields else f"{status}"


def _show_decide(allowed: bool, ids: List[int]) -> str:
    return f"allowed={str(allowed).lower()} blocking_rule_ids=[{', '.join(map(str, ids))}]"


def _rust_json(value: Any) -> str:
    """JSON as serde_json prints it in notes (compact)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _match(vector: Dict[str, Any]) -> str:
    answer = preview(vector["pattern"], [vector["name"]], kind="container_repository")
    return "error" if answer.undecidable else f"matches={str(bool(answer.matched)).lower()}"


def _validate(vector: Dict[str, Any]) -> str:
    context = {
        "kind": vector["kind"],
        "project_path": vector.get("project_path"),
        "existing_rules": vector.get("existing_rules") or [],
    }
    try:
        validate_rule(vector["rule"], context)
    except InvalidRuleError as error:
        return _show_validate(error.http_status, error.fields)
    return _show_validate(201, [])


def _decide(vector: Dict[str, Any]) -> str:
    with RuleSet(vector["rules"]) as rule_set:
        decision = rule_set.explain(vector["request"])
        summary = rule_set.decide(vector["request"])
    ids = decision.blocking_rule_ids
    if summary != Summary(decision.allowed, len(ids), ids[0] if ids else None):
        raise AssertionError(f"`decide` answered {summary} where `explain` answered {decision}")
    return _show_decide(decision.allowed, ids)


def run_vectors(file: Dict[str, Any]) -> Report:
    """Every vector of a parsed vector file through the SDK."""
    report = Report()
    for i, v in enumerate(file.get("match") or []):
        expected = "error" if v["matches"] is None else f"matches={str(v['matches']).lower()}"
        note = f"pattern `{v['pattern']}` name `{v['name']}`: {v.get('note') or ''}"
        report.record(f"match[{i}]", note, expected, _host_call(lambda: _match(v)))
    for i, v in enumerate(file.get("validate") or []):
        expected_fields = v.get("fields") or ([v["field"]] if v.get("field") else [])
        expected = _show_validate(v["http_status"], expected_fields)
        note = f"{v['kind']} {_rust_json(v['rule'])}: {v.get('note') or ''}"
        report.record(f"validate[{i}]", note, expected, _host_call(lambda: _validate(v)))
    for i, v in enumerate(file.get("decide") or []):
        expected = _show_decide(v["allowed"], v["blocking_rule_ids"])
        note = f"{_rust_json(v['request'])}: {v.get('note') or ''}"
        report.record(f"decide[{i}]", note, expected, _host_call(lambda: _decide(v)))
    return report


def run_file(path: str) -> Report:
    """Load a vector file and run it."""
    with open(path, encoding="utf-8") as handle:
        return run_vectors(json.load(handle))
