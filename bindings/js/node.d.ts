// Types of the Node entry point (node.js): everything the web build exports, ready to use.
export * from "./pkg/pkgprotect_js.js";
