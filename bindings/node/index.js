// @pkgprotect/node: GitLab-exact package protection rules for Node, answered by the very
// pkgprotect.wasm component every other host runs (transpiled by jco into generated/).
// This file only translates GitLab-shaped JSON to the WIT types and back (lib/convert.js)
// and turns the component's `err` results into thrown errors (lib/errors.js).
import { readFileSync } from "node:fs";
import {
  enumCase,
  onlyKnown,
  PACKAGE_TYPES,
  requireArray,
  requireObject,
  requireString,
  restDecision,
  restFinding,
  restRule,
  RULE_KINDS,
  show,
  utf16Spans,
  witRequest,
  witRule,
  witRules,
} from "./lib/convert.js";
import { DecisionError, fail, PkgprotectError, RuleSetError, RuleValidationError } from "./lib/errors.js";

export { DecisionError, PkgprotectError, RuleSetError, RuleValidationError };

let component;
try {
  component = await import("./generated/pkgprotect.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  throw new Error(
    "@pkgprotect/node is not built: run `npm run build` in bindings/node (after scripts/build-component.sh)",
    { cause: error },
  );
}
const { api, engine } = component;

/** The payload of an `err` result (jco throws it wrapped in a `ComponentError`). */
function errPayload(error) {
  if (error !== null && typeof error === "object" && "payload" in error) return error.payload;
  throw error;
}

/** Where a component message about a rule points: the `rules[i]` it names. */
function ruleIndex(rules, message) {
  const found = /^rule (?:at position (\d+)|id (-?\d+)|(-?\d+))\b/.exec(message);
  if (!found) return -1;
  if (found[1] !== undefined) return Number(found[1]);
  const id = BigInt(found[2] ?? found[3]);
  const indices = rules.flatMap((rule, index) => (rule.val.id === id ? [index] : []));
  // A repeated id: the second occurrence is the one at fault.
  return (found[2] !== undefined ? indices[1] : indices[0]) ?? -1;
}

function ruleField(rules, message, field) {
  const index = ruleIndex(rules, message);
  return index < 0 ? "rules" : `rules[${index}].${field}`;
}

function patternField(rule) {
  return rule.tag === "package" ? "package_name_pattern" : "repository_path_pattern";
}

/** The decision error for a failed query, pointing at the rule's pattern. */
function decisionError(rules, message) {
  const index = ruleIndex(rules, message);
  return new DecisionError(index < 0 ? "rules" : `rules[${index}].${patternField(rules[index])}`, message);
}

function compileError(rules, errors) {
  const [first] = errors;
  return new RuleSetError(ruleField(rules, first.message, first.field), errors);
}

/** The engine's version (the workspace version of the core compiled into the component). */
export function version() {
  return api.version();
}

const VALIDATE_OPTIONS = ["kind", "projectPath", "existingRules", "previous"];

/** `validate-params` for a GitLab create (or, with `previous`, update) request. */
function validateParams(rule, options) {
  if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
    fail("rule", `rule must be an object of GitLab REST parameters, got ${show(rule)}`);
  }
  requireObject(options, "options", '{ kind: "package" }');
  onlyKnown(options, "options", VALIDATE_OPTIONS, "option");
  if (options.kind == null) fail("options.kind", 'options.kind is required: "package" or "container_repository"');
  const kind = enumCase(options.kind, "options.kind", RULE_KINDS, "rule kind");
  const context = {
    projectPath: options.projectPath == null ? undefined : requireString(options.projectPath, "options.projectPath"),
    existingRules: options.existingRules == null ? [] : witRules(options.existingRules, "options.existingRules"),
    previous: options.previous == null ? undefined : witRule(options.previous, "options.previous"),
  };
  let json;
  try {
    json = JSON.stringify(rule);
  } catch (error) {
    fail("rule", `rule cannot be converted to JSON: ${error.message}`);
  }
  try {
    return { ok: api.validateParams(kind, json, context) };
  } catch (error) {
    return { errors: errPayload(error) };
  }
}

/**
 * GitLab's answer to creating (or, with `options.previous`, updating) a rule: the parameter
 * layer (400) then the model (422), every failure at once, with GitLab's messages.
 * A refusal is an answer, not an exception: `{ valid, httpStatus, errors: [{ field, message }] }`.
 */
export function validateRule(rule, options) {
  const { errors } = validateParams(rule, options);
  if (errors === undefined) return { valid: true, httpStatus: 201, errors: [] };
  return {
    valid: false,
    httpStatus: errors[0].httpStatus,
    errors: errors.map(({ field, message }) => ({ field, message })),
  };
}

/**
 * The rule GitLab would store for these parameters (REST shape), or a thrown
 * `RuleValidationError` carrying every failure (`errors`) and the first one's `field`,
 * `message` and `httpStatus`.
 */
export function parseRule(rule, options) {
  const { ok, errors } = validateParams(rule, options);
  if (errors !== undefined) throw new RuleValidationError(errors);
  return restRule(ok);
}

const FREED = Symbol("freed");
const token = Symbol("RuleSet");

/**
 * A compiled rule set: the rules cross into the component once, each decision then sends one
 * short request. It holds component memory: `free()` it (or `using rules = …`) when done.
 */
export class RuleSet {
  #inner;
  #rules;

  constructor(secret, inner, rules) {
    if (secret !== token) throw new TypeError("use RuleSet.compile(rules) or compileRules(rules)");
    this.#inner = inner;
    this.#rules = rules;
  }

  /**
   * Compile a project's rules (both kinds, as GitLab's API returns them). Throws a
   * `RuleSetError` when the list could not have come from GitLab (missing or repeated ids,
   * blank or over-long patterns, levels GitLab never stores); use `validateRule` for
   * GitLab's create checks.
   */
  static compile(rules) {
    const wit = witRules(rules, "rules");
    try {
      return new RuleSet(token, engine.RuleSet.compile(wit), wit);
    } catch (error) {
      throw compileError(wit, errPayload(error));
    }
  }

  #live() {
    if (this.#inner === FREED) {
      throw new PkgprotectError("this rule set was freed", { field: "this" });
    }
    return this.#inner;
  }

  /** The number of rules. */
  get length() {
    this.#live();
    return this.#rules.length;
  }

  /**
   * May this actor do this? Throws a `DecisionError` when GitLab's own query would fail (a
   * lone trailing `\` in a pattern the name reaches): treat such a request as refused.
   */
  decide(request) {
    const wit = witRequest(request, "request");
    try {
      return restDecision(this.#live().decide(wit));
    } catch (error) {
      throw decisionError(this.#rules, errPayload(error));
    }
  }

  /**
   * `decide` for many requests in one crossing. Each answer stands alone: a request GitLab
   * could not answer comes back as `{ allowed: false, error: { field, message } }`.
   */
  decideBatch(requests) {
    const wit = requireArray(requests, "requests").map((request, i) => witRequest(request, `requests[${i}]`));
    return this.#live()
      .decideBatch(wit)
      .map(({ tag, val }) => {
        if (tag === "ok") return restDecision(val);
        const { field, message } = decisionError(this.#rules, val);
        return { allowed: false, error: { field, message } };
      });
  }

  /** Advice: duplicate or subsumed rules, rules that restrict nothing, surprising escapes… */
  lint() {
    return this.#live().lint().map(restFinding);
  }

  /** Release the component memory now; further calls throw. Calling it twice is harmless. */
  free() {
    if (this.#inner === FREED) return;
    this.#inner[Symbol.dispose]();
    this.#inner = FREED;
  }

  [Symbol.dispose]() {
    this.free();
  }
}

/** `RuleSet.compile(rules)`, named as in the JS bindings (`bindings/js`). */
export function compileRules(rules) {
  return RuleSet.compile(rules);
}

/**
 * One-shot decision: compile `rules` and decide `request` in one call (the component's
 * `api.decide`). A rule set compiled once is much faster for more than one request.
 */
export function decide(rules, request) {
  const witList = witRules(rules, "rules");
  const wit = witRequest(request, "request");
  try {
    return restDecision(api.decide(witList, wit));
  } catch (error) {
    // The one-shot call reports both kinds of failure as a sentence naming the rule.
    const message = errPayload(error);
    if (/^rule -?\d+ cannot be evaluated/.test(message)) throw decisionError(witList, message);
    const field = /^rule -?\d+: `(\w+)`/.exec(message)?.[1] ?? "id";
    throw new RuleSetError(ruleField(witList, message, field), [{ field, message, httpStatus: 422 }]);
  }
}

function previewPackageType(options) {
  if (options == null) return undefined;
  requireObject(options, "options", '{ packageType: "npm" }');
  onlyKnown(options, "options", ["packageType"], "option");
  const type = options.packageType;
  return type == null ? undefined : enumCase(type, "options.packageType", PACKAGE_TYPES, "package type");
}

/**
 * Which of `names` `pattern` matches, as GitLab would for a rule of `options.packageType`
 * (omitted or `null`: a container repository rule), with the parts the pattern's literal
 * characters matched as `[start, end)` UTF-16 offsets (`name.slice(start, end)`).
 */
export function preview(pattern, names, options) {
  requireString(pattern, "pattern");
  requireArray(names, "names").forEach((name, i) => requireString(name, `names[${i}]`));
  const results = api.preview(pattern, previewPackageType(options), names);
  return results.map(({ matched, spans, error }, i) => {
    const name = names[i];
    const match = { name, matched, spans: utf16Spans(name, spans) };
    if (error !== undefined) match.error = error;
    return match;
  });
}

/**
 * Which component this SDK runs, as `npm run build` copied it: `{ source, bytes, sha256 }`
 * (compare `sha256` with `sha256sum target/pkgprotect.wasm`).
 */
export function componentInfo() {
  return JSON.parse(readFileSync(new URL("./generated/component.json", import.meta.url), "utf8"));
}
