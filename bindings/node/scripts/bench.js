// npm --prefix bindings/node run bench
// Per-decision cost of a warm rule set through this SDK (decide, and decideBatch of 1,000),
// against a naive JS loop over the same rules (each pattern an anchored case-insensitive
// RegExp) in the same run, and against the JS bindings (bindings/js) when they are built.
import { performance } from "node:perf_hooks";
import { syntheticNames } from "../../js/lib/names.js";
import { RuleSet, version } from "../index.js";

const LEVELS = ["no_access", "minimal_access", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin"];

/** `count` npm rules: a fifth scope wildcards, a fifth prefix wildcards, the rest exact names. */
function makeRules(count) {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    package_name_pattern: [`@team${i}/*`, `@team${i}/pkg-*`][i % 5] ?? `@team${i}/pkg-${i}`,
    package_type: "npm",
    minimum_access_level_for_push: i % 2 ? "maintainer" : "owner",
  }));
}

/** 1,000 developer pushes: every other one aims at a rule (a hit), the rest are ordinary names. */
function makeRequests(ruleCount) {
  const names = syntheticNames(500);
  return Array.from({ length: 1000 }, (_, i) => ({
    package_name: i % 2 ? names[i >> 1] : `@TEAM${(i * 7919) % ruleCount}/pkg-${(i * 7919) % ruleCount}`,
    package_type: "npm",
    action: "push",
    actor: { type: "user", access_level: "developer" },
  }));
}

/**
 * The naive baseline: `*` → `.*`, everything else literal, anchored, case-insensitive, one
 * RegExp per rule, every rule tried. Not GitLab-exact (JS case folding, no PyPI
 * normalization, no LIKE escapes, no deploy tokens): only what a hand-written loop costs.
 */
function naiveRuleSet(rules) {
  const compiled = rules.map((rule) => ({
    id: rule.id,
    type: rule.package_type,
    push: LEVELS.indexOf(rule.minimum_access_level_for_push),
    re: new RegExp(`^${rule.package_name_pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "is"),
  }));
  return (request) => {
    const level = LEVELS.indexOf(request.actor.access_level);
    const blocking = [];
    for (const rule of compiled) {
      if (rule.type === request.package_type && level < rule.push && rule.re.test(request.package_name)) {
        blocking.push(rule.id);
      }
    }
    return { allowed: blocking.length === 0, blocking_rule_ids: blocking };
  };
}

/** Nanoseconds per request: the median of 25 rounds of `round()`, each answering `perRound` requests. */
function nsPerRequest(round, perRound) {
  const warmUntil = performance.now() + 150;
  while (performance.now() < warmUntil) round();
  const rounds = [];
  for (let r = 0; r < 25; r++) {
    const start = performance.now();
    round();
    rounds.push(((performance.now() - start) * 1e6) / perRound);
  }
  return rounds.sort((a, b) => a - b)[12];
}

/** Every request answered the same way by `a` and `b`, or the timings compare nothing. */
function assertAgree(requests, a, b, what) {
  for (const request of requests) {
    const [x, y] = [a(request), b(request)];
    if (x.allowed !== y.allowed || x.blocking_rule_ids.join() !== y.blocking_rule_ids.join()) {
      throw new Error(`${what} disagree on \`${request.package_name}\`: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  }
}

async function jsBindings() {
  try {
    return await import("../../js/node.js");
  } catch {
    return null; // bindings/js/pkg not built (scripts/build-preview.sh): that column stays empty
  }
}

const js = await jsBindings();
const rows = [];
for (const count of [10, 100, 1000]) {
  const rules = makeRules(count);
  const requests = makeRequests(count);
  const naive = naiveRuleSet(rules);
  const set = RuleSet.compile(rules);
  assertAgree(requests, (r) => set.decide(r), naive, "the SDK and the naive loop");
  const row = {
    count,
    blocked: requests.filter((r) => !naive(r).allowed).length,
    single: nsPerRequest(() => requests.forEach((r) => set.decide(r)), requests.length),
    batch: nsPerRequest(() => set.decideBatch(requests), requests.length),
    naive: nsPerRequest(() => requests.forEach(naive), requests.length),
  };
  set.free();
  if (js) {
    const jsSet = js.compileRules(rules);
    assertAgree(requests, (r) => jsSet.decide(r), naive, "the JS bindings and the naive loop");
    row.jsSingle = nsPerRequest(() => requests.forEach((r) => jsSet.decide(r)), requests.length);
    row.jsBatch = nsPerRequest(() => jsSet.decideBatch(requests), requests.length);
    jsSet.free();
  }
  rows.push(row);
}

const ns = (value) => (value === undefined ? "–" : value < 10_000 ? `${value.toFixed(0)} ns` : `${(value / 1000).toFixed(1)} µs`);
const ratio = (value, base) => `${(value / base).toFixed(value < base ? 2 : 1)}×`;
console.log(`@pkgprotect/node ${version()} on Node ${process.versions.node}: per request, median of 25 rounds of 1,000 requests`);
console.log("");
console.log("| rules | blocked | decide | decideBatch | naive RegExp loop | decide / naive | batch / naive | bindings/js decide | bindings/js batch |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.count} | ${r.blocked}/1000 | ${ns(r.single)} | ${ns(r.batch)} | ${ns(r.naive)} | ` +
      `${ratio(r.single, r.naive)} | ${ratio(r.batch, r.naive)} | ${ns(r.jsSingle)} | ${ns(r.jsBatch)} |`,
  );
}
