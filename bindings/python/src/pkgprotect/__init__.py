"""GitLab package protection rules, decided exactly as GitLab does.

The engine is the ``pkgprotect:policy@0.2.1`` WebAssembly component shipped inside this
package, run by wasmtime-py (its public API only). Inputs are GitLab-shaped: rules as the
REST API lists them (dicts, or the JSON text itself), requests as the conformance vectors
write them; answers are frozen dataclasses.

    >>> import pkgprotect
    >>> rules = [{"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm",
    ...           "minimum_access_level_for_push": "maintainer"}]
    >>> with pkgprotect.RuleSet(rules) as rule_set:
    ...     rule_set.decide({"package_name": "@demo/core", "package_type": "npm",
    ...                      "action": "push", "actor": "developer"})
    Summary(allowed=False, blocking_rules=1, first_blocking_rule=1)

Threads: any thread may call any function and share any ``RuleSet`` or ``NameList``; calls
into the guest take turns on one lock (see ``_runtime``).
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Tuple

from wasmtime.component import ResourceAny

from . import _convert as convert
from . import _model
from ._model import *  # noqa: F401,F403 (the data model, errors and GitLab names are public)
from ._runtime import CONTRACT, runtime

__version__ = "0.2.0"

#: The WIT contract this SDK speaks (the component's ``version()``).
CONTRACT_VERSION = CONTRACT
#: Spans of previews count code points: ``name[start:end]`` is the matched text.
_UNIT = "code-points"


def _has_allowed(value: Any) -> bool:
    return hasattr(value, "allowed")


def _is_resource(value: Any) -> bool:
    return isinstance(value, ResourceAny)


def version() -> str:
    """The contract version the component implements (``"0.2.1"``; checked at load)."""
    rt = runtime()
    with rt.lock:
        return rt.call("version")


def engine_version() -> str:
    """The engine's version (the core crate's, inside the component)."""
    rt = runtime()
    with rt.lock:
        return rt.call("engine-version")


def validate_rule(params: Any, context: Optional[Mapping] = None) -> Rule:
    """Validate REST parameters as GitLab's create (or, with ``context["previous"]``, update)
    API would, and return the rule they make.

    ``params``: what a client sends (an absent key is a parameter not sent, ``None`` is JSON
    null). ``context``: ``{"kind": "package" | "container_repository", "project_path":
    "group/project", "existing_rules": [...], "previous": rule}`` — the kind defaults to the
    pattern field's; ``project_path`` is needed for container rules (their path must start
    with it); ``existing_rules`` are the project's stored rules (uniqueness).

    Raises ``InvalidRuleError`` with GitLab's status (400 parameter layer, 422 model) and
    every failing check as ``(field, message)``.
    """
    text = convert.params_json(params)
    kind, wit_context = convert.validation_context(context)
    kind = kind or convert.rule_kind_of(params)
    rt = runtime()
    with rt.lock:
        answer = rt.call("validate-params", kind, text, wit_context, items=1 + len(getattr(wit_context, "existing-rules")))
    ok, payload = convert.result_parts(answer, lambda v: not hasattr(v, "errors"))
    if not ok:
        raise convert.rejection(payload)
    return convert.rule_from_wit(payload)


def parse_rule(params: Any, context: Optional[Mapping] = None) -> Rule:
    """The rule GitLab would store for ``params`` (the JS SDK's ``parseRule``); the same
    as ``validate_rule``: raises ``InvalidRuleError`` when GitLab refuses it."""
    return validate_rule(params, context)


def preview(pattern: str, names: Iterable[str], *, kind: str) -> Preview:
    """Which ``names`` ``pattern`` matches as a rule for targets of ``kind`` would (a package
    type, or ``"container_repository"``: plain GitLab matching; ``pypi`` compares names as
    GitLab's user path does, with ``-``, ``_``, ``.`` runs made equal). Spans count code
    points. To preview many patterns against the same names, keep a ``NameList``."""
    if not isinstance(pattern, str):
        raise InvalidRequestError("pattern", f"a pattern is a string, got `{convert.shown(pattern)}`")
    names = convert.names_list(names)
    wit_kind = convert.target_kind(kind)
    rt = runtime()
    try:
        with rt.lock:
            answer = rt.call("preview", pattern, wit_kind, names, _UNIT, items=len(names))
    except UnicodeEncodeError:
        if _bad_text(pattern):
            raise InvalidRequestError("pattern", "not valid Unicode (a lone surrogate)") from None
        raise convert.unencodable(names, "names") from None
    return convert.preview(answer)


def decide(rules: convert.Rules, request: Mapping) -> Summary:
    """One-shot decision: ``rules`` (a list of GitLab-shaped rules, or GitLab's JSON text)
    against ``request``, in one call; few rules are scanned rather than indexed. For many
    requests against the same rules, keep a ``RuleSet``.

    Raises ``RuleSetError`` when the rules could not come from GitLab, ``DecisionError``
    when the request cannot be decided (refuse it)."""
    return _one_shot("decide", rules, request, convert.summary)


def explain(rules: convert.Rules, request: Mapping) -> Decision:
    """One-shot ``explain``: every blocking rule id in order, and the reason."""
    return _one_shot("explain", rules, request, convert.decision)


def _one_shot(name: str, rules: Any, request: Any, lift: Any) -> Any:
    source = convert.rule_source(rules)
    wit_request = convert.request_record(request)
    rt = runtime()
    try:
        with rt.lock:
            answer = rt.call(name, source.text, wit_request, items=source.count())
    except UnicodeEncodeError:
        raise _request_or_rules_unicode(wit_request) from None
    ok, payload = convert.result_parts(answer, _has_allowed)
    if ok:
        return lift(payload)
    raise convert.one_shot_error(payload, source)


def _bad_text(text: str) -> bool:
    return convert.first_unencodable([text]) is not None


def _request_or_rules_unicode(wit_request: Any) -> InvalidRequestError:
    """Which of a request's name or the rules text (the only other text) is not valid Unicode."""
    if _bad_text(wit_request.name):
        where = "request.repository_path" if wit_request.kind == "container-repository" else "request.package_name"
        return InvalidRequestError(where, "not valid Unicode (a lone surrogate)")
    return InvalidRequestError("rules", "not valid Unicode (a lone surrogate)")


class _Resource:
    """A guest resource owned by this process's runtime: made again after an instance
    reset, dropped by ``close()`` or, once garbage-collected, at the next call."""

    _kind = "resource"

    def _setup(self) -> None:
        self._runtime = runtime()
        self._handle: Any = None
        self._token = -1
        self._generation = -1
        self._closed = False

    def _make(self) -> Any:
        raise NotImplementedError

    def _live(self) -> Any:
        """The guest handle (made again after an instance reset); the caller holds the lock."""
        if self._closed:
            raise PkgprotectError(f"the {self._kind} is closed")
        rt = self._runtime
        if self._generation != rt.generation:
            self._handle = None
            handle = self._make()
            self._handle, self._token, self._generation = handle, rt.keep(handle), rt.generation
        return self._handle

    def close(self) -> None:
        """Free the guest's copy now; later calls raise ``PkgprotectError``."""
        rt = self._runtime
        with rt.lock:
            if not self._closed and self._handle is not None:
                rt.drop(self._token, self._generation)
            self._closed, self._handle = True, None

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None and not self._closed:
            self._runtime.drop_later(self._token, self._generation)


class RuleSet(_Resource):
    """Rules compiled once inside the guest, deciding many requests.

    ``rules``: GitLab-shaped rule dicts (as ``GET /projects/:id/packages/protection/rules``
    returns them) or rule dataclasses, or that JSON text itself (``str``, passed through).
    Either way they cross into the guest as one JSON string, which the core parses and
    checks; every rule needs an ``id``. Refused with ``RuleSetError`` when they could not
    come from GitLab's database (missing or repeated ids, impossible levels, blank or
    over-long patterns, unknown keys such as ``minimum_acess_level_for_push``).

    Close it (``close()`` or ``with``) to free the guest's copy at once; otherwise it is
    freed after garbage collection, at the next call.
    """

    _kind = "rule set"

    def __init__(self, rules: convert.Rules):
        self._source = convert.rule_source(rules)
        self._len: Optional[int] = None if self._source.items is None else len(self._source.items)
        self._setup()
        with self._runtime.lock:
            self._live()

    @classmethod
    def compile(cls, rules: convert.Rules) -> "RuleSet":
        """Same as ``RuleSet(rules)``."""
        return cls(rules)

    def _make(self) -> Any:
        source = self._source
        try:
            answer = self._runtime.call("rule-set.compile", source.text, items=source.count())
        except UnicodeEncodeError:
            raise InvalidRequestError("rules", "not valid Unicode (a lone surrogate)") from None
        ok, payload = convert.result_parts(answer, _is_resource)
        if not ok:
            raise convert.compile_error(payload, source)
        return payload

    def __len__(self) -> int:
        if self._len is None:
            rt = self._runtime
            with rt.lock:
                self._len = rt.call("rule-set.len", self._live())
        return self._len

    def decide(self, request: Mapping) -> Summary:
        """May the request's actor do its action to its target?

        ``request``: ``{"package_name": ..., "package_type": ..., "action": "push" |
        "delete", "actor": ...}`` or ``{"repository_path": ..., "action": ..., "actor":
        ...}``. ``actor``: ``{"type": "user", "access_level": "developer"}``, ``{"type":
        "deploy_token"}``, or the shorthands ``"developer"``, ``30``, ``"deploy_token"``.

        Answers ``Summary(allowed, blocking_rules, first_blocking_rule)``; ``explain`` gives
        every blocking rule and the reason. Raises ``DecisionError`` when a rule that could
        block cannot be evaluated (GitLab's query fails there too): refuse the request.
        """
        wit_request = convert.request_record(request)
        rt = self._runtime
        try:
            with rt.lock:
                answer = rt.call("rule-set.decide", self._live(), wit_request, items=1)
        except UnicodeEncodeError:
            raise _request_or_rules_unicode(wit_request) from None
        ok, payload = convert.result_parts(answer, _has_allowed)
        if ok:
            return convert.summary(payload)
        raise convert.decide_error(payload, self._source)

    def explain(self, request: Mapping) -> Decision:
        """``decide``'s answer with every blocking rule id (in the order given) and the
        reason, for refusals worth explaining. Raises ``DecisionError`` as ``decide`` does."""
        wit_request = convert.request_record(request)
        rt = self._runtime
        try:
            with rt.lock:
                answer = rt.call("rule-set.explain", self._live(), wit_request, items=1)
        except UnicodeEncodeError:
            raise _request_or_rules_unicode(wit_request) from None
        ok, payload = convert.result_parts(answer, _has_allowed)
        if ok:
            return convert.decision(payload)
        raise convert.decide_error(payload, self._source)

    def decide_names(self, names: Iterable[str], *, kind: str, action: str, actor: Any) -> List[Verdict]:
        """One ``Verdict`` per name, in order: may ``actor`` do ``action`` to each package
        (``kind``: its package type) or container repository (``kind="container_repository"``)
        named in ``names``? One call into the guest for all of them."""
        names = convert.names_list(names)
        wit = (convert.target_kind(kind), convert.action(action), convert.actor(actor))
        rt = self._runtime
        try:
            with rt.lock:
                answer = rt.call("rule-set.decide-names", self._live(), wit[0], names, wit[1], wit[2], items=len(names))
        except UnicodeEncodeError:
            raise convert.unencodable(names, "names") from None
        return convert.verdicts(answer)

    def decide_batch(self, requests: Iterable[Mapping]) -> List[Verdict]:
        """One ``Verdict`` per request, in order, for requests of mixed kinds, actors and
        actions. Requests that share kind, action and actor go into the guest together
        (``decide-names``), which costs far less per request in wasmtime-py than a list of
        request records (``decide-batch``, used when most requests differ)."""
        if isinstance(requests, (Mapping, str, bytes)) or not isinstance(requests, Iterable):
            raise InvalidRequestError("requests", "requests are a list of request objects")
        request_parts = convert.request_parts
        parts = [request_parts(r, i) for i, r in enumerate(requests)]
        if not parts:
            return []
        groups: dict = {}
        for i, (kind, name, action, actor) in enumerate(parts):
            groups.setdefault((kind, action, actor), []).append(i)
        rt = self._runtime
        try:
            with rt.lock:
                handle = self._live()
                # A group costs about one call (~120 µs) plus ~7 µs a name; a request record
                # in `decide-batch` ~80 µs: group unless most requests differ.
                if len(groups) * 5 >= 5 + len(parts) * 3:
                    return convert.verdicts(rt.call("rule-set.decide-batch", handle, _records(parts), items=len(parts)))
                answers: List[Any] = [None] * len(parts)
                for (kind, action, actor), indices in groups.items():
                    names = [parts[i][1] for i in indices]
                    got = rt.call("rule-set.decide-names", handle, kind, names, action, actor, items=len(names))
                    for i, verdict in zip(indices, got):
                        answers[i] = verdict
        except UnicodeEncodeError:
            i = convert.first_unencodable([p[1] for p in parts]) or 0
            key = "repository_path" if parts[i][0] == "container-repository" else "package_name"
            raise InvalidRequestError(f"requests[{i}].{key}", "not valid Unicode (a lone surrogate)") from None
        return convert.verdicts(answers)

    def lint(self) -> List[Finding]:
        """Advice: duplicate or subsumed rules, rules that restrict nothing, surprising characters."""
        rt = self._runtime
        with rt.lock:
            answer = rt.call("rule-set.lint", self._live(), items=self._source.count())
        return [convert.finding(f) for f in answer]

    def __repr__(self) -> str:
        state = "closed" if self._closed else "compiled"
        return f"<pkgprotect.RuleSet {state}>"


def _records(parts: List[Tuple[str, str, str, Optional[str]]]) -> List[Any]:
    records = []
    for kind, name, action, actor in parts:
        value = convert.Record()
        value.kind, value.name, value.action, value.actor = kind, name, action, actor
        records.append(value)
    return records


class NameList(_Resource):
    """Names kept inside the guest, so that many patterns (a settings page, a registry's
    index) are previewed against them without sending the names again. Spans count code
    points: ``names[i][start:end]`` is the matched text."""

    _kind = "name list"

    def __init__(self, names: Iterable[str]):
        self._names: Tuple[str, ...] = tuple(convert.names_list(names))
        self._setup()
        with self._runtime.lock:
            self._live()

    def _make(self) -> Any:
        names = list(self._names)
        try:
            return self._runtime.call("name-list.new", names, _UNIT, items=len(names))
        except UnicodeEncodeError:
            raise convert.unencodable(names, "names") from None

    @property
    def names(self) -> Tuple[str, ...]:
        """The names, in the order given (positions in answers index this)."""
        return self._names

    def __len__(self) -> int:
        return len(self._names)

    def preview(self, pattern: str, *, kind: str) -> Preview:
        """Which names ``pattern`` matches as a rule for targets of ``kind`` would."""
        if not isinstance(pattern, str):
            raise InvalidRequestError("pattern", f"a pattern is a string, got `{convert.shown(pattern)}`")
        wit_kind = convert.target_kind(kind)
        rt = self._runtime
        try:
            with rt.lock:
                answer = rt.call("name-list.preview", self._live(), pattern, wit_kind, items=len(self._names))
        except UnicodeEncodeError:
            raise InvalidRequestError("pattern", "not valid Unicode (a lone surrogate)") from None
        return convert.preview(answer)

    def decide(self, rule_set: RuleSet, *, kind: str, action: str, actor: Any) -> List[Verdict]:
        """One ``Verdict`` per name: would ``rule_set`` let ``actor`` do ``action`` to each
        name as a target of ``kind``?"""
        if not isinstance(rule_set, RuleSet):
            raise InvalidRequestError("rule_set", f"expected a RuleSet, got `{convert.shown(rule_set)}`")
        wit = (convert.target_kind(kind), convert.action(action), convert.actor(actor))
        rt = self._runtime
        with rt.lock:
            rules = rule_set._live()
            answer = rt.call("name-list.decide", self._live(), rules, wit[0], wit[1], wit[2], items=len(self._names))
        return convert.verdicts(answer)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._names)} names"
        return f"<pkgprotect.NameList {state}>"


__all__ = [
    *_model.__all__,
    "CONTRACT_VERSION",
    "NameList",
    "RuleSet",
    "decide",
    "engine_version",
    "explain",
    "parse_rule",
    "preview",
    "validate_rule",
    "version",
]
