//! The host crate with the real component (`scripts/build-component.sh` builds it).

// Test code may index, unwrap and panic: a failure is the point.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod conformance;
mod differential;
mod fault;
mod limits;

use pkgprotect_host::Policy;
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn component_path() -> PathBuf {
    std::env::var_os("PKGPROTECT_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect.wasm"))
}

/// One compiled component for the whole test binary, as a server would hold it.
pub fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = component_path();
        Policy::load(&path).unwrap_or_else(|e| panic!("{e} — run scripts/build-component.sh first"))
    })
}
