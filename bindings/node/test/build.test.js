// `npm run build`: what it records, and what it refuses with a message saying what to run.
// (The failing builds stop before touching generated/, which the other tests use.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { oldComponent, packageDir } from "./helpers.js";

const build = join(packageDir, "scripts/build.js");
const run = (component) =>
  spawnSync(process.execPath, [build], { encoding: "utf8", env: { ...process.env, PKGPROTECT_COMPONENT: component } });
const generated = (name) => readFileSync(join(packageDir, "generated", name));

test("the build records the copied component, and jco's core module comes from those bytes", () => {
  const info = JSON.parse(generated("component.json"));
  const copy = generated("pkgprotect.wasm");
  assert.match(info.source, /\.wasm$/); // target/pkgprotect.wasm unless PKGPROTECT_COMPONENT names another
  assert.equal(info.bytes, copy.length);
  assert.equal(info.sha256, createHash("sha256").update(copy).digest("hex"));
  // jco only splits the component: the core module it instantiates is a byte range of it.
  const core = generated("pkgprotect.core.wasm");
  assert.ok(core.length > 0 && copy.includes(core), "the core module is not part of the component");
  // The glue is jco's output as generated: nothing in it is patched.
  assert.match(generated("pkgprotect.js").toString(), /if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}/);
});

test("a missing component: exit 1, run scripts/build-component.sh", () => {
  const result = run(join(tmpdir(), "no-such-dir", "pkgprotect.wasm"));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^error: the component `.*no-such-dir\/pkgprotect\.wasm` is missing: run scripts\/build-component\.sh/);
});

test("a core module or any other file is not a component: exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-node-build-"));
  const core = join(dir, "core.wasm");
  writeFileSync(core, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  const result = run(core);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /is not a WebAssembly component: run scripts\/build-component\.sh/);
});

test("a component of contract 0.1.0: exit 1 naming both versions, generated/ untouched", () => {
  const before = generated("component.json");
  const result = run(oldComponent());
  assert.equal(result.status, 1, result.stderr);
  assert.match(
    result.stderr,
    /^error: `.*old\.wasm` implements contract `0\.1\.0`, this SDK speaks pkgprotect:policy@0\.2\.1: rebuild it with scripts\/build-component\.sh\n$/,
  );
  assert.deepEqual(generated("component.json"), before);
  assert.equal(existsSync(join(packageDir, "generated.tmp")), false);
});
