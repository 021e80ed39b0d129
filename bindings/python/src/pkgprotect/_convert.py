"""GitLab-shaped dicts ⇄ the component's WIT values, as wasmtime-py represents them.

Mechanical and strict: a value of the wrong type or an unknown key is refused here, with
the field named, so that a typo such as ``minimum_acess_level_for_push`` cannot silently
weaken a rule. No decision is made here.

wasmtime-py shapes used: a WIT record is a ``Record`` whose attributes carry the WIT
(kebab-case) field names; an enum is its kebab-case case name; a variant whose cases have
payloads of different Python types is the bare payload (``target``: a ``Record`` for a
package, a ``str`` for a container path; ``actor``: the access level's name for a user,
``None`` for a deploy token); ``rule`` is a tagged ``Variant``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Iterable, List, Optional, Union

from wasmtime.component import Record, Variant

from ._model import (
    ACCESS_LEVELS,
    ACTIONS,
    PACKAGE_TYPES,
    RULE_KINDS,
    ContainerRepositoryRule,
    Decision,
    FieldError,
    Finding,
    InvalidRequestError,
    InvalidRuleError,
    Match,
    PackageRule,
)

RuleLike = Union[Mapping, PackageRule, ContainerRepositoryRule]

_LEVEL_BY_NUMBER = {number: name for name, number in ACCESS_LEVELS.items()}
_RULE_KEYS = frozenset(
    (
        "id",
        "project_id",
        "package_name_pattern",
        "package_type",
        "repository_path_pattern",
        "minimum_access_level_for_push",
        "minimum_access_level_for_delete",
    )
)
_REQUEST_KEYS = frozenset(("package_name", "package_type", "repository_path", "action", "actor"))
_CONTEXT_KEYS = frozenset(("kind", "project_path", "existing_rules", "previous"))


def shown(value: Any) -> str:
    """A user value for a message, as JSON where it can be."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def kebab(name: str) -> str:
    return name.replace("_", "-")


def snake(name: str) -> str:
    return name.replace("-", "_")


def record(**fields: Any) -> Record:
    """A WIT record from snake_case keyword arguments."""
    value = Record()
    value.__dict__.update({kebab(key): item for key, item in fields.items()})
    return value


def _one_of(value: Any, allowed: Iterable[str], what: str) -> Optional[str]:
    """`None` when `value` is one of `allowed`, else the message."""
    if isinstance(value, str) and value in allowed:
        return None
    return f"unknown {what} `{shown(value)}` (expected one of: {', '.join(allowed)})"


# ---------------------------------------------------------------------------------------
# Rules


def _rule_error(where: str, field: str, message: str) -> InvalidRuleError:
    return InvalidRuleError([FieldError(field, f"{where}: {message}", 400)])


def _rule_id(rule: Mapping, key: str, where: str) -> Optional[int]:
    value = rule.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _rule_error(where, key, f"`{key}` must be an integer, got `{shown(value)}`")


def _rule_level(rule: Mapping, key: str, where: str) -> Optional[str]:
    value = rule.get(key)
    if value is None:
        return None
    problem = _one_of(value, ACCESS_LEVELS, "access level")
    if problem:
        raise _rule_error(where, key, problem)
    return kebab(value)


def rule_to_wit(rule: RuleLike, where: str = "rule") -> Variant:
    """A rule in GitLab's REST shape (or a rule dataclass) as the WIT `rule` variant."""
    if isinstance(rule, (PackageRule, ContainerRepositoryRule)):
        rule = rule.to_dict()
    if not isinstance(rule, Mapping):
        raise _rule_error(where, "base", f"a rule is a JSON object, got `{shown(rule)}`")
    unknown = [key for key in rule if key not in _RULE_KEYS]
    if unknown:
        raise _rule_error(where, str(unknown[0]), f"unknown field `{unknown[0]}`")
    has_name, has_path = "package_name_pattern" in rule, "repository_path_pattern" in rule
    if has_name == has_path:
        message = (
            "a rule has either `package_name_pattern` or `repository_path_pattern`, not both"
            if has_name
            else "a rule needs `package_name_pattern` (package rule) or `repository_path_pattern` (container repository rule)"
        )
        raise _rule_error(where, "base", message)
    pattern_key = "package_name_pattern" if has_name else "repository_path_pattern"
    pattern = rule[pattern_key]
    if not isinstance(pattern, str):
        raise _rule_error(where, pattern_key, f"`{pattern_key}` must be a string, got `{shown(pattern)}`")
    fields = dict(
        id=_rule_id(rule, "id", where),
        project_id=_rule_id(rule, "project_id", where),
        minimum_access_level_for_push=_rule_level(rule, "minimum_access_level_for_push", where),
        minimum_access_level_for_delete=_rule_level(rule, "minimum_access_level_for_delete", where),
    )
    if has_path:
        if "package_type" in rule:
            raise _rule_error(where, "package_type", "a container repository rule cannot have `package_type`")
        return Variant("container-repository", record(repository_path_pattern=pattern, **fields))
    package_type = rule.get("package_type")
    problem = _one_of(package_type, PACKAGE_TYPES, "package type")
    if problem:
        raise _rule_error(where, "package_type", problem)
    return Variant("package", record(package_name_pattern=pattern, package_type=kebab(package_type), **fields))


def rules_to_wit(rules: Iterable[RuleLike]) -> List[Variant]:
    if isinstance(rules, (Mapping, str, bytes)):
        raise _rule_error("rules", "base", "rules are a list of rule objects")
    return [rule_to_wit(rule, f"rule at position {i}") for i, rule in enumerate(rules)]


def rule_from_wit(value: Variant) -> Union[PackageRule, ContainerRepositoryRule]:
    fields = {snake(key): item for key, item in value.payload.__dict__.items()}
    for key in ("minimum_access_level_for_push", "minimum_access_level_for_delete"):
        if fields[key] is not None:
            fields[key] = snake(fields[key])
    if value.tag == "package":
        fields["package_type"] = snake(fields["package_type"])
        return PackageRule(**fields)
    return ContainerRepositoryRule(**fields)


def rule_kind_of(rule: Any, context_kind: Optional[str]) -> str:
    """`package` or `container_repository`: the context's, else the pattern field's kind."""
    if context_kind is not None:
        problem = _one_of(context_kind, RULE_KINDS, "rule kind")
        if problem:
            raise InvalidRequestError("kind", problem)
        return context_kind
    if isinstance(rule, ContainerRepositoryRule):
        return "container_repository"
    if isinstance(rule, Mapping) and "repository_path_pattern" in rule and "package_name_pattern" not in rule:
        return "container_repository"
    return "package"


def validation_errors(errors: List[Record]) -> InvalidRuleError:
    return InvalidRuleError([FieldError(e.field, e.message, e.__dict__["http-status"]) for e in errors])


def params_json(rule: Any) -> str:
    """REST parameters as JSON text, as a client sends them."""
    if isinstance(rule, (PackageRule, ContainerRepositoryRule)):
        rule = rule.to_dict()
    if not isinstance(rule, Mapping):
        raise InvalidRuleError([FieldError("base", f"rule parameters are a JSON object, got `{shown(rule)}`", 400)])
    try:
        return json.dumps(rule, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidRuleError([FieldError("base", f"rule parameters are not JSON: {error}", 400)]) from None


def context_to_wit(context: Optional[Mapping]) -> tuple:
    """`(kind or None, WIT validation-context)` from `{kind, project_path, existing_rules, previous}`."""
    context = {} if context is None else context
    if not isinstance(context, Mapping):
        raise InvalidRequestError("context", f"a validation context is a JSON object, got `{shown(context)}`")
    unknown = [key for key in context if key not in _CONTEXT_KEYS]
    if unknown:
        raise InvalidRequestError(str(unknown[0]), f"unknown context field `{unknown[0]}`")
    project_path = context.get("project_path")
    if project_path is not None and not isinstance(project_path, str):
        raise InvalidRequestError("project_path", f"`project_path` must be a string, got `{shown(project_path)}`")
    existing = context.get("existing_rules") or []
    previous = context.get("previous")
    wit = record(
        project_path=project_path,
        existing_rules=[rule_to_wit(r, f"existing rule at position {i}") for i, r in enumerate(existing)],
        previous=None if previous is None else rule_to_wit(previous, "previous rule"),
    )
    return context.get("kind"), wit


# ---------------------------------------------------------------------------------------
# Requests and answers


def actor_to_wit(actor: Any) -> Optional[str]:
    """A user's access level name (kebab-case), or `None` for a deploy token.

    Accepts the vectors' ``{"type": "user", "access_level": "developer"}`` and
    ``{"type": "deploy_token"}``, and the shorthands ``"developer"``, ``30`` (GitLab's
    number, as the members API returns it) and ``"deploy_token"``."""
    if isinstance(actor, Mapping):
        kind = actor.get("type")
        expected = {"user": {"type", "access_level"}, "deploy_token": {"type"}}.get(kind)
        if expected is None:
            raise InvalidRequestError("actor", f"unknown actor type `{shown(kind)}` (expected `user` or `deploy_token`)")
        unknown = [key for key in actor if key not in expected]
        if unknown:
            raise InvalidRequestError("actor", f"unknown actor field `{unknown[0]}` for a `{kind}`")
        if kind == "deploy_token":
            return None
        if "access_level" not in actor:
            raise InvalidRequestError("actor", "a user actor needs `access_level`")
        actor = actor["access_level"]
    elif actor == "deploy_token":
        return None
    if isinstance(actor, int) and not isinstance(actor, bool) and actor in _LEVEL_BY_NUMBER:
        actor = _LEVEL_BY_NUMBER[actor]
    problem = _one_of(actor, ACCESS_LEVELS, "access level")
    if problem:
        raise InvalidRequestError("actor", problem)
    return kebab(actor)


def request_to_wit(request: Any, where: str = "request") -> Record:
    """A decision request in the vectors' flat shape as the WIT `decision-request`."""
    if not isinstance(request, Mapping):
        raise InvalidRequestError(where, f"a decision request is a JSON object, got `{shown(request)}`")
    unknown = [key for key in request if key not in _REQUEST_KEYS]
    if unknown:
        raise InvalidRequestError(str(unknown[0]), f"{where}: unknown field `{unknown[0]}`")
    name, path = request.get("package_name"), request.get("repository_path")
    if (name is None) == (path is None):
        message = (
            "a request has either `package_name` or `repository_path`, not both"
            if name is not None
            else "a request needs `package_name` (with `package_type`) or `repository_path`"
        )
        raise InvalidRequestError("base", f"{where}: {message}")
    if name is not None:
        if not isinstance(name, str):
            raise InvalidRequestError("package_name", f"{where}: `package_name` must be a string, got `{shown(name)}`")
        package_type = request.get("package_type")
        problem = _one_of(package_type, PACKAGE_TYPES, "package type")
        if problem:
            raise InvalidRequestError("package_type", f"{where}: {problem}")
        target: Any = record(name=name, package_type=kebab(package_type))
    else:
        if not isinstance(path, str):
            raise InvalidRequestError("repository_path", f"{where}: `repository_path` must be a string, got `{shown(path)}`")
        if request.get("package_type") is not None:
            raise InvalidRequestError("package_type", f"{where}: a container repository request cannot have `package_type`")
        target = path
    action = request.get("action")
    problem = _one_of(action, ACTIONS, "action")
    if problem:
        raise InvalidRequestError("action", f"{where}: {problem}")
    if "actor" not in request:
        raise InvalidRequestError("actor", f"{where}: missing field `actor`")
    try:
        actor = actor_to_wit(request["actor"])
    except InvalidRequestError as error:
        raise InvalidRequestError("actor", f"{where}: {error.message}") from None
    return record(target=target, action=action, actor=actor)


def decision_from_wit(value: Record) -> Decision:
    fields = value.__dict__
    return Decision(fields["allowed"], fields["blocking-rule-ids"], fields["reason"])


def match_from_wit(value: Record) -> Match:
    return Match(value.name, value.matched, [tuple(span) for span in value.spans], value.error)


def finding_from_wit(value: Record) -> Finding:
    return Finding(value.kind, value.__dict__["rule-ids"], value.message)


def package_type_to_wit(package_type: Optional[str]) -> Optional[str]:
    if package_type is None:
        return None
    problem = _one_of(package_type, PACKAGE_TYPES, "package type")
    if problem:
        raise InvalidRequestError("package_type", problem)
    return kebab(package_type)


def names_list(names: Any) -> List[str]:
    if isinstance(names, (str, bytes, Mapping)):
        raise InvalidRequestError("names", f"names are a list of strings, got `{shown(names)}`")
    names = list(names)
    for name in names:
        if not isinstance(name, str):
            raise InvalidRequestError("names", f"names are strings, got `{shown(name)}`")
    return names

