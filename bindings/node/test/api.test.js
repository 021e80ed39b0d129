// Every export of @pkgprotect/node, with good and bad input, through the built package.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
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
} from "@pkgprotect/node";
import { refuses } from "./helpers.js";

const rule = (id, pattern, push = "maintainer", extra = {}) => ({
  id,
  package_name_pattern: pattern,
  package_type: "npm",
  minimum_access_level_for_push: push,
  ...extra,
});
const user = (access_level) => ({ type: "user", access_level });
const push = (name, actor, package_type = "npm") => ({ package_name: name, package_type, action: "push", actor });
const project = [
  rule(1, "@demo/*", "maintainer", { minimum_access_level_for_delete: "owner" }),
  rule(2, "@demo/core", "owner"),
  { id: 3, package_name_pattern: "my_pkg*", package_type: "pypi", minimum_access_level_for_push: "maintainer" },
  { id: 4, repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "admin" },
];
const unevaluable = { id: 9, package_name_pattern: "pkg\\", package_type: "generic", minimum_access_level_for_push: "owner" };

/** `explain`'s answer as `decide` must give it. */
const summaryOf = ({ allowed, blocking_rule_ids: ids }) => ({
  allowed,
  blocking_rules: ids.length,
  first_blocking_rule: ids[0] ?? null,
});

test("version() is the contract's, engineVersion() the workspace's", () => {
  assert.equal(version(), "0.2.1");
  const manifest = readFileSync(new URL("../../../Cargo.toml", import.meta.url), "utf8");
  const workspace = /\[workspace\.package\][\s\S]*?\nversion = "([^"]+)"/.exec(manifest);
  assert.equal(engineVersion(), workspace[1]);
});

test("validateRule returns GitLab's answer: 201, 422 model errors, 400 parameter errors", () => {
  assert.deepEqual(validateRule(rule(undefined, "@demo/*"), { kind: "package" }), {
    valid: true,
    httpStatus: 201,
    errors: [],
  });
  assert.deepEqual(validateRule(rule(undefined, "@demo/ bad"), { kind: "package", projectPath: null }), {
    valid: false,
    httpStatus: 422,
    errors: [
      {
        field: "package_name_pattern",
        message: "Package name pattern should be a valid NPM package name with optional wildcard characters.",
      },
    ],
  });
  const params = validateRule({ package_name_pattern: "x", package_type: "rubygems" }, { kind: "package" });
  assert.equal(params.valid, false);
  assert.equal(params.httpStatus, 400);
  assert.deepEqual(
    params.errors.map((e) => e.field),
    ["package_type", "minimum_access_level_for_push,minimum_access_level_for_delete"],
  );
  for (const error of params.errors) assert.deepEqual(Object.keys(error), ["field", "message"]);
});

test("validateRule checks uniqueness against existing rules, the project path, and updates", () => {
  const taken = validateRule(rule(undefined, "@demo/*"), { kind: "package", existingRules: project });
  assert.deepEqual(taken.errors, [{ field: "package_name_pattern", message: "Package name pattern has already been taken" }]);
  const image = { repository_path_pattern: "elsewhere/*", minimum_access_level_for_push: "maintainer" };
  assert.equal(validateRule(image, { kind: "container_repository", projectPath: "group/app" }).httpStatus, 422);
  assert.equal(validateRule(image, { kind: "container_repository" }).valid, true);
  const update = validateRule({ minimum_access_level_for_push: "owner" }, { kind: "package", previous: project[0] });
  assert.equal(update.valid, true);
});

test("parseRule returns the rule GitLab would store, or throws RuleValidationError with GitLab's 400 or 422", () => {
  assert.deepEqual(
    parseRule({ repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "owner" }, {
      kind: "container_repository",
      projectPath: "group/app",
    }),
    { repository_path_pattern: "group/app/*", minimum_access_level_for_push: null, minimum_access_level_for_delete: "owner" },
  );
  const updated = parseRule({ minimum_access_level_for_delete: "owner" }, { kind: "package", previous: project[1] });
  assert.equal(updated.package_name_pattern, "@demo/core");
  assert.equal(updated.minimum_access_level_for_delete, "owner");

  const params = refuses(
    () => parseRule({ package_name_pattern: "x", package_type: "rubygems" }, { kind: "package" }),
    RuleValidationError,
    "package_type",
  );
  assert.equal(params.httpStatus, 400);
  assert.equal(params.message, "package_type does not have a valid value");
  assert.deepEqual(params.errors, [
    { field: "package_type", message: "package_type does not have a valid value" },
    {
      field: "minimum_access_level_for_push,minimum_access_level_for_delete",
      message: "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided",
    },
  ]);
  // The model's messages are GitLab's, capitalized as Rails writes them: compared, not checked for case.
  let model;
  try {
    parseRule(rule(undefined, "UPPER/x"), { kind: "package" });
  } catch (error) {
    model = error;
  }
  assert.ok(model instanceof RuleValidationError);
  assert.equal(model.httpStatus, 422);
  assert.equal(model.field, "package_name_pattern");
  assert.deepEqual(model.errors.map((e) => e.field), ["package_name_pattern"]);
  assert.equal(model.message, model.errors[0].message);
});

test("validateRule and parseRule refuse malformed arguments with the field at fault", () => {
  const ok = rule(undefined, "@demo/*");
  const cases = [
    [() => validateRule(ok), "options"],
    [() => validateRule(ok, { kind: undefined }), "options.kind"],
    [() => validateRule(ok, { kind: "containers" }), "options.kind"],
    [() => validateRule(ok, { kind: "package", projectpath: "g/p" }), "options.projectpath"],
    [() => validateRule(ok, { kind: "package", projectPath: 7 }), "options.projectPath"],
    [() => validateRule(ok, { kind: "package", existingRules: {} }), "options.existingRules"],
    [() => validateRule(ok, { kind: "package", existingRules: [{ id: 1, package_name_pattern: "a" }] }), "options.existingRules[0].package_type"],
    [() => validateRule(ok, { kind: "package", previous: [] }), "options.previous"],
    [() => validateRule(null, { kind: "package" }), "rule"],
    [() => validateRule(["@demo/*"], { kind: "package" }), "rule"],
    [() => parseRule({ big: 1n }, { kind: "package" }), "rule"],
  ];
  for (const [call, field] of cases) refuses(call, PkgprotectError, field);
  const kind = refuses(() => validateRule(ok, { kind: "pkg" }), PkgprotectError, "options.kind");
  assert.equal(kind.message, "options.kind: unknown rule kind `pkg` (expected one of: package, container_repository)");
});

test("RuleSet.compile → decide answers with scalars, explain with every blocking rule and the reason", () => {
  const rules = RuleSet.compile(project);
  try {
    assert.equal(rules.length, 4);
    const request = push("@Demo/core", user("developer"));
    assert.deepEqual(rules.decide(request), { allowed: false, blocking_rules: 2, first_blocking_rule: 1 });
    const why = rules.explain(request);
    assert.deepEqual(why.blocking_rule_ids, [1, 2]);
    assert.equal(why.allowed, false);
    assert.equal(why.reason, "blocked by rule 1 (`@demo/*`): push needs at least maintainer (and 1 more rule)");
    assert.deepEqual(rules.explain(push("@demo/core", user("maintainer"))).blocking_rule_ids, [2]);
    assert.deepEqual(rules.explain(push("@demo/ui", user("admin"))), {
      allowed: true,
      blocking_rule_ids: [],
      reason: "administrators are never blocked by protection rules",
    });
    assert.deepEqual(rules.decide(push("unscoped", user("guest"))), { allowed: true, blocking_rules: 0, first_blocking_rule: null });
    const remove = { package_name: "@demo/ui", package_type: "npm", action: "delete", actor: user("maintainer") };
    const pypi = push("My.Pkg-x", user("developer"), "pypi");
    const image = { repository_path: "group/app/web", action: "delete", actor: user("owner") };
    const token = push("@demo/ui", { type: "deploy_token" });
    const expected = [
      [remove, [1]], // delete has its own minimum
      [pypi, [3]], // PyPI users compare with separators made equal
      [image, [4]],
      [token, [1]],
    ];
    for (const [ask, ids] of expected) {
      const answer = rules.explain(ask);
      assert.deepEqual(answer.blocking_rule_ids, ids, JSON.stringify(ask));
      assert.deepEqual(rules.decide(ask), summaryOf(answer), JSON.stringify(ask));
    }
  } finally {
    rules.free();
  }
});

test("RuleSet.compile of GitLab's JSON text answers as the same rules given as an array", () => {
  const fromText = RuleSet.compile(JSON.stringify(project));
  const fromArray = compileRules(project);
  try {
    assert.ok(fromText instanceof RuleSet && fromArray instanceof RuleSet);
    assert.equal(fromText.length, 4);
    const asks = [
      push("@Demo/core", user("developer")),
      push("My.Pkg-x", user("developer"), "pypi"),
      { repository_path: "group/app/web", action: "delete", actor: user("owner") },
      push("other", { type: "deploy_token" }),
    ];
    for (const ask of asks) {
      assert.deepEqual(fromText.explain(ask), fromArray.explain(ask));
      assert.deepEqual(fromText.decide(ask), fromArray.decide(ask));
    }
    assert.deepEqual(fromText.decideBatch(asks), fromArray.decideBatch(asks));
    assert.deepEqual(fromText.lint(), fromArray.lint());
  } finally {
    fromText.free();
    fromArray.free();
  }
  assert.throws(() => new RuleSet(), /use RuleSet\.compile/);
});

test("RuleSetError: each cause as data, with the field in the caller's list, and no HTTP status", () => {
  const cases = [
    [[rule(1, "a"), rule(undefined, "b")], "rules[1].id", { kind: "missing_id", position: 1 }],
    [[rule(1, "a"), rule(2, "b"), rule(1, "c")], "rules[2].id", { kind: "duplicate_id", id: 1 }],
    [
      [rule(5, "a", "guest")],
      "rules[0].minimum_access_level_for_push",
      { kind: "level_not_allowed", rule_id: 5, field: "minimum_access_level_for_push", level: "guest" },
    ],
    [
      [{ id: 6, repository_path_pattern: "a/*", minimum_access_level_for_delete: "developer" }],
      "rules[0].minimum_access_level_for_delete",
      { kind: "level_not_allowed", rule_id: 6, field: "minimum_access_level_for_delete", level: "developer" },
    ],
    [
      [rule(1, "a"), rule(2, "   ")],
      "rules[1].package_name_pattern",
      { kind: "blank_pattern", rule_id: 2, field: "package_name_pattern" },
    ],
    [
      [{ id: 3, repository_path_pattern: "" }],
      "rules[0].repository_path_pattern",
      { kind: "blank_pattern", rule_id: 3, field: "repository_path_pattern" },
    ],
    [
      [rule(1, "a".repeat(256))],
      "rules[0].package_name_pattern",
      { kind: "pattern_too_long", rule_id: 1, field: "package_name_pattern", chars: 256 },
    ],
    // Characters, not UTF-16 units nor bytes: 300 emoji are 300 characters.
    [
      [rule(2, "a"), rule(4, "😀".repeat(300))],
      "rules[1].package_name_pattern",
      { kind: "pattern_too_long", rule_id: 4, field: "package_name_pattern", chars: 300 },
    ],
    // The core checks each rule in order, then the ids: the second rule 1 fails its level first.
    [
      [rule(1, "a"), rule(1, "b", "guest")],
      "rules[1].minimum_access_level_for_push",
      { kind: "level_not_allowed", rule_id: 1, field: "minimum_access_level_for_push", level: "guest" },
    ],
  ];
  for (const [rules, field, cause] of cases) {
    for (const compile of [RuleSet.compile, compileRules]) {
      const error = refuses(() => compile(rules), RuleSetError, field);
      assert.deepEqual(error.cause, cause, field);
    }
    // The same list as GitLab's JSON text: the same cause, pointing at `rules`.
    const error = refuses(() => RuleSet.compile(JSON.stringify(rules)), RuleSetError, "rules");
    assert.deepEqual(error.cause, cause);
  }
  const duplicate = refuses(() => RuleSet.compile([rule(7, "a"), rule(7, "b")]), RuleSetError, "rules[1].id");
  assert.equal(duplicate.message, "rule id 7 appears more than once");
});

test("RuleSetError invalid_json: text that is not GitLab's rule JSON, with its line and column", () => {
  const cases = [
    ['[{"id": 1,', { kind: "invalid_json", line: 1, column: 10 }],
    ["{}", { kind: "invalid_json", line: 1, column: 0 }],
    ['[\n  {"id": 1, "package_name_pattern": "a", "package_type": "npm", "minimum_acess_level_for_push": "owner"}\n]', null],
    ['[{"id": 1, "package_name_pattern": "a", "package_type": "rubygems"}]', null],
    ['[{"id": "1", "repository_path_pattern": "a"}]', null],
    ["", { kind: "invalid_json", line: 1, column: 0 }],
  ];
  for (const [text, cause] of cases) {
    const error = refuses(() => RuleSet.compile(text), RuleSetError, "rules");
    assert.equal(error.cause.kind, "invalid_json", text);
    assert.ok(Number.isInteger(error.cause.line) && error.cause.line >= 1, text);
    assert.ok(Number.isInteger(error.cause.column), text);
    if (cause !== null) assert.deepEqual(error.cause, cause, text);
    assert.match(error.message, /^the rules are not GitLab rule JSON \(line \d+, column \d+\)/);
  }
  // A misspelt minimum is refused where it is, not ignored (line 2).
  const typo = refuses(() => RuleSet.compile(cases[2][0]), RuleSetError, "rules");
  assert.equal(typo.cause.line, 2);
  assert.match(typo.message, /minimum_acess_level_for_push/);
  refuses(() => decide("nope", push("a", user("owner"))), RuleSetError, "rules");
  const empty = RuleSet.compile("[]");
  assert.equal(empty.length, 0);
  assert.deepEqual(empty.decide(push("a", user("guest"))), { allowed: true, blocking_rules: 0, first_blocking_rule: null });
  empty.free();
});

test("rules and requests in the wrong shape are refused before they reach the component", () => {
  const rules = [
    [undefined, "rules"],
    [{}, "rules"],
    [7, "rules"],
    [[null], "rules[0]"],
    [[rule(1.5, "a")], "rules[0].id"],
    [[rule("1", "a")], "rules[0].id"],
    [[rule(2 ** 53, "a")], "rules[0].id"],
    [[rule(1, "a", "maintainer", { minimum_acess_level_for_delete: "owner" })], "rules[0].minimum_acess_level_for_delete"],
    [[rule(1, "a", "Maintainer")], "rules[0].minimum_access_level_for_push"],
    [[{ id: 1, package_name_pattern: "a", package_type: "composer" }], "rules[0].package_type"],
    [[{ id: 1, package_name_pattern: 7, package_type: "npm" }], "rules[0].package_name_pattern"],
    [[{ id: 1, package_name_pattern: "a", repository_path_pattern: "b" }], "rules[0]"],
    [[{ id: 1, repository_path_pattern: "b", package_type: "npm" }], "rules[0].package_type"],
    [[{ id: 1, minimum_access_level_for_push: "owner" }], "rules[0]"],
  ];
  for (const [input, field] of rules) {
    refuses(() => RuleSet.compile(input), PkgprotectError, field);
    refuses(() => decide(input, push("a", user("owner"))), PkgprotectError, field);
    refuses(() => explain(input, push("a", user("owner"))), PkgprotectError, field);
  }
  const typo = refuses(() => RuleSet.compile(rules[7][0]), PkgprotectError, rules[7][1]);
  assert.match(typo.message, /^unknown field `minimum_acess_level_for_delete` in rules\[0\]/);

  const set = RuleSet.compile(project);
  const requests = [
    [undefined, "request"],
    ["@demo/x", "request"],
    [{ package_name: "a", action: "push", actor: user("developer") }, "request.package_type"],
    [{ package_name: "a", package_type: "gem", action: "push", actor: user("developer") }, "request.package_type"],
    [{ package_name: 7, package_type: "npm", action: "push", actor: user("developer") }, "request.package_name"],
    [{ repository_path: "a", package_type: "npm", action: "push", actor: user("developer") }, "request.package_type"],
    [{ repository_path: "a", package_name: "a", action: "push", actor: user("developer") }, "request"],
    [{ action: "push", actor: user("developer") }, "request"],
    [{ repository_path: "a", action: "pull", actor: user("developer") }, "request.action"],
    [{ repository_path: "a", action: "push" }, "request.actor"],
    [{ repository_path: "a", action: "push", actor: { type: "robot" } }, "request.actor.type"],
    [{ repository_path: "a", action: "push", actor: user("boss") }, "request.actor.access_level"],
    [{ repository_path: "a", action: "push", actor: { type: "deploy_token", access_level: "owner" } }, "request.actor.access_level"],
    [{ repository_path: "a", action: "push", actor: user("owner"), project: 1 }, "request.project"],
  ];
  try {
    for (const [input, field] of requests) {
      refuses(() => set.decide(input), PkgprotectError, field);
      refuses(() => set.explain(input), PkgprotectError, field);
      refuses(() => decide(project, input), PkgprotectError, field);
      refuses(() => explain(project, input), PkgprotectError, field);
    }
    refuses(() => set.decideBatch([push("a", user("owner")), { action: "push" }]), PkgprotectError, "requests[1]");
    refuses(() => set.decideBatch([push("a", user("owner")), push("b", user("chief"))]), PkgprotectError, "requests[1].actor.access_level");
    refuses(() => set.decideBatch("a"), PkgprotectError, "requests");
    // Undefined properties are absent, as in JSON.
    assert.equal(set.decide({ ...push("x", user("owner")), repository_path: undefined }).allowed, true);
  } finally {
    set.free();
  }
});

test("decideBatch and decideNames: one verdict per request or name, agreeing with decide", () => {
  const set = RuleSet.compile([...project, unevaluable]);
  try {
    const requests = [
      push("@demo/a", user("developer")),
      push("@demo/a", user("maintainer")),
      push("pkgx", user("developer"), "generic"), // reaches the rule GitLab cannot evaluate
      push("pkgx", user("owner"), "generic"), // an owner never reaches it
      { repository_path: "group/app/x", action: "delete", actor: user("owner") },
      push("my.pkg", { type: "deploy_token" }, "pypi"), // deploy tokens compare names as written
    ];
    assert.deepEqual(set.decideBatch(requests), ["blocked", "allowed", "undecidable", "allowed", "blocked", "allowed"]);
    for (const [i, request] of requests.entries()) {
      if (i === 2) continue;
      assert.equal(set.decide(request).allowed, set.decideBatch([request])[0] === "allowed");
    }
    assert.deepEqual(set.decideBatch([]), []);

    const names = ["@demo/a", "@DEMO/core", "other", ""];
    const developer = { kind: "npm", action: "push", actor: user("developer") };
    assert.deepEqual(set.decideNames(names, developer), ["blocked", "blocked", "allowed", "allowed"]);
    assert.deepEqual(set.decideNames(names, { ...developer, actor: user("maintainer") }), ["allowed", "blocked", "allowed", "allowed"]);
    assert.deepEqual(
      set.decideNames(["pkgx", "other"], { kind: "generic", action: "push", actor: user("developer") }),
      ["undecidable", "allowed"],
    );
    assert.deepEqual(
      set.decideNames(["group/app/x", "group/lib"], { kind: "container_repository", action: "delete", actor: user("owner") }),
      ["blocked", "allowed"],
    );
    assert.deepEqual(set.decideNames([], developer), []);

    const bad = [
      [() => set.decideNames("a", developer), "names"],
      [() => set.decideNames(["a", 7], developer), "names[1]"],
      [() => set.decideNames(["a"]), "options"],
      [() => set.decideNames(["a"], { ...developer, kind: "container" }), "options.kind"],
      [() => set.decideNames(["a"], { ...developer, kind: undefined }), "options.kind"],
      [() => set.decideNames(["a"], { ...developer, action: "read" }), "options.action"],
      [() => set.decideNames(["a"], { ...developer, actor: user("root") }), "options.actor.access_level"],
      [() => set.decideNames(["a"], { ...developer, packageType: "npm" }), "options.packageType"],
    ];
    for (const [call, field] of bad) refuses(call, PkgprotectError, field);
  } finally {
    set.free();
  }
});

test("DecisionError: a rule GitLab cannot evaluate, as data, pointing at its pattern", () => {
  const rules = [rule(1, "@demo/*"), unevaluable, { id: 12, repository_path_pattern: "img\\", minimum_access_level_for_push: "owner" }];
  const failing = push("pkgx", user("developer"), "generic");
  const image = { repository_path: "imgs", action: "push", actor: user("maintainer") };
  const set = RuleSet.compile(rules);
  const text = RuleSet.compile(JSON.stringify(rules));
  try {
    const cases = [
      [failing, "rules[1].package_name_pattern", { kind: "unevaluable", rule_id: 9, pattern: "pkg\\" }],
      [image, "rules[2].repository_path_pattern", { kind: "unevaluable", rule_id: 12, pattern: "img\\" }],
    ];
    for (const [request, field, cause] of cases) {
      const calls = [() => set.decide(request), () => set.explain(request), () => decide(rules, request), () => explain(rules, request)];
      for (const call of calls) {
        const error = refuses(call, DecisionError, field);
        assert.deepEqual(error.cause, cause);
        assert.match(error.message, /^rule \d+ cannot be evaluated against `/);
      }
      // GitLab's JSON text cannot be indexed by the caller: the field is `rules`.
      for (const call of [() => text.decide(request), () => decide(JSON.stringify(rules), request)]) {
        assert.deepEqual(refuses(call, DecisionError, "rules").cause, cause);
      }
    }
    const error = refuses(() => set.decide(failing), DecisionError, "rules[1].package_name_pattern");
    assert.equal(
      error.message,
      'rule 9 cannot be evaluated against `pkgx`: pattern `pkg\\` ends with a lone `\\`: PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it',
    );
    // The query reaches the rule only for users below its minimum, as in GitLab.
    assert.equal(set.decide(push("pkgx", user("owner"), "generic")).allowed, true);
    assert.equal(explain(rules, push("pkgx", user("owner"), "generic")).allowed, true);
  } finally {
    set.free();
    text.free();
  }
});

test("one-shot decide and explain answer as a compiled rule set, from an array or JSON text", () => {
  const set = RuleSet.compile(project);
  try {
    const asks = [
      push("@demo/core", user("maintainer")),
      push("@Demo/core", user("developer")),
      { repository_path: "group/app/web", action: "delete", actor: user("owner") },
      push("free", user("guest")),
    ];
    for (const ask of asks) {
      assert.deepEqual(decide(project, ask), set.decide(ask));
      assert.deepEqual(explain(project, ask), set.explain(ask));
      assert.deepEqual(decide(JSON.stringify(project), ask), set.decide(ask));
      assert.deepEqual(explain(JSON.stringify(project), ask), set.explain(ask));
    }
  } finally {
    set.free();
  }
  const duplicate = refuses(() => decide([rule(1, "a"), rule(1, "b")], push("a", user("owner"))), RuleSetError, "rules[1].id");
  assert.deepEqual(duplicate.cause, { kind: "duplicate_id", id: 1 });
  const blank = refuses(() => explain([rule(3, " ")], push("a", user("owner"))), RuleSetError, "rules[0].package_name_pattern");
  assert.deepEqual(blank.cause, { kind: "blank_pattern", rule_id: 3, field: "package_name_pattern" });
});

test("lint() returns findings with snake_case kinds and rule ids as numbers", () => {
  const set = RuleSet.compile([
    rule(1, "@demo/*"),
    rule(2, "@demo/*"),
    rule(3, "@demo/core", "owner"),
    { id: 4, package_name_pattern: "x%y", package_type: "generic", minimum_access_level_for_push: "owner" },
    { id: 5, repository_path_pattern: "a/*" },
    unevaluable,
  ]);
  try {
    const findings = set.lint();
    const kinds = new Map(findings.map((f) => [f.kind, f.rule_ids]));
    assert.deepEqual(kinds.get("duplicate_pattern"), [1, 2]);
    assert.deepEqual(kinds.get("literal_wildcard_lookalike"), [4]);
    assert.deepEqual(kinds.get("restricts_nothing"), [5]);
    assert.deepEqual(kinds.get("trailing_escape"), [9]);
    for (const finding of findings) {
      assert.deepEqual(Object.keys(finding), ["kind", "rule_ids", "message"]);
      assert.match(finding.kind, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(finding.rule_ids.every(Number.isInteger));
    }
    const empty = RuleSet.compile([]);
    assert.deepEqual(empty.lint(), []);
    empty.free();
  } finally {
    set.free();
  }
});

test("free() and Symbol.dispose release rule sets and name lists; later calls throw, a second free does not", () => {
  const set = RuleSet.compile(project);
  set[Symbol.dispose]();
  set.free();
  const request = push("a", user("owner"));
  const options = { kind: "npm", action: "push", actor: user("owner") };
  const calls = [
    () => set.decide(request),
    () => set.explain(request),
    () => set.decideBatch([request]),
    () => set.decideNames(["a"], options),
    () => set.lint(),
    () => set.length,
  ];
  for (const call of calls) refuses(call, PkgprotectError, "this");
  const names = new NameList(["a"]);
  const freed = refuses(() => names.decide(set, options), PkgprotectError, "rules");
  assert.equal(freed.message, "rules is a rule set that was freed");
  names.free();
  names[Symbol.dispose]();
  const live = RuleSet.compile(project);
  for (const call of [() => names.preview("a", { kind: "npm" }), () => names.decide(live, options), () => names.length]) {
    refuses(call, PkgprotectError, "this");
  }
  live.free();
  // Many compile/free cycles do not leak or exhaust the component's resource tables.
  for (let i = 0; i < 2000; i++) {
    RuleSet.compile(project).free();
    new NameList(["@demo/a", "b"]).free();
  }
});

// Non-ASCII names: every span, sliced with String.prototype.slice, is the text the pattern's
// literal characters matched (PostgreSQL's lower(): `İ` → `i`, `ẞ` → `ß`, no `ß` → `ss`).
const unicode = [
  { pattern: "*😀*", kind: "container_repository", names: ["a😀b", "😀", "x"], expect: [["a😀b", ["😀"]], ["😀", ["😀"]]] },
  { pattern: "a*b", kind: "generic", names: ["a👩‍💻b", "A💩B", "ab"], expect: [["a👩‍💻b", ["a", "b"]], ["A💩B", ["A", "B"]], ["ab", ["ab"]]] }, // adjacent literals: one span
  {
    pattern: "straße*",
    kind: "generic",
    names: ["STRASSE", "Straße-x", "STRAẞE", "straße"],
    expect: [["Straße-x", ["Straße"]], ["STRAẞE", ["STRAẞE"]], ["straße", ["straße"]]],
  },
  { pattern: "*ẞ*", kind: "container_repository", names: ["xßy", "xẞy", "xssy"], expect: [["xßy", ["ß"]], ["xẞy", ["ẞ"]]] },
  { pattern: "i*", kind: "container_repository", names: ["İstanbul", "ıx", "Ix"], expect: [["İstanbul", ["İ"]], ["Ix", ["I"]]] },
  {
    pattern: "İ*",
    kind: "container_repository",
    names: ["İstanbul", "istanbul", "i\u0307x"],
    expect: [["İstanbul", ["İ"]], ["istanbul", ["i"]], ["i\u0307x", ["i"]]],
  },
  // Combining marks are characters of their own: `e` + U+0301 is two, `é` (U+00E9) one.
  { pattern: "*e*", kind: "container_repository", names: ["e\u0301x", "\u00e9"], expect: [["e\u0301x", ["e"]]] },
  { pattern: "*\u0301", kind: "container_repository", names: ["cafe\u0301", "caf\u00e9"], expect: [["cafe\u0301", ["\u0301"]]] },
  { pattern: "café", kind: "generic", names: ["CAFÉ", "cafe\u0301"], expect: [["CAFÉ", ["CAFÉ"]]] },
  { pattern: "@😀/*", kind: "npm", names: ["@😀/ß", "@😀"], expect: [["@😀/ß", ["@😀/"]]] },
];

/** `[name, [sliced text of each span]]` for every matched name. */
function sliced(names, result) {
  assert.equal(result.span_offsets.length, result.matched.length + 1);
  assert.equal(result.span_offsets[0], 0);
  assert.equal(result.span_offsets.at(-1), result.spans.length);
  return result.matched.map((position, i) => {
    const name = names[position];
    const pairs = result.spans.slice(result.span_offsets[i], result.span_offsets[i + 1]);
    const parts = [];
    for (let k = 0; k < pairs.length; k += 2) {
      assert.ok(pairs[k] <= pairs[k + 1] && pairs[k + 1] <= name.length);
      // A span never splits a surrogate pair.
      for (const edge of [pairs[k], pairs[k + 1]]) assert.notEqual(name.codePointAt(edge - 1) > 0xffff, true, `${name} @${edge}`);
      parts.push(name.slice(pairs[k], pairs[k + 1]));
    }
    return [name, parts];
  });
}

test("preview() and NameList: spans over non-ASCII names slice to the matched text", () => {
  for (const { pattern, kind, names, expect } of unicode) {
    const once = preview(pattern, names, { kind });
    assert.deepEqual(sliced(names, once), expect, pattern);
    assert.deepEqual(once.undecidable, []);
    const list = new NameList(names);
    assert.equal(list.length, names.length);
    assert.deepEqual(list.preview(pattern, { kind }), once, pattern);
    list[Symbol.dispose]();
  }
});

test("preview() and NameList: kinds, positions, undecidable names", () => {
  const names = ["@demo/ui", "@other/ui", "My.Pkg", "pkgx", ""];
  assert.deepEqual(preview("*@demo/*", names, { kind: "npm" }), {
    matched: [0],
    spans: [0, 6],
    span_offsets: [0, 2],
    undecidable: [],
  });
  // PyPI rules compare `-`, `_`, `.` runs as equal for users; other kinds do not.
  assert.deepEqual(preview("my_pkg", names, { kind: "pypi" }).matched, [2]);
  assert.deepEqual(preview("my_pkg", names, { kind: "generic" }).matched, []);
  const failing = preview("pkg\\", names, { kind: "generic" });
  assert.deepEqual(failing.matched, []);
  assert.deepEqual(failing.undecidable, [3]);
  assert.deepEqual(preview("a", [], { kind: "npm" }), { matched: [], spans: [], span_offsets: [0], undecidable: [] });

  const list = new NameList(names);
  try {
    for (const [pattern, kind] of [["*@demo/*", "npm"], ["my_pkg", "pypi"], ["pkg\\", "generic"], ["*", "container_repository"]]) {
      assert.deepEqual(list.preview(pattern, { kind }), preview(pattern, names, { kind }), pattern);
    }
    const set = RuleSet.compile([...project, unevaluable]);
    try {
      for (const options of [
        { kind: "npm", action: "push", actor: user("developer") },
        { kind: "generic", action: "push", actor: user("developer") },
        { kind: "pypi", action: "push", actor: user("reporter") },
        { kind: "container_repository", action: "delete", actor: { type: "deploy_token" } },
      ]) {
        assert.deepEqual(list.decide(set, options), set.decideNames(names, options), JSON.stringify(options));
      }
      assert.deepEqual(list.decide(set, { kind: "generic", action: "push", actor: user("developer") })[3], "undecidable");
    } finally {
      set.free();
    }
  } finally {
    list.free();
  }
});

test("preview() and NameList refuse malformed arguments", () => {
  refuses(() => preview(1, ["a"], { kind: "npm" }), PkgprotectError, "pattern");
  refuses(() => preview("a", "a", { kind: "npm" }), PkgprotectError, "names");
  refuses(() => preview("a", ["a", null], { kind: "npm" }), PkgprotectError, "names[1]");
  refuses(() => preview("a", ["a"]), PkgprotectError, "options");
  refuses(() => preview("a", ["a"], "npm"), PkgprotectError, "options");
  refuses(() => preview("a", ["a"], {}), PkgprotectError, "options.kind");
  refuses(() => preview("a", ["a"], { kind: "gem" }), PkgprotectError, "options.kind");
  refuses(() => preview("a", ["a"], { kind: "npm", packageType: "npm" }), PkgprotectError, "options.packageType");
  refuses(() => new NameList("a"), PkgprotectError, "names");
  refuses(() => new NameList(["a", 1]), PkgprotectError, "names[1]");
  const list = new NameList(["a"]);
  try {
    refuses(() => list.preview(null, { kind: "npm" }), PkgprotectError, "pattern");
    refuses(() => list.preview("a", { kind: "container" }), PkgprotectError, "options.kind");
    refuses(() => list.decide(project, { kind: "npm", action: "push", actor: user("owner") }), PkgprotectError, "rules");
    const set = RuleSet.compile(project);
    refuses(() => list.decide(set, { kind: "npm", action: "push" }), PkgprotectError, "options.actor");
    set.free();
  } finally {
    list.free();
  }
});

// Patterns and names that look like WAVE, the text the wasmtime CLI prints results in, are
// plain characters to GitLab's matcher: they must be decided as any other.
test("patterns and names that look like WAVE output are decided as GitLab would", () => {
  const generic = (id, pattern) => ({ id, package_name_pattern: pattern, package_type: "generic", minimum_access_level_for_push: "maintainer" });
  const rules = [
    generic(1, "allowed: true*"),
    generic(2, "ok({allowed: true})"),
    generic(3, '{"allowed": true, "blocking-rules": 0}'),
    generic(4, "err(*)"),
    generic(5, "*, first-blocking-rule: some(*"),
    { id: 6, repository_path_pattern: "ok(\"a\")/[allowed, blocked]/*", minimum_access_level_for_push: "owner" },
  ];
  const developer = user("developer");
  const cases = [
    ["allowed: true, blocking-rules: 0", [1]],
    ["ALLOWED: TRUE", [1]],
    ["allowed: false", []],
    ["ok({allowed: true})", [2]],
    ["OK({ALLOWED: TRUE})", [2]],
    ["ok({allowed: true}) ", []],
    ['{"allowed": true, "blocking-rules": 0}', [3]],
    ["{allowed: true, blocking-rules: 0}", []],
    ["err(ok)", [4]],
    ["err()", [4]],
    ["err(", []],
    ["{allowed: false, blocking-rules: 1, first-blocking-rule: some(5)}", [5]],
    ["allowed: true, blocking-rules: 1, first-blocking-rule: some(1)", [1, 5]],
  ];
  const set = RuleSet.compile(rules);
  const text = RuleSet.compile(JSON.stringify(rules));
  try {
    for (const [name, ids] of cases) {
      const request = push(name, developer, "generic");
      const answer = set.explain(request);
      assert.deepEqual(answer.blocking_rule_ids, ids, name);
      assert.equal(answer.allowed, ids.length === 0, name);
      if (ids.length > 0) assert.ok(answer.reason.includes(`(\`${rules[ids[0] - 1].package_name_pattern}\`)`), answer.reason);
      assert.deepEqual(set.decide(request), summaryOf(answer), name);
      assert.deepEqual(text.explain(request), answer, name);
      assert.deepEqual(explain(rules, request), answer, name);
      assert.equal(set.decide(push(name, user("maintainer"), "generic")).allowed, true, name);
    }
    const names = cases.map(([name]) => name);
    const verdicts = cases.map(([, ids]) => (ids.length === 0 ? "allowed" : "blocked"));
    assert.deepEqual(set.decideNames(names, { kind: "generic", action: "push", actor: developer }), verdicts);
    assert.deepEqual(set.decideBatch(names.map((name) => push(name, developer, "generic"))), verdicts);
    const image = (path) => ({ repository_path: path, action: "push", actor: user("maintainer") });
    assert.deepEqual(set.explain(image('OK("A")/[allowed, blocked]/x')).blocking_rule_ids, [6]);
    assert.deepEqual(set.explain(image("ok(a)/[allowed, blocked]/x")).blocking_rule_ids, []);
    const shown = preview("ok({allowed: true})", names, { kind: "generic" });
    assert.deepEqual(sliced(names, shown), [["ok({allowed: true})", ["ok({allowed: true})"]], ["OK({ALLOWED: TRUE})", ["OK({ALLOWED: TRUE})"]]]);
  } finally {
    set.free();
    text.free();
  }
});
