//! A preview pattern compiled once and applied to many names, for live previews over long
//! lists (a browser re-runs it on every keystroke).

use crate::glob::{Glob, MatchError};
use crate::model::PackageType;
use crate::text::normalize_pypi;

/// [`crate::preview`] for one name at a time, with the pattern compiled once.
///
/// Answers exactly as [`crate::preview`] does, but a name that does not match costs only
/// the matcher's quick check (no allocation for a lower-case ASCII name); the span tracing
/// that highlighting needs runs for matching names only.
///
/// ```
/// use pkgprotect::{PackageType, PreviewPattern};
///
/// let pattern = PreviewPattern::new("@demo/*", Some(PackageType::Npm));
/// assert_eq!(pattern.spans("@Demo/ui")?, Some(vec![(0, 6)]));
/// assert_eq!(pattern.spans("@other/ui")?, None);
/// assert_eq!(pattern.utf16_spans("@DEMO/😀")?, Some(vec![(0, 6)]));
/// # Ok::<(), pkgprotect::MatchError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PreviewPattern {
    glob: Glob,
    pypi: bool,
}

impl PreviewPattern {
    /// Compile `pattern` for a rule of `package_type` (`None` for container repository rules).
    pub fn new(pattern: &str, package_type: Option<PackageType>) -> Self {
        let pypi = package_type == Some(PackageType::Pypi);
        let glob = if pypi { Glob::new_pypi_normalized(pattern) } else { Glob::new(pattern) };
        PreviewPattern { glob, pypi }
    }

    /// Byte ranges `[start, end)` of `name` matched by the pattern's literal characters, or
    /// `None` when `name` does not match; `Err` when GitLab's query would fail for it.
    pub fn spans(&self, name: &str) -> Result<Option<Vec<(usize, usize)>>, MatchError> {
        let matches = if self.pypi { self.glob.matches(&normalize_pypi(name)) } else { self.glob.matches(name) };
        match matches {
            Ok(true) => self.glob.matched_spans(name, self.pypi),
            Ok(false) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// [`PreviewPattern::spans`] in UTF-16 code units, as JavaScript strings and the DOM count.
    pub fn utf16_spans(&self, name: &str) -> Result<Option<Vec<(usize, usize)>>, MatchError> {
        let to_utf16 = |byte: usize| name.get(..byte).map_or(0, |prefix| prefix.encode_utf16().count());
        Ok(self.spans(name)?.map(|spans| spans.into_iter().map(|(s, e)| (to_utf16(s), to_utf16(e))).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview;

    /// Every pattern against every name, in every package type mode, gives `preview`'s answer.
    #[test]
    fn agrees_with_preview() {
        let patterns = [
            "@demo/*", "*", "**", "", " ", "*-x", "a*b*c", "my_pkg*", "My.Pkg", "pkg\\", "\\*", "a\\_b", "*\\", "İ*",
            "*ß*", "%", "_", "g/p/*", "😀*", "a**b",
        ];
        let names = [
            "@demo/ui",
            "@Demo/UI",
            "@other/ui",
            "",
            " ",
            "x-x",
            "abc",
            "aXbYc",
            "my-pkg",
            "MY__PKG.x",
            "my.pkg",
            "pkg",
            "pkgx",
            "%",
            "_",
            "a_b",
            "a%b",
            "i̇x",
            "iß",
            "SS",
            "g/p/img",
            "😀é-X",
            "ab",
            "a\\b",
        ];
        let (mut matched, mut failed) = (0, 0);
        for package_type in [None, Some(PackageType::Npm), Some(PackageType::Pypi)] {
            for pattern in patterns {
                let compiled = PreviewPattern::new(pattern, package_type);
                for expected in preview(pattern, package_type, &names) {
                    let context = format!("{pattern:?} {:?} {package_type:?}", expected.name);
                    match compiled.spans(&expected.name) {
                        Ok(spans) => {
                            assert!(expected.error.is_none(), "{context}");
                            matched += usize::from(expected.matched);
                            assert_eq!(spans.is_some(), expected.matched, "{context}");
                            assert_eq!(spans.unwrap_or_default(), expected.spans, "{context}");
                            let utf16 = compiled.utf16_spans(&expected.name).unwrap().unwrap_or_default();
                            assert_eq!(utf16, expected.utf16_spans(), "{context}");
                        }
                        Err(_) => {
                            assert!(expected.error.is_some(), "{context}");
                            failed += 1;
                        }
                    }
                }
            }
        }
        // The lists exercise all three outcomes, not just "no match".
        assert!(matched > 100 && failed > 5, "{matched} matched, {failed} failed");
    }
}
