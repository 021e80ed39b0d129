use pkgprotect_conformance::{VectorFile, run};
use pkgprotect_host::conformance::ComponentHost;
use std::path::PathBuf;

#[test]
fn every_shared_vector_passes_through_the_component() {
    let path = match std::env::var_os("PKGPROTECT_SHARED") {
        Some(shared) => PathBuf::from(shared).join("conformance/gitlab-vectors.json"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/gitlab-vectors.json"),
    };
    let file = VectorFile::load(&path).unwrap();
    let report = run(&file, &mut ComponentHost { policy: super::policy().clone() });
    assert_eq!(report.failed(), 0, "{report}");
    assert_eq!(report.passed, file.len());
}

/// Patterns and names that read like WAVE output are data to every host.
#[test]
fn wave_lookalike_vectors_pass_through_the_component() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/wave-lookalikes.json");
    let file = VectorFile::load(&path).unwrap();
    let report = run(&file, &mut ComponentHost { policy: super::policy().clone() });
    assert_eq!((report.failed(), report.passed), (0, file.len()), "{report}");
}
