// Types of the Node entry point (node.js): everything the web build exports, ready to use.
// The error classes are declared in pkg/pkgprotect_js.d.ts (src/lib.rs) and defined in
// pkg/errors.js, which node.js re-exports.
export * from "./pkg/pkgprotect_js.js";
