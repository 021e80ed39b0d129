// npm --prefix bindings/node run conformance -- FILE
// The shared vector runner of the JS bindings (bindings/js/lib/vectors.js), answered by this
// SDK: prints every failing vector with its note, then `N passed, N failed`; exits 1 on failure.
import { conformanceMain } from "../../js/lib/vectors.js";
import * as sdk from "../index.js";

conformanceMain(sdk, "npm --prefix bindings/node run conformance -- VECTORS.json");
