// @pkgprotect/node: GitLab-exact package protection rules for Node, answered by the very
// pkgprotect.wasm component every other host runs (contract pkgprotect:policy@0.2.1,
// transpiled by jco into generated/). This file only translates GitLab-shaped JSON to the WIT
// types and back (lib/convert.js) and turns the component's `err` results into typed errors
// built from their data (lib/errors.js). The API is the JS bindings' (bindings/js).
import {
  compileField,
  decideField,
  enumCase,
  onlyKnown,
  requireObject,
  requireString,
  requireStrings,
  restCompileCause,
  restDecideCause,
  restDecision,
  restFinding,
  restPreview,
  restRejection,
  restRule,
  restSummary,
  RULE_KIND,
  show,
  witKindOption,
  witRequest,
  witRule,
  witRules,
  witTargets,
} from "./lib/convert.js";
import { DecisionError, fail, PkgprotectError, RuleSetError, RuleValidationError } from "./lib/errors.js";

export { DecisionError, PkgprotectError, RuleSetError, RuleValidationError };

/** The contract this SDK translates; a component of another version is refused at import. */
const CONTRACT = "0.2.1";

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
{
  const found = typeof api?.version === "function" ? api.version() : undefined;
  if (found !== CONTRACT) {
    throw new Error(
      `@pkgprotect/node speaks pkgprotect:policy@${CONTRACT}, but the component in generated/ ` +
        (found === undefined ? "has no `api.version`" : `reports \`${found}\``) +
        ": rebuild it (scripts/build-component.sh, then `npm run build` in bindings/node)",
    );
  }
}

/** The payload of an `err` result (jco throws it wrapped in a `ComponentError`); anything else is rethrown. */
function errPayload(error) {
  if (error instanceof Error && "payload" in error) return error.payload;
  throw error;
}

/** The contract version the component implements, `"0.2.1"`. */
export function version() {
  return api.version();
}

/** The version of the core engine inside the component (the workspace's crate version). */
export function engineVersion() {
  return api.engineVersion();
}

const VALIDATE_OPTIONS = new Set(["kind", "projectPath", "existingRules", "previous"]);

/** `validate-params` for a GitLab create (or, with `previous`, update) request. */
function validateParams(rule, options) {
  if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
    fail("rule", `rule must be an object of GitLab REST parameters, got ${show(rule)}`);
  }
  requireObject(options, "options", '{ kind: "package" }');
  onlyKnown(options, "options", VALIDATE_OPTIONS, "option");
  if (options.kind == null) fail("options.kind", 'options.kind is required: "package" or "container_repository"');
  const kind = enumCase(options.kind, "options.kind", RULE_KIND, "rule kind");
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
    return { refused: restRejection(errPayload(error)) };
  }
}

/**
 * GitLab's answer to creating (or, with `options.previous`, updating) a rule: the parameter
 * layer (400) then the model (422), every failure at once, with GitLab's messages.
 * A refusal is an answer, not an exception: `{ valid, httpStatus, errors: [{ field, message }] }`.
 */
export function validateRule(rule, options) {
  const { refused } = validateParams(rule, options);
  if (refused === undefined) return { valid: true, httpStatus: 201, errors: [] };
  return { valid: false, httpStatus: refused.httpStatus, errors: refused.errors };
}

/**
 * The rule GitLab would store for these parameters (REST shape), or a thrown
 * `RuleValidationError` with GitLab's status (`httpStatus`) and every failure (`errors`).
 */
export function parseRule(rule, options) {
  const { ok, refused } = validateParams(rule, options);
  if (refused !== undefined) throw new RuleValidationError(refused.httpStatus, refused.errors);
  return restRule(ok);
}

/**
 * Rules as a WIT `rule-source`: a string is GitLab's REST JSON, parsed by the core; an array
 * is converted here and passed typed (measured faster through jco than serializing it to
 * JSON for the core to parse: README, Performance). `wit` keeps the converted list, to point
 * errors at `rules[i]`; `null` for JSON text.
 */
function ruleSource(rules) {
  if (typeof rules === "string") return { source: { tag: "gitlab-json", val: rules }, wit: null };
  if (!Array.isArray(rules)) {
    fail("rules", `rules must be an array of rules or GitLab's REST JSON text, got ${show(rules)}`);
  }
  const wit = witRules(rules, "rules");
  return { source: { tag: "typed", val: wit }, wit };
}

function ruleSetError(error, wit) {
  const cause = restCompileCause(error.cause);
  return new RuleSetError(error.message, { field: compileField(cause, wit), cause });
}

function decisionError(error, wit) {
  const cause = restDecideCause(error.cause);
  return new DecisionError(error.message, { field: decideField(cause, wit), cause });
}

const FREED = Symbol("freed");
const token = Symbol("RuleSet");
/** The live WIT rule set behind a `RuleSet` (for `NameList#decide`). */
let liveRuleSet;

/**
 * A compiled rule set: the rules cross into the component once, each decision then sends one
 * short request. It holds component memory: `free()` it (or `using rules = …`) when done.
 */
export class RuleSet {
  #inner;
  #wit;
  #length;

  static {
    liveRuleSet = (set, field) => set.#live(field);
  }

  constructor(secret, inner, wit) {
    if (secret !== token) throw new TypeError("use RuleSet.compile(rules) or compileRules(rules)");
    this.#inner = inner;
    this.#wit = wit;
    // An array's length is known; JSON text's is asked of the component when first needed.
    this.#length = wit === null ? undefined : wit.length;
  }

  /**
   * Compile a project's rules: an array of rules of both kinds as GitLab's API returns them,
   * or that JSON as text. Throws a `RuleSetError` when the list could not have come from
   * GitLab (missing or repeated ids, blank or over-long patterns, levels GitLab never
   * stores, text that is not GitLab's JSON); use `validateRule` for GitLab's create checks.
   */
  static compile(rules) {
    const { source, wit } = ruleSource(rules);
    let inner;
    try {
      inner = engine.RuleSet.compile(source);
    } catch (error) {
      throw ruleSetError(errPayload(error), wit);
    }
    return new RuleSet(token, inner, wit);
  }

  #live(field = "this") {
    if (this.#inner === FREED) {
      throw new PkgprotectError(field === "this" ? "this rule set was freed" : `${field} is a rule set that was freed`, { field });
    }
    return this.#inner;
  }

  /** The number of rules. */
  get length() {
    const inner = this.#live();
    this.#length ??= inner.len();
    return this.#length;
  }

  /**
   * May the actor do this? `{ allowed, blocking_rules, first_blocking_rule }`, nothing more:
   * `explain` says why. Throws a `DecisionError` when no decision can be made (GitLab's own
   * query fails for this name): refuse the request.
   */
  decide(request) {
    const wit = witRequest(request, "request");
    const inner = this.#live();
    let summary;
    try {
      summary = inner.decide(wit);
    } catch (error) {
      throw decisionError(errPayload(error), this.#wit);
    }
    return restSummary(summary);
  }

  /** The same answer with every blocking rule id and the reason: `{ allowed, blocking_rule_ids, reason }`. */
  explain(request) {
    const wit = witRequest(request, "request");
    const inner = this.#live();
    let explanation;
    try {
      explanation = inner.explain(wit);
    } catch (error) {
      throw decisionError(errPayload(error), this.#wit);
    }
    return restDecision(explanation);
  }

  /**
   * One verdict per name (`"allowed"`, `"blocked"`, `"undecidable"`: refuse), for names of
   * one `kind` (a package type or `container_repository`), one action and one actor.
   */
  decideNames(names, options) {
    requireStrings(names, "names");
    const { kind, action, actor } = witTargets(options, "options");
    return this.#live().decideNames(kind, names, action, actor);
  }

  /** One verdict per request, in order, for requests of mixed kinds, actions and actors. */
  decideBatch(requests) {
    if (!Array.isArray(requests)) fail("requests", `requests must be an array, got ${show(requests)}`);
    const wit = new Array(requests.length);
    for (let i = 0; i < requests.length; i++) wit[i] = witRequest(requests[i], "requests", i);
    return this.#live().decideBatch(wit);
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

/** `RuleSet.compile(rules)`. */
export function compileRules(rules) {
  return RuleSet.compile(rules);
}

/**
 * Names kept in the component's memory, previewed against many patterns (and decided against
 * rule sets) without being sent again. Spans count UTF-16 code units: `name.slice(start, end)`.
 * `free()` it (or `using names = …`) when done.
 */
export class NameList {
  #inner;
  #length;

  constructor(names) {
    requireStrings(names, "names");
    this.#inner = new engine.NameList(names, "utf16-code-units");
    this.#length = names.length;
  }

  #live() {
    if (this.#inner === FREED) throw new PkgprotectError("this name list was freed", { field: "this" });
    return this.#inner;
  }

  /** The number of names. */
  get length() {
    this.#live();
    return this.#length;
  }

  /** Which names `pattern` matches as a rule for targets of `options.kind` would. */
  preview(pattern, options) {
    requireString(pattern, "pattern");
    const kind = witKindOption(options, "options");
    return restPreview(this.#live().preview(pattern, kind));
  }

  /** One verdict per name: would `rules` let `options.actor` do `options.action` to each, as a target of `options.kind`? */
  decide(rules, options) {
    if (!(rules instanceof RuleSet)) fail("rules", `rules must be a RuleSet, got ${show(rules)}`);
    const { kind, action, actor } = witTargets(options, "options");
    return this.#live().decide(liveRuleSet(rules, "rules"), kind, action, actor);
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

/** Runs a one-shot call; its `err` becomes a `RuleSetError` or a `DecisionError`. */
function oneShot(call, rules, request) {
  const { source, wit } = ruleSource(rules);
  const witReq = witRequest(request, "request");
  try {
    return call(source, witReq);
  } catch (error) {
    const { tag, val } = errPayload(error);
    throw tag === "rules-refused" ? ruleSetError(val, wit) : decisionError(val, wit);
  }
}

/**
 * One-shot decision: compile `rules` and decide `request` in one call (few rules are scanned,
 * not indexed). A rule set compiled once is much faster for more than one request.
 */
export function decide(rules, request) {
  return restSummary(oneShot(api.decide, rules, request));
}

/** One-shot `explain`: every blocking rule id and the reason. */
export function explain(rules, request) {
  return restDecision(oneShot(api.explain, rules, request));
}

/**
 * Which of `names` `pattern` matches, as a rule for targets of `options.kind` would: positions
 * into `names`, spans in UTF-16 code units (`names[i].slice(start, end)`). For many patterns
 * over the same names, a `NameList` sends the names once.
 */
export function preview(pattern, names, options) {
  requireString(pattern, "pattern");
  requireStrings(names, "names");
  const kind = witKindOption(options, "options");
  return restPreview(api.preview(pattern, kind, names, "utf16-code-units"));
}
