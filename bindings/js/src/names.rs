//! A list of names kept in Wasm memory, so that previewing a pattern against thousands of
//! names costs one crossing for the pattern and one for the results, not one per name.

use pkgprotect::{PackageType, PreviewPattern};

/// The names, packed into one string; `ends[i]` is where name `i` ends (and name `i + 1`
/// starts). One allocation instead of one per name keeps construction and lookups cheap.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Names {
    text: String,
    ends: Vec<usize>,
}

impl Names {
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut packed = Names::default();
        for name in names {
            packed.push(name.as_ref());
        }
        packed
    }

    /// One name per line (`\n` or `\r\n`); lines that are empty once the line break is
    /// removed are skipped, since a name file usually ends with a newline and a blank name
    /// matches no rule anyway.
    pub fn from_lines(text: &str) -> Self {
        Names::from_names(
            text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).filter(|l| !l.is_empty()),
        )
    }

    fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&str> {
        let start = match index.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(index)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The core's preview of `pattern` over every name, flattened into index and span arrays.
    pub fn preview(&self, pattern: &str, package_type: Option<PackageType>) -> PreviewData {
        let pattern = PreviewPattern::new(pattern, package_type);
        let mut data = PreviewData { span_offsets: vec![0], ..PreviewData::default() };
        for (index, name) in self.iter().enumerate() {
            match pattern.utf16_spans(name) {
                Ok(None) => {}
                Ok(Some(spans)) => {
                    data.matched.push(to_u32(index));
                    for (start, end) in spans {
                        data.spans.extend([to_u32(start), to_u32(end)]);
                    }
                    data.span_offsets.push(to_u32(data.spans.len()));
                }
                Err(error) => {
                    data.errored.push(to_u32(index));
                    // The message names only the pattern, so one copy serves every name.
                    if data.error.is_none() {
                        data.error = Some(error.to_string());
                    }
                }
            }
        }
        data
    }
}

/// A preview in the shape JavaScript receives it: typed arrays instead of one object per name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PreviewData {
    /// Indices of the matching names, ascending.
    pub matched: Vec<u32>,
    /// UTF-16 `[start, end)` pairs, flattened; the pairs of `matched[i]` are
    /// `spans[span_offsets[i]..span_offsets[i + 1]]`.
    pub spans: Vec<u32>,
    pub span_offsets: Vec<u32>,
    /// Indices of the names for which GitLab's query would fail (lone trailing `\`).
    pub errored: Vec<u32>,
    pub error: Option<String>,
}

/// Wasm addresses are 32-bit, so every length and offset of a list in Wasm memory fits;
/// saturating keeps the host build (64-bit) panic-free all the same.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_reads_back_names() {
        let names = Names::from_names(["@demo/a", "", "é"]);
        assert_eq!(names.len(), 3);
        assert_eq!(names.iter().collect::<Vec<_>>(), ["@demo/a", "", "é"]);
        assert_eq!(names.get(3), None);
    }

    #[test]
    fn lines_tolerate_crlf_and_skip_empty_lines() {
        let names = Names::from_lines("a\r\nb\n\n c \n");
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a", "b", " c "]);
    }

    #[test]
    fn preview_flattens_the_core_answer() {
        let names = Names::from_names(["@demo/ui", "@other/ui", "😀@DEMO/x"]);
        let data = names.preview("*@demo/*", Some(PackageType::Npm));
        assert_eq!(data.matched, [0, 2]);
        assert_eq!(data.spans, [0, 6, 2, 8]);
        assert_eq!(data.span_offsets, [0, 2, 4]);
        assert!(data.errored.is_empty() && data.error.is_none());
    }

    #[test]
    fn preview_reports_the_trailing_escape_error_once() {
        let data = Names::from_names(["pkgx", "pkgy", "other"]).preview("pkg\\", Some(PackageType::Generic));
        assert!(data.matched.is_empty());
        assert_eq!(data.errored, [0, 1]);
        assert!(data.error.is_some_and(|e| e.contains("ends with a lone")));
    }
}
