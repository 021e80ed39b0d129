// GitLab-shaped JSON (snake_case REST fields and names, as the API and the conformance
// vectors spell them) ⇄ the types jco generates from policy.wit (camelCase records,
// kebab-case enums, tagged variants, bigint ids, typed arrays). Mechanical on purpose: every
// decision is the component's, and no component message is read.
//
// Objects mean what their JSON means: a property set to `undefined` is absent, `null`
// optional values are absent, and unknown fields are refused (a misspelt
// `minimum_acess_level_for_push` must not silently weaken a rule).
import { fail } from "./errors.js";

export const ACCESS_LEVELS = [
  "no_access", "minimal_access", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin",
];
export const PACKAGE_TYPES = [
  "cargo", "conan", "generic", "helm", "maven", "npm", "nuget", "pypi", "terraform_module",
];
export const TARGET_KINDS = [...PACKAGE_TYPES, "container_repository"];
export const RULE_KINDS = ["package", "container_repository"];
export const ACTIONS = ["push", "delete"];

const RULE_FIELDS = new Set([
  "id", "project_id", "package_name_pattern", "package_type", "repository_path_pattern",
  "minimum_access_level_for_push", "minimum_access_level_for_delete",
]);
const REQUEST_FIELDS = new Set(["package_name", "package_type", "repository_path", "action", "actor"]);
const USER_FIELDS = new Set(["type", "access_level"]);
const DEPLOY_TOKEN_FIELDS = new Set(["type"]);

const kebab = (name) => name.replaceAll("_", "-");
const snake = (name) => name.replaceAll("-", "_");

/** GitLab's snake_case names → the kebab-case WIT cases, one table per enum. */
const table = (names) => new Map(names.map((name) => [name, kebab(name)]));
const LEVEL = table(ACCESS_LEVELS);
const PACKAGE_TYPE = table(PACKAGE_TYPES);
export const TARGET_KIND = table(TARGET_KINDS);
export const RULE_KIND = table(RULE_KINDS);
export const ACTION = table(ACTIONS);

/** The WIT actors, made once: jco only reads them. */
const USER_ACTORS = new Map(ACCESS_LEVELS.map((level) => [level, Object.freeze({ tag: "user", val: kebab(level) })]));
const DEPLOY_TOKEN = Object.freeze({ tag: "deploy-token" });

/** `value` as the caller wrote it, in backticks. */
export function show(value) {
  if (typeof value === "string") return `\`${value}\``;
  if (typeof value === "bigint") return `\`${value}n\``;
  let json;
  try {
    json = JSON.stringify(value);
  } catch {
    // a cycle, or a bigint inside
  }
  return `\`${json ?? String(value)}\``;
}

export function requireObject(value, field, example) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, `${field} must be an object${example ? ` such as ${example}` : ""}, got ${show(value)}`);
  }
  return value;
}

export function requireArray(value, field) {
  if (!Array.isArray(value)) fail(field, `${field} must be an array, got ${show(value)}`);
  return value;
}

export function requireString(value, field) {
  if (typeof value !== "string") fail(field, `${field} must be a string, got ${show(value)}`);
  return value;
}

/** An array of strings, checked element by element (`names[3]`). */
export function requireStrings(value, field) {
  requireArray(value, field);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "string") fail(`${field}[${i}]`, `${field}[${i}] must be a string, got ${show(value[i])}`);
  }
  return value;
}

/** Refuses own keys outside `known` (a key whose value is `undefined` is not sent, so not checked). */
export function onlyKnown(value, field, known, what = "field") {
  for (const key in value) {
    if (!known.has(key) && value[key] !== undefined && Object.hasOwn(value, key)) {
      fail(`${field}.${key}`, `unknown ${what} \`${key}\` in ${field} (expected one of: ${[...known].join(", ")})`);
    }
  }
}

/**
 * `onlyKnown` for the objects of the hot path (a request and its actor), whose keys a `switch`
 * tells apart twice as fast as a `Set`; `true` when every own key is known.
 */
function requestKeysKnown(request) {
  for (const key in request) {
    switch (key) {
      case "package_name":
      case "package_type":
      case "repository_path":
      case "action":
      case "actor":
        continue;
      default:
        if (request[key] !== undefined && Object.hasOwn(request, key)) return false;
    }
  }
  return true;
}

function userKeysKnown(actor) {
  for (const key in actor) {
    if (key !== "type" && key !== "access_level" && actor[key] !== undefined && Object.hasOwn(actor, key)) return false;
  }
  return true;
}

/** One of GitLab's snake_case names, as its kebab-case WIT case. */
export function enumCase(value, field, cases, what) {
  const witCase = cases.get(value);
  if (witCase === undefined) {
    fail(field, `${field}: unknown ${what} ${show(value)} (expected one of: ${[...cases.keys()].join(", ")})`);
  }
  return witCase;
}

function optionalLevel(value, field) {
  return value == null ? undefined : enumCase(value, field, LEVEL, "access level");
}

function optionalId(value, field) {
  if (value == null) return undefined;
  if (!Number.isSafeInteger(value)) fail(field, `${field} must be an integer, got ${show(value)}`);
  return BigInt(value);
}

/** A GitLab REST rule (either kind; the pattern field tells which) as a WIT `rule`. */
export function witRule(rule, field) {
  requireObject(rule, field, "{ id, package_name_pattern, package_type, minimum_access_level_for_push }");
  onlyKnown(rule, field, RULE_FIELDS);
  const common = {
    id: optionalId(rule.id, `${field}.id`),
    projectId: optionalId(rule.project_id, `${field}.project_id`),
    minimumAccessLevelForPush: optionalLevel(rule.minimum_access_level_for_push, `${field}.minimum_access_level_for_push`),
    minimumAccessLevelForDelete: optionalLevel(
      rule.minimum_access_level_for_delete,
      `${field}.minimum_access_level_for_delete`,
    ),
  };
  const { package_name_pattern: name, repository_path_pattern: path, package_type: type } = rule;
  if (name != null && path != null) {
    fail(field, `${field} has either \`package_name_pattern\` or \`repository_path_pattern\`, not both`);
  }
  if (name != null) {
    if (type == null) fail(`${field}.package_type`, `${field} is a package rule without \`package_type\``);
    common.packageNamePattern = requireString(name, `${field}.package_name_pattern`);
    common.packageType = enumCase(type, `${field}.package_type`, PACKAGE_TYPE, "package type");
    return { tag: "package", val: common };
  }
  if (path != null) {
    if (type != null) {
      fail(`${field}.package_type`, `${field} is a container repository rule: it cannot have \`package_type\``);
    }
    common.repositoryPathPattern = requireString(path, `${field}.repository_path_pattern`);
    return { tag: "container-repository", val: common };
  }
  return fail(
    field,
    `${field} needs \`package_name_pattern\` (package rule) or \`repository_path_pattern\` (container repository rule)`,
  );
}

/** A list of GitLab REST rules as WIT rules; a bad element is reported as `field[index]`. */
export function witRules(rules, field) {
  requireArray(rules, field);
  const wit = new Array(rules.length);
  for (let i = 0; i < rules.length; i++) wit[i] = witRule(rules[i], `${field}[${i}]`);
  return wit;
}

/** A WIT rule back in GitLab's REST shape (levels the rule leaves open are `null`, as GitLab shows them). */
export function restRule({ tag, val }) {
  const rule = {};
  if (val.id !== undefined) rule.id = Number(val.id);
  if (val.projectId !== undefined) rule.project_id = Number(val.projectId);
  if (tag === "package") {
    rule.package_name_pattern = val.packageNamePattern;
    rule.package_type = snake(val.packageType);
  } else {
    rule.repository_path_pattern = val.repositoryPathPattern;
  }
  rule.minimum_access_level_for_push = val.minimumAccessLevelForPush ? snake(val.minimumAccessLevelForPush) : null;
  rule.minimum_access_level_for_delete = val.minimumAccessLevelForDelete
    ? snake(val.minimumAccessLevelForDelete)
    : null;
  return rule;
}

/** `{ type: "user", access_level }` or `{ type: "deploy_token" }` as a WIT `actor`. */
export function witActor(actor, field) {
  if (actor === null || typeof actor !== "object" || Array.isArray(actor)) {
    requireObject(actor, field, '{ type: "user", access_level: "developer" } or { type: "deploy_token" }');
  }
  if (actor.type === "user") {
    if (!userKeysKnown(actor)) onlyKnown(actor, field, USER_FIELDS);
    const wit = USER_ACTORS.get(actor.access_level);
    if (wit === undefined) enumCase(actor.access_level, `${field}.access_level`, LEVEL, "access level");
    return wit;
  }
  if (actor.type === "deploy_token") {
    onlyKnown(actor, field, DEPLOY_TOKEN_FIELDS);
    return DEPLOY_TOKEN;
  }
  return fail(`${field}.type`, `${field}.type: unknown actor type ${show(actor.type)} (expected user or deploy_token)`);
}

/**
 * `{ package_name, package_type, action, actor }` or `{ repository_path, action, actor }`
 * as a flat WIT `decision-request` (`{ kind, name, action, actor }`). `field` names the
 * request in errors (`request`, or `requests[index]`); it is only spelt out for an error.
 */
export function witRequest(request, field, index) {
  return fastRequest(request) ?? checkedRequest(request, index === undefined ? field : `${field}[${index}]`);
}

function deployTokenKeysKnown(actor) {
  for (const key in actor) {
    if (key !== "type" && actor[key] !== undefined && Object.hasOwn(actor, key)) return false;
  }
  return true;
}

/**
 * The hot path: a well-formed request converted with table lookups only, or `undefined` for
 * anything else, which `checkedRequest` then converts or refuses naming the field at fault.
 * It accepts nothing that `checkedRequest` would refuse.
 */
function fastRequest(request) {
  if (request === null || typeof request !== "object" || Array.isArray(request) || !requestKeysKnown(request)) {
    return undefined;
  }
  const { package_name: name, repository_path: path, package_type: type, actor } = request;
  let kind;
  let target;
  if (typeof name === "string" && path == null) {
    kind = PACKAGE_TYPE.get(type);
    target = name;
  } else if (typeof path === "string" && name == null && type == null) {
    kind = "container-repository";
    target = path;
  }
  const action = ACTION.get(request.action);
  if (kind === undefined || action === undefined || actor === null || typeof actor !== "object") return undefined;
  let wit;
  if (actor.type === "user") {
    wit = userKeysKnown(actor) ? USER_ACTORS.get(actor.access_level) : undefined;
  } else if (actor.type === "deploy_token") {
    wit = deployTokenKeysKnown(actor) ? DEPLOY_TOKEN : undefined;
  }
  return wit === undefined ? undefined : { kind, name: target, action, actor: wit };
}

/** `witRequest` checking every part, for a request the hot path did not take. */
function checkedRequest(request, field) {
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    requireObject(request, field, '{ package_name, package_type, action: "push", actor }');
  }
  if (!requestKeysKnown(request)) onlyKnown(request, field, REQUEST_FIELDS);
  const { package_name: name, repository_path: path, package_type: type } = request;
  let kind;
  let target;
  if (name != null) {
    if (path != null) fail(field, `${field} has either \`package_name\` or \`repository_path\`, not both`);
    if (type == null) fail(`${field}.package_type`, `${field} names a package without \`package_type\``);
    kind = enumCase(type, `${field}.package_type`, PACKAGE_TYPE, "package type");
    target = typeof name === "string" ? name : requireString(name, `${field}.package_name`);
  } else if (path != null) {
    if (type != null) {
      fail(`${field}.package_type`, `${field} names a container repository: it cannot have \`package_type\``);
    }
    kind = "container-repository";
    target = typeof path === "string" ? path : requireString(path, `${field}.repository_path`);
  } else {
    fail(field, `${field} needs \`package_name\` (with \`package_type\`) or \`repository_path\``);
  }
  return {
    kind,
    name: target,
    action: enumCase(request.action, `${field}.action`, ACTION, "action"),
    actor: witActor(request.actor, `${field}.actor`),
  };
}

/**
 * The options naming what many names are (`{ kind, action, actor }`, `decideNames` and
 * `NameList#decide`), as WIT values.
 */
export function witTargets(options, field) {
  requireObject(options, field, '{ kind: "npm", action: "push", actor: { type: "deploy_token" } }');
  onlyKnown(options, field, TARGET_OPTIONS, "option");
  return {
    kind: enumCase(options.kind, `${field}.kind`, TARGET_KIND, "target kind"),
    action: enumCase(options.action, `${field}.action`, ACTION, "action"),
    actor: witActor(options.actor, `${field}.actor`),
  };
}
const TARGET_OPTIONS = new Set(["kind", "action", "actor"]);

/** `{ kind }` (`preview`), as the WIT `target-kind`. */
export function witKindOption(options, field) {
  requireObject(options, field, '{ kind: "npm" }');
  onlyKnown(options, field, KIND_OPTIONS, "option");
  return enumCase(options.kind, `${field}.kind`, TARGET_KIND, "target kind");
}
const KIND_OPTIONS = new Set(["kind"]);

/** A WIT `decision` (scalars) as the JS API's `Summary`. */
export function restSummary({ allowed, blockingRules, firstBlockingRule }) {
  return {
    allowed,
    blocking_rules: blockingRules,
    first_blocking_rule: firstBlockingRule === undefined ? null : Number(firstBlockingRule),
  };
}

/** A WIT `explanation` as the JS API's `Decision`. */
export function restDecision({ allowed, blockingRuleIds, reason }) {
  return { allowed, blocking_rule_ids: Array.from(blockingRuleIds, Number), reason };
}

/** A WIT lint finding as GitLab-shaped JSON. */
export function restFinding({ kind, ruleIds, message }) {
  return { kind: snake(kind), rule_ids: Array.from(ruleIds, Number), message };
}

/** A WIT `preview-result` (typed arrays) as plain arrays of numbers. */
export function restPreview({ matched, spans, spanOffsets, undecidable }) {
  return {
    matched: Array.from(matched),
    spans: Array.from(spans),
    span_offsets: Array.from(spanOffsets),
    undecidable: Array.from(undecidable),
  };
}

/** A WIT `field` as the REST parameter it names (`minimum-access-levels`: both minimums, as GitLab reports them). */
export function restField(field) {
  return field === "minimum-access-levels" ? "minimum_access_level_for_push,minimum_access_level_for_delete" : snake(field);
}

/** A WIT `rejection` as `{ httpStatus, errors: [{ field, message }] }`. */
export function restRejection({ httpStatus, errors }) {
  return { httpStatus, errors: errors.map(({ field, message }) => ({ field: restField(field), message })) };
}

/** A WIT `compile-cause` as the `cause` of a `RuleSetError`. */
export function restCompileCause({ tag, val }) {
  switch (tag) {
    case "missing-id":
      return { kind: "missing_id", position: val };
    case "duplicate-id":
      return { kind: "duplicate_id", id: Number(val) };
    case "too-many-rules":
      return { kind: "too_many_rules" };
    case "level-not-allowed":
      return { kind: "level_not_allowed", rule_id: Number(val.ruleId), field: restField(val.field), level: snake(val.level) };
    case "blank-pattern":
      return { kind: "blank_pattern", rule_id: Number(val.ruleId), field: restField(val.field) };
    case "pattern-too-long":
      return { kind: "pattern_too_long", rule_id: Number(val.ruleId), field: restField(val.field), chars: val.chars };
    case "invalid-json":
      return { kind: "invalid_json", line: val.line, column: val.column };
    default:
      return { kind: snake(tag) };
  }
}

/** A WIT `decide-cause` as the `cause` of a `DecisionError`. */
export function restDecideCause({ tag, val }) {
  if (tag === "unevaluable") return { kind: "unevaluable", rule_id: Number(val.ruleId), pattern: val.pattern };
  return { kind: snake(tag) };
}

/** The value of a WIT rule's field named in REST terms (`minimum_access_level_for_push` → `developer`). */
function restValue({ tag, val }, field) {
  switch (field) {
    case "package_name_pattern":
      return tag === "package" ? val.packageNamePattern : undefined;
    case "repository_path_pattern":
      return tag === "package" ? undefined : val.repositoryPathPattern;
    case "minimum_access_level_for_push":
      return val.minimumAccessLevelForPush && snake(val.minimumAccessLevelForPush);
    case "minimum_access_level_for_delete":
      return val.minimumAccessLevelForDelete && snake(val.minimumAccessLevelForDelete);
    default:
      return undefined;
  }
}

/**
 * The position of the rule a cause is about: the first with `id` whose `field` fails
 * `check` (the core checks rules in order and stops at the first that fails), else the first
 * with `id`, else -1.
 */
function positionOf(wit, id, field, check) {
  let first = -1;
  for (let i = 0; i < wit.length; i++) {
    if (wit[i].val.id === undefined || Number(wit[i].val.id) !== id) continue;
    if (check(restValue(wit[i], field))) return i;
    if (first < 0) first = i;
  }
  return first;
}

const BLANK = /^[\s\u0085]*$/u;

/**
 * Where in the caller's rule list a compile cause points (`rules[1].id`): `wit` is the list
 * as converted (same positions), or `null` when the caller passed GitLab JSON text (`rules`).
 */
export function compileField(cause, wit, field = "rules") {
  if (wit === null) return field;
  let position = -1;
  let at = cause.field;
  switch (cause.kind) {
    case "missing_id":
      position = cause.position;
      at = "id";
      break;
    case "duplicate_id": {
      // The second occurrence is the one at fault.
      const id = BigInt(cause.id);
      const first = wit.findIndex((rule) => rule.val.id === id);
      position = wit.findIndex((rule, i) => i > first && rule.val.id === id);
      at = "id";
      break;
    }
    case "level_not_allowed":
      position = positionOf(wit, cause.rule_id, cause.field, (value) => value === cause.level);
      break;
    case "blank_pattern":
      position = positionOf(wit, cause.rule_id, cause.field, (value) => typeof value === "string" && BLANK.test(value));
      break;
    case "pattern_too_long":
      position = positionOf(wit, cause.rule_id, cause.field, (value) => typeof value === "string" && [...value].length === cause.chars);
      break;
    default:
      break;
  }
  return position < 0 || position >= wit.length ? field : `${field}[${position}].${at}`;
}

/**
 * Where a decide cause points: the pattern of the unevaluable rule (`rules[2].package_name_pattern`)
 * when the caller's list can be indexed (`wit`, as converted), else `rules`.
 */
export function decideField(cause, wit, field = "rules") {
  if (wit === null || cause.kind !== "unevaluable") return field;
  const id = BigInt(cause.rule_id);
  const position = wit.findIndex((rule) => rule.val.id === id);
  if (position < 0) return field;
  return `${field}[${position}].${wit[position].tag === "package" ? "package_name_pattern" : "repository_path_pattern"}`;
}
