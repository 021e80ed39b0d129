// Every exported function and class, through the built package, with good and bad input,
// and the typed error of every rejection path.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import * as api from "pkgprotect";
import {
  compileRules,
  decide,
  DecisionError,
  engineVersion,
  explain,
  NameList,
  parseRule,
  PkgprotectError,
  preview,
  RuleSet,
  RuleSetError,
  RuleValidationError,
  validateRule,
  version,
} from "pkgprotect";

const npmRule = (pattern, extra = {}) => ({
  package_name_pattern: pattern,
  package_type: "npm",
  minimum_access_level_for_push: "maintainer",
  ...extra,
});
const developer = { type: "user", access_level: "developer" };
const npmPush = (name, actor = developer) => ({ package_name: name, package_type: "npm", action: "push", actor });

/**
 * Runs `call`, which must throw an error of exactly class `type` for `field`; returns it.
 * Malformed arguments throw the base class itself, never one of its subclasses.
 */
function throwsFor(call, field, type = PkgprotectError) {
  let thrown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof Error, `expected an Error, got ${thrown}`);
  assert.equal(Object.getPrototypeOf(thrown), type.prototype, `${thrown.name}: ${thrown.message}`);
  assert.equal(thrown.name, type.name);
  assert.equal(thrown.field, field, thrown.message);
  assert.ok(typeof thrown.stack === "string" && thrown.stack.length > 0);
  assert.doesNotMatch(thrown.message, /panicked|unreachable|RuntimeError/);
  return thrown;
}

/** The `[start, end)` UTF-16 spans of `preview`'s `i`-th match, sliced out of `names`. */
function slices(result, names) {
  return result.matched.map((position, i) => {
    const flat = result.spans.slice(result.span_offsets[i], result.span_offsets[i + 1]);
    const parts = [];
    for (let j = 0; j < flat.length; j += 2) parts.push(names[position].slice(flat[j], flat[j + 1]));
    return [names[position], parts];
  });
}

test("the package exports exactly contract 0.2's API", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "DecisionError", "NameList", "PkgprotectError", "RuleSet", "RuleSetError", "RuleValidationError",
    "compileRules", "decide", "engineVersion", "explain", "initSync", "parseRule", "preview", "validateRule", "version",
  ]);
  for (const type of [RuleValidationError, RuleSetError, DecisionError]) {
    assert.equal(Object.getPrototypeOf(type.prototype), PkgprotectError.prototype);
  }
  assert.equal(Object.getPrototypeOf(PkgprotectError.prototype), Error.prototype);
});

test("the browser entry (index.js) exports the same API, its init() and the same error classes", async () => {
  const web = await import("../index.js");
  assert.deepEqual(Object.keys(web).sort(), [...Object.keys(api), "default"].sort());
  assert.equal(typeof web.default, "function");
  // One errors.js module behind both entries and the Wasm side: `instanceof` holds across them.
  for (const name of ["PkgprotectError", "RuleValidationError", "RuleSetError", "DecisionError", "RuleSet", "NameList"]) {
    assert.equal(web[name], api[name], name);
  }
  assert.ok(throwsFor(() => compileRules([{ id: 1 }]), "rules[0]") instanceof web.PkgprotectError);
});

test("version() is the contract's, engineVersion() the core crate's", () => {
  const wit = readFileSync(new URL("../../../crates/pkgprotect-component/wit/policy.wit", import.meta.url), "utf8");
  assert.equal(version(), "0.2.1");
  assert.match(wit, new RegExp(`^package pkgprotect:policy@${version().replaceAll(".", "\\.")};$`, "m"));
  const cargo = readFileSync(new URL("../../../Cargo.toml", import.meta.url), "utf8");
  const [, workspaceVersion] = cargo.match(/\[workspace\.package\][^[]*?version = "([^"]+)"/s);
  assert.equal(engineVersion(), workspaceVersion);
});

// A guard against growth at the size measured for this build (279,497 bytes with regex-lite
// validation; README.md#size says where the bytes go).
test("the wasm file stays within its measured size budget", () => {
  const size = statSync(new URL("../pkg/pkgprotect_js_bg.wasm", import.meta.url)).size;
  assert.ok(size <= 280 * 1024, `${size} bytes`);
});

test("validateRule accepts a rule GitLab would create", () => {
  assert.deepEqual(validateRule(npmRule("@demo/*"), { kind: "package" }), {
    valid: true,
    httpStatus: 201,
    errors: [],
  });
});

test("validateRule reports GitLab's model errors (422) with its messages", () => {
  assert.deepEqual(validateRule(npmRule("@demo/ bad"), { kind: "package" }), {
    valid: false,
    httpStatus: 422,
    errors: [
      {
        field: "package_name_pattern",
        message: "Package name pattern should be a valid NPM package name with optional wildcard characters.",
      },
    ],
  });
  const long = validateRule(npmRule("a".repeat(256)), { kind: "package" });
  assert.deepEqual(long.errors, [
    { field: "package_name_pattern", message: "Package name pattern is too long (maximum is 255 characters)" },
  ]);
  assert.equal(validateRule(npmRule("a".repeat(255)), { kind: "package" }).valid, true);
});

test("validateRule reports GitLab's parameter errors (400)", () => {
  const result = validateRule({ package_name_pattern: "x", package_type: "composer" }, { kind: "package" });
  assert.equal(result.httpStatus, 400);
  assert.deepEqual(result.errors, [
    { field: "package_type", message: "package_type does not have a valid value" },
    {
      field: "minimum_access_level_for_push,minimum_access_level_for_delete",
      message: "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided",
    },
  ]);
  // A JS `undefined` is not sent, as JSON.stringify drops it; `null` is sent.
  const undefinedMinimum = validateRule(
    { package_name_pattern: "x", package_type: "npm", minimum_access_level_for_push: undefined },
    { kind: "package" },
  );
  assert.equal(undefinedMinimum.httpStatus, 400);
  const nullMinimum = validateRule(
    { package_name_pattern: "x", package_type: "npm", minimum_access_level_for_push: null },
    { kind: "package" },
  );
  assert.deepEqual(nullMinimum.errors, [
    { field: "base", message: "A rule must have at least a minimum access role for push or delete." },
  ]);
});

test("validateRule checks uniqueness, the container path prefix and updates", () => {
  const existing = [{ id: 1, ...npmRule("@demo/*") }];
  const taken = validateRule(npmRule("@demo/*"), { kind: "package", existingRules: existing });
  assert.deepEqual(taken.errors, [{ field: "package_name_pattern", message: "Package name pattern has already been taken" }]);

  const container = { repository_path_pattern: "other/app/*", minimum_access_level_for_push: "owner" };
  const prefix = validateRule(container, { kind: "container_repository", projectPath: "group/app" });
  assert.deepEqual(prefix.errors, [
    { field: "repository_path_pattern", message: "Repository path pattern should start with the project's full path" },
  ]);
  assert.equal(validateRule(container, { kind: "container_repository" }).valid, true);

  // An update sends only what changes; the stored rule fills in the rest.
  const previous = { id: 5, repository_path_pattern: "group/app/*", minimum_access_level_for_push: "owner" };
  const update = validateRule(
    { minimum_access_level_for_push: "" },
    { kind: "container_repository", projectPath: "group/app", previous },
  );
  assert.deepEqual(update.errors, [
    { field: "base", message: "A rule must have at least a minimum access role for push or delete." },
  ]);
});

test("validateRule and parseRule throw PkgprotectError for bad arguments", () => {
  for (const call of [validateRule, parseRule]) {
    throwsFor(() => call(npmRule("a")), "options");
    throwsFor(() => call(npmRule("a"), null), "options");
    throwsFor(() => call(npmRule("a"), {}), "options.kind");
    const kind = throwsFor(() => call(npmRule("a"), { kind: "packages" }), "options.kind");
    assert.match(kind.message, /unknown rule kind `packages`/);
    throwsFor(() => call(npmRule("a"), { kind: "package", projectpath: "g/p" }), "options.projectpath");
    throwsFor(() => call(npmRule("a"), { kind: "package", projectPath: 3 }), "options.projectPath");
    throwsFor(() => call(npmRule("a"), { kind: "package", existingRules: {} }), "options.existingRules");
    throwsFor(() => call(undefined, { kind: "package" }), "rule");
    throwsFor(() => call("x", { kind: "package" }), "rule");
    throwsFor(() => call(null, { kind: "package" }), "rule");
    throwsFor(() => call([], { kind: "package" }), "rule");
    // GitLab's rule kinds only (the CLI's `container` alias is not one).
    throwsFor(() => call(npmRule("a"), { kind: "container" }), "options.kind");
    throwsFor(
      () => call(npmRule("a"), { kind: "package", existingRules: [{ ...npmRule("a"), id: 2 ** 60 }] }),
      "options.existingRules[0].id",
    );
    throwsFor(
      () => call(npmRule("a"), { kind: "package", previous: { ...npmRule("a"), id: 1, project_id: -(2 ** 53) } }),
      "options.previous.project_id",
    );
    const existing = throwsFor(
      () => call(npmRule("a"), { kind: "package", existingRules: [{ id: 1, package_name_pattern: "a" }] }),
      "options.existingRules[0].package_type",
    );
    assert.match(existing.message, /package_type/);
    throwsFor(
      () => call(npmRule("a"), { kind: "package", existingRules: [{ id: 1, ...npmRule("a"), minimum_access_level_for_push: 40 }] }),
      "options.existingRules[0].minimum_access_level_for_push",
    );
    throwsFor(() => call(npmRule("a"), { kind: "package", previous: { id: 1 } }), "options.previous");
    const cyclic = {};
    cyclic.self = cyclic;
    throwsFor(() => call(cyclic, { kind: "package" }), "rule");
  }
});

test("parseRule returns the rule GitLab would store", () => {
  assert.deepEqual(parseRule(npmRule("@demo/*"), { kind: "package" }), {
    package_name_pattern: "@demo/*",
    package_type: "npm",
    minimum_access_level_for_push: "maintainer",
    minimum_access_level_for_delete: null,
  });
  // An update: the stored rule with the parameters applied.
  const previous = { id: 5, repository_path_pattern: "group/app/*", minimum_access_level_for_push: "owner" };
  const updated = parseRule({ minimum_access_level_for_delete: "admin" }, { kind: "container_repository", previous });
  assert.equal(updated.repository_path_pattern, "group/app/*");
  assert.equal(updated.minimum_access_level_for_push, "owner");
  assert.equal(updated.minimum_access_level_for_delete, "admin");
});

test("parseRule throws RuleValidationError with GitLab's status, once, and every check", () => {
  const model = throwsFor(
    () => parseRule(npmRule("@demo/ bad"), { kind: "package" }),
    "package_name_pattern",
    RuleValidationError,
  );
  assert.equal(model.httpStatus, 422);
  assert.equal(model.message, "Package name pattern should be a valid NPM package name with optional wildcard characters.");
  assert.deepEqual(model.errors, [{ field: "package_name_pattern", message: model.message }]);

  const params = throwsFor(
    () => parseRule({ package_name_pattern: "x", package_type: "composer" }, { kind: "package" }),
    "package_type",
    RuleValidationError,
  );
  assert.equal(params.httpStatus, 400);
  assert.deepEqual(params.errors.map((e) => e.field), [
    "package_type",
    "minimum_access_level_for_push,minimum_access_level_for_delete",
  ]);
  assert.ok(params.errors.every((e) => Object.keys(e).join() === "field,message"), "no per-error status");
  // The same answer as validateRule, for every refusal.
  const validation = validateRule({ package_name_pattern: "x", package_type: "composer" }, { kind: "package" });
  assert.deepEqual({ httpStatus: params.httpStatus, errors: params.errors }, { httpStatus: 400, errors: validation.errors });
});

const demoRules = [
  { id: 1, ...npmRule("@demo/*") },
  { id: 2, ...npmRule("@demo/core"), minimum_access_level_for_push: "owner" },
  { id: 3, package_name_pattern: "my_pkg*", package_type: "pypi", minimum_access_level_for_push: "maintainer" },
  { id: 4, repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "admin" },
];

test("RuleSet.compile → decide (summary) and explain answer as GitLab", () => {
  const rules = RuleSet.compile(demoRules);
  try {
    assert.ok(rules instanceof RuleSet);
    assert.equal(rules.length, 4);
    assert.deepEqual(rules.decide(npmPush("@Demo/core")), { allowed: false, blocking_rules: 2, first_blocking_rule: 1 });
    const blocked = rules.explain(npmPush("@Demo/core"));
    assert.equal(blocked.allowed, false);
    assert.deepEqual(blocked.blocking_rule_ids, [1, 2]);
    assert.match(blocked.reason, /^blocked by rule 1 \(`@demo\/\*`\): push needs at least maintainer/);
    const maintainer = { type: "user", access_level: "maintainer" };
    assert.deepEqual(rules.decide(npmPush("@demo/core", maintainer)), {
      allowed: false,
      blocking_rules: 1,
      first_blocking_rule: 2,
    });
    assert.deepEqual(rules.decide(npmPush("@other/core")), { allowed: true, blocking_rules: 0, first_blocking_rule: null });
    assert.deepEqual(rules.explain(npmPush("@other/core")), {
      allowed: true,
      blocking_rule_ids: [],
      reason: "no protection rule blocks this request",
    });
    assert.equal(rules.decide(npmPush("@demo/x", { type: "user", access_level: "admin" })).allowed, true);
    // PyPI: users compare with separators made equal, deploy tokens literally.
    const pypi = (name, actor) => ({ package_name: name, package_type: "pypi", action: "push", actor });
    assert.deepEqual(rules.explain(pypi("My.Pkg-x", developer)).blocking_rule_ids, [3]);
    assert.equal(rules.decide(pypi("My.Pkg-x", { type: "deploy_token" })).allowed, true);
    const container = { repository_path: "group/app/web", action: "delete", actor: { type: "deploy_token" } };
    assert.deepEqual(rules.decide(container), { allowed: false, blocking_rules: 1, first_blocking_rule: 4 });
  } finally {
    rules.free();
  }
});

test("compileRules is RuleSet.compile, and GitLab's REST JSON text compiles like the array", () => {
  const fromArray = compileRules(demoRules);
  const fromJson = RuleSet.compile(JSON.stringify(demoRules, null, 2));
  try {
    assert.ok(fromArray instanceof RuleSet && fromJson instanceof RuleSet);
    assert.equal(fromJson.length, 4);
    for (const name of ["@demo/core", "@demo/x", "@other/x"]) {
      assert.deepEqual(fromJson.explain(npmPush(name)), fromArray.explain(npmPush(name)));
    }
    assert.deepEqual(fromJson.lint(), fromArray.lint());
  } finally {
    fromArray.free();
    fromJson.free();
  }
});

test("decideNames and decideBatch answer one verdict per name or request", () => {
  const rules = compileRules([
    { id: 1, ...npmRule("@demo/*") },
    { id: 2, package_name_pattern: "pkg\\", package_type: "generic", minimum_access_level_for_push: "maintainer" },
  ]);
  try {
    const options = { kind: "npm", action: "push", actor: developer };
    assert.deepEqual(rules.decideNames(["@demo/a", "@other/a", "  ", "@DEMO/ß"], options), [
      "blocked", "allowed", "allowed", "blocked",
    ]);
    assert.deepEqual(rules.decideNames(["pkgx", "pkg", "other"], { ...options, kind: "generic" }), [
      "undecidable", "allowed", "allowed",
    ]);
    assert.deepEqual(rules.decideNames(["@demo/a"], { ...options, actor: { type: "user", access_level: "maintainer" } }), [
      "allowed",
    ]);
    assert.deepEqual(rules.decideNames([], options), []);
    assert.deepEqual(
      rules.decideBatch([
        npmPush("@demo/a"),
        { package_name: "pkgx", package_type: "generic", action: "push", actor: developer },
        { ...npmPush("@demo/a"), action: "delete" },
        { repository_path: "@demo/a", action: "push", actor: { type: "deploy_token" } },
      ]),
      ["blocked", "undecidable", "allowed", "allowed"],
    );
    assert.deepEqual(rules.decideBatch([]), []);
  } finally {
    rules.free();
  }
});

test("decide and explain throw DecisionError where GitLab's query fails, pointing at the pattern", () => {
  const list = [
    { id: 1, ...npmRule("@demo/*") },
    { id: 7, package_name_pattern: "pkg\\", package_type: "generic", minimum_access_level_for_push: "maintainer" },
  ];
  const failing = { package_name: "pkgx", package_type: "generic", action: "push", actor: developer };
  const cause = { kind: "unevaluable", rule_id: 7, pattern: "pkg\\" };
  const field = "rules[1].package_name_pattern";
  const check = (error) => {
    assert.deepEqual(error.cause, cause);
    assert.match(error.message, /rule 7 cannot be evaluated against `pkgx`/);
  };
  const rules = compileRules(list);
  try {
    check(throwsFor(() => rules.decide(failing), field, DecisionError));
    check(throwsFor(() => rules.explain(failing), field, DecisionError));
  } finally {
    rules.free();
  }
  check(throwsFor(() => decide(list, failing), field, DecisionError));
  check(throwsFor(() => explain(list, failing), field, DecisionError));
  // Rules given as JSON text cannot be indexed by the caller: the field is the argument.
  const fromJson = compileRules(JSON.stringify(list));
  try {
    check(throwsFor(() => fromJson.decide(failing), "rules", DecisionError));
  } finally {
    fromJson.free();
  }
  check(throwsFor(() => decide(JSON.stringify(list), failing), "rules", DecisionError));
  check(throwsFor(() => explain(JSON.stringify(list), failing), "rules", DecisionError));
  // A container rule: its pattern field.
  const containers = [{ id: 3, repository_path_pattern: "g/p\\", minimum_access_level_for_push: "owner" }];
  const error = throwsFor(
    () => decide(containers, { repository_path: "g/px", action: "push", actor: developer }),
    "rules[0].repository_path_pattern",
    DecisionError,
  );
  assert.deepEqual(error.cause, { kind: "unevaluable", rule_id: 3, pattern: "g/p\\" });
});

test("one-shot decide and explain answer as a compiled rule set", () => {
  const rules = compileRules(demoRules);
  try {
    for (const request of [
      npmPush("@demo/core"),
      npmPush("@other/core"),
      npmPush("@demo/x", { type: "deploy_token" }),
      { package_name: "my.pkg", package_type: "pypi", action: "push", actor: developer },
      { repository_path: "group/app/x", action: "delete", actor: { type: "user", access_level: "owner" } },
    ]) {
      assert.deepEqual(decide(demoRules, request), rules.decide(request));
      assert.deepEqual(explain(demoRules, request), rules.explain(request));
      assert.deepEqual(decide(JSON.stringify(demoRules), request), rules.decide(request));
      assert.deepEqual(explain(JSON.stringify(demoRules), request), rules.explain(request));
    }
  } finally {
    rules.free();
  }
  // Many rules: still the compiled set's answers.
  const many = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, ...npmRule(`@team${i}/*`) }));
  assert.deepEqual(decide(many, npmPush("@team42/x")), { allowed: false, blocking_rules: 1, first_blocking_rule: 43 });
  assert.deepEqual(explain(many, npmPush("@team42/x")).blocking_rule_ids, [43]);
});

test("RuleSetError: every cause as data, the field in the caller's input", () => {
  const cases = [
    [[npmRule("a")], "rules[0].id", { kind: "missing_id", position: 0 }],
    [[{ id: 1, ...npmRule("a") }, { id: 2, ...npmRule("b") }, { id: 1, ...npmRule("c") }], "rules[2].id", { kind: "duplicate_id", id: 1 }],
    [
      [{ id: 1, ...npmRule("a") }, { id: 2, ...npmRule("  ") }],
      "rules[1].package_name_pattern",
      { kind: "blank_pattern", rule_id: 2, field: "package_name_pattern" },
    ],
    [
      [{ id: 9, repository_path_pattern: "é".repeat(256), minimum_access_level_for_push: "owner" }],
      "rules[0].repository_path_pattern",
      { kind: "pattern_too_long", rule_id: 9, field: "repository_path_pattern", chars: 256 },
    ],
    [
      [{ id: 1, ...npmRule("a"), minimum_access_level_for_delete: "maintainer" }],
      "rules[0].minimum_access_level_for_delete",
      { kind: "level_not_allowed", rule_id: 1, field: "minimum_access_level_for_delete", level: "maintainer" },
    ],
    // A repeated id: the rule at fault is the one showing the cause.
    [
      [{ id: 5, ...npmRule("a") }, { id: 5, ...npmRule("b"), minimum_access_level_for_push: "developer" }],
      "rules[1].minimum_access_level_for_push",
      { kind: "level_not_allowed", rule_id: 5, field: "minimum_access_level_for_push", level: "developer" },
    ],
  ];
  const request = npmPush("a");
  for (const [list, field, cause] of cases) {
    for (const call of [() => RuleSet.compile(list), () => compileRules(list), () => decide(list, request), () => explain(list, request)]) {
      const error = throwsFor(call, field, RuleSetError);
      assert.deepEqual(error.cause, cause);
    }
    // As JSON text the same cause, and the argument as a whole.
    for (const call of [() => RuleSet.compile(JSON.stringify(list)), () => decide(JSON.stringify(list), request)]) {
      assert.deepEqual(throwsFor(call, "rules", RuleSetError).cause, cause);
    }
  }
  // `too_many_rules` needs 2^32 rules: not testable here (the Rust unit tests cover its mapping).
});

test("RuleSetError for JSON text that is not GitLab's rule JSON: line and column", () => {
  const syntax = throwsFor(() => RuleSet.compile('[\n  {"id": 1,'), "rules", RuleSetError);
  assert.equal(syntax.cause.kind, "invalid_json");
  assert.equal(syntax.cause.line, 2);
  assert.deepEqual(Object.keys(syntax.cause), ["kind", "line", "column"]);
  const shape = throwsFor(
    () => decide('[{"id": 1, "package_name_pattern": "a", "package_type": "composer"}]', npmPush("a")),
    "rules",
    RuleSetError,
  );
  assert.deepEqual(shape.cause, { kind: "invalid_json", line: 1, column: 66 });
  throwsFor(() => compileRules('{"id": 1}'), "rules", RuleSetError);
  throwsFor(() => compileRules(""), "rules", RuleSetError);
  // A misspelt minimum must not silently weaken a rule.
  const typo = throwsFor(
    () => explain('[{"id":1,"repository_path_pattern":"a","minimum_acess_level_for_push":"owner"}]', npmPush("a")),
    "rules",
    RuleSetError,
  );
  assert.match(typo.message, /unknown field `minimum_acess_level_for_push`/);
});

test("compile, decide and the one-shot calls throw PkgprotectError for malformed arguments", () => {
  for (const compile of [RuleSet.compile, compileRules]) {
    throwsFor(() => compile(), "rules");
    throwsFor(() => compile({}), "rules");
    throwsFor(() => compile(null), "rules");
    throwsFor(() => compile([3]), "rules[0]");
    const typo = throwsFor(
      () => compile([{ id: 1, ...npmRule("a"), minimum_acess_level_for_delete: "owner" }]),
      "rules[0].minimum_acess_level_for_delete",
    );
    assert.match(typo.message, /unknown field `minimum_acess_level_for_delete`/);
    throwsFor(() => compile([{ id: 1, package_name_pattern: "a", package_type: "composer" }]), "rules[0].package_type");
    throwsFor(() => compile([{ id: "1", ...npmRule("a") }]), "rules[0].id");
    const missing = throwsFor(() => compile([{ id: 1, package_name_pattern: "a" }]), "rules[0].package_type");
    assert.match(missing.message, /package_type/);
    throwsFor(() => compile([{ id: 1, package_name_pattern: "a", repository_path_pattern: "b" }]), "rules[0]");
    throwsFor(() => compile([{ id: 1 }]), "rules[0]");
    // Ids must be exact JavaScript integers.
    throwsFor(() => compile([{ ...npmRule("a"), id: 2 ** 53 }]), "rules[0].id");
    throwsFor(() => compile([{ ...npmRule("a"), id: 1.5 }]), "rules[0].id");
    throwsFor(() => compile([{ id: 1, ...npmRule("a") }, { id: 2, project_id: 2 ** 60, ...npmRule("b") }]), "rules[1].project_id");
    assert.equal(compile([{ ...npmRule("a"), id: 2 ** 53 - 1 }]).length, 1);
  }
  for (const oneShot of [decide, explain]) {
    throwsFor(() => oneShot(demoRules), "request");
    throwsFor(() => oneShot(undefined, npmPush("a")), "rules");
    throwsFor(() => oneShot([{ id: 1 }], npmPush("a")), "rules[0]");
    throwsFor(() => oneShot(demoRules, { ...npmPush("a"), actor: { type: "user" } }), "request.actor.access_level");
    // A malformed request is reported even when the rules are JSON text the core would refuse.
    throwsFor(() => oneShot("not json", { ...npmPush("a"), action: "pull" }), "request.action");
  }

  const rules = compileRules(demoRules);
  try {
    for (const call of [(r) => rules.decide(r), (r) => rules.explain(r)]) {
      throwsFor(() => call(), "request");
      throwsFor(() => call(null), "request");
      const missing = throwsFor(() => call({ package_name: "a", action: "push", actor: developer }), "request.package_type");
      assert.match(missing.message, /missing field `package_type`/);
      throwsFor(() => call({ action: "push", actor: developer }), "request");
      throwsFor(() => call({ repository_path: "a", action: "pull", actor: developer }), "request.action");
      throwsFor(() => call({ ...npmPush("a"), package_type: "composer" }), "request.package_type");
      throwsFor(() => call({ ...npmPush("a"), actor: { type: "bot" } }), "request.actor.type");
      throwsFor(() => call({ ...npmPush("a"), actor: { type: "user" } }), "request.actor.access_level");
      throwsFor(() => call({ ...npmPush("a"), actor: { type: "user", access_level: "boss" } }), "request.actor.access_level");
      throwsFor(() => call({ ...npmPush("a"), actor: { ...developer, level: 30 } }), "request.actor.level");
      throwsFor(() => call({ ...npmPush("a"), actor: "developer" }), "request.actor");
      throwsFor(() => call({ package_name: "a", action: "push", actor: developer }), "request.package_type");
      throwsFor(() => call({ ...npmPush("a"), extra: 1 }), "request.extra");
      throwsFor(() => call({ ...npmPush("a"), repository_path: "a" }), "request");
    }
    throwsFor(
      () => rules.decideBatch([{ repository_path: "a", action: "push", actor: developer }, { action: "push" }]),
      "requests[1]",
    );
    throwsFor(() => rules.decideBatch([npmPush("a"), npmPush("b"), { ...npmPush("c"), actor: {} }]), "requests[2].actor.type");
    throwsFor(() => rules.decideBatch({}), "requests");
    throwsFor(() => rules.decideBatch(), "requests");

    const options = { kind: "npm", action: "push", actor: developer };
    throwsFor(() => rules.decideNames("a", options), "names");
    throwsFor(() => rules.decideNames(["a", 3], options), "names[1]");
    throwsFor(() => rules.decideNames(["a"]), "options");
    throwsFor(() => rules.decideNames(["a"], []), "options");
    throwsFor(() => rules.decideNames(["a"], { ...options, kind: undefined }), "options.kind");
    const kind = throwsFor(() => rules.decideNames(["a"], { ...options, kind: "package" }), "options.kind");
    assert.match(kind.message, /unknown target kind `package`/);
    throwsFor(() => rules.decideNames(["a"], { ...options, kind: "container" }), "options.kind");
    throwsFor(() => rules.decideNames(["a"], { ...options, action: "pull" }), "options.action");
    throwsFor(() => rules.decideNames(["a"], { kind: "npm", actor: developer }), "options.action");
    throwsFor(() => rules.decideNames(["a"], { ...options, actor: { type: "user", access_level: 30 } }), "options.actor.access_level");
    throwsFor(() => rules.decideNames(["a"], { ...options, actor: { type: "deploy-token" } }), "options.actor.type");
    throwsFor(() => rules.decideNames(["a"], { kind: "npm", action: "push" }), "options.actor");
    throwsFor(() => rules.decideNames(["a"], { ...options, packageType: "npm" }), "options.packageType");
  } finally {
    rules.free();
  }
});

test("lint() returns the core's findings", () => {
  const rules = compileRules([
    { id: 1, ...npmRule("@demo/*") },
    { id: 2, ...npmRule("@demo/*") },
    { id: 3, package_name_pattern: "100%", package_type: "generic", minimum_access_level_for_push: "owner" },
  ]);
  try {
    const findings = rules.lint();
    assert.ok(findings.some((f) => f.kind === "duplicate_pattern" && f.rule_ids.join() === "1,2"), JSON.stringify(findings));
    assert.ok(findings.some((f) => f.kind === "literal_wildcard_lookalike" && f.rule_ids.join() === "3"));
    for (const finding of findings) assert.equal(typeof finding.message, "string");
  } finally {
    rules.free();
  }
});

test("free() and Symbol.dispose release Wasm memory; using a released object throws", () => {
  const rules = compileRules(demoRules);
  rules.free();
  assert.throws(() => rules.lint());
  const disposed = compileRules(demoRules);
  disposed[Symbol.dispose]();
  assert.throws(() => disposed.decide(npmPush("a")));
  const names = new NameList(["a"]);
  names[Symbol.dispose]();
  assert.throws(() => names.preview("a", { kind: "npm" }));
  // A released rule set cannot be passed to a name list either.
  const list = new NameList(["a"]);
  try {
    assert.throws(() => list.decide(rules, { kind: "npm", action: "push", actor: developer }));
  } finally {
    list.free();
  }
});

test("preview() answers positions and flattened UTF-16 spans ready for String.prototype.slice", () => {
  const names = ["@demo/ui", "@other/ui", "😀@DEMO/x", ""];
  const result = preview("*@demo/*", names, { kind: "npm" });
  assert.deepEqual(result, { matched: [0, 2], spans: [0, 6, 2, 8], span_offsets: [0, 2, 4], undecidable: [] });
  assert.deepEqual(slices(result, names), [
    ["@demo/ui", ["@demo/"]],
    ["😀@DEMO/x", ["@DEMO/"]],
  ]);
  assert.deepEqual(preview("a", [], { kind: "npm" }), { matched: [], spans: [], span_offsets: [0], undecidable: [] });
});

test("NameList#previewFirst counts every match and lists the first `limit` with their spans", () => {
  const names = ["@demo/ui", "@other/ui", "😀@DEMO/x", "@demo/cli", "pkg\\", "@demo/api"];
  const list = new NameList(names);
  try {
    const full = list.preview("*@demo/*", { kind: "npm" });
    assert.deepEqual(full.matched, [0, 2, 3, 5]);
    for (const limit of [4, 10]) {
      assert.deepEqual(list.previewFirst("*@demo/*", { kind: "npm", limit }), { matched_count: 4, ...full });
    }
    const first = list.previewFirst("*@demo/*", { kind: "npm", limit: 2 });
    assert.deepEqual(first, {
      matched_count: 4, matched: [0, 2], spans: full.spans.slice(0, full.span_offsets[2]),
      span_offsets: full.span_offsets.slice(0, 3), undecidable: [],
    });
    assert.deepEqual(slices(first, names), [["@demo/ui", ["@demo/"]], ["😀@DEMO/x", ["@DEMO/"]]]);
    assert.deepEqual(list.previewFirst("*@demo/*", { kind: "npm", limit: 0 }),
      { matched_count: 4, matched: [], spans: [], span_offsets: [0], undecidable: [] });
    // Undecidable names are all reported whatever the limit; PyPI folding as in preview().
    assert.deepEqual(list.previewFirst("pkg\\", { kind: "generic", limit: 0 }).undecidable,
      list.preview("pkg\\", { kind: "generic" }).undecidable);
    throwsFor(() => list.previewFirst("a", { kind: "npm" }), "options.limit");
    throwsFor(() => list.previewFirst("a", { kind: "npm", limit: -1 }), "options.limit");
    throwsFor(() => list.previewFirst("a", { kind: "npm", limit: 1.5 }), "options.limit");
    throwsFor(() => list.previewFirst("a", { kind: "npm", limit: 1, extra: 1 }), "options.extra");
    throwsFor(() => list.previewFirst(3, { kind: "npm", limit: 1 }), "pattern");
  } finally {
    list.free();
  }
});

test("spans over non-ASCII names slice exactly the matched text (emoji, ß, İ, combining marks)", () => {
  const names = [
    "😀@DEMO/x", // a surrogate pair before the match
    "straße-tools", // ß is one code unit and lowers to itself (never to `ss`)
    "STRASSE-tools",
    "İstanbul-pkg", // İ lowers to plain `i` (PostgreSQL's simple mapping)
    "istanbul-pkg",
    "ıstanbul-pkg", // dotless ı is not `i`
    "cafe\u0301-ui", // e + combining acute: two code units, no normalization
    "café-ui", // precomposed é
    "👩‍👩‍👧-fam-😀", // a ZWJ sequence of 8 code units, and a trailing emoji
  ];
  const generic = { kind: "generic" };
  const cases = [
    ["*@demo/*", [["😀@DEMO/x", ["@DEMO/"]]]],
    ["straße*", [["straße-tools", ["straße"]]]],
    ["*ße-*", [["straße-tools", ["ße-"]]]],
    ["i*-pkg", [["İstanbul-pkg", ["İ", "-pkg"]], ["istanbul-pkg", ["i", "-pkg"]]]],
    ["İ*", [["İstanbul-pkg", ["İ"]], ["istanbul-pkg", ["i"]]]],
    ["*\u0301-ui", [["cafe\u0301-ui", ["\u0301-ui"]]]],
    ["café*", [["café-ui", ["café"]]]],
    ["*E\u0301*", [["cafe\u0301-ui", ["e\u0301"]]]],
    ["*-fam-*", [["👩‍👩‍👧-fam-😀", ["-fam-"]]]],
    ["*😀", [["👩‍👩‍👧-fam-😀", ["😀"]]]],
  ];
  const list = new NameList(names);
  try {
    for (const [pattern, expected] of cases) {
      const result = preview(pattern, names, generic);
      assert.deepEqual(slices(result, names), expected, pattern);
      assert.deepEqual(list.preview(pattern, generic), result, `${pattern}: NameList agrees with preview()`);
      // No span splits a surrogate pair.
      for (const offset of result.spans) {
        for (const name of result.matched.map((i) => names[i])) {
          const unit = name.charCodeAt(offset);
          if (offset < name.length) assert.ok(!(unit >= 0xdc00 && unit <= 0xdfff), `${pattern}: ${offset} in ${name}`);
        }
      }
    }
  } finally {
    list.free();
  }
  const [, straße] = names;
  assert.deepEqual(straße.slice(0, 6), "straße");
});

test("preview() follows the target kind and reports undecidable names", () => {
  const pypi = preview("my_pkg", ["My.Pkg", "my-pkgs"], { kind: "pypi" });
  assert.deepEqual(pypi.matched, [0]);
  assert.deepEqual(slices(pypi, ["My.Pkg"]), [["My.Pkg", ["My.Pkg"]]]);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"], { kind: "generic" }).matched, []);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"], { kind: "container_repository" }).matched, []);
  const failing = preview("pkg\\", ["pkgx", "other", "pkg", "pkgy"], { kind: "generic" });
  assert.deepEqual(failing, { matched: [], spans: [], span_offsets: [0], undecidable: [0, 3] });
});

test("preview() and NameList throw PkgprotectError for bad arguments", () => {
  throwsFor(() => preview("a", "a", { kind: "npm" }), "names");
  throwsFor(() => preview("a", ["a", 3], { kind: "npm" }), "names[1]");
  throwsFor(() => preview(3, ["a"], { kind: "npm" }), "pattern");
  throwsFor(() => preview(undefined, ["a"], { kind: "npm" }), "pattern");
  throwsFor(() => preview("a", ["a"]), "options");
  throwsFor(() => preview("a", ["a"], {}), "options.kind");
  throwsFor(() => preview("a", ["a"], { kind: "composer" }), "options.kind");
  throwsFor(() => preview("a", ["a"], { kind: 3 }), "options.kind");
  throwsFor(() => preview("a", ["a"], { kind: "npm", packageType: "npm" }), "options.packageType");
  throwsFor(() => new NameList("a"), "names");
  throwsFor(() => new NameList(), "names");
  throwsFor(() => new NameList([1]), "names[0]");
  const list = new NameList(["a"]);
  try {
    throwsFor(() => list.preview(null, { kind: "npm" }), "pattern");
    throwsFor(() => list.preview("a"), "options");
    throwsFor(() => list.preview("a", { kind: "packages" }), "options.kind");
    const rules = compileRules(demoRules);
    try {
      throwsFor(() => list.decide(rules), "options");
      throwsFor(() => list.decide(rules, { kind: "npm", action: "push", actor: null }), "options.actor");
    } finally {
      rules.free();
    }
    assert.throws(() => list.decide({}, { kind: "npm", action: "push", actor: developer }));
  } finally {
    list.free();
  }
});

test("NameList keeps names in Wasm memory: previews and decisions by position", () => {
  const names = ["@demo/ui", "@other/ui", "😀@DEMO/x", "", "@demo/core"];
  const list = new NameList(names);
  const rules = compileRules([...demoRules, { id: 5, ...npmRule("😀\\") }]);
  try {
    assert.equal(list.length, 5);
    const result = list.preview("*@demo/*", { kind: "npm" });
    assert.deepEqual(result, preview("*@demo/*", names, { kind: "npm" }));
    assert.deepEqual(result.matched, [0, 2, 4]);
    const options = { kind: "npm", action: "push", actor: developer };
    assert.deepEqual(list.decide(rules, options), ["blocked", "allowed", "undecidable", "allowed", "blocked"]);
    assert.deepEqual(list.decide(rules, options), rules.decideNames(names, options));
    const deployToken = { kind: "npm", action: "delete", actor: { type: "deploy_token" } };
    assert.deepEqual(list.decide(rules, deployToken), rules.decideNames(names, deployToken));
    assert.deepEqual(list.decide(rules, { ...options, kind: "container_repository" }), names.map(() => "allowed"));
    const empty = new NameList([]);
    assert.equal(empty.length, 0);
    assert.deepEqual(empty.decide(rules, options), []);
    empty.free();
  } finally {
    rules.free();
    list.free();
  }
});
