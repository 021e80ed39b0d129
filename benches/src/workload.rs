//! Generated rules and names: realistic npm names, a mix of exact, prefix, suffix and
//! infix patterns, one project, actor developer, action push.

use pkgprotect::{AccessLevel, PackageRule, PackageType, Rule};

pub struct Workload {
    /// (pattern, minimum for push) of the project's npm rules.
    pub rules: Vec<(String, AccessLevel)>,
    /// Names some rule blocks, and names none does.
    pub hits: Vec<String>,
    pub misses: Vec<String>,
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const SCOPES: &[&str] = &["acme", "my-org", "platform", "web", "infra", "data", "mobile", "tools", "core", "payments"];
const WORDS: &[&str] = &[
    "api", "client", "server", "utils", "config", "logger", "auth", "cache", "cli", "core", "sdk", "ui", "router",
    "store", "schema", "events", "metrics", "queue", "worker", "http",
];

impl Workload {
    pub fn generate(count: usize) -> Workload {
        let mut rng = Lcg(count as u64 + 7);
        let mut rules = Vec::with_capacity(count);
        let mut hits = Vec::new();
        for i in 0..count {
            let (scope, a, b) = (rng.pick(SCOPES), rng.pick(WORDS), rng.pick(WORDS));
            let (pattern, hit) = match rng.next() % 20 {
                0..=7 => (format!("@{scope}/{a}-{b}-{i}"), format!("@{scope}/{a}-{b}-{i}")),
                8..=13 => (format!("@{scope}-{i}/{a}-*"), format!("@{scope}-{i}/{a}-{b}")),
                14..=16 => (format!("*-{a}-{i}"), format!("@{scope}/{b}-{a}-{i}")),
                _ => (format!("*{a}{i}*"), format!("@{scope}/{b}-{a}{i}-{b}")),
            };
            let minimum = if i % 3 == 0 { AccessLevel::Owner } else { AccessLevel::Maintainer };
            rules.push((pattern, minimum));
            if hits.len() < 64 {
                hits.push(hit);
            }
        }
        let misses = (0..64).map(|i| format!("@unrelated-{i}/{}-{}", rng.pick(WORDS), rng.pick(WORDS))).collect();
        Workload { rules, hits, misses }
    }

    /// One 255-character star-heavy rule (`*a*a*…*ab`), and a name of `len` bytes it matches
    /// only at the very end, so every engine must walk the whole name.
    pub fn worst_case(len: usize) -> (Workload, String) {
        let pattern = format!("*{}ab", "a*".repeat(126));
        let name = format!("{}ab", "a".repeat(len - 2));
        let work =
            Workload { rules: vec![(pattern, AccessLevel::Maintainer)], hits: vec![name.clone()], misses: vec![] };
        (work, name)
    }

    pub fn core_rules(&self) -> Vec<Rule> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, (pattern, minimum))| {
                Rule::Package(PackageRule {
                    id: Some(i as i64 + 1),
                    project_id: Some(1),
                    package_name_pattern: pattern.clone(),
                    package_type: PackageType::Npm,
                    minimum_access_level_for_push: Some(*minimum),
                    minimum_access_level_for_delete: None,
                })
            })
            .collect()
    }
}
