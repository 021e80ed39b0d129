"""GitLab-shaped Python values ⇄ the component's WIT values, as wasmtime-py's public API
represents them (``wasmtime.component.Record``, ``Variant``, plain ``str``/``int``/``list``).

Mechanical and strict: an argument of the wrong type or an unknown key is refused here with
the field named (``requests[3].actor``), before the engine is called. Rules are not checked
here: they travel as GitLab JSON and the core is the only place that checks their shape.
No decision is made here.

wasmtime-py shapes: a WIT record is a ``Record`` whose attributes carry the WIT (kebab-case)
field names; an enum is its case name; a variant whose cases lift to different Python types
is the bare payload (``actor``: the access level's name for a user, ``None`` for a deploy
token; ``rule-source``: a ``list`` or the JSON ``str``); other variants are a tagged
``Variant``. Results are read through ``result_parts`` so that either form is understood.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from wasmtime.component import Record, Variant

from ._model import (
    ACCESS_LEVELS,
    ACTIONS,
    PACKAGE_TYPES,
    RULE_KINDS,
    TARGET_KINDS,
    BlankPattern,
    CompileCause,
    ContainerRepositoryRule,
    DecideCause,
    Decision,
    DecisionError,
    DuplicateId,
    FieldError,
    Finding,
    Internal,
    InvalidJson,
    InvalidRequestError,
    InvalidRuleError,
    LevelNotAllowed,
    MissingId,
    PackageRule,
    PatternTooLong,
    Preview,
    RuleSetError,
    Summary,
    TooManyRules,
    Unevaluable,
    Verdict,
)

RuleLike = Union[Mapping, PackageRule, ContainerRepositoryRule]
Rules = Union[str, Iterable[RuleLike]]


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
    for key, item in fields.items():
        setattr(value, kebab(key), item)
    return value


def field_of(value: Any, name: str) -> Any:
    """A WIT record's field by its kebab-case name."""
    return getattr(value, name)


# ---------------------------------------------------------------------------------------
# Enums and actors: snake_case names (and GitLab's level numbers) → WIT case names

_KIND = {name: kebab(name) for name in TARGET_KINDS}
_ACTION = {name: name for name in ACTIONS}
_LEVEL = {name: kebab(name) for name in ACCESS_LEVELS}
_LEVEL.update({number: kebab(name) for name, number in ACCESS_LEVELS.items()})
_LEVEL_NAME = {name: kebab(name) for name in ACCESS_LEVELS}
_RULE_KIND = {name: kebab(name) for name in RULE_KINDS}
_PACKAGE_TYPE = {name: kebab(name) for name in PACKAGE_TYPES}


def _one_of(table: Dict[Any, Any], value: Any, what: str, where: str, names: Iterable[str]) -> Any:
    try:
        if not isinstance(value, bool):
            return table[value]
    except (KeyError, TypeError):
        pass
    raise InvalidRequestError(where, f"unknown {what} `{shown(value)}` (expected one of: {', '.join(names)})")


def target_kind(value: Any, where: str = "kind") -> str:
    return _one_of(_KIND, value, "target kind", where, TARGET_KINDS)


def action(value: Any, where: str = "action") -> str:
    return _one_of(_ACTION, value, "action", where, ACTIONS)


def rule_kind(value: Any, where: str = "kind") -> str:
    return _one_of(_RULE_KIND, value, "rule kind", where, RULE_KINDS)


def _level(value: Any, where: str) -> str:
    """A WIT access level from its name or GitLab's number."""
    if not isinstance(value, bool):
        try:
            level = _LEVEL.get(value)
        except TypeError:  # unhashable
            level = None
        if level is not None:
            return level
    raise InvalidRequestError(where, f"unknown access level `{shown(value)}` (expected one of: {', '.join(ACCESS_LEVELS)})")


def actor(value: Any, where: str = "actor") -> Optional[str]:
    """The WIT `actor`: a user's access level name, or ``None`` for a deploy token.

    Accepts ``{"type": "user", "access_level": "developer"}``, ``{"type": "deploy_token"}``
    and the shorthands ``"developer"``, ``30`` (GitLab's number, as the members API returns
    it) and ``"deploy_token"``."""
    if isinstance(value, str):
        if value == "deploy_token":
            return None
        level = _LEVEL.get(value)
        if level is not None:
            return level
    elif isinstance(value, Mapping):
        kind = value.get("type")
        expected = {"user": ("type", "access_level"), "deploy_token": ("type",)}.get(kind) if isinstance(kind, str) else None
        if expected is None:
            raise InvalidRequestError(f"{where}.type", f"unknown actor type `{shown(kind)}` (expected `user` or `deploy_token`)")
        for key in value:
            if key not in expected:
                raise InvalidRequestError(f"{where}.{key}", f"unknown actor field `{key}` for a `{kind}`")
        if kind == "deploy_token":
            return None
        if "access_level" not in value:
            raise InvalidRequestError(where, "a user actor needs `access_level`")
        return _level(value["access_level"], f"{where}.access_level")
    return _level(value, where)


# ---------------------------------------------------------------------------------------
# Requests

_REQUEST_KEYS = frozenset(("package_name", "package_type", "repository_path", "action", "actor"))


def request_parts(request: Any, index: Optional[int] = None) -> Tuple[str, str, str, Optional[str]]:
    """``(kind, name, action, actor)`` as WIT values, from a request in the vectors' shape:
    ``{"package_name", "package_type", "action", "actor"}`` or ``{"repository_path", "action", "actor"}``.
    ``index``: the request's position in a batch, for the field an error names."""
    where = "request" if index is None else f"requests[{index}]"
    if not isinstance(request, Mapping):
        raise InvalidRequestError(where, f"a decision request is a JSON object, got `{shown(request)}`")
    if not _REQUEST_KEYS.issuperset(request):
        key = next(key for key in request if key not in _REQUEST_KEYS)
        raise InvalidRequestError(f"{where}.{key}", f"unknown request field `{key}`")
    name = request.get("package_name")
    path = request.get("repository_path")
    if name is not None:
        if path is not None:
            raise InvalidRequestError(where, "a request has either `package_name` or `repository_path`, not both")
        if not isinstance(name, str):
            raise InvalidRequestError(f"{where}.package_name", f"`package_name` must be a string, got `{shown(name)}`")
        kind = _one_of(_PACKAGE_TYPE, request.get("package_type"), "package type", f"{where}.package_type", PACKAGE_TYPES)
    elif path is not None:
        if not isinstance(path, str):
            raise InvalidRequestError(f"{where}.repository_path", f"`repository_path` must be a string, got `{shown(path)}`")
        if request.get("package_type") is not None:
            raise InvalidRequestError(f"{where}.package_type", "a container repository request cannot have `package_type`")
        kind, name = "container-repository", path
    else:
        raise InvalidRequestError(where, "a request needs `package_name` (with `package_type`) or `repository_path`")
    wit_action = _one_of(_ACTION, request.get("action"), "action", f"{where}.action", ACTIONS)
    if "actor" not in request:
        raise InvalidRequestError(f"{where}.actor", "missing field `actor`")
    return kind, name, wit_action, actor(request["actor"], f"{where}.actor")


def request_record(request: Any) -> Record:
    """The WIT `decision-request`."""
    kind, name, wit_action, wit_actor = request_parts(request)
    value = Record()
    value.kind, value.name, value.action, value.actor = kind, name, wit_action, wit_actor
    return value


def names_list(names: Any, where: str = "names") -> List[str]:
    """A list of name strings (each checked: wasmtime would refuse anything else)."""
    if isinstance(names, (str, bytes, Mapping)) or not isinstance(names, Iterable):
        raise InvalidRequestError(where, f"names are a list of strings, got `{shown(names)}`")
    names = list(names)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InvalidRequestError(f"{where}[{i}]", f"a name is a string, got `{shown(name)}`")
    return names


def first_unencodable(texts: List[str]) -> Optional[int]:
    """The position of the first text that is not valid Unicode (a lone surrogate, which
    UTF-8 cannot encode), if any."""
    for i, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return i
    return None


def unencodable(texts: List[str], where: str) -> InvalidRequestError:
    """The error for the first text of ``texts`` (the argument ``where``) that is not valid Unicode."""
    i = first_unencodable(texts)
    return InvalidRequestError(where if i is None else f"{where}[{i}]", "not valid Unicode (a lone surrogate)")


# ---------------------------------------------------------------------------------------
# Rules: GitLab JSON for the engine, typed WIT rules for validation contexts

_JSON = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


class RuleSource:
    """Rules as the caller gave them, and the GitLab JSON text the core reads."""

    __slots__ = ("text", "items", "from_text")

    def __init__(self, text: str, items: Optional[List[Any]], from_text: bool):
        self.text = text
        #: The rule objects (dicts), when known without parsing.
        self.items = items
        self.from_text = from_text

    def rules(self) -> Optional[List[Any]]:
        """The rule objects, for pointing at one in an error (parsed lazily from text)."""
        if self.items is None:
            try:
                parsed = json.loads(self.text)
            except ValueError:
                return None
            self.items = parsed if isinstance(parsed, list) else None
        return self.items

    def count(self) -> int:
        """An estimate of the rule count for the fuel budget."""
        return len(self.items) if self.items is not None else 1 + len(self.text) // 64


def rule_source(rules: Any, where: str = "rules") -> RuleSource:
    """GitLab JSON text from ``rules``: the text itself (``str``), or a list of GitLab-shaped
    rule dicts or rule dataclasses serialized once."""
    if isinstance(rules, str):
        return RuleSource(rules, None, True)
    if isinstance(rules, (bytes, bytearray, Mapping)) or not isinstance(rules, Iterable):
        raise InvalidRequestError(where, f"rules are a list of rule objects or GitLab JSON text, got `{shown(rules)}`")
    items = [r.to_dict() if isinstance(r, (PackageRule, ContainerRepositoryRule)) else r for r in rules]
    try:
        text = _JSON.encode(items)
    except (TypeError, ValueError) as error:
        for i, item in enumerate(items):
            try:
                _JSON.encode(item)
            except (TypeError, ValueError) as inner:
                raise InvalidRequestError(f"{where}[{i}]", f"not JSON: {inner}") from None
        raise InvalidRequestError(where, f"not JSON: {error}") from None
    return RuleSource(text, items, False)


_RULE_KEYS = (
    "id",
    "project_id",
    "package_name_pattern",
    "package_type",
    "repository_path_pattern",
    "minimum_access_level_for_push",
    "minimum_access_level_for_delete",
)

def rule_variant(rule: Any, where: str) -> Variant:
    """A GitLab-shaped rule (or a rule dataclass) as the WIT `rule` variant (for validation
    contexts, which the contract types)."""
    if isinstance(rule, (PackageRule, ContainerRepositoryRule)):
        rule = rule.to_dict()
    if not isinstance(rule, Mapping):
        raise InvalidRequestError(where, f"a rule is a JSON object, got `{shown(rule)}`")
    for key in rule:
        if key not in _RULE_KEYS:
            raise InvalidRequestError(f"{where}.{key}", f"unknown rule field `{key}`")
    has_name, has_path = "package_name_pattern" in rule, "repository_path_pattern" in rule
    if has_name == has_path:
        raise InvalidRequestError(
            where, "a rule has either `package_name_pattern` or `repository_path_pattern`" + (", not both" if has_name else "")
        )
    pattern_key = "package_name_pattern" if has_name else "repository_path_pattern"
    if not isinstance(rule[pattern_key], str):
        raise InvalidRequestError(f"{where}.{pattern_key}", f"`{pattern_key}` must be a string, got `{shown(rule[pattern_key])}`")
    fields: Dict[str, Any] = {}
    for key in ("id", "project_id"):
        value = rule.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidRequestError(f"{where}.{key}", f"`{key}` must be an integer, got `{shown(value)}`")
        fields[key] = value
    for key in ("minimum_access_level_for_push", "minimum_access_level_for_delete"):
        value = rule.get(key)
        fields[key] = None if value is None else _one_of(_LEVEL_NAME, value, "access level", f"{where}.{key}", ACCESS_LEVELS)
    if has_path:
        if "package_type" in rule:
            raise InvalidRequestError(f"{where}.package_type", "a container repository rule cannot have `package_type`")
        return Variant("container-repository", record(repository_path_pattern=rule[pattern_key], **fields))
    package_type = _one_of(_PACKAGE_TYPE, rule.get("package_type"), "package type", f"{where}.package_type", PACKAGE_TYPES)
    return Variant("package", record(package_name_pattern=rule[pattern_key], package_type=package_type, **fields))


def rule_from_wit(value: Variant) -> Union[PackageRule, ContainerRepositoryRule]:
    fields = {snake(key): item for key, item in vars(value.payload).items()}
    for key in ("minimum_access_level_for_push", "minimum_access_level_for_delete"):
        if fields[key] is not None:
            fields[key] = snake(fields[key])
    if value.tag == "package":
        fields["package_type"] = snake(fields["package_type"])
        return PackageRule(**fields)
    return ContainerRepositoryRule(**fields)


_CONTEXT_KEYS = ("kind", "project_path", "existing_rules", "previous")


def validation_context(context: Any) -> Tuple[Optional[str], Record]:
    """``(kind or None, WIT validation-context)`` from ``{kind, project_path, existing_rules, previous}``."""
    context = {} if context is None else context
    if not isinstance(context, Mapping):
        raise InvalidRequestError("context", f"a validation context is a JSON object, got `{shown(context)}`")
    for key in context:
        if key not in _CONTEXT_KEYS:
            raise InvalidRequestError(f"context.{key}", f"unknown context field `{key}`")
    project_path = context.get("project_path")
    if project_path is not None and not isinstance(project_path, str):
        raise InvalidRequestError("context.project_path", f"`project_path` must be a string, got `{shown(project_path)}`")
    existing = context.get("existing_rules") or []
    if isinstance(existing, (str, bytes, Mapping)) or not isinstance(existing, Iterable):
        raise InvalidRequestError("context.existing_rules", "existing rules are a list of rule objects")
    previous = context.get("previous")
    wit = record(
        project_path=project_path,
        existing_rules=[rule_variant(r, f"context.existing_rules[{i}]") for i, r in enumerate(existing)],
        previous=None if previous is None else rule_variant(previous, "context.previous"),
    )
    kind = context.get("kind")
    return (None if kind is None else rule_kind(kind, "context.kind")), wit


def rule_kind_of(rule: Any) -> str:
    """The WIT rule kind a rule's parameters are for: its pattern field's."""
    if isinstance(rule, ContainerRepositoryRule):
        return "container-repository"
    if isinstance(rule, Mapping) and "repository_path_pattern" in rule and "package_name_pattern" not in rule:
        return "container-repository"
    return "package"


def params_json(rule: Any) -> str:
    """REST parameters as JSON text, as a client sends them."""
    if isinstance(rule, (PackageRule, ContainerRepositoryRule)):
        rule = rule.to_dict()
    if not isinstance(rule, Mapping):
        raise InvalidRequestError("params", f"rule parameters are a JSON object, got `{shown(rule)}`")
    try:
        return json.dumps(rule, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidRequestError("params", f"rule parameters are not JSON: {error}") from None


# ---------------------------------------------------------------------------------------
# Answers


def result_parts(value: Any, is_ok: Callable[[Any], bool]) -> Tuple[bool, Any]:
    """``(ok, payload)`` of a WIT `result`, lifted tagged (``Variant("ok"|"err", …)``) or,
    when its two cases lift to different Python types, as the bare payload (``is_ok`` tells)."""
    if isinstance(value, Variant) and value.tag in ("ok", "err"):
        return value.tag == "ok", value.payload
    return is_ok(value), value


def variant_parts(value: Any, untagged: Callable[[Any], Tuple[str, Any]]) -> Tuple[str, Any]:
    """``(case, payload)`` of a WIT variant, tagged or bare (``untagged`` names the case)."""
    if isinstance(value, Variant):
        return value.tag, value.payload
    return untagged(value)


def summary(value: Record) -> Summary:
    return Summary(value.allowed, field_of(value, "blocking-rules"), field_of(value, "first-blocking-rule"))


def decision(value: Record) -> Decision:
    return Decision(value.allowed, field_of(value, "blocking-rule-ids"), value.reason)


_VERDICT = {verdict.value: verdict for verdict in Verdict}


def verdicts(values: List[str]) -> List[Verdict]:
    table = _VERDICT
    return [table[v] for v in values]


def finding(value: Record) -> Finding:
    return Finding(snake(value.kind), field_of(value, "rule-ids"), value.message)


def preview(value: Record) -> Preview:
    return Preview(value.matched, value.spans, field_of(value, "span-offsets"), value.undecidable)


def rejection(value: Record) -> InvalidRuleError:
    errors = [FieldError(field_name(e.field), e.message) for e in value.errors]
    return InvalidRuleError(field_of(value, "http-status"), errors)


#: WIT `field` → the REST name GitLab reports.
_FIELDS = {
    "base": "base",
    "package-name-pattern": "package_name_pattern",
    "package-type": "package_type",
    "repository-path-pattern": "repository_path_pattern",
    "minimum-access-level-for-push": "minimum_access_level_for_push",
    "minimum-access-level-for-delete": "minimum_access_level_for_delete",
    "minimum-access-levels": "minimum_access_level_for_push,minimum_access_level_for_delete",
}


def field_name(value: str) -> str:
    return _FIELDS.get(value, snake(value))


def compile_cause(value: Any) -> CompileCause:
    case, payload = variant_parts(value, _tagged_only)
    if case == "missing-id":
        return MissingId(payload)
    if case == "duplicate-id":
        return DuplicateId(payload)
    if case == "too-many-rules":
        return TooManyRules()
    if case == "level-not-allowed":
        return LevelNotAllowed(field_of(payload, "rule-id"), field_name(payload.field), snake(payload.level))
    if case == "blank-pattern":
        return BlankPattern(field_of(payload, "rule-id"), field_name(payload.field))
    if case == "pattern-too-long":
        return PatternTooLong(field_of(payload, "rule-id"), field_name(payload.field), payload.chars)
    if case == "invalid-json":
        return InvalidJson(payload.line, payload.column)
    raise TypeError(f"unknown compile cause `{case}`")


def compile_error(value: Record, source: RuleSource, where: str = "rules") -> RuleSetError:
    """The WIT `compile-error` as a ``RuleSetError`` whose ``field`` points into the
    caller's rules."""
    cause = compile_cause(value.cause)
    return RuleSetError(cause, value.message, _compile_field(cause, source, where))


def _compile_field(cause: CompileCause, source: RuleSource, where: str) -> str:
    if isinstance(cause, InvalidJson):
        if source.from_text or source.items is None:
            return where
        # Our own text: one compact JSON value per rule, joined by commas, on one line.
        offset, start = cause.column - 1, 1
        for i, item in enumerate(source.items):
            end = start + len(_JSON.encode(item))
            if start <= offset < end + 1:
                return f"{where}[{i}]"
            start = end + 1
        return where
    rules = source.rules()
    if rules is None:
        return where
    if isinstance(cause, MissingId):
        return f"{where}[{cause.position}].id"
    if isinstance(cause, DuplicateId):
        seen = [i for i, rule in enumerate(rules) if isinstance(rule, Mapping) and rule.get("id") == cause.id]
        return f"{where}[{seen[1]}].id" if len(seen) > 1 else where
    rule_id = getattr(cause, "rule_id", None)
    field = getattr(cause, "field", None)
    index = _index_of(rules, rule_id)
    if index is None or field is None:
        return where
    return f"{where}[{index}].{field}"


def _index_of(rules: List[Any], rule_id: Any) -> Optional[int]:
    for i, rule in enumerate(rules):
        if isinstance(rule, Mapping) and rule.get("id") == rule_id and rule_id is not None:
            return i
    return None


def decide_cause(value: Any) -> DecideCause:
    case, payload = variant_parts(value, lambda v: ("internal", None) if v is None else ("unevaluable", v))
    if case == "unevaluable":
        return Unevaluable(field_of(payload, "rule-id"), payload.pattern)
    if case == "internal":
        return Internal()
    raise TypeError(f"unknown decide cause `{case}`")


def decide_error(value: Record, source: Optional[RuleSource], where: str = "rules") -> DecisionError:
    cause = decide_cause(value.cause)
    field = where
    if isinstance(cause, Unevaluable) and source is not None:
        rules = source.rules()
        index = None if rules is None else _index_of(rules, cause.rule_id)
        if index is not None:
            key = "repository_path_pattern" if "repository_path_pattern" in rules[index] else "package_name_pattern"
            field = f"{where}[{index}].{key}"
    return DecisionError(cause, value.message, field)


def _tagged_only(value: Any) -> Tuple[str, Any]:
    raise TypeError(f"expected a tagged variant, got `{value!r}`")


def one_shot_error(value: Any, source: RuleSource) -> Exception:
    """The WIT `one-shot-error`: ``RuleSetError`` or ``DecisionError``."""
    case, payload = variant_parts(value, _tagged_only)
    if case == "rules-refused":
        return compile_error(payload, source)
    return decide_error(payload, source)

