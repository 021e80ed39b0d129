//! Which names a pattern matches, with the matched parts, for live previews in UIs.

use crate::glob::Glob;
use crate::model::PackageType;
use serde::{Deserialize, Serialize};

/// The outcome of one name in a [`preview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewMatch {
    pub name: String,
    pub matched: bool,
    /// Byte ranges `[start, end)` of `name` matched by the pattern's literal characters;
    /// the gaps are what its `*`s matched. Empty when `matched` is false.
    pub spans: Vec<(usize, usize)>,
    /// Set when GitLab's query would fail for this name (a lone trailing `\` reached).
    pub error: Option<String>,
}

impl PreviewMatch {
    /// [`PreviewMatch::spans`] in UTF-16 code units, as JavaScript strings and the DOM count.
    pub fn utf16_spans(&self) -> Vec<(usize, usize)> {
        let to_utf16 = |byte: usize| self.name.get(..byte).map_or(0, |prefix| prefix.encode_utf16().count());
        self.spans.iter().map(|&(start, end)| (to_utf16(start), to_utf16(end))).collect()
    }
}

/// Match `pattern` against each name as GitLab would for a rule of `package_type`
/// (`None` for container repository rules). PyPI rules compare names as GitLab's user path
/// does, with `-`, `_` and `.` runs made equal.
pub fn preview<S: AsRef<str>>(pattern: &str, package_type: Option<PackageType>, names: &[S]) -> Vec<PreviewMatch> {
    let pypi = package_type == Some(PackageType::Pypi);
    let glob = if pypi { Glob::new_pypi_normalized(pattern) } else { Glob::new(pattern) };
    names
        .iter()
        .map(|name| {
            let name = name.as_ref();
            let (matched, spans, error) = match glob.matched_spans(name, pypi) {
                Ok(Some(spans)) => (true, spans, None),
                Ok(None) => (false, Vec::new(), None),
                Err(error) => (false, Vec::new(), Some(error.to_string())),
            };
            PreviewMatch { name: name.to_owned(), matched, spans, error }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_matches_spans_and_errors() {
        let out = preview("@demo/*", Some(PackageType::Npm), &["@demo/a", "@other/a", ""]);
        assert!(out[0].matched);
        assert_eq!(out[0].spans, vec![(0, 6)]);
        assert!(!out[1].matched && !out[2].matched);
        let out = preview("pkg\\", Some(PackageType::Generic), &["pkgx", "pkg"]);
        assert!(out[0].error.is_some());
        assert!(out[1].error.is_none() && !out[1].matched);
    }

    #[test]
    fn utf16_spans_count_code_units() {
        let out = preview("*-x", None, &["😀é-X"]);
        assert_eq!(out[0].spans, vec![(6, 8)]);
        assert_eq!(out[0].utf16_spans(), vec![(3, 5)]);
    }

    #[test]
    fn pypi_previews_normalize_separators() {
        let out = preview("my_package", Some(PackageType::Pypi), &["My.Package", "my-packages"]);
        assert!(out[0].matched);
        assert!(!out[1].matched);
    }
}
