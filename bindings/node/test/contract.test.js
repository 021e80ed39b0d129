// What importing the SDK checks, and the SDK's translation of the errors the real component
// cannot be made to return in a test: `too-many-rules` needs 2^32 rules, and `internal` a
// rule set that breaks its own invariants (a bug the core's fault-injection tests cover).
// Both run index.js from a copy of this package whose generated/ is something else.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { importCopy, jco, oldComponent, packageCopy } from "./helpers.js";

test("importing the SDK over a component of contract 0.1.0 throws, naming both versions", async () => {
  const dir = packageCopy();
  execFileSync(jco, ["transpile", oldComponent(), "-o", join(dir, "generated"), "--name", "pkgprotect", "--quiet"]);
  await assert.rejects(importCopy(dir), {
    name: "Error",
    message:
      "@pkgprotect/node speaks pkgprotect:policy@0.2.1, but the component in generated/ reports `0.1.0`: " +
      "rebuild it (scripts/build-component.sh, then `npm run build` in bindings/node)",
  });
});

test("importing the SDK before `npm run build` says to build it", async () => {
  const dir = packageCopy();
  await assert.rejects(importCopy(dir), {
    message: "@pkgprotect/node is not built: run `npm run build` in bindings/node (after scripts/build-component.sh)",
  });
});

// A stand-in for jco's output: the same exports, answering `err` as jco does (a thrown
// `ComponentError` whose `payload` is the error record).
const standIn = `
class ComponentError extends Error {
  constructor(payload) { super("component error"); this.payload = payload; }
}
const internal = { cause: { tag: "internal" }, message: "the rule set is inconsistent (no rule bucket for the package type); the request is refused" };
class RuleSet {
  static compile(source) {
    if (source.tag === "typed" && source.val.length > 1) {
      throw new ComponentError({ cause: { tag: "too-many-rules" }, message: "a rule set holds at most 4,294,967,295 rules" });
    }
    return new RuleSet();
  }
  len() { return 1; }
  decide() { throw new ComponentError(internal); }
  explain() { throw new ComponentError(internal); }
  [Symbol.dispose]() {}
}
export const api = {
  version: () => "0.2.1",
  decide: () => { throw new ComponentError({ tag: "cannot-decide", val: internal }); },
  explain: () => { throw new ComponentError({ tag: "rules-refused", val: { cause: { tag: "too-many-rules" }, message: "a rule set holds at most 4,294,967,295 rules" } }); },
};
export const engine = { RuleSet };
`;

test("too_many_rules and internal become a RuleSetError and a DecisionError with their causes", async () => {
  const sdk = await importCopy(packageCopy({ "pkgprotect.js": standIn }));
  const rules = [
    { id: 1, package_name_pattern: "a", package_type: "npm", minimum_access_level_for_push: "owner" },
    { id: 2, repository_path_pattern: "b", minimum_access_level_for_push: "owner" },
  ];
  const request = { package_name: "a", package_type: "npm", action: "push", actor: { type: "deploy_token" } };
  const tooMany = { kind: "too_many_rules" };
  for (const call of [() => sdk.RuleSet.compile(rules), () => sdk.explain(rules, request)]) {
    assert.throws(call, (error) => {
      assert.ok(error instanceof sdk.RuleSetError);
      assert.deepEqual(error.cause, tooMany);
      assert.equal(error.field, "rules");
      assert.equal(error.message, "a rule set holds at most 4,294,967,295 rules");
      assert.equal("httpStatus" in error, false);
      return true;
    });
  }
  const set = sdk.RuleSet.compile(rules.slice(0, 1));
  for (const call of [() => set.decide(request), () => set.explain(request), () => sdk.decide(rules, request)]) {
    assert.throws(call, (error) => {
      assert.ok(error instanceof sdk.DecisionError);
      assert.deepEqual(error.cause, { kind: "internal" });
      assert.equal(error.field, "rules");
      assert.match(error.message, /^the rule set is inconsistent \(.*\); the request is refused$/);
      assert.equal("httpStatus" in error, false);
      return true;
    });
  }
});
