// `npm run build` refuses what it cannot transpile, with a message saying what to run.
// (Only failing builds here: they stop before touching generated/, which other tests use.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const build = fileURLToPath(new URL("../scripts/build.js", import.meta.url));
const run = (component) =>
  spawnSync(process.execPath, [build], { encoding: "utf8", env: { ...process.env, PKGPROTECT_COMPONENT: component } });

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
