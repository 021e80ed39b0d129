//! The pkgprotect WebAssembly component: the core crate behind the WIT contract in
//! `wit/policy.wit`, with no imports, so every component host can run it unchanged.
//!
//! Build it with `scripts/build-component.sh` (→ `target/pkgprotect.wasm`), then e.g.:
//!
//! ```text
//! wasmtime run --invoke 'version()' target/pkgprotect.wasm
//! ```
//!
//! This crate only translates between WIT types and the core's; the semantics live in `pkgprotect`.

// The exports' symbol names (`pkgprotect:policy/api@0.1.0#decide`) only make sense to a
// WebAssembly linker; a native build of this crate (as `cargo test --workspace` makes) is empty.
#[cfg(target_arch = "wasm32")]
mod guest;

// Unsafe by nature (a global allocator); confined to this module and justified there.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod allocator;

// Test builds only (feature `fault-injection`, see README.md): an extra export that breaks
// the core's invariants inside the component. `scripts/build-component.sh` never enables it.
#[cfg(all(target_arch = "wasm32", feature = "fault-injection"))]
mod fault;
