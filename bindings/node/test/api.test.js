// Every export of @pkgprotect/node, with good and bad input, through the built package.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  compileRules,
  componentInfo,
  decide,
  DecisionError,
  parseRule,
  PkgprotectError,
  preview,
  RuleSet,
  RuleSetError,
  RuleValidationError,
  validateRule,
  version,
} from "@pkgprotect/node";

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

/** `call` must throw an instance of `kind` for `field` with `httpStatus`; returns it. */
function refuses(call, kind, field, httpStatus) {
  let error;
  try {
    call();
  } catch (thrown) {
    error = thrown;
  }
  assert.ok(error instanceof kind, `expected a ${kind.name}, got ${error}`);
  assert.ok(error instanceof PkgprotectError && error instanceof Error);
  assert.equal(error.field, field, error.message);
  assert.equal(error.httpStatus, httpStatus, error.message);
  assert.equal(error.name, kind.name);
  assert.doesNotMatch(error.message, /RuntimeError|unreachable|ComponentError|see error.payload/);
  return error;
}

test("version() is the workspace's, read from the component", () => {
  const manifest = readFileSync(new URL("../../../Cargo.toml", import.meta.url), "utf8");
  const workspace = /\[workspace\.package\][\s\S]*?\nversion = "([^"]+)"/.exec(manifest);
  assert.equal(version(), workspace[1]);
});

test("componentInfo() names the copied component, and jco's core module comes from those bytes", () => {
  const info = componentInfo();
  const copy = readFileSync(new URL("../generated/pkgprotect.wasm", import.meta.url));
  assert.match(info.source, /\.wasm$/); // target/pkgprotect.wasm unless PKGPROTECT_COMPONENT names another
  assert.equal(info.bytes, copy.length);
  assert.equal(info.sha256, createHash("sha256").update(copy).digest("hex"));
  // jco only splits the component: the core module it instantiates is a byte range of it.
  const core = readFileSync(new URL("../generated/pkgprotect.core.wasm", import.meta.url));
  assert.ok(core.length > 0 && copy.includes(core), "the core module is not part of the component");
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
  assert.equal(params.httpStatus, 400);
  assert.deepEqual(
    params.errors.map((e) => e.field),
    ["package_type", "minimum_access_level_for_push,minimum_access_level_for_delete"],
  );
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

test("parseRule returns the rule GitLab would store, or throws RuleValidationError with every failure", () => {
  assert.deepEqual(parseRule({ repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "owner" }, {
    kind: "container_repository",
    projectPath: "group/app",
  }), {
    repository_path_pattern: "group/app/*",
    minimum_access_level_for_push: null,
    minimum_access_level_for_delete: "owner",
  });
  const updated = parseRule({ minimum_access_level_for_delete: "owner" }, { kind: "package", previous: project[1] });
  assert.equal(updated.package_name_pattern, "@demo/core");
  assert.equal(updated.minimum_access_level_for_delete, "owner");

  const refusal = refuses(
    () => parseRule({ package_name_pattern: "x", package_type: "rubygems" }, { kind: "package" }),
    RuleValidationError,
    "package_type",
    400,
  );
  assert.equal(refusal.errors.length, 2, JSON.stringify(refusal.errors));
  for (const error of refusal.errors) assert.deepEqual(Object.keys(error), ["field", "message", "httpStatus"]);
  refuses(() => parseRule(rule(undefined, "UPPER/x"), { kind: "package" }), RuleValidationError, "package_name_pattern", 422);
});

test("validateRule and parseRule refuse malformed arguments with the field at fault", () => {
  const ok = rule(undefined, "@demo/*");
  const cases = [
    [() => validateRule(ok), "options"],
    [() => validateRule(ok, { kind: undefined }), "options.kind"],
    [() => validateRule(ok, { kind: "container" + "s" }), "options.kind"],
    [() => validateRule(ok, { kind: "package", projectpath: "g/p" }), "options.projectpath"],
    [() => validateRule(ok, { kind: "package", projectPath: 7 }), "options.projectPath"],
    [() => validateRule(ok, { kind: "package", existingRules: {} }), "options.existingRules"],
    [() => validateRule(ok, { kind: "package", existingRules: [{ id: 1, package_name_pattern: "a" }] }), "options.existingRules[0].package_type"],
    [() => validateRule(ok, { kind: "package", previous: [] }), "options.previous"],
    [() => validateRule(null, { kind: "package" }), "rule"],
    [() => validateRule(["@demo/*"], { kind: "package" }), "rule"],
    [() => parseRule({ big: 1n }, { kind: "package" }), "rule"],
  ];
  for (const [call, field] of cases) refuses(call, PkgprotectError, field, 400);
  const kind = refuses(() => validateRule(ok, { kind: "pkg" }), PkgprotectError, "options.kind", 400);
  assert.equal(kind.message, "options.kind: unknown rule kind `pkg` (expected one of: package, container_repository)");
});

test("RuleSet.compile → decide answers as GitLab, naming every blocking rule", () => {
  const rules = RuleSet.compile(project);
  try {
    assert.equal(rules.length, 4);
    const blocked = rules.decide(push("@Demo/core", user("developer")));
    assert.deepEqual(blocked.blocking_rule_ids, [1, 2]);
    assert.equal(blocked.allowed, false);
    assert.match(blocked.reason, /^blocked by rule 1 \(`@demo\/\*`\): push needs at least maintainer/);
    assert.deepEqual(rules.decide(push("@demo/core", user("maintainer"))).blocking_rule_ids, [2]);
    assert.deepEqual(rules.decide(push("@demo/ui", user("admin"))), {
      allowed: true,
      blocking_rule_ids: [],
      reason: "administrators are never blocked by protection rules",
    });
    assert.equal(rules.decide(push("unscoped", user("guest"))).allowed, true);
    assert.deepEqual(rules.decide(push("@demo/ui", { type: "deploy_token" })).blocking_rule_ids, [1]);
    // Delete has its own minimum; PyPI users compare with separators made equal.
    const remove = { package_name: "@demo/ui", package_type: "npm", action: "delete", actor: user("maintainer") };
    assert.deepEqual(rules.decide(remove).blocking_rule_ids, [1]);
    assert.deepEqual(rules.decide(push("My.Pkg-x", user("developer"), "pypi")).blocking_rule_ids, [3]);
    const image = { repository_path: "group/app/web", action: "delete", actor: user("owner") };
    assert.deepEqual(rules.decide(image).blocking_rule_ids, [4]);
  } finally {
    rules.free();
  }
});

test("compileRules is RuleSet.compile; RuleSetError points at the rule list", () => {
  const set = compileRules(project);
  assert.ok(set instanceof RuleSet);
  set.free();
  const cases = [
    [[rule(undefined, "a")], "rules[0].id"],
    [[rule(1, "a"), rule(1, "b")], "rules[1].id"],
    [[rule(1, "a"), rule(2, "   ")], "rules[1].package_name_pattern"],
    [[rule(5, "a", "guest")], "rules[0].minimum_access_level_for_push"],
    [[rule(1, "a".repeat(256))], "rules[0].package_name_pattern"],
  ];
  for (const [rules, field] of cases) {
    const error = refuses(() => RuleSet.compile(rules), RuleSetError, field, 422);
    assert.equal(error.errors.length, 1);
    assert.equal(error.errors[0].message, error.message);
  }
  assert.throws(() => new RuleSet(), /use RuleSet\.compile/);
});

test("rules and requests in the wrong shape are refused before they reach the component", () => {
  const rules = [
    [undefined, "rules"],
    [{}, "rules"],
    [[null], "rules[0]"],
    [[rule(1.5, "a")], "rules[0].id"],
    [[rule("1", "a")], "rules[0].id"],
    [[rule(1, "a", "maintainer", { minimum_acess_level_for_delete: "owner" })], "rules[0].minimum_acess_level_for_delete"],
    [[rule(1, "a", "Maintainer")], "rules[0].minimum_access_level_for_push"],
    [[{ id: 1, package_name_pattern: "a", package_type: "composer" }], "rules[0].package_type"],
    [[{ id: 1, package_name_pattern: 7, package_type: "npm" }], "rules[0].package_name_pattern"],
    [[{ id: 1, package_name_pattern: "a", repository_path_pattern: "b" }], "rules[0]"],
    [[{ id: 1, repository_path_pattern: "b", package_type: "npm" }], "rules[0].package_type"],
    [[{ id: 1, minimum_access_level_for_push: "owner" }], "rules[0]"],
  ];
  for (const [input, field] of rules) refuses(() => RuleSet.compile(input), PkgprotectError, field, 400);
  const typo = refuses(() => RuleSet.compile(rules[5][0]), PkgprotectError, rules[5][1], 400);
  assert.match(typo.message, /unknown field `minimum_acess_level_for_delete`/);

  const set = RuleSet.compile(project);
  const requests = [
    [undefined, "request"],
    [{ package_name: "a", action: "push", actor: user("developer") }, "request.package_type"],
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
    for (const [input, field] of requests) refuses(() => set.decide(input), PkgprotectError, field, 400);
    refuses(() => set.decideBatch([push("a", user("owner")), { action: "push" }]), PkgprotectError, "requests[1]", 400);
    refuses(() => set.decideBatch("a"), PkgprotectError, "requests", 400);
  } finally {
    set.free();
  }
});

test("a query GitLab could not run: decide throws DecisionError (500), decideBatch reports it refused", () => {
  const set = RuleSet.compile([rule(1, "@demo/*"), { id: 9, package_name_pattern: "pkg\\", package_type: "generic", minimum_access_level_for_push: "owner" }]);
  try {
    const failing = push("pkgx", user("developer"), "generic");
    const error = refuses(() => set.decide(failing), DecisionError, "rules[1].package_name_pattern", 500);
    assert.match(error.message, /^rule 9 cannot be evaluated against `pkgx`/);
    const answers = set.decideBatch([push("@demo/a", user("developer")), failing, push("@demo/a", user("owner"))]);
    assert.deepEqual(answers[0].blocking_rule_ids, [1]);
    assert.deepEqual(answers[1], { allowed: false, error: { field: "rules[1].package_name_pattern", message: error.message } });
    assert.equal(answers[2].allowed, true);
    assert.deepEqual(set.decideBatch([]), []);
  } finally {
    set.free();
  }
});

test("one-shot decide() compiles and decides in one call, with the same errors", () => {
  assert.deepEqual(decide(project, push("@demo/core", user("maintainer"))).blocking_rule_ids, [2]);
  refuses(() => decide([rule(1, "a"), rule(1, "b")], push("a", user("owner"))), RuleSetError, "rules[1].id", 422);
  refuses(() => decide([rule(3, " ")], push("a", user("owner"))), RuleSetError, "rules[0].package_name_pattern", 422);
  const failing = [{ id: 2, package_name_pattern: "x\\", package_type: "generic", minimum_access_level_for_push: "owner" }];
  // The query reaches the rule only for users below its minimum, as in GitLab.
  assert.equal(decide(failing, push("xy", user("owner"), "generic")).allowed, true);
  refuses(() => decide(failing, push("xy", user("developer"), "generic")), DecisionError, "rules[0].package_name_pattern", 500);
  refuses(() => decide(project, {}), PkgprotectError, "request", 400);
});

test("lint() returns findings with rule ids as numbers", () => {
  const set = RuleSet.compile([rule(1, "@demo/*"), rule(2, "@demo/*"), rule(3, "@demo/core", "owner")]);
  try {
    const findings = set.lint();
    const kinds = new Map(findings.map((f) => [f.kind, f.rule_ids]));
    assert.deepEqual(kinds.get("duplicate_pattern"), [1, 2]);
    assert.ok(findings.every((f) => typeof f.message === "string" && f.rule_ids.every(Number.isInteger)));
  } finally {
    set.free();
  }
});

test("free() and Symbol.dispose release the rule set; later calls throw, a second free does not", () => {
  const set = RuleSet.compile(project);
  set[Symbol.dispose]();
  set.free();
  for (const call of [() => set.decide(push("a", user("owner"))), () => set.lint(), () => set.length]) {
    refuses(call, PkgprotectError, "this", 400);
  }
  // Many compile/free cycles do not leak or exhaust the component's resource table.
  for (let i = 0; i < 2000; i++) RuleSet.compile(project).free();
});

test("preview() matches like GitLab and returns UTF-16 spans", () => {
  const names = ["@demo/ui", "@other/ui", "😀@DEMO/x", "é@demo/", ""];
  const result = preview("*@demo/*", names, { packageType: "npm" });
  assert.deepEqual(result, [
    { name: "@demo/ui", matched: true, spans: [[0, 6]] },
    { name: "@other/ui", matched: false, spans: [] },
    { name: "😀@DEMO/x", matched: true, spans: [[2, 8]] },
    { name: "é@demo/", matched: true, spans: [[1, 7]] },
    { name: "", matched: false, spans: [] },
  ]);
  assert.equal(names[2].slice(...result[2].spans[0]), "@DEMO/");
  assert.deepEqual(preview("my_pkg", ["My.Pkg"], { packageType: "pypi" })[0].matched, true);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"], { packageType: null })[0].matched, false);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"])[0].matched, false);
  const [failing] = preview("pkg\\", ["pkgx"], {});
  assert.equal(failing.matched, false);
  assert.match(failing.error, /ends with a lone `\\`/);
  assert.deepEqual(preview("a", []), []);
});

test("preview() refuses malformed arguments", () => {
  refuses(() => preview(1, ["a"]), PkgprotectError, "pattern", 400);
  refuses(() => preview("a", "a"), PkgprotectError, "names", 400);
  refuses(() => preview("a", ["a", null]), PkgprotectError, "names[1]", 400);
  refuses(() => preview("a", ["a"], "npm"), PkgprotectError, "options", 400);
  refuses(() => preview("a", ["a"], { packageType: "gem" }), PkgprotectError, "options.packageType", 400);
  refuses(() => preview("a", ["a"], { package_type: "npm" }), PkgprotectError, "options.package_type", 400);
});
