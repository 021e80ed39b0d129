// Node entry point: the same `--target web` build the browser page loads, instantiated
// synchronously from the .wasm file next to it, so Node code can call it right after `import`.
import { readFileSync } from "node:fs";
import { initSync } from "./pkg/pkgprotect_js.js";

initSync({ module: readFileSync(new URL("./pkg/pkgprotect_js_bg.wasm", import.meta.url)) });

export * from "./pkg/pkgprotect_js.js";
export * from "./pkg/errors.js";
