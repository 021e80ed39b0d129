// npm --prefix bindings/js run conformance -- FILE
// Prints every failing vector with its note, then `N passed, N failed`; exits 1 on failure.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { formatReport, runVectors } from "../lib/conformance.js";

const [arg] = process.argv.slice(2);
if (!arg) {
  console.error("usage: npm --prefix bindings/js run conformance -- VECTORS.json");
  process.exit(2);
}
// npm runs scripts inside bindings/js; a relative path means the caller's directory.
const path = resolve(process.env.INIT_CWD ?? process.cwd(), arg);
let file;
try {
  file = JSON.parse(readFileSync(path, "utf8"));
} catch (error) {
  console.error(`error: cannot read vector file ${path}: ${error.message}`);
  process.exit(2);
}
const report = runVectors(file);
console.log(formatReport(report));
process.exit(report.failures.length === 0 ? 0 : 1);
