// npm --prefix bindings/js run conformance -- FILE
// Prints every failing vector with its note, then `N passed, N failed`; exits 1 on failure.
import * as sdk from "pkgprotect";
import { conformanceMain } from "../lib/vectors.js";

conformanceMain(sdk, "npm --prefix bindings/js run conformance -- VECTORS.json");
