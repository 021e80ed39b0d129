// npm --prefix bindings/node run conformance -- FILE
// The shared vectors through this SDK (scripts/vectors.js): prints every failing vector with
// its note, then `N passed, N failed`; exits 1 on a failure, 2 on a usage or file error.
import * as sdk from "../index.js";
import { conformanceMain } from "./vectors.js";

conformanceMain(sdk, "npm --prefix bindings/node run conformance -- VECTORS.json");
