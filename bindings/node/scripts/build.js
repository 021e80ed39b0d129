// npm run build: copy the component the other hosts run (target/pkgprotect.wasm, built by
// scripts/build-component.sh) and transpile it with jco into generated/ (ESM + .d.ts).
// The copy is read once, so a component replaced while this runs is either wholly in or out.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, "..");
const repo = resolve(packageDir, "../..");
const source = resolve(process.env.PKGPROTECT_COMPONENT ?? join(repo, "target/pkgprotect.wasm"));
const jco = join(packageDir, "node_modules/.bin/jco");
const out = join(packageDir, "generated");
const staging = join(packageDir, "generated.tmp");

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

if (!existsSync(source)) {
  fail(`the component \`${source}\` is missing: run scripts/build-component.sh (from the repository root) first`);
}
if (!existsSync(jco)) {
  fail(`jco is not installed in \`${relative(repo, packageDir)}/node_modules\`: run \`npm ci\` there first`);
}
const bytes = readFileSync(source);
// A component's preamble: `\0asm`, version 0x0d, layer 1 (a core module has layer 0).
const preamble = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
if (!bytes.subarray(0, 8).equals(preamble)) {
  fail(`\`${source}\` is not a WebAssembly component: run scripts/build-component.sh`);
}

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
writeFileSync(join(staging, "pkgprotect.wasm"), bytes);
try {
  execFileSync(jco, ["transpile", join(staging, "pkgprotect.wasm"), "-o", staging, "--name", "pkgprotect", "--quiet"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
} catch (error) {
  fail(`jco transpile failed on \`${source}\` (exit ${error.status ?? error.signal})`);
}
// The SDK speaks one contract: a component of another version fails here rather than at import.
const CONTRACT = "0.2.1";
let found;
try {
  const { api } = await import(pathToFileURL(join(staging, "pkgprotect.js")).href);
  found = api?.version?.();
} catch (error) {
  fail(`the transpiled \`${source}\` cannot be loaded: ${error.message}`);
}
if (found !== CONTRACT) {
  rmSync(staging, { recursive: true, force: true });
  fail(`\`${source}\` implements contract ${found === undefined ? "(no `api.version`)" : `\`${found}\``}, this SDK speaks pkgprotect:policy@${CONTRACT}: rebuild it with scripts/build-component.sh`);
}
const sha256 = createHash("sha256").update(bytes).digest("hex");
const info = { source: relative(repo, source), bytes: bytes.length, sha256 };
writeFileSync(join(staging, "component.json"), `${JSON.stringify(info, null, 2)}\n`);
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log(`built ${relative(process.cwd(), out)} from ${info.source} (${info.bytes} bytes, sha256 ${sha256.slice(0, 16)}…)`);
