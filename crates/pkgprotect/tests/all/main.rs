//! Integration tests of the core, in one binary.

// Test code may index, unwrap and panic: a failure is the point. (clippy.toml only
// relaxes these lints inside `#[test]` functions, not in the helpers they call.)
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod conformance;
mod decide_oracle;
mod matcher_oracle;
