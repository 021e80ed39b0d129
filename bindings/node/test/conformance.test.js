// The shared GitLab vectors through this SDK (the runner bindings/js uses too), the
// conformance command's report, and answer-for-answer parity with the JS bindings.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as sdk from "@pkgprotect/node";
import { runVectorsWith } from "../../js/lib/vectors.js";

const shared = process.env.PKGPROTECT_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
const vectors = JSON.parse(readFileSync(join(shared, "conformance", "gitlab-vectors.json"), "utf8"));
const command = fileURLToPath(new URL("../scripts/conformance.js", import.meta.url));
const jsBuild = new URL("../../js/pkg/pkgprotect_js_bg.wasm", import.meta.url);

test("every shared vector passes through the component", () => {
  const report = runVectorsWith(sdk, vectors);
  assert.deepEqual(report.failures, []);
  assert.equal(report.passed, vectors.match.length + vectors.validate.length + vectors.decide.length);
  assert.ok(report.passed >= 3115, `only ${report.passed} vectors`);
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

// Switching between the two packages changes nothing: the same objects for every vector.
test("answers equal the JS bindings' (wasm-bindgen build), reason texts and spans included", async (t) => {
  if (!existsSync(jsBuild)) {
    t.skip("bindings/js is not built (scripts/build-preview.sh)");
    return;
  }
  const js = await import("../../js/node.js");
  const same = (label, answer) => {
    const [ours, theirs] = [sdk, js].map((api) => {
      try {
        return answer(api);
      } catch (error) {
        return { threw: error.message };
      }
    });
    assert.deepEqual(ours, theirs, label);
  };
  let compared = 0;
  for (const [i, v] of vectors.decide.entries()) {
    same(`decide[${i}]`, (api) => api.compileRules(v.rules).decide(v.request));
    compared++;
  }
  for (const [i, v] of vectors.validate.entries()) {
    const options = { kind: v.kind, projectPath: v.project_path, existingRules: v.existing_rules ?? [] };
    same(`validate[${i}]`, (api) => api.validateRule(v.rule, options));
    compared++;
  }
  for (const [i, v] of vectors.match.entries()) {
    for (const packageType of [null, "npm", "pypi", "maven"]) {
      same(`match[${i}] ${packageType}`, (api) => api.preview(v.pattern, [v.name, `😀${v.name}`], { packageType }));
      compared++;
    }
  }
  assert.ok(compared > 7000);
});
