//! The shared GitLab vectors, through the native core.

use pkgprotect_conformance::{NativeHost, VectorFile, run};
use std::path::PathBuf;

fn shared_vectors() -> PathBuf {
    match std::env::var_os("PKGPROTECT_SHARED") {
        Some(shared) => PathBuf::from(shared).join("conformance/gitlab-vectors.json"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/gitlab-vectors.json"),
    }
}

#[test]
fn every_shared_vector_passes_natively() {
    let path = shared_vectors();
    let file =
        VectorFile::load(&path).unwrap_or_else(|e| panic!("{e} (set PKGPROTECT_SHARED to the shared/ directory)"));
    assert!(
        file.matches.len() > 1000 && file.validate.len() > 300 && file.decide.len() > 1000,
        "vector file looks truncated"
    );
    let report = run(&file, &mut NativeHost);
    assert_eq!(report.failed(), 0, "{report}");
    assert_eq!(report.passed, file.len());
}
