//! Timing, memory and the Markdown report.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub struct Stats {
    pub median_ns: f64,
    pub p99_ns: f64,
}

impl Stats {
    /// Per item, for a call that handles `items` at once.
    pub fn per(self, items: usize) -> Stats {
        let n = items as f64;
        Stats { median_ns: self.median_ns / n, p99_ns: self.p99_ns / n }
    }
}

pub struct Row {
    pub size: usize,
    pub label: &'static str,
    pub entries: Vec<(&'static str, Stats)>,
}

impl Row {
    pub fn new(size: usize, label: &'static str) -> Row {
        Row { size, label, entries: Vec::new() }
    }
    pub fn add(&mut self, engine: &'static str, stats: Stats) {
        self.entries.push((engine, stats));
    }
    fn native(&self) -> f64 {
        self.entries.iter().find(|(e, _)| *e == "pkgprotect native").map_or(f64::NAN, |(_, s)| s.median_ns)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn budget() -> Duration {
    if std::env::var_os("PKGPROTECT_BENCH_QUICK").is_some() {
        Duration::from_millis(150)
    } else {
        Duration::from_millis(800)
    }
}

/// Fast calls: 60 samples, each a batch of calls cycling through `count` inputs, long enough to
/// time reliably; median and 99th percentile of the per-call time of the samples.
pub fn measure(count: usize, f: impl Fn(usize) -> bool) -> Stats {
    let mut batch = 1usize;
    loop {
        let start = Instant::now();
        for i in 0..batch {
            black_box(f(black_box(i % count)));
        }
        if start.elapsed() > budget() / 120 || batch > 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..60)
        .map(|_| {
            let start = Instant::now();
            for i in 0..batch {
                black_box(f(black_box(i % count)));
            }
            start.elapsed().as_secs_f64() * 1e9 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Stats { median_ns: percentile(&samples, 0.5), p99_ns: percentile(&samples, 0.99) }
}

/// Slow calls (a database round trip, a 64 KiB name): every call timed on its own.
pub fn measure_slow(count: usize, f: impl Fn(usize) -> bool) -> Stats {
    let started = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 30 || (started.elapsed() < budget() && samples.len() < 20_000) {
        let input = samples.len() % count;
        let start = Instant::now();
        black_box(f(black_box(input)));
        samples.push(start.elapsed().as_secs_f64() * 1e9);
    }
    samples.sort_by(f64::total_cmp);
    Stats { median_ns: percentile(&samples, 0.5), p99_ns: percentile(&samples, 0.99) }
}

fn resident_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(f64::NAN);
    pages * 4096.0
}

/// Resident memory per instance, from building 20 of them (coarse: page granularity).
pub fn rss_growth<T>(build: impl Fn() -> T) -> f64 {
    let before = resident_bytes();
    let kept: Vec<T> = (0..20).map(|_| build()).collect();
    let after = resident_bytes();
    drop(black_box(kept));
    (after - before) / 20.0
}

pub struct Report {
    pub quick: bool,
    pub postgres: bool,
    pub decisions: Vec<Row>,
    pub worst: Vec<Row>,
    pub compile: Vec<(&'static str, f64)>,
    pub memory: Vec<(&'static str, f64)>,
    /// wasmtime's own cost of a call passing one small string in and one out.
    pub wasmtime_floor: Option<Stats>,
}

fn time(ns: f64) -> String {
    match ns {
        ns if ns.is_nan() => "–".into(),
        ns if ns < 1_000.0 => format!("{ns:.0} ns"),
        ns if ns < 1_000_000.0 => format!("{:.1} µs", ns / 1e3),
        ns => format!("{:.2} ms", ns / 1e6),
    }
}

fn ratio(ns: f64, native: f64) -> String {
    let r = ns / native;
    if (r - 1.0).abs() < 1e-9 {
        "1×".into()
    } else if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Report {
    pub fn new(quick: bool, postgres: bool) -> Report {
        Report {
            quick,
            postgres,
            decisions: vec![],
            worst: vec![],
            compile: vec![],
            memory: vec![],
            wasmtime_floor: None,
        }
    }

    fn find(&self, size: usize, label: &str, engine: &str) -> Option<Stats> {
        self.decisions
            .iter()
            .find(|r| r.size == size && r.label == label)
            .and_then(|r| r.entries.iter().find(|(e, _)| *e == engine))
            .map(|(_, s)| *s)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .unwrap_or("unknown")
            .trim()
            .to_owned();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(out, "Produced by `benches/run.sh` (one run, same rules and names for every engine).\n");
        let _ = writeln!(
            out,
            "Machine: {} cores, {cpu}; {}; {}. Debug info on, release build.{}\n",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            command_output("rustc", &["--version"]),
            if self.postgres { command_output("postgres", &["--version"]) } else { "no PostgreSQL in this run".into() },
            if self.quick { " **Quick mode: short samples, numbers are rough.**" } else { "" }
        );
        let _ = writeln!(
            out,
            "Question asked of every engine: is a developer's push of this npm package blocked by the project's rules? \
             Rules mix exact, prefix (`@scope/x-*`), suffix (`*-x`) and infix (`*x*`) patterns; a third need owner, the rest \
             maintainer. *hit*: names some rule protects; *miss*: names none does. Every engine's answers were checked equal to \
             pkgprotect's before timing. pkgprotect computes the full decision (all blocking rule ids and a reason); the peers \
             stop at a yes/no. *component* rows run `target/pkgprotect.wasm` through the wasmtime host crate \
             (`pkgprotect-host`); *JS bindings* rows run the wasm-bindgen build (`bindings/js`) in Node on the same names. \
             The Node and Python SDKs (the same component through jco and wasmtime-py) are timed beside their own \
             language's naive loop in their sections below, in the same run.\n"
        );
        let _ = writeln!(
            out,
            "## Decision time\n\nMedian and p99 per decision; ratio = median / pkgprotect native median.\n"
        );
        let _ = writeln!(out, "| rules | names | engine | median | p99 | ratio |\n|---|---|---|---|---|---|");
        for row in &self.decisions {
            let native = row.native();
            for (engine, s) in &row.entries {
                let _ = writeln!(
                    out,
                    "| {} | {} | {engine} | {} | {} | {} |",
                    row.size,
                    row.label,
                    time(s.median_ns),
                    time(s.p99_ns),
                    ratio(s.median_ns, native)
                );
            }
        }
        let _ = writeln!(
            out,
            "\n## Worst case\n\nOne 255-character rule `*a*a*…*ab` against a name of `a`s ending in `ab` (every engine walks the whole name).\n"
        );
        let _ = writeln!(out, "| name | engine | median | ratio | ns per name byte |\n|---|---|---|---|---|");
        for row in &self.worst {
            let native = row.native();
            for (engine, s) in &row.entries {
                let _ = writeln!(
                    out,
                    "| {} KiB | {engine} | {} | {} | {:.2} |",
                    row.size,
                    time(s.median_ns),
                    ratio(s.median_ns, native),
                    s.median_ns / (row.size as f64 * 1024.0)
                );
            }
        }
        let _ = writeln!(out, "\nGrowth from 1 KiB to 64 KiB (64× the name; linear = 64×):\n");
        if let (Some(first), Some(last)) = (self.worst.first(), self.worst.last()) {
            for (engine, s) in &last.entries {
                if let Some((_, f)) = first.entries.iter().find(|(e, _)| e == engine) {
                    let _ = writeln!(out, "- {engine}: {:.0}×", s.median_ns / f.median_ns);
                }
            }
        }
        let _ = writeln!(
            out,
            "\n## Compile and memory, 1,000 rules\n\nMemory is the growth of the process's resident set over 20 rule sets built in a row, \
             divided by 20: coarse, and a lower bound, since pages freed by earlier rows are reused.\n\n\
             | engine | compile (median of 5) | resident memory per rule set |\n|---|---|---|"
        );
        for (engine, ns) in &self.compile {
            let memory = self.memory.iter().find(|(e, _)| e == engine).map_or(f64::NAN, |(_, b)| *b);
            let memory = if memory.is_nan() { "–".to_owned() } else { format!("{:.0} KiB", memory / 1024.0) };
            let _ = writeln!(out, "| {engine} | {} | {memory} |", time(*ns));
        }
        for (variable, title) in [
            ("PKGPROTECT_BENCH_NODE_SDK", "Node SDK (`bindings/node`, jco) beside a naive RegExp loop"),
            ("PKGPROTECT_BENCH_PYTHON_SDK", "Python SDK (`bindings/python`, wasmtime-py) beside a naive `re` loop"),
        ] {
            if let Some(text) = std::env::var(variable).ok().and_then(|path| std::fs::read_to_string(path).ok()) {
                let _ = writeln!(out, "\n## {title}\n\n{}", text.trim());
            }
        }
        self.targets(&mut out);
        out
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "\n## Targets (issue 14: contract 0.2)\n");
        let get = |engine: &str| self.find(50, "hit", engine).map_or(f64::NAN, |s| s.median_ns);
        let native = get("pkgprotect native, summary");
        let line = |out: &mut String, met: bool, text: String| {
            let _ = writeln!(out, "- {} {text}", if met { "**met**" } else { "**missed**" });
        };
        let floor = self.wasmtime_floor.map_or(f64::NAN, |s| s.median_ns);
        let _ = writeln!(
            out,
            "At 50 rules, *hit* names. wasmtime's floor here — a call passing one small string in and one out, \
             through the same engine settings, with a guest that does nothing — is {}.\n",
            time(floor)
        );
        let warm = get("component, warm rule set");
        line(
            out,
            warm <= 300.0 && warm <= 4.0 * native,
            format!(
                "Rust host warm decide ≤300 ns and ≤4× native: {} ({:.1}× native's summary, {:.1}× the floor)",
                time(warm),
                warm / native,
                warm / floor
            ),
        );
        let batch = get("component, decide-batch of 1,000 (per request)");
        let names = get("component, decide-names of 1,000 (per name)");
        line(
            out,
            batch <= 150.0,
            format!(
                "decide of a batch ≤150 ns per request: decide-batch {}, decide-names {}",
                time(batch),
                time(names)
            ),
        );
        let one_shot = get("component, one-shot in a fresh instance");
        let postgres = get("PostgreSQL (GitLab's query)");
        line(
            out,
            one_shot <= 20_000.0 && one_shot * 3.0 <= postgres,
            format!(
                "fresh instance + one-shot decide ≤20 µs and ≥3× faster than GitLab's query: {} ({:.1}× faster than {})",
                time(one_shot),
                postgres / one_shot,
                time(postgres)
            ),
        );
        let _ = writeln!(
            out,
            "\nThe SDKs' targets are in their sections above (Node: warm decide faster than the RegExp loop at ≥50 \
             rules, batch at ≥10; Python: batch faster than the `re` loop at ≥50 rules, warm decide within 1.5× of \
             wasmtime-py's floor, one-shot ≤5× it). Where the time goes when a target is missed, and what would fix \
             it: see *Profiles* in crates/pkgprotect-host/README.md, bindings/node/README.md and \
             bindings/python/README.md."
        );
    }
}
