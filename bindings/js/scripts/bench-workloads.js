// node bindings/js/scripts/bench-workloads.js WORKLOADS.json > RESULTS.json
// Times the bindings in Node on the workloads benches/run.sh generates (the same rules and
// names every other engine in BENCHMARKS.md answers), for the report's JS rows: a warm rule
// set's decide (a Summary) per request, and decideBatch of 1,000 requests (verdicts) per request.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { compileRules } from "pkgprotect";

const request = (name) => ({
  package_name: name,
  package_type: "npm",
  action: "push",
  actor: { type: "user", access_level: "developer" },
});

/** Median and p99 of 60 samples, each timing enough calls (cycling `count` inputs) to last ~7 ms. */
function measure(count, call, perCall = 1) {
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) call(i % count);
    if (performance.now() - start > 7 || calls > 1 << 24) break;
    calls *= 2;
  }
  const samples = [];
  for (let s = 0; s < 60; s++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) call(i % count);
    samples.push(((performance.now() - start) * 1e6) / (calls * perCall));
  }
  samples.sort((a, b) => a - b);
  return { median_ns: samples[30], p99_ns: samples[Math.round(59 * 0.99)] };
}

const [path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node bindings/js/scripts/bench-workloads.js WORKLOADS.json");
  process.exit(2);
}
const results = {};
for (const work of JSON.parse(readFileSync(path, "utf8"))) {
  const rules = compileRules(work.rules);
  results[work.count] = {};
  for (const [label, names] of [["hit", work.hits], ["miss", work.misses]]) {
    const requests = names.map(request);
    // The same answers as every other engine, or the row means nothing.
    for (const [i, r] of requests.entries()) {
      if (rules.decide(r).allowed === work.expected_blocked[label][i]) {
        throw new Error(`bindings disagree with pkgprotect native on ${r.package_name}`);
      }
    }
    const batch = Array.from({ length: 1000 }, (_, i) => requests[i % requests.length]);
    results[work.count][label] = {
      single: measure(requests.length, (i) => rules.decide(requests[i])),
      batch: measure(1, () => rules.decideBatch(batch), batch.length),
    };
  }
  rules.free();
}
console.log(JSON.stringify(results));
