"""The SDK's data model: GitLab's names, frozen dataclasses for answers, and the exceptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

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

#: What an actor may want to do.
ACTIONS: Tuple[str, ...] = ("push", "delete")

#: GitLab's two rule families, as the REST API names them.
RULE_KINDS: Tuple[str, ...] = ("package", "container_repository")


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


def _rest_dict(rule: Any) -> Dict[str, Any]:
    data = asdict(rule)
    for key in ("id", "project_id"):
        if data[key] is None:
            del data[key]
    return data


@dataclass(frozen=True)
class Decision:
    """GitLab's answer: ``blocking_rule_ids`` lists every blocking rule in the order given."""

    allowed: bool
    blocking_rule_ids: List[int]
    reason: str


@dataclass(frozen=True)
class Match:
    """One name's outcome in a preview: matched ``[start, end)`` code-point ranges of the
    name, or the error GitLab's query would raise for it."""

    name: str
    matched: bool
    spans: List[Tuple[int, int]]
    error: Optional[str] = None


@dataclass(frozen=True)
class Finding:
    """A lint finding: its kind (``duplicate_pattern``, ``subsumed_rule``, …), the rules, one sentence."""

    kind: str
    rule_ids: List[int]
    message: str


@dataclass(frozen=True)
class FieldError:
    """Why a rule is refused: the REST field (``base`` for the whole rule), GitLab's
    message, and GitLab's HTTP status for it (400 parameter layer, 422 model)."""

    field: str
    message: str
    http_status: int


class PkgprotectError(Exception):
    """Base class of every error this package raises."""


class InvalidRuleError(PkgprotectError, ValueError):
    """A rule (or a rule list) was refused. ``errors`` lists every failing check;
    ``field``, ``message`` are the first one's and ``http_status`` is GitLab's answer
    (400 when any check failed at the parameter layer, else 422)."""

    def __init__(self, errors: List[FieldError]):
        if not errors:
            raise ValueError("an invalid rule needs at least one error")
        self.errors = list(errors)
        self.field = errors[0].field
        self.message = errors[0].message
        self.http_status = 400 if any(e.http_status == 400 for e in errors) else 422
        shown = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(f"invalid rule (GitLab answers {self.http_status}): {shown}")

    @property
    def fields(self) -> List[str]:
        """The failing fields, first failure first, each once."""
        return list(dict.fromkeys(e.field for e in self.errors))


class InvalidRequestError(PkgprotectError, ValueError):
    """A decision request, preview or context argument has the wrong shape."""

    http_status = 400

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class DecisionError(PkgprotectError):
    """The engine could not evaluate a rule that could block (GitLab's query fails there
    too). Treat the request as refused."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(f"cannot decide, treat as refused: {message}")


class EngineError(PkgprotectError):
    """The WebAssembly component could not be loaded or trapped (a bug or a resource limit).
    ``detail`` holds wasmtime's full message (with the guest backtrace) when it trapped."""

    detail: str = ""


__all__ = [
    "ACCESS_LEVELS",
    "ACTIONS",
    "PACKAGE_TYPES",
    "RULE_KINDS",
    "ContainerRepositoryRule",
    "Decision",
    "DecisionError",
    "EngineError",
    "FieldError",
    "Finding",
    "InvalidRequestError",
    "InvalidRuleError",
    "Match",
    "PackageRule",
    "PkgprotectError",
]
