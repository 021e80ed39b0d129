"""The SDK's data model: GitLab's names, frozen dataclasses for answers, and the exceptions.

Every exception carries the component's answer as data (``cause``, ``http_status``,
``errors``); ``message`` is the core's sentence for people and is never parsed here.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

#: GitLab's access levels, lowest first, with ``Gitlab::Access`` numbers.
ACCESS_LEVELS: Dict[str, int] = {
    "no_access": 0,
    "minimal_access": 5,
    "guest": 10,
    "planner": 15,
    "reporter": 20,
    "developer": 30,
    "maintainer": 40,
    "owner": 50,
    "admin": 60,
}

#: Every package type GitLab's package protection rules accept.
PACKAGE_TYPES: Tuple[str, ...] = (
    "cargo",
    "conan",
    "generic",
    "helm",
    "maven",
    "npm",
    "nuget",
    "pypi",
    "terraform_module",
)

#: What a request is about: a package of one of GitLab's package types, or a container repository.
TARGET_KINDS: Tuple[str, ...] = PACKAGE_TYPES + ("container_repository",)

#: What an actor may want to do.
ACTIONS: Tuple[str, ...] = ("push", "delete")

#: GitLab's two rule families, as the REST API names them.
RULE_KINDS: Tuple[str, ...] = ("package", "container_repository")


class Verdict(str, enum.Enum):
    """One request's answer in a batch; compares equal to its string (``"allowed"`` …).
    ``UNDECIDABLE``: refuse the request (a rule that could block it cannot be evaluated;
    ``RuleSet.explain`` says which)."""

    ALLOWED = "allowed"
    BLOCKED = "blocked"
    UNDECIDABLE = "undecidable"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PackageRule:
    """A package protection rule, with GitLab's REST field names."""

    package_name_pattern: str
    package_type: str
    minimum_access_level_for_push: Optional[str] = None
    minimum_access_level_for_delete: Optional[str] = None
    id: Optional[int] = None
    project_id: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """The rule as GitLab's REST API shows it (``id``/``project_id`` only when known)."""
        return _rest_dict(self)


@dataclass(frozen=True)
class ContainerRepositoryRule:
    """A container repository protection rule, with GitLab's REST field names."""

    repository_path_pattern: str
    minimum_access_level_for_push: Optional[str] = None
    minimum_access_level_for_delete: Optional[str] = None
    id: Optional[int] = None
    project_id: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """The rule as GitLab's REST API shows it (``id``/``project_id`` only when known)."""
        return _rest_dict(self)


Rule = Union[PackageRule, ContainerRepositoryRule]


def _rest_dict(rule: Any) -> Dict[str, Any]:
    data = asdict(rule)
    for key in ("id", "project_id"):
        if data[key] is None:
            del data[key]
    return data


@dataclass(frozen=True)
class Summary:
    """GitLab's answer without its explanation: ``blocking_rules`` rules block the request,
    the first of them (in the order the rules were given) is ``first_blocking_rule``."""

    allowed: bool
    blocking_rules: int
    first_blocking_rule: Optional[int]


@dataclass(frozen=True)
class Decision:
    """The full answer (``explain``): every blocking rule id in the order given, and why."""

    allowed: bool
    blocking_rule_ids: List[int]
    reason: str


@dataclass(frozen=True)
class Preview:
    """Which names a pattern matches. Names are not echoed back: positions into the list
    given. Spans count **code points**, so ``name[start:end]`` is the matched text.

    ``matched``: positions of the matching names, ascending. ``spans``: ``[start, end)``
    pairs flattened; the pairs of ``matched[i]`` are ``spans[span_offsets[i]:span_offsets[i + 1]]``
    (the parts the pattern's literal characters matched; the gaps are what its ``*``s
    matched). ``undecidable``: positions where GitLab's query would fail (a lone trailing
    ``\\`` reached): a rule with this pattern would refuse them."""

    matched: List[int]
    spans: List[int]
    span_offsets: List[int]
    undecidable: List[int]

    def spans_of(self, i: int) -> List[Tuple[int, int]]:
        """The ``(start, end)`` pairs of ``matched[i]``."""
        flat = self.spans[self.span_offsets[i] : self.span_offsets[i + 1]]
        return list(zip(flat[0::2], flat[1::2]))


@dataclass(frozen=True)
class Finding:
    """A lint finding: its kind (``duplicate_pattern``, ``subsumed_rule``, …), the rules, one sentence."""

    kind: str
    rule_ids: List[int]
    message: str


class FieldError(NamedTuple):
    """One failing check of a rule: the REST field (``base`` for the whole rule;
    ``minimum_access_level_for_push,minimum_access_level_for_delete`` for Grape's
    at-least-one-of) and GitLab's message. Compares equal to a ``(field, message)`` tuple."""

    field: str
    message: str


# ---------------------------------------------------------------------------------------
# Why a rule list cannot be compiled (the WIT's `compile-cause`)


@dataclass(frozen=True)
class MissingId:
    """The rule at ``position`` (0-based) has no id."""

    position: int
    kind = "missing_id"


@dataclass(frozen=True)
class DuplicateId:
    id: int
    kind = "duplicate_id"


@dataclass(frozen=True)
class TooManyRules:
    kind = "too_many_rules"


@dataclass(frozen=True)
class LevelNotAllowed:
    """A level the rule's field cannot have (e.g. ``developer`` as a package rule's minimum)."""

    rule_id: int
    field: str
    level: str
    kind = "level_not_allowed"


@dataclass(frozen=True)
class BlankPattern:
    rule_id: int
    field: str
    kind = "blank_pattern"


@dataclass(frozen=True)
class PatternTooLong:
    """A pattern over GitLab's 255-character limit."""

    rule_id: int
    field: str
    chars: int
    kind = "pattern_too_long"


@dataclass(frozen=True)
class InvalidJson:
    """The rules are not JSON, or not an array of rule objects of GitLab's shape (unknown
    keys are refused). ``line`` and ``column`` point into the JSON text the core read."""

    line: int
    column: int
    kind = "invalid_json"


CompileCause = Union[MissingId, DuplicateId, TooManyRules, LevelNotAllowed, BlankPattern, PatternTooLong, InvalidJson]


# ---------------------------------------------------------------------------------------
# Why a decision could not be made (the WIT's `decide-cause`)


@dataclass(frozen=True)
class Unevaluable:
    """GitLab's query cannot evaluate rule ``rule_id`` against the name: its ``pattern``
    ends with a lone ``\\`` and matching reached it."""

    rule_id: int
    pattern: str
    kind = "unevaluable"


@dataclass(frozen=True)
class Internal:
    """The compiled rule set broke one of its own invariants (a bug, never the input's fault)."""

    kind = "internal"


DecideCause = Union[Unevaluable, Internal]


# ---------------------------------------------------------------------------------------
# Exceptions


class PkgprotectError(Exception):
    """Base class of every error this package raises. ``field`` names the input at fault
    (``requests[5].actor``, ``kind``, ``rules[2].id``) when there is one; ``message`` is
    the sentence for people."""

    field: Optional[str] = None

    def __init__(self, message: str, field: Optional[str] = None):
        self.message = message
        if field is not None:
            self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class InvalidRequestError(PkgprotectError, ValueError):
    """An argument the SDK cannot send to the engine: a request, name, kind, actor, context
    or rule list of the wrong shape or type. Raised before the engine is called; there is
    no HTTP status for it (GitLab never saw it)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


class InvalidRuleError(PkgprotectError, ValueError):
    """GitLab refuses a rule (``validate_rule``/``parse_rule``): ``http_status`` is the
    status its API answers (400 parameter layer, 422 model) and ``errors`` lists every
    failing check as ``FieldError(field, message)``. ``field`` and ``message`` are the
    first error's."""

    def __init__(self, http_status: int, errors: List[FieldError]):
        self.http_status = http_status
        self.errors = list(errors)
        first = self.errors[0] if self.errors else FieldError("base", "refused")
        shown = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(first.message, first.field)
        self.args = (f"GitLab answers {http_status}: {shown}",)

    @property
    def fields(self) -> List[str]:
        """The failing fields, first failure first, each once."""
        return list(dict.fromkeys(e.field for e in self.errors))


class RuleSetError(PkgprotectError, ValueError):
    """A rule list that could not have come from GitLab's database (compile and one-shot
    calls). ``cause`` is the component's reason as data (``MissingId``, ``DuplicateId``,
    ``TooManyRules``, ``LevelNotAllowed``, ``BlankPattern``, ``PatternTooLong``,
    ``InvalidJson``) and ``kind`` its name (``missing_id`` …); ``field`` points into the
    rules as the caller passed them (``rules[2].minimum_access_level_for_push``, or
    ``rules`` when they cannot be indexed). No HTTP status: GitLab never stores such rules."""

    def __init__(self, cause: CompileCause, message: str, field: str = "rules"):
        self.cause = cause
        self.kind = cause.kind
        super().__init__(message, field)


class DecisionError(PkgprotectError):
    """The engine could not decide: **refuse the request**. ``cause`` is ``Unevaluable(rule_id,
    pattern)`` (GitLab's query fails for this name too) or ``Internal()``; ``field`` is the
    pattern field of that rule in the caller's rules (``rules[0].package_name_pattern``)
    when it can be found, else ``rules``."""

    def __init__(self, cause: DecideCause, message: str, field: str = "rules"):
        self.cause = cause
        self.kind = cause.kind
        super().__init__(message, field)


class EngineError(PkgprotectError):
    """The WebAssembly component could not be loaded, or trapped (a bug or a resource
    limit). ``detail`` holds wasmtime's full message (with the guest backtrace) when it trapped."""

    detail: str = ""


class ContractError(EngineError):
    """The component does not implement the contract this SDK speaks (``expected``);
    ``found`` is the version it reports, or ``None`` when it has no pkgprotect interface."""

    def __init__(self, found: Optional[str], expected: str):
        self.found, self.expected = found, expected
        what = f"implements contract `{found}`" if found else "does not export pkgprotect:policy"
        super().__init__(f"pkgprotect.wasm {what}, this SDK needs `{expected}`")


__all__ = [
    "ACCESS_LEVELS",
    "ACTIONS",
    "PACKAGE_TYPES",
    "RULE_KINDS",
    "TARGET_KINDS",
    "BlankPattern",
    "CompileCause",
    "ContainerRepositoryRule",
    "ContractError",
    "DecideCause",
    "Decision",
    "DecisionError",
    "DuplicateId",
    "EngineError",
    "FieldError",
    "Finding",
    "Internal",
    "InvalidJson",
    "InvalidRequestError",
    "InvalidRuleError",
    "LevelNotAllowed",
    "MissingId",
    "PackageRule",
    "PatternTooLong",
    "PkgprotectError",
    "Preview",
    "Rule",
    "RuleSetError",
    "Summary",
    "TooManyRules",
    "Unevaluable",
    "Verdict",
]
