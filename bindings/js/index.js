// Browser (and bundler) entry point: the web build, whose default export `init()` must be
// awaited before any other call, and the error classes it throws (pkg/errors.js).
export * from "./pkg/pkgprotect_js.js";
export { default } from "./pkg/pkgprotect_js.js";
export * from "./pkg/errors.js";
