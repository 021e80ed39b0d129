//! Regex: each pattern as an anchored case-insensitive regex (`*` → `.*`, the rest
//! escaped), tested in a loop with `regex` and `regex-lite`, and as one `RegexSet`.

use super::DEVELOPER;
use crate::workload::Workload;

pub struct Regexes {
    each: Vec<(regex::Regex, i64)>,
    each_lite: Vec<(regex_lite::Regex, i64)>,
    set: regex::RegexSet,
    minimums: Vec<i64>,
}

fn to_regex(pattern: &str) -> String {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    format!("(?is)^{}$", parts.join(".*"))
}

impl Regexes {
    pub fn new(work: &Workload) -> Regexes {
        let sources: Vec<String> = work.rules.iter().map(|(p, _)| to_regex(p)).collect();
        let minimums: Vec<i64> = work.rules.iter().map(|(_, l)| i64::from(l.value())).collect();
        Regexes {
            each: sources.iter().zip(&minimums).map(|(s, &m)| (regex::Regex::new(s).unwrap(), m)).collect(),
            each_lite: sources.iter().zip(&minimums).map(|(s, &m)| (regex_lite::Regex::new(s).unwrap(), m)).collect(),
            set: regex::RegexSetBuilder::new(&sources).size_limit(1 << 30).dfa_size_limit(1 << 30).build().unwrap(),
            minimums,
        }
    }

    pub fn loop_regex(&self, name: &str) -> bool {
        self.each.iter().any(|(re, minimum)| DEVELOPER < *minimum && re.is_match(name))
    }

    pub fn loop_lite(&self, name: &str) -> bool {
        self.each_lite.iter().any(|(re, minimum)| DEVELOPER < *minimum && re.is_match(name))
    }

    pub fn set(&self, name: &str) -> bool {
        self.set.matches(name).iter().any(|i| DEVELOPER < self.minimums[i])
    }
}
