// GitLab-shaped JSON (snake_case REST fields, as the API and the conformance vectors spell
// them) ⇄ the types jco generates from policy.wit (camelCase records, kebab-case enums,
// tagged variants, bigint ids). Mechanical on purpose: every decision is the component's.
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
export const RULE_KINDS = ["package", "container_repository"];
const ACTIONS = ["push", "delete"];
const RULE_FIELDS = [
  "id", "project_id", "package_name_pattern", "package_type", "repository_path_pattern",
  "minimum_access_level_for_push", "minimum_access_level_for_delete",
];
const REQUEST_FIELDS = ["package_name", "package_type", "repository_path", "action", "actor"];

/** `value` as the caller wrote it, in backticks. */
export function show(value) {
  if (typeof value === "string") return `\`${value}\``;
  if (typeof value === "bigint") return `\`${value}n\``;
  return `\`${JSON.stringify(value) ?? String(value)}\``;
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

/** Refuses keys outside `known` (a key whose value is `undefined` is not sent, so not checked). */
export function onlyKnown(value, field, known, what = "field") {
  for (const key in value) {
    if (Object.hasOwn(value, key) && value[key] !== undefined && !known.includes(key)) {
      fail(`${field}.${key}`, `unknown ${what} \`${key}\` in ${field} (expected one of: ${known.join(", ")})`);
    }
  }
}

/** GitLab's snake_case names → the kebab-case WIT enum cases, one table per enum. */
const cases = new Map();
function caseTable(names) {
  if (!cases.has(names)) cases.set(names, new Map(names.map((name) => [name, name.replaceAll("_", "-")])));
  return cases.get(names);
}

/** One of GitLab's snake_case names, as the kebab-case WIT enum case. */
export function enumCase(value, field, names, what) {
  const witCase = caseTable(names).get(value);
  if (witCase === undefined) {
    fail(field, `${field}: unknown ${what} ${show(value)} (expected one of: ${names.join(", ")})`);
  }
  return witCase;
}

const snake = (name) => name.replaceAll("-", "_");

function optionalLevel(value, field) {
  return value == null ? undefined : enumCase(value, field, ACCESS_LEVELS, "access level");
}

function optionalId(value, field) {
  if (value == null) return undefined;
  if (!Number.isSafeInteger(value)) fail(field, `${field} must be an integer, got ${show(value)}`);
  return BigInt(value);
}

/** A GitLab REST rule (either kind; the pattern field tells which) as a WIT `rule`. */
export function witRule(rule, field) {
  requireObject(rule, field, "{ package_name_pattern, package_type, minimum_access_level_for_push }");
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
    common.packageType = enumCase(type, `${field}.package_type`, PACKAGE_TYPES, "package type");
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
  return requireArray(rules, field).map((rule, index) => witRule(rule, `${field}[${index}]`));
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

function witActor(actor, field) {
  requireObject(actor, field, '{ type: "user", access_level: "developer" } or { type: "deploy_token" }');
  if (actor.type === "user") {
    onlyKnown(actor, field, ["type", "access_level"]);
    return { tag: "user", val: enumCase(actor.access_level, `${field}.access_level`, ACCESS_LEVELS, "access level") };
  }
  if (actor.type === "deploy_token") {
    onlyKnown(actor, field, ["type"]);
    return { tag: "deploy-token" };
  }
  return fail(`${field}.type`, `${field}.type: unknown actor type ${show(actor.type)} (expected user or deploy_token)`);
}

/** `{ package_name, package_type | repository_path, action, actor }` as a WIT `decision-request`. */
export function witRequest(request, field) {
  requireObject(request, field, '{ package_name, package_type, action: "push", actor }');
  onlyKnown(request, field, REQUEST_FIELDS);
  const { package_name: name, repository_path: path, package_type: type } = request;
  let target;
  if (name != null && path != null) {
    fail(field, `${field} has either \`package_name\` or \`repository_path\`, not both`);
  } else if (name != null) {
    if (type == null) fail(`${field}.package_type`, `${field} names a package without \`package_type\``);
    target = {
      tag: "package",
      val: {
        name: requireString(name, `${field}.package_name`),
        packageType: enumCase(type, `${field}.package_type`, PACKAGE_TYPES, "package type"),
      },
    };
  } else if (path != null) {
    if (type != null) {
      fail(`${field}.package_type`, `${field} names a container repository: it cannot have \`package_type\``);
    }
    target = { tag: "container-repository", val: requireString(path, `${field}.repository_path`) };
  } else {
    fail(field, `${field} needs \`package_name\` (with \`package_type\`) or \`repository_path\``);
  }
  return {
    target,
    action: enumCase(request.action, `${field}.action`, ACTIONS, "action"),
    actor: witActor(request.actor, `${field}.actor`),
  };
}

/** A WIT decision as GitLab-shaped JSON. */
export function restDecision({ allowed, blockingRuleIds, reason }) {
  return { allowed, blocking_rule_ids: Array.from(blockingRuleIds, Number), reason };
}

/** A WIT lint finding as GitLab-shaped JSON. */
export function restFinding({ kind, ruleIds, message }) {
  return { kind, rule_ids: Array.from(ruleIds, Number), message };
}

/**
 * Byte offsets into `name`'s UTF-8 (what the component reports) as UTF-16 offsets (JS string
 * indices, what the JS bindings report), so that `name.slice(start, end)` is the span.
 */
export function utf16Spans(name, spans) {
  if (spans.length === 0 || !/[^\x00-\x7f]/.test(name)) return spans;
  const units = new Map();
  let bytes = 0;
  let index = 0;
  for (const char of name) {
    units.set(bytes, index);
    const point = char.codePointAt(0);
    // A lone surrogate crosses as U+FFFD, three bytes.
    bytes += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
    index += char.length;
  }
  units.set(bytes, index);
  return spans.map(([start, end]) => [units.get(start), units.get(end)]);
}
