//! Side-by-side benchmarks of a push decision: GitLab's SQL in PostgreSQL, Cedar, regex,
//! and pkgprotect, on the same generated rules and names, in one run.
//!
//! Run `benches/run.sh` (starts a throw-away PostgreSQL, builds the component and the JS
//! bindings, writes BENCHMARKS.md). Directly:
//! `PKGPROTECT_BENCH_POSTGRES_URL=postgres://… cargo run --release -p pkgprotect-benches -- BENCHMARKS.md`
//! `compare --export-workloads FILE` writes the generated workloads (with pkgprotect's answers)
//! as JSON for the JS bindings' timing script, whose results `PKGPROTECT_BENCH_JS=FILE` reads back.
//! `compare --loop warm|names|one-shot SECONDS` runs one component call path at 50 rules in a
//! loop and nothing else, for a profiler: `perf record -g -- target/release/compare --loop warm 5`.

// A bench binary: a broken setup should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod peers;
mod report;
mod workload;

use report::{Report, Row, Stats};
use std::time::Instant;
use workload::Workload;

const RULE_COUNTS: [usize; 6] = [1, 10, 50, 100, 1_000, 10_000];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, path] = args.as_slice()
        && flag == "--export-workloads"
    {
        export_workloads(path);
        return;
    }
    if let [flag, what, seconds] = args.as_slice()
        && flag == "--loop"
    {
        run_loop(what, seconds.parse().expect("--loop WHAT SECONDS"));
        return;
    }
    let out = args.first().cloned().unwrap_or_else(|| "BENCHMARKS.md".into());
    let js: Option<serde_json::Value> = std::env::var("PKGPROTECT_BENCH_JS")
        .ok()
        .map(|path| serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
    let policy = load_policy();
    let quick = std::env::var_os("PKGPROTECT_BENCH_QUICK").is_some();
    let postgres_url = std::env::var("PKGPROTECT_BENCH_POSTGRES_URL").ok();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut report = Report::new(quick, postgres_url.is_some());
    let floor = peers::component::Floor::new(&policy);
    report.wasmtime_floor = Some(report::measure(1, |_| floor.call("@acme/pkg-24")));
    let postgres = postgres_url.map(|url| runtime.block_on(peers::postgres::Postgres::connect(&url)));

    for count in RULE_COUNTS {
        let work = Workload::generate(count);
        eprintln!("{count} rules: building engines");
        let native = peers::native::Native::new(&work);
        let component = peers::component::Component::new(&policy, &work);
        let cedar = peers::cedar::Cedar::new(&work);
        let regexes = peers::regexes::Regexes::new(&work);
        let pg = postgres.as_ref();
        if let Some(pg) = pg {
            runtime.block_on(pg.load(&work));
        }
        // Every engine must agree with pkgprotect on every name, or the comparison is void.
        for name in work.hits.iter().chain(&work.misses) {
            let expected = native.blocked(name);
            let request = peers::native::request(name);
            assert_eq!(component.warm(&request), expected, "component disagrees on {name}");
            assert_eq!(component.one_shot(&request), expected, "component one-shot disagrees on {name}");
            assert_eq!(cedar.blocked(name), expected, "cedar disagrees on {name}");
            assert_eq!(regexes.loop_regex(name), expected, "regex disagrees on {name}");
            assert_eq!(regexes.loop_lite(name), expected, "regex-lite disagrees on {name}");
            assert_eq!(regexes.set(name), expected, "RegexSet disagrees on {name}");
            if let Some(pg) = pg {
                assert_eq!(runtime.block_on(pg.blocked(name)), expected, "postgres disagrees on {name}");
            }
        }
        for (label, names) in [("hit", &work.hits), ("miss", &work.misses)] {
            let mut row = Row::new(count, label);
            let n = names.len();
            // Requests are built before timing, as a registry holds one per incoming push.
            let requests: Vec<_> = names.iter().map(|name| peers::native::request(name)).collect();
            row.add("pkgprotect native", report::measure(n, |i| native.decide(&requests[i])));
            row.add("pkgprotect native, summary", report::measure(n, |i| native.summarize(&requests[i])));
            row.add("component, warm rule set", report::measure(n, |i| component.warm(&requests[i])));
            let batch: Vec<_> = (0..1_000).map(|i| requests[i % n].clone()).collect();
            let expected = batch.iter().filter(|r| native.decide(r)).count();
            row.add(
                "component, decide-batch of 1,000 (per request)",
                report::measure(1, |_| component.batch(&batch) == expected).per(batch.len()),
            );
            let names_batch: Vec<String> = (0..1_000).map(|i| names[i % n].clone()).collect();
            let expected_names = names_batch.iter().filter(|name| native.blocked(name)).count();
            row.add(
                "component, decide-names of 1,000 (per name)",
                report::measure(1, |_| component.names(&names_batch) == expected_names).per(names_batch.len()),
            );
            row.add(
                "component, one-shot in a fresh instance",
                report::measure_slow(n, |i| component.one_shot(&requests[i])),
            );
            if let Some(js) = &js {
                for (mode, engine) in [
                    ("single", "JS bindings (Node), warm rule set"),
                    ("batch", "JS bindings (Node), decideBatch of 1,000 (per request)"),
                ] {
                    let stats = &js[count.to_string()][label][mode];
                    let field = |name: &str| {
                        stats[name].as_f64().expect("JS results: run bindings/js/scripts/bench-workloads.js")
                    };
                    row.add(engine, Stats { median_ns: field("median_ns"), p99_ns: field("p99_ns") });
                }
            }
            if let Some(pg) = pg {
                row.add(
                    "PostgreSQL (GitLab's query)",
                    report::measure_slow(n, |i| runtime.block_on(pg.blocked(&names[i]))),
                );
            }
            row.add("Cedar", report::measure(n, |i| cedar.blocked(&names[i])));
            row.add("regex loop", report::measure(n, |i| regexes.loop_regex(&names[i])));
            row.add("regex-lite loop", report::measure(n, |i| regexes.loop_lite(&names[i])));
            row.add("RegexSet", report::measure(n, |i| regexes.set(&names[i])));
            report.decisions.push(row);
        }
        if count == 1_000 {
            report.compile.push(("pkgprotect native", time_it(|| drop(peers::native::Native::new(&work)))));
            report.compile.push((
                "component rule-set (fresh instance)",
                time_it(|| drop(peers::component::Component::new(&policy, &work))),
            ));
            report.compile.push(("Cedar", time_it(|| drop(peers::cedar::Cedar::new(&work)))));
            report.compile.push(("regex (each + RegexSet)", time_it(|| drop(peers::regexes::Regexes::new(&work)))));
            report.memory.push(("pkgprotect native", report::rss_growth(|| peers::native::Native::new(&work))));
            report.memory.push(("Cedar", report::rss_growth(|| peers::cedar::Cedar::new(&work))));
            report.memory.push(("regex (each + RegexSet)", report::rss_growth(|| peers::regexes::Regexes::new(&work))));
        }
    }

    eprintln!("worst case");
    for kib in [1usize, 4, 16, 64] {
        let (work, name) = Workload::worst_case(kib * 1024);
        let native = peers::native::Native::new(&work);
        let cedar = peers::cedar::Cedar::new(&work);
        let regexes = peers::regexes::Regexes::new(&work);
        let request = peers::native::request(&name);
        let mut row = Row::new(kib, "worst");
        row.add("pkgprotect native", report::measure_slow(1, |_| native.decide(&request)));
        if let Some(pg) = &postgres {
            runtime.block_on(pg.load(&work));
            row.add("PostgreSQL (GitLab's query)", report::measure_slow(1, |_| runtime.block_on(pg.blocked(&name))));
        }
        row.add("Cedar", report::measure_slow(1, |_| cedar.blocked(&name)));
        row.add("regex loop", report::measure_slow(1, |_| regexes.loop_regex(&name)));
        row.add("regex-lite loop", report::measure_slow(1, |_| regexes.loop_lite(&name)));
        report.worst.push(row);
    }
    let text = report.render();
    std::fs::write(&out, &text).unwrap();
    println!("{text}");
    eprintln!("wrote {out}");
}

/// The component the bench runs: `PKGPROTECT_BENCH_COMPONENT`, or the one the build writes.
fn load_policy() -> pkgprotect_host::Policy {
    let path = std::env::var("PKGPROTECT_BENCH_COMPONENT").unwrap_or_else(|_| "target/pkgprotect.wasm".into());
    pkgprotect_host::Policy::load(&path).expect("build the component: scripts/build-component.sh")
}

/// One call path of the component at 50 rules, repeated for `seconds`: what a profiler samples.
fn run_loop(what: &str, seconds: f64) {
    let policy = load_policy();
    let work = Workload::generate(50);
    let component = peers::component::Component::new(&policy, &work);
    let requests: Vec<_> = work.hits.iter().map(|name| peers::native::request(name)).collect();
    let names: Vec<String> = (0..1_000).map(|i| work.hits[i % work.hits.len()].clone()).collect();
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let (mut calls, mut blocked) = (0usize, 0usize);
    while Instant::now() < deadline {
        for request in &requests {
            blocked += usize::from(match what {
                "warm" => component.warm(request),
                "one-shot" => component.one_shot(request),
                "names" => component.names(&names) > 0,
                other => panic!("--loop takes warm, names or one-shot, not {other}"),
            });
            calls += 1;
        }
    }
    eprintln!("{calls} calls of {what}, {blocked} blocked");
}

/// The workloads as JSON (GitLab-shaped rules, names, and pkgprotect native's answers).
fn export_workloads(path: &str) {
    let works: Vec<serde_json::Value> = RULE_COUNTS
        .iter()
        .map(|&count| {
            let work = Workload::generate(count);
            let native = peers::native::Native::new(&work);
            let answers = |names: &[String]| names.iter().map(|n| native.blocked(n)).collect::<Vec<_>>();
            serde_json::json!({
                "count": count,
                "rules": work.core_rules(),
                "hits": work.hits,
                "misses": work.misses,
                "expected_blocked": {"hit": answers(&work.hits), "miss": answers(&work.misses)},
            })
        })
        .collect();
    std::fs::write(path, serde_json::to_string(&works).unwrap()).unwrap();
    eprintln!("wrote {path}");
}

fn time_it(f: impl Fn()) -> f64 {
    let runs = 5;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e9
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}
