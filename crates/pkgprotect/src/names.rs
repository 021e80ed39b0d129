//! Names kept once and previewed many times: the list a settings page or a registry holds
//! while its user types a pattern, lowered once instead of on every keystroke.

use crate::glob::Glob;
use crate::model::{PackageType, TargetKind};
use crate::text::{fold, is_blank, normalize_pypi};
use std::sync::OnceLock;

/// How offsets into a name are counted: the unit of the host's own string indexing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OffsetUnit {
    /// UTF-8 bytes: Rust, Go, C.
    #[default]
    Utf8Bytes,
    /// UTF-16 code units: JavaScript and the DOM, Java, C#.
    Utf16CodeUnits,
    /// Unicode scalar values: Python's `str`.
    CodePoints,
}

impl OffsetUnit {
    /// Convert ascending byte offsets of `name` (each on a character boundary) to this unit,
    /// in one pass over the name.
    fn convert(self, name: &str, bytes: impl Iterator<Item = usize>) -> impl Iterator<Item = usize> {
        let mut chars = name.char_indices().peekable();
        let mut counted = 0usize;
        bytes.map(move |byte| {
            if self == OffsetUnit::Utf8Bytes {
                return byte;
            }
            while let Some(&(at, c)) = chars.peek() {
                if at >= byte {
                    break;
                }
                counted += if self == OffsetUnit::Utf16CodeUnits { c.len_utf16() } else { 1 };
                chars.next();
            }
            counted
        })
    }
}

/// Strings packed into one buffer; `ends[i]` is where string `i` ends. One allocation
/// instead of one per name keeps 100,000 names cheap to build and to walk.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Packed {
    text: String,
    ends: Vec<usize>,
}

impl Packed {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    fn get(&self, index: usize) -> Option<&str> {
        let start = match index.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(index)?)
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map_while(|index| self.get(index))
    }
}

/// A list of names for previews: kept as given, and lowered once the way GitLab's query
/// lowers them (and, for PyPI previews, normalized first — computed on the first PyPI preview).
///
/// ```
/// use pkgprotect::{NameList, OffsetUnit, PackageType, TargetKind};
///
/// let names = NameList::new(["@demo/ui", "@other/ui", "😀@DEMO/x"], OffsetUnit::Utf16CodeUnits);
/// let preview = names.preview("*@demo/*", TargetKind::Package(PackageType::Npm));
/// assert_eq!(preview.matched, [0, 2]);
/// assert_eq!(preview.spans_of(1), Some(&[2, 8][..])); // `@DEMO/` after the emoji's two UTF-16 units
/// ```
#[derive(Debug)]
pub struct NameList {
    names: Packed,
    folded: Packed,
    pypi_folded: OnceLock<Packed>,
    unit: OffsetUnit,
}

/// Which names of a [`NameList`] a pattern matches. Names are known by position.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Positions of the matching names, ascending.
    pub matched: Vec<u32>,
    /// `[start, end)` pairs flattened, in the list's [`OffsetUnit`]: the parts the pattern's
    /// literal characters matched. The pairs of `matched[i]` are
    /// `spans[span_offsets[i]..span_offsets[i + 1]]`.
    pub spans: Vec<u32>,
    /// `matched.len() + 1` offsets into `spans`, starting with 0.
    pub span_offsets: Vec<u32>,
    /// Positions of the names GitLab's query would fail for (a lone trailing `\` reached).
    pub undecidable: Vec<u32>,
}

impl Preview {
    /// The flattened span pairs of the `i`-th matching name (`matched[i]`).
    pub fn spans_of(&self, i: usize) -> Option<&[u32]> {
        let start = *self.span_offsets.get(i)? as usize;
        let end = *self.span_offsets.get(i + 1)? as usize;
        self.spans.get(start..end)
    }
}

/// Positions and lengths in a list kept in 32-bit (WebAssembly) memory always fit; the
/// saturation only keeps a 64-bit build panic-free.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl NameList {
    /// Keep `names`; previews report spans in `unit`.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>, unit: OffsetUnit) -> Self {
        let mut list =
            NameList { names: Packed::default(), folded: Packed::default(), pypi_folded: OnceLock::new(), unit };
        for name in names {
            let name = name.as_ref();
            list.names.push(name);
            list.folded.push(&fold(name));
        }
        list
    }

    /// One name per line (`\n` or `\r\n`); empty lines are skipped (a name file usually ends
    /// with a newline, and a blank name matches no rule anyway).
    pub fn from_lines(text: &str, unit: OffsetUnit) -> Self {
        NameList::new(
            text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).filter(|line| !line.is_empty()),
            unit,
        )
    }

    pub fn len(&self) -> usize {
        self.names.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.ends.is_empty()
    }

    pub fn unit(&self) -> OffsetUnit {
        self.unit
    }

    /// The name at `index`, as given.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.names.get(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter()
    }

    fn pypi_folded(&self) -> &Packed {
        self.pypi_folded.get_or_init(|| {
            let mut packed = Packed::default();
            for name in self.names.iter() {
                packed.push(&fold(&normalize_pypi(name)));
            }
            packed
        })
    }

    /// Which names `pattern` matches as a rule for targets of `kind` would (PyPI rules
    /// compare names as GitLab's user path does: `-`, `_`, `.` runs made equal).
    pub fn preview(&self, pattern: &str, kind: TargetKind) -> Preview {
        self.preview_first(pattern, kind, usize::MAX).preview
    }

    /// [`NameList::preview`] for a page that shows a few matches of a long list: every name
    /// is matched and counted, but only the first `limit` matches are listed with their
    /// spans (tracing spans is most of a preview's cost when most names match).
    /// `undecidable` is complete. With `limit` at least the number of matches, the preview
    /// is exactly [`NameList::preview`]'s.
    pub fn preview_first(&self, pattern: &str, kind: TargetKind, limit: usize) -> PreviewFirst {
        let pypi = kind.package_type() == Some(PackageType::Pypi);
        let (glob, folded) = if pypi {
            (Glob::new_pypi_normalized(pattern), self.pypi_folded())
        } else {
            (Glob::new(pattern), &self.folded)
        };
        let mut preview = Preview { span_offsets: vec![0], ..Preview::default() };
        let mut matched = 0;
        for (index, (name, folded)) in self.names.iter().zip(folded.iter()).enumerate() {
            if is_blank(name) {
                continue;
            }
            match glob.matches_folded(folded) {
                Ok(false) => {}
                Err(_) => preview.undecidable.push(to_u32(index)),
                // Past the limit a match is only counted: the quick check and the tracing
                // matcher are the same LIKE matcher, so the tracing would agree.
                Ok(true) if preview.matched.len() >= limit => matched += 1,
                // The spans are traced on the name as given, for matching names only.
                Ok(true) => match glob.matched_spans(name, pypi) {
                    Ok(Some(spans)) => {
                        matched += 1;
                        preview.matched.push(to_u32(index));
                        let bytes = spans.iter().flat_map(|&(start, end)| [start, end]);
                        preview.spans.extend(self.unit.convert(name, bytes).map(to_u32));
                        preview.span_offsets.push(to_u32(preview.spans.len()));
                    }
                    // The quick check and the tracing matcher are the same LIKE matcher, so
                    // they cannot disagree; were they to, the name is reported as undecidable
                    // rather than silently dropped.
                    Ok(None) | Err(_) => preview.undecidable.push(to_u32(index)),
                },
            }
        }
        PreviewFirst { preview, matched }
    }
}

/// A [`Preview`] of the first matches only ([`NameList::preview_first`]) and how many names
/// match in all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PreviewFirst {
    /// The first matches with their spans, and every undecidable name.
    pub preview: Preview,
    /// How many names the pattern matches, listed or not.
    pub matched: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview;

    const NPM: TargetKind = TargetKind::Package(PackageType::Npm);

    #[test]
    fn preview_first_lists_the_first_matches_and_counts_them_all() {
        let names =
            NameList::new(["@demo/a", "other", "@DEMO/b", "@demo/c", "x\\", "@demo/d"], OffsetUnit::Utf16CodeUnits);
        let full = names.preview("@demo/*", NPM);
        assert_eq!(full.matched, [0, 2, 3, 5]);
        for limit in [4, 5, usize::MAX] {
            assert_eq!(names.preview_first("@demo/*", NPM, limit), PreviewFirst { preview: full.clone(), matched: 4 });
        }
        let first = names.preview_first("@demo/*", NPM, 2);
        assert_eq!(first.matched, 4);
        assert_eq!(first.preview.matched, [0, 2]);
        assert_eq!(first.preview.span_offsets, full.span_offsets[..3]);
        assert_eq!(first.preview.spans, full.spans[..full.span_offsets[2] as usize]);
        let none = names.preview_first("@demo/*", NPM, 0);
        assert_eq!((none.matched, none.preview.matched.len(), none.preview.span_offsets.as_slice()), (4, 0, &[0][..]));
        // Undecidable names are all reported, whatever the limit.
        let failing = names.preview_first("*\\", TargetKind::Package(PackageType::Generic), 0);
        assert_eq!(
            failing.preview.undecidable,
            names.preview("*\\", TargetKind::Package(PackageType::Generic)).undecidable
        );
    }

    #[test]
    fn lines_tolerate_crlf_and_skip_empty_lines() {
        let names = NameList::from_lines("a\r\nb\n\n c \n", OffsetUnit::Utf8Bytes);
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a", "b", " c "]);
        assert_eq!(names.get(3), None);
    }

    #[test]
    fn spans_in_every_unit_slice_the_matched_text() {
        // In each unit, the span must cover `-X` in the name as the host language slices it.
        let name = "😀é-X";
        let cases =
            [(OffsetUnit::Utf8Bytes, [6, 8]), (OffsetUnit::Utf16CodeUnits, [3, 5]), (OffsetUnit::CodePoints, [2, 4])];
        for (unit, expected) in cases {
            let preview = NameList::new([name], unit).preview("*-x", TargetKind::ContainerRepository);
            assert_eq!(preview.matched, [0]);
            assert_eq!(preview.spans, expected, "{unit:?}");
        }
        let code_points: Vec<char> = name.chars().collect();
        assert_eq!(code_points.get(2..4), Some(&['-', 'X'][..]));
    }

    #[test]
    fn agrees_with_the_one_shot_preview() {
        let names = ["@demo/ui", "@Demo/UI", "My.Package", "my-package", "", "  ", "pkgx", "ßİ-x", "a\u{301}b"];
        let patterns = ["@demo/*", "*", "my_package", "pkg\\", "*-x", "*b", "İ*"];
        let kinds = [NPM, TargetKind::Package(PackageType::Pypi), TargetKind::ContainerRepository];
        let list = NameList::new(names, OffsetUnit::Utf8Bytes);
        for pattern in patterns {
            for kind in kinds {
                let got = list.preview(pattern, kind);
                let want = preview(pattern, kind.package_type(), &names);
                let matched: Vec<u32> = (0..).zip(&want).filter(|(_, m)| m.matched).map(|(i, _)| i).collect();
                let undecidable: Vec<u32> =
                    (0..).zip(&want).filter(|(_, m)| m.error.is_some()).map(|(i, _)| i).collect();
                assert_eq!(got.matched, matched, "{pattern} {kind:?}");
                assert_eq!(got.undecidable, undecidable, "{pattern} {kind:?}");
                for (i, m) in want.iter().filter(|m| m.matched).enumerate() {
                    let flat: Vec<u32> = m.spans.iter().flat_map(|&(s, e)| [to_u32(s), to_u32(e)]).collect();
                    assert_eq!(got.spans_of(i), Some(&flat[..]), "{pattern} {kind:?} {}", m.name);
                }
            }
        }
    }
}
