// Every exported function and class, through the built package, with good and bad input.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { test } from "node:test";
import { compileRules, NameList, preview, validateRule, version } from "pkgprotect";

const npmRule = (pattern, extra = {}) => ({
  package_name_pattern: pattern,
  package_type: "npm",
  minimum_access_level_for_push: "maintainer",
  ...extra,
});
const developer = { type: "user", access_level: "developer" };

/** Runs `call`, which must throw a pkgprotect error for `field`; returns the error. */
function throwsFor(call, field) {
  let thrown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof Error, `expected an Error, got ${thrown}`);
  assert.equal(thrown.field, field, thrown.message);
  assert.doesNotMatch(thrown.message, /panicked|unreachable|RuntimeError/);
  return thrown;
}

test("version() is the workspace version", () => {
  const cargo = readFileSync(new URL("../../../Cargo.toml", import.meta.url), "utf8");
  const [, workspaceVersion] = cargo.match(/\[workspace\.package\][^[]*?version = "([^"]+)"/s);
  assert.equal(version(), workspaceVersion);
});

// A guard against growth at the size measured for this build (215,217 bytes). The issue's
// 150 KB target is not met: README.md#size says where the bytes go and what would cut them.
test("the wasm file stays within its measured size budget", () => {
  const size = statSync(new URL("../pkg/pkgprotect_js_bg.wasm", import.meta.url)).size;
  assert.ok(size <= 225 * 1024, `${size} bytes`);
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
  assert.deepEqual(
    result.errors.map((e) => e.message),
    [
      "package_type does not have a valid value",
      "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided",
    ],
  );
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

test("validateRule throws field errors for bad arguments", () => {
  throwsFor(() => validateRule(npmRule("a")), "options");
  throwsFor(() => validateRule(npmRule("a"), {}), "options.kind");
  const kind = throwsFor(() => validateRule(npmRule("a"), { kind: "packages" }), "options.kind");
  assert.match(kind.message, /unknown rule kind `packages`/);
  throwsFor(() => validateRule(npmRule("a"), { kind: "package", projectpath: "g/p" }), "options.projectpath");
  throwsFor(() => validateRule(npmRule("a"), { kind: "package", projectPath: 3 }), "options.projectPath");
  throwsFor(() => validateRule(undefined, { kind: "package" }), "rule");
  throwsFor(() => validateRule("x", { kind: "package" }), "rule");
  const existing = throwsFor(
    () => validateRule(npmRule("a"), { kind: "package", existingRules: [{ id: 1, package_name_pattern: "a" }] }),
    "options.existingRules[0]",
  );
  assert.match(existing.message, /package_type/);
  const cyclic = {};
  cyclic.self = cyclic;
  throwsFor(() => validateRule(cyclic, { kind: "package" }), "rule");
});

const demoRules = [
  { id: 1, ...npmRule("@demo/*") },
  { id: 2, ...npmRule("@demo/core"), minimum_access_level_for_push: "owner" },
  { id: 3, package_name_pattern: "my_pkg*", package_type: "pypi", minimum_access_level_for_push: "maintainer" },
  { id: 4, repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "admin" },
];

test("compileRules → decide answers as GitLab, naming every blocking rule", () => {
  const rules = compileRules(demoRules);
  try {
    assert.equal(rules.length, 4);
    const push = (name, actor) => rules.decide({ package_name: name, package_type: "npm", action: "push", actor });
    const blocked = push("@Demo/core", developer);
    assert.equal(blocked.allowed, false);
    assert.deepEqual(blocked.blocking_rule_ids, [1, 2]);
    assert.match(blocked.reason, /^blocked by rule 1 \(`@demo\/\*`\): push needs at least maintainer/);
    assert.deepEqual(push("@demo/core", { type: "user", access_level: "maintainer" }).blocking_rule_ids, [2]);
    assert.equal(push("@other/core", developer).allowed, true);
    assert.equal(push("@demo/x", { type: "user", access_level: "admin" }).allowed, true);
    // PyPI: users compare with separators made equal, deploy tokens literally.
    const pypi = (name, actor) => rules.decide({ package_name: name, package_type: "pypi", action: "push", actor });
    assert.deepEqual(pypi("My.Pkg-x", developer).blocking_rule_ids, [3]);
    assert.equal(pypi("My.Pkg-x", { type: "deploy_token" }).allowed, true);
    const container = rules.decide({ repository_path: "group/app/web", action: "delete", actor: { type: "deploy_token" } });
    assert.deepEqual(container.blocking_rule_ids, [4]);
  } finally {
    rules.free();
  }
});

test("decideBatch answers each request alone; a failing query comes back refused", () => {
  const rules = compileRules([
    { id: 1, ...npmRule("@demo/*") },
    { id: 2, package_name_pattern: "pkg\\", package_type: "generic", minimum_access_level_for_push: "maintainer" },
  ]);
  try {
    const answers = rules.decideBatch([
      { package_name: "@demo/a", package_type: "npm", action: "push", actor: developer },
      { package_name: "pkgx", package_type: "generic", action: "push", actor: developer },
      { package_name: "@demo/a", package_type: "npm", action: "delete", actor: developer },
    ]);
    assert.equal(answers.length, 3);
    assert.deepEqual(answers[0].blocking_rule_ids, [1]);
    assert.equal(answers[1].allowed, false);
    assert.equal(answers[1].error.field, "rules[1].package_name_pattern");
    assert.match(answers[1].error.message, /rule 2 cannot be evaluated against `pkgx`/);
    assert.deepEqual(answers[2], { allowed: true, blocking_rule_ids: [], reason: "no protection rule blocks this request" });
    // The single-request form throws instead, so the failure cannot be mistaken for an answer.
    throwsFor(
      () => rules.decide({ package_name: "pkgx", package_type: "generic", action: "push", actor: developer }),
      "rules[1].package_name_pattern",
    );
    assert.deepEqual(rules.decideBatch([]), []);
  } finally {
    rules.free();
  }
});

test("compileRules and decide throw field errors for bad input", () => {
  throwsFor(() => compileRules(), "rules");
  throwsFor(() => compileRules({}), "rules");
  throwsFor(() => compileRules([npmRule("a")]), "rules[0].id");
  throwsFor(() => compileRules([{ id: 1, ...npmRule("a") }, { id: 1, ...npmRule("b") }]), "rules[1].id");
  throwsFor(() => compileRules([{ id: 1, ...npmRule("a") }, { id: 2, ...npmRule("  ") }]), "rules[1].package_name_pattern");
  throwsFor(
    () => compileRules([{ id: 1, ...npmRule("a"), minimum_access_level_for_delete: "maintainer" }]),
    "rules[0].minimum_access_level_for_delete",
  );
  const typo = throwsFor(() => compileRules([{ id: 1, ...npmRule("a"), minimum_acess_level_for_delete: "owner" }]), "rules[0]");
  assert.match(typo.message, /unknown field `minimum_acess_level_for_delete`/);
  throwsFor(() => compileRules([{ id: 1, package_name_pattern: "a", package_type: "composer" }]), "rules[0]");

  const rules = compileRules(demoRules);
  try {
    throwsFor(() => rules.decide(), "request");
    const missing = throwsFor(() => rules.decide({ package_name: "a", action: "push", actor: developer }), "request");
    assert.match(missing.message, /missing field `package_type`/);
    throwsFor(() => rules.decide({ repository_path: "a", action: "pull", actor: developer }), "request");
    throwsFor(
      () => rules.decideBatch([{ repository_path: "a", action: "push", actor: developer }, { action: "push" }]),
      "requests[1]",
    );
    throwsFor(() => rules.decideBatch({}), "requests");
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

test("free() releases the rule set; using it afterwards throws instead of reading freed memory", () => {
  const rules = compileRules(demoRules);
  rules.free();
  assert.throws(() => rules.lint());
});

test("preview() marks matches with UTF-16 spans ready for DOM ranges", () => {
  const names = ["@demo/ui", "@other/ui", "😀@DEMO/x", ""];
  const result = preview("*@demo/*", names, { packageType: "npm" });
  assert.deepEqual(result, [
    { name: "@demo/ui", matched: true, spans: [[0, 6]] },
    { name: "@other/ui", matched: false, spans: [] },
    { name: "😀@DEMO/x", matched: true, spans: [[2, 8]] },
    { name: "", matched: false, spans: [] },
  ]);
  const [{ name, spans }] = result.slice(2);
  assert.equal(name.slice(...spans[0]), "@DEMO/");
});

test("preview() follows the rule's package type and reports GitLab's query errors", () => {
  const pypi = preview("my_pkg", ["My.Pkg", "my-pkgs"], { packageType: "pypi" });
  assert.deepEqual(pypi.map((m) => m.matched), [true, false]);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"], { packageType: "generic" })[0].matched, false);
  assert.deepEqual(preview("my_pkg", ["My.Pkg"])[0].matched, false);
  const [failing, other] = preview("pkg\\", ["pkgx", "other"], { packageType: "generic" });
  assert.equal(failing.matched, false);
  assert.match(failing.error, /ends with a lone `\\`/);
  assert.equal("error" in other, false);
});

test("preview() throws field errors for bad arguments", () => {
  throwsFor(() => preview("a", "a"), "names");
  throwsFor(() => preview("a", ["a", 3]), "names[1]");
  throwsFor(() => preview("a", ["a"], { packageType: "composer" }), "options.packageType");
  throwsFor(() => preview("a", ["a"], { package_type: "npm" }), "options.package_type");
});

test("NameList keeps names in Wasm memory and previews into typed arrays", () => {
  const list = new NameList(["@demo/ui", "@other/ui", "😀@DEMO/x"]);
  try {
    assert.equal(list.length, 3);
    assert.equal(list.get(2), "😀@DEMO/x");
    assert.equal(list.get(3), undefined);
    assert.deepEqual(list.names(), ["@demo/ui", "@other/ui", "😀@DEMO/x"]);
    const result = list.preview("*@demo/*", { packageType: "npm" });
    assert.deepEqual([...result.matched], [0, 2]);
    assert.deepEqual([...result.spans], [0, 6, 2, 8]);
    assert.deepEqual([...result.spanOffsets], [0, 2, 4]);
    assert.equal(result.errored.length, 0);
    assert.equal(result.error, undefined);
    const failing = list.preview("@demo\\", {});
    assert.deepEqual([...failing.errored], [0]);
    assert.match(failing.error, /lone/);
  } finally {
    list.free();
  }
  const lines = NameList.fromLines("a\r\nb\n\nc\n");
  assert.deepEqual(lines.names(), ["a", "b", "c"]);
  lines.free();
  throwsFor(() => new NameList("a"), "names");
  throwsFor(() => new NameList([1]), "names[0]");
});
