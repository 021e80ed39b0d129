// The shared vector runner (lib/vectors.js) answered by these bindings.
import * as sdk from "pkgprotect";
import { runVectorsWith } from "./vectors.js";

export { conformanceMain, formatReport, runVectorsWith } from "./vectors.js";

/** `{ passed, failures: [{ vector, note, expected, got }] }` for a parsed vector file. */
export function runVectors(file) {
  return runVectorsWith(sdk, file);
}
