// The shared GitLab vectors through the bindings, and the runner's own reporting.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { compileRules, NameList } from "pkgprotect";
import { runVectors } from "../lib/conformance.js";

const shared = process.env.PKGPROTECT_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
const vectors = JSON.parse(readFileSync(join(shared, "conformance", "gitlab-vectors.json"), "utf8"));
const runner = fileURLToPath(new URL("../scripts/conformance.js", import.meta.url));

test("every shared vector passes through the JS bindings", () => {
  const report = runVectors(vectors);
  assert.deepEqual(report.failures, []);
  assert.equal(report.passed, vectors.match.length + vectors.validate.length + vectors.decide.length);
});

test("NameList previews agree with the match vectors, one list per pattern", () => {
  const byPattern = new Map();
  for (const v of vectors.match) {
    if (!byPattern.has(v.pattern)) byPattern.set(v.pattern, []);
    byPattern.get(v.pattern).push(v);
  }
  for (const [pattern, cases] of byPattern) {
    const list = new NameList(cases.map((v) => v.name));
    // A container repository rule: the plain `name ILIKE to_like(pattern)` the vectors record.
    const result = list.preview(pattern, { kind: "container_repository" });
    list.free();
    const matched = new Set(result.matched);
    const undecidable = new Set(result.undecidable);
    cases.forEach((v, i) => {
      const got = undecidable.has(i) ? "error" : `matches=${matched.has(i)}`;
      const expected = v.matches === null ? "error" : `matches=${v.matches}`;
      assert.equal(got, expected, `pattern ${JSON.stringify(pattern)} name ${JSON.stringify(v.name)}: ${v.note}`);
    });
  }
});

test("decideNames and NameList#decide agree with the decide vectors", () => {
  for (const [i, v] of vectors.decide.entries()) {
    const { package_name: name, repository_path: path, package_type: type, action, actor } = v.request;
    const options = { kind: path === undefined ? type : "container_repository", action, actor };
    const names = [name ?? path];
    const rules = compileRules(v.rules);
    const list = new NameList(names);
    try {
      const expected = [v.allowed ? "allowed" : "blocked"];
      assert.deepEqual(rules.decideNames(names, options), expected, `decide[${i}]: ${v.note}`);
      assert.deepEqual(list.decide(rules, options), expected, `decide[${i}]: ${v.note}`);
    } finally {
      list.free();
      rules.free();
    }
  }
});

test("the runner prints each failure with its note, then the summary, and exits 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-vectors-"));
  const file = join(dir, "wrong.json");
  writeFileSync(
    file,
    JSON.stringify({
      schema: 1,
      match: [
        { pattern: "@s/*", name: "@S/x", matches: true, note: "case-insensitive" },
        { pattern: "@s/*", name: "@t/x", matches: true, note: "deliberately wrong" },
      ],
    }),
  );
  let failure;
  try {
    execFileSync(process.execPath, [runner, file], { encoding: "utf8" });
  } catch (error) {
    failure = error;
  }
  assert.equal(failure?.status, 1);
  assert.match(failure.stdout, /^FAIL match\[1\]: pattern `@s\/\*` name `@t\/x`: deliberately wrong$/m);
  assert.match(failure.stdout, /^  expected: matches=true\n  got:      matches=false$/m);
  assert.match(failure.stdout, /\n1 passed, 1 failed\n$/);

  writeFileSync(file, JSON.stringify({ schema: 1, match: [{ pattern: "a", name: "A", matches: true }] }));
  assert.equal(execFileSync(process.execPath, [runner, file], { encoding: "utf8" }), "1 passed, 0 failed\n");
});
