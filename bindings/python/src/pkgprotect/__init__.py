"""GitLab package protection rules, decided exactly as GitLab does.

The engine is the ``pkgprotect:policy@0.1.0`` WebAssembly component shipped inside this
package, run by wasmtime. Inputs are GitLab-shaped dicts (the REST API's snake_case
fields); answers are frozen dataclasses.

    >>> import pkgprotect
    >>> rules = [{"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm",
    ...           "minimum_access_level_for_push": "maintainer"}]
    >>> with pkgprotect.RuleSet(rules) as rule_set:
    ...     rule_set.decide({"package_name": "@demo/core", "package_type": "npm",
    ...                      "action": "push", "actor": "developer"}).allowed
    False

Threads: any thread may call any function; calls into the guest take turns on one lock
(see ``_runtime``). A ``RuleSet`` may be shared between threads.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Union

from . import _convert as convert
from . import _model
from ._model import *  # noqa: F401,F403 (the data model, errors and GitLab names are public)
from ._runtime import runtime

__version__ = "0.1.0"

Rule = Union[PackageRule, ContainerRepositoryRule]
RuleLike = convert.RuleLike


def version() -> str:
    """The engine's version (the component's, not this package's)."""
    rt = runtime()
    with rt.lock:
        return rt.call("version")


def validate_rule(rule: Union[Mapping, Rule], context: Optional[Mapping] = None) -> Rule:
    """Validate REST parameters as GitLab's create API would and return the rule they make.

    ``rule``: the parameters a client sends (an absent key is a parameter not sent,
    ``None`` is JSON null). ``context``: ``{"kind": "package" | "container_repository",
    "project_path": "group/project", "existing_rules": [...], "previous": rule}`` — the kind
    defaults to the pattern field's; ``project_path`` is needed for container rules (their
    path must start with it); ``existing_rules`` are the project's stored rules (uniqueness).

    Raises ``InvalidRuleError`` with every failing check and GitLab's status (400/422).
    """
    params = convert.params_json(rule)
    kind, wit_context = convert.context_to_wit(context)
    kind = convert.rule_kind_of(rule, kind)
    rt = runtime()
    with rt.lock:
        answer = rt.call("validate-params", convert.kebab(kind), params, wit_context, items=len(wit_context.__dict__["existing-rules"]))
    if isinstance(answer, list):
        raise convert.validation_errors(answer)
    return convert.rule_from_wit(answer)


def preview(pattern: str, names: Iterable[str], package_type: Optional[str] = None) -> List[Match]:
    """Which ``names`` ``pattern`` matches, as a rule of ``package_type`` would (``None``:
    plain GitLab matching, as a container repository rule does). A name whose matching
    raises GitLab's error (a trailing escape reached) has ``error`` set."""
    if not isinstance(pattern, str):
        raise InvalidRequestError("pattern", f"a pattern is a string, got `{convert.shown(pattern)}`")
    names = convert.names_list(names)
    package_type = convert.package_type_to_wit(package_type)
    rt = runtime()
    with rt.lock:
        answer = rt.call("preview", pattern, package_type, names, items=len(names))
    return [convert.match_from_wit(m) for m in answer]


def decide(rules: Iterable[RuleLike], request: Mapping) -> Decision:
    """One-shot decision: compile ``rules``, decide ``request``, free the rules. For many
    requests against the same rules, keep a ``RuleSet``."""
    with RuleSet(rules) as rule_set:
        return rule_set.decide(request)


class RuleSet:
    """Rules compiled once inside the guest, deciding many requests.

    ``rules``: GitLab-shaped rule dicts (as ``GET /projects/:id/packages/protection/rules``
    returns them) or rule dataclasses; every rule needs an ``id``. Refused with
    ``InvalidRuleError`` when they could not come from GitLab's database (missing or
    repeated ids, impossible levels, blank or over-long patterns).

    Close it (``close()`` or ``with``) to free the guest's copy at once; otherwise it is
    freed when garbage-collected.
    """

    def __init__(self, rules: Iterable[RuleLike]):
        self._wit_rules = convert.rules_to_wit(rules)
        self._handle: Any = None
        self._generation = -1
        self._closed = False
        self._runtime = runtime()
        with self._runtime.lock:
            self._compiled()

    @classmethod
    def compile(cls, rules: Iterable[RuleLike]) -> "RuleSet":
        """Same as ``RuleSet(rules)``."""
        return cls(rules)

    def _compiled(self) -> Any:
        """The guest's rule-set handle, compiled again after an instance reset; holds the lock."""
        rt = self._runtime
        if self._closed:
            raise PkgprotectError("the rule set is closed")
        if self._generation != rt.generation:
            answer = rt.call("compile", self._wit_rules, items=len(self._wit_rules))
            if isinstance(answer, list):
                raise convert.validation_errors(answer)
            self._handle, self._generation = answer, rt.generation
        return self._handle

    def __len__(self) -> int:
        return len(self._wit_rules)

    def decide(self, request: Mapping) -> Decision:
        """May the request's actor do its action to its target?

        ``request``: ``{"package_name": ..., "package_type": ..., "action": "push" |
        "delete", "actor": ...}`` or ``{"repository_path": ..., "action": ..., "actor":
        ...}``. ``actor``: ``{"type": "user", "access_level": "developer"}``, ``{"type":
        "deploy_token"}``, or the shorthands ``"developer"``, ``30``, ``"deploy_token"``.

        Raises ``DecisionError`` when a rule that could block cannot be evaluated (GitLab's
        query fails there too): treat the request as refused.
        """
        wit_request = convert.request_to_wit(request)
        rt = self._runtime
        with rt.lock:
            (answer,) = rt.decide(self._compiled(), [wit_request], batch=False)
        if isinstance(answer, str):
            raise DecisionError(answer)
        return answer

    def decide_batch(self, requests: Iterable[Mapping]) -> List[Union[Decision, DecisionError]]:
        """``decide`` for many requests in one call into the guest, each answered on its
        own: a ``Decision``, or a ``DecisionError`` (returned, not raised: treat as refused)."""
        if isinstance(requests, (Mapping, str, bytes)):
            raise InvalidRequestError("requests", "requests are a list of request objects")
        wit_requests = [convert.request_to_wit(r, f"request at position {i}") for i, r in enumerate(requests)]
        rt = self._runtime
        with rt.lock:
            answers = rt.decide(self._compiled(), wit_requests, batch=True)
        return [DecisionError(a) if isinstance(a, str) else a for a in answers]

    def lint(self) -> List[Finding]:
        """Advice: duplicate or subsumed rules, rules that restrict nothing, surprising characters."""
        rt = self._runtime
        with rt.lock:
            answer = rt.call("rule-set.lint", self._compiled(), items=len(self._wit_rules))
        return [convert.finding_from_wit(f) for f in answer]

    def close(self) -> None:
        """Free the guest's copy of the rules; later calls raise ``PkgprotectError``."""
        rt = self._runtime
        with rt.lock:
            if not self._closed and self._handle is not None:
                rt.drop(self._handle, self._generation)
            self._closed, self._handle = True, None

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "RuleSet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and not self._closed:
            self._runtime.drop_later(handle, self._generation)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self)} rules"
        return f"<pkgprotect.RuleSet {state}>"


__all__ = [*_model.__all__, "Rule", "RuleSet", "decide", "preview", "validate_rule", "version"]
