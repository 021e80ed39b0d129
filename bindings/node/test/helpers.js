// Shared by the tests: the error check every refusal goes through, and copies of this
// package with another generated/ (a component of another contract, or a stand-in that
// returns errors the real component cannot be made to return).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PkgprotectError, RuleValidationError } from "@pkgprotect/node";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));
export const jco = join(packageDir, "node_modules/.bin/jco");

/**
 * `call` must throw an instance of `kind` whose `field` is `field`; returns the error. Only a
 * `RuleValidationError` carries an HTTP status (GitLab's); no other error invents one.
 */
export function refuses(call, kind, field) {
  let error;
  try {
    call();
  } catch (thrown) {
    error = thrown;
  }
  assert.ok(error instanceof kind, `expected a ${kind.name}, got ${error?.stack ?? error}`);
  assert.ok(error instanceof PkgprotectError && error instanceof Error);
  assert.equal(error.name, kind.name);
  assert.equal(error.field, field, error.message);
  assert.equal("httpStatus" in error, kind === RuleValidationError, `httpStatus on a ${kind.name}`);
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0);
  assert.equal(error.message[0], error.message[0].toLowerCase(), `message not lowercase: ${error.message}`);
  assert.doesNotMatch(error.message, /RuntimeError|unreachable|ComponentError|see error\.payload/);
  return error;
}

/**
 * A copy of this package (index.js, lib/, package.json) in a temporary directory, with
 * `generated` files written into its generated/; returns the directory.
 */
export function packageCopy(generated = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-node-copy-"));
  for (const entry of ["index.js", "lib", "package.json"]) cpSync(join(packageDir, entry), join(dir, entry), { recursive: true });
  mkdirSync(join(dir, "generated"));
  for (const [name, text] of Object.entries(generated)) writeFileSync(join(dir, "generated", name), text);
  return dir;
}

export const importCopy = (dir) => import(pathToFileURL(join(dir, "index.js")).href);

/**
 * A real component of contract 0.1.0 (its `api.version` answers `0.1.0`), written in the
 * component text format and assembled by jco (`wasm-tools parse`); returns its path.
 */
export function oldComponent() {
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-node-old-"));
  const wat = join(dir, "old.wat");
  writeFileSync(
    wat,
    `(component
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const 8) "\\10\\00\\00\\00\\05\\00\\00\\00")
    (data (i32.const 16) "0.1.0")
    (func (export "version") (result i32) i32.const 8)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64))
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func $version (result string)
    (canon lift (core func $i "version") (memory $mem) (realloc (core func $i "realloc"))))
  (instance $api (export "version" (func $version)))
  (export "pkgprotect:policy/api@0.1.0" (instance $api)))
`,
  );
  const wasm = join(dir, "old.wasm");
  execFileSync(jco, ["parse", wat, "-o", wasm], { stdio: ["ignore", "ignore", "inherit"] });
  return wasm;
}
