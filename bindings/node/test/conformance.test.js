// The shared GitLab vectors through this SDK (scripts/vectors.js, answering as the
// component's own conformance host), the conformance command's report, and
// answer-for-answer parity with the JS bindings.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as sdk from "@pkgprotect/node";
import { runVectors } from "../scripts/vectors.js";

const shared = process.env.PKGPROTECT_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
const vectors = JSON.parse(readFileSync(join(shared, "conformance", "gitlab-vectors.json"), "utf8"));
const command = fileURLToPath(new URL("../scripts/conformance.js", import.meta.url));
const jsBuild = new URL("../../js/pkg/pkgprotect_js_bg.wasm", import.meta.url);

test("every shared vector passes through the SDK; decide, batch, names and one-shot agree with explain", () => {
  const report = runVectors(sdk, vectors);
  assert.deepEqual(report.failures, []);
  assert.equal(report.passed, vectors.match.length + vectors.validate.length + vectors.decide.length);
  assert.ok(report.passed >= 3115, `only ${report.passed} vectors`);
});

test("a wrong answer fails its vector, and so does a call disagreeing with explain", () => {
  const [right] = vectors.decide;
  const wrong = { ...right, allowed: !right.allowed, note: "flipped on purpose" };
  const flipped = runVectors(sdk, { decide: [right, wrong] });
  assert.equal(flipped.passed, 1);
  assert.equal(flipped.failures.length, 1);
  assert.equal(flipped.failures[0].vector, "decide[1]");

  // An SDK whose `decide` disagrees with its `explain` fails every decide vector.
  const lying = {
    ...sdk,
    compileRules(rules) {
      const set = sdk.compileRules(rules);
      return Object.assign(Object.create(set), {
        explain: (r) => set.explain(r),
        decide: (r) => ({ ...set.decide(r), blocking_rules: 99 }),
        decideBatch: (r) => set.decideBatch(r),
        decideNames: (n, o) => set.decideNames(n, o),
        free: () => set.free(),
      });
    },
  };
  const report = runVectors(lying, { decide: vectors.decide.slice(0, 3) });
  assert.equal(report.passed, 0);
  for (const failure of report.failures) assert.match(failure.got, /, but `decide` answered \{.*"blocking_rules":99.*\} where `explain` means /);
});

test("the conformance command lists failures with their notes, ends with the counts, exits 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-node-vectors-"));
  const file = join(dir, "one-wrong.json");
  const [right] = vectors.decide;
  const wrong = { ...right, allowed: !right.allowed, note: "flipped on purpose" };
  writeFileSync(file, JSON.stringify({ schema: 1, decide: [right, wrong] }));
  const failed = spawnSync(process.execPath, [command, file], { encoding: "utf8" });
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stdout, /^FAIL decide\[1\]: .*flipped on purpose$/m);
  assert.match(failed.stdout, /\n1 passed, 1 failed\n$/);

  writeFileSync(file, JSON.stringify({ schema: 1, decide: [right] }));
  const passed = spawnSync(process.execPath, [command, file], { encoding: "utf8" });
  assert.equal(passed.status, 0);
  assert.equal(passed.stdout, "1 passed, 0 failed\n");

  const missing = spawnSync(process.execPath, [command, join(dir, "absent.json")], { encoding: "utf8" });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: cannot read vector file `.*absent\.json`/);
  const usage = spawnSync(process.execPath, [command], { encoding: "utf8" });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^usage: npm --prefix bindings\/node run conformance -- VECTORS\.json/);
});

// Switching between the two packages changes nothing: the same objects for every vector,
// errors included. Needs bindings/js built (`npm --prefix bindings/js run build`) from the
// 0.2 API; skipped, and reported as skipped, until then.
test("answers equal the JS bindings' (wasm-bindgen build), reasons, errors and spans included", async (t) => {
  if (!existsSync(jsBuild)) {
    t.skip("bindings/js is not built (bindings/js/pkg is missing)");
    return;
  }
  const js = await import("../../js/node.js");
  if (js.version?.() !== "0.2.1") {
    t.skip(`bindings/js/pkg is not a build of the 0.2 API (its version() is \`${js.version?.()}\`)`);
    return;
  }
  const same = (label, answer) => {
    const [ours, theirs] = [sdk, js].map((api) => {
      try {
        return answer(api);
      } catch (error) {
        return { threw: error.name, field: error.field, cause: error.cause, message: error.message };
      }
    });
    assert.deepEqual(ours, theirs, label);
  };
  let compared = 0;
  for (const [i, v] of vectors.decide.entries()) {
    same(`decide[${i}]`, (api) => {
      const set = api.compileRules(v.rules);
      try {
        return [set.explain(v.request), set.decide(v.request), set.decideBatch([v.request]), set.lint()];
      } finally {
        set.free();
      }
    });
    same(`decide[${i}] one-shot`, (api) => [api.decide(JSON.stringify(v.rules), v.request), api.explain(v.rules, v.request)]);
    compared += 2;
  }
  for (const [i, v] of vectors.validate.entries()) {
    const options = { kind: v.kind, projectPath: v.project_path, existingRules: v.existing_rules ?? [] };
    same(`validate[${i}]`, (api) => [api.validateRule(v.rule, options), api.parseRule(v.rule, options)]);
    compared++;
  }
  for (const [i, v] of vectors.match.entries()) {
    for (const kind of ["container_repository", "npm", "pypi", "maven"]) {
      same(`match[${i}] ${kind}`, (api) => api.preview(v.pattern, [v.name, `😀${v.name}`, `ß${v.name}İ`], { kind }));
      compared++;
    }
  }
  const errors = [
    [[{ id: 1, package_name_pattern: "a", package_type: "npm" }, { id: 1, package_name_pattern: "b", package_type: "npm" }], "duplicate"],
    [[{ package_name_pattern: "a", package_type: "npm" }], "missing id"],
    [[{ id: 2, package_name_pattern: " ", package_type: "npm" }], "blank"],
    ["[{", "invalid json"],
  ];
  for (const [rules, label] of errors) same(label, (api) => api.compileRules(rules));
  same("unevaluable", (api) =>
    api.decide([{ id: 9, package_name_pattern: "x\\", package_type: "generic", minimum_access_level_for_push: "owner" }], {
      package_name: "xy",
      package_type: "generic",
      action: "push",
      actor: { type: "user", access_level: "developer" },
    }),
  );
  assert.ok(compared > 8000);
});
