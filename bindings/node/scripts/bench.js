// npm --prefix bindings/node run bench
// Per-request cost of this SDK at 10, 50, 100 and 1,000 rules — warm `decide`, `decideBatch`
// and `decideNames` of 1,000, one-shot `decide` — beside a naive JS loop over the same rules
// (each pattern an anchored case-insensitive RegExp) in the same run; jco's own floor (the
// cheapest component call, straight through jco's generated glue); and `RuleSet.compile` of
// an array (typed rules) against the same rules as JSON text (parsed by the core).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as glue from "../generated/pkgprotect.js";
import { decide, preview, RuleSet, version } from "../index.js";

const LEVELS = ["no_access", "minimal_access", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin"];
// Results go here so that no timed call's answer is dead code.
let sink = 0;
const DEVELOPER = { type: "user", access_level: "developer" };

/** `count` npm rules: a fifth scope wildcards, a fifth prefix wildcards, the rest exact names. */
function makeRules(count) {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    package_name_pattern: [`@team${i}/*`, `@team${i}/pkg-*`][i % 5] ?? `@team${i}/pkg-${i}`,
    package_type: "npm",
    minimum_access_level_for_push: i % 2 ? "maintainer" : "owner",
    minimum_access_level_for_delete: null,
  }));
}

/** 1,000 names: every other one aims at a rule (a hit), the rest are ordinary names. */
function makeNames(ruleCount) {
  return Array.from({ length: 1000 }, (_, i) => {
    const n = (i * 7919) % ruleCount;
    return i % 2 ? `@scope${i % 8}/package-${i}` : `@TEAM${n}/pkg-${n}`;
  });
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

/**
 * Nanoseconds per item for several ways of doing the same work, `[round, perRound]` each
 * (`round(r)` does `perRound` items in round `r`): their rounds interleaved in a rotating
 * order, so that a busy machine slows them alike, and short (a few hundred µs), so that few
 * are cut by the scheduler (2 shared cores here); the median of `rounds` per way.
 */
function nsPerEach(ways, rounds = 201) {
  const warmUntil = performance.now() + 100 * ways.length;
  for (let r = 0; performance.now() < warmUntil; r++) for (const [round] of ways) round(r);
  const times = ways.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < ways.length; k++) {
      const i = (k + r) % ways.length;
      const [round, perRound] = ways[i];
      const start = performance.now();
      round(r);
      times[i].push(((performance.now() - start) * 1e6) / perRound);
    }
  }
  return times.map((list) => list.sort((x, y) => x - y)[rounds >> 1]);
}

/** Every answer of the SDK equals the naive loop's, or the timings compare nothing. */
function assertAgree(set, requests, naive) {
  const verdicts = set.decideBatch(requests);
  const names = set.decideNames(requests.map((r) => r.package_name), { kind: "npm", action: "push", actor: DEVELOPER });
  requests.forEach((request, i) => {
    const want = naive(request);
    const got = set.explain(request);
    const summary = set.decide(request);
    const verdict = want.allowed ? "allowed" : "blocked";
    const same =
      got.allowed === want.allowed &&
      got.blocking_rule_ids.join() === want.blocking_rule_ids.join() &&
      summary.allowed === want.allowed &&
      summary.blocking_rules === want.blocking_rule_ids.length &&
      summary.first_blocking_rule === (want.blocking_rule_ids[0] ?? null) &&
      verdicts[i] === verdict &&
      names[i] === verdict;
    if (!same) {
      throw new Error(`the SDK and the naive loop disagree on \`${request.package_name}\`: ${JSON.stringify({ got, summary, verdict: verdicts[i], name: names[i] })} vs ${JSON.stringify(want)}`);
    }
  });
}

// jco's own floor: a component whose one export, `echo(name: string) -> string`, hands its
// argument back (no guest work), parsed and transpiled by the same jco as the SDK's glue.
const ECHO_COMPONENT = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../../../crates/pkgprotect-host/benches/echo.wat"), "utf8");

async function transpiledEcho() {
  const jco = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "node_modules/.bin/jco");
  const dir = mkdtempSync(join(tmpdir(), "pkgprotect-echo-"));
  try {
    writeFileSync(join(dir, "echo.wat"), ECHO_COMPONENT);
    execFileSync(jco, ["parse", join(dir, "echo.wat"), "-o", join(dir, "echo.wasm")], { stdio: "ignore" });
    execFileSync(jco, ["transpile", join(dir, "echo.wasm"), "-o", dir, "--name", "echo", "--quiet"], { stdio: "ignore" });
    const { echo } = await import(pathToFileURL(join(dir, "echo.js")).href);
    if (echo("@team1/core") !== "@team1/core") throw new Error("the echo component does not echo");
    return echo;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const echo = await transpiledEcho();

// Beside it, this component's cheapest calls straight into jco's glue (no SDK code):
// `version()` takes nothing and returns a 5-byte string; a one-name preview takes two
// strings and returns 4 lists.
const [floorEcho, floorVersion, floorSdkVersion, floorPreview, floorSdkPreview] = nsPerEach([
  [() => {
    for (let i = 0; i < 100; i++) sink += echo("@team1/core").length;
  }, 100],
  [() => {
    for (let i = 0; i < 100; i++) glue.api.version();
  }, 100],
  [() => {
    for (let i = 0; i < 100; i++) version();
  }, 100],
  [() => {
    for (let i = 0; i < 20; i++) glue.api.preview("a*", "npm", ["ab"], "utf16-code-units");
  }, 20],
  [() => {
    for (let i = 0; i < 20; i++) preview("a*", ["ab"], { kind: "npm" });
  }, 20],
]);
const floor = { echo: floorEcho, version: floorVersion, sdkVersion: floorSdkVersion, preview: floorPreview, sdkPreview: floorSdkPreview };

// What jco's debug log costs each call: its glue reads `process.env.JCO_DEBUG` (a lookup in
// C++) on every `_debugLog` call. Count the calls of one warm `decide` by turning the log on
// (it is read each time) and counting `console.debug`, then time the lookup alone.
function debugLogCalls(call) {
  const saved = [process.env.JCO_DEBUG, console.debug];
  let calls = 0;
  console.debug = () => calls++;
  process.env.JCO_DEBUG = "1";
  try {
    call();
  } finally {
    if (saved[0] === undefined) delete process.env.JCO_DEBUG;
    else process.env.JCO_DEBUG = saved[0];
    console.debug = saved[1];
  }
  return calls;
}
const [lookup] = nsPerEach([
  [() => {
    for (let i = 0; i < 1000; i++) if (globalThis?.process?.env?.JCO_DEBUG) sink++;
  }, 1000],
]);

const rows = [];
let debugCalls;
for (const count of [10, 50, 100, 1000]) {
  const rules = makeRules(count);
  const names = makeNames(count);
  const requests = names.map((package_name) => ({ package_name, package_type: "npm", action: "push", actor: DEVELOPER }));
  const naive = naiveRuleSet(rules);
  const set = RuleSet.compile(rules);
  assertAgree(set, requests, naive);
  debugCalls ??= { decide: debugLogCalls(() => set.decide(requests[0])), version: debugLogCalls(() => glue.api.version()) };
  const options = { kind: "npm", action: "push", actor: DEVELOPER };
  const json = JSON.stringify(rules);
  // Single requests in rounds of 100 (a tenth of the requests each), batches of all 1,000.
  const chunks = Array.from({ length: 10 }, (_, i) => requests.slice(i * 100, i * 100 + 100));
  const [naiveNs, decideNs, batchNs, namesNs] = nsPerEach([
    [(r) => chunks[r % 10].forEach(naive), 100],
    [(r) => chunks[r % 10].forEach((q) => set.decide(q)), 100],
    [() => set.decideBatch(requests), requests.length],
    [() => set.decideNames(names, options), names.length],
  ]);
  // One-shot calls read all the rules each time: fewer requests per round as rules grow, to
  // keep rounds short (the core scans up to 64 rules and compiles more).
  const perOneShot = count <= 10 ? 20 : count <= 64 ? 5 : 1;
  const [oneShot] = nsPerEach([[(r) => chunks[r % 10].slice(0, perOneShot).forEach((q) => decide(rules, q)), perOneShot]], 51);
  const compileRounds = Math.max(1, Math.round(200 / count));
  const compile = nsPerEach(
    [
      [() => {
        for (let i = 0; i < compileRounds; i++) RuleSet.compile(rules).free();
      }, compileRounds],
      [() => {
        for (let i = 0; i < compileRounds; i++) RuleSet.compile(json).free();
      }, compileRounds],
      // The alternative for an array: serialize it for the core to parse.
      [() => {
        for (let i = 0; i < compileRounds; i++) {
          glue.engine.RuleSet.compile({ tag: "gitlab-json", val: JSON.stringify(rules) })[Symbol.dispose]();
        }
      }, compileRounds],
    ],
    101,
  );
  rows.push({
    count,
    blocked: requests.filter((r) => !naive(r).allowed).length,
    naive: naiveNs,
    decide: decideNs,
    batch: batchNs,
    names: namesNs,
    oneShot,
    compile,
  });
  set.free();
}

const ns = (value) => (value < 10_000 ? `${value.toFixed(0)} ns` : value < 10_000_000 ? `${(value / 1000).toFixed(1)} µs` : `${(value / 1e6).toFixed(1)} ms`);
const ratio = (value, base) => `${(value / base).toPrecision(2)}×`;
console.log(`@pkgprotect/node, contract ${version()}, on Node ${process.versions.node}: per request, median of 201 interleaved rounds (one-shot: 51, compile: 101)`);
console.log("");
console.log("| rules | blocked | naive RegExp loop | decide | decideBatch | decideNames | one-shot decide | decide / naive | batch / naive | names / naive |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.count} | ${r.blocked}/1000 | ${ns(r.naive)} | ${ns(r.decide)} | ${ns(r.batch)} | ${ns(r.names)} | ${ns(r.oneShot)} | ` +
      `${ratio(r.decide, r.naive)} | ${ratio(r.batch, r.naive)} | ${ratio(r.names, r.naive)} |`,
  );
}
console.log("");
console.log("Targets: warm `decide` faster than the naive loop at ≥50 rules; a batch (`decideBatch`, `decideNames`) faster at ≥10 rules.");
console.log("");
for (const r of rows) {
  const verdict = (met) => (met ? "met" : "missed");
  const warm = r.count >= 50 ? `warm decide ${verdict(r.decide < r.naive)}` : "warm decide –";
  console.log(`- ${r.count} rules: ${warm}; decideBatch ${verdict(r.batch < r.naive)}, decideNames ${verdict(r.names < r.naive)}`);
}
console.log("");
console.log("jco's floor, straight through its generated glue, per call:");
console.log(`- **floor**: \`echo(string) -> string\` of a do-nothing component: ${ns(floor.echo)}`);
console.log(`- \`api.version()\` (no argument, a 5-byte string back): ${ns(floor.version)}; through the SDK's \`version()\`: ${ns(floor.sdkVersion)}`);
console.log(`- one-name \`api.preview("a*", "npm", ["ab"], …)\`: ${ns(floor.preview)}; through the SDK's \`preview\`: ${ns(floor.sdkPreview)}`);
console.log(
  `- jco's debug log: ${debugCalls.decide} \`_debugLog\` calls per \`decide\` (${debugCalls.version} per \`version()\`), each reading ` +
    `\`process.env.JCO_DEBUG\` (${ns(lookup)} a lookup): ~${ns(debugCalls.decide * lookup)} of every \`decide\``,
);
console.log("");
console.log("`RuleSet.compile`, per rule set: an array (passed typed, the SDK's choice), JSON text at hand (parsed by the core), and an array serialized to JSON text:");
console.log("");
console.log("| rules | array → typed | JSON text → gitlab-json | array → JSON.stringify → gitlab-json | typed / stringified |");
console.log("|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.count} | ${ns(r.compile[0])} | ${ns(r.compile[1])} | ${ns(r.compile[2])} | ${ratio(r.compile[0], r.compile[2])} |`);
}
if (sink < 0) console.log(sink);
