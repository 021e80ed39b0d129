// npm --prefix bindings/js run bench
// Times the bindings in Node: a preview of 10,000 names through NameList against an
// equivalent JS RegExp loop, and the other calls a page or a Node service makes (contract 0.2).
import { performance } from "node:perf_hooks";
import { compileRules, decide, NameList, preview, validateRule } from "pkgprotect";
import { syntheticNames } from "../lib/names.js";

/** Median wall time of `run` in ms, after warm-up, with the total spread over `rounds`. */
function time(run, rounds = 200) {
  for (let i = 0; i < Math.min(rounds, 50); i++) run();
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const fmtMs = (ms) => `${ms.toFixed(3)} ms`;
const fmtNs = (ms, n) => `${Math.round((ms * 1e6) / n)} ns`;

/**
 * The JS baseline: a case-insensitive RegExp per pattern, tested against every name, with
 * the literal parts' positions kept for highlighting. Not GitLab-exact (JS case folding,
 * no PyPI normalization, no LIKE escapes): it only shows what a hand-written JS loop costs.
 */
function regexpPreview(pattern, names) {
  const literals = pattern.split("*").map((part) => `(${part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")})`);
  const re = new RegExp(`^${literals.join(".*?")}$`, "isd");
  const matched = [];
  const spans = [];
  const spanOffsets = [0];
  for (let i = 0; i < names.length; i++) {
    const m = re.exec(names[i]);
    if (m === null) continue;
    matched.push(i);
    for (let g = 1; g < m.indices.length; g++) {
      const [start, end] = m.indices[g];
      if (end > start) spans.push(start, end);
    }
    spanOffsets.push(spans.length);
  }
  return { matched, spans, spanOffsets };
}

const names = syntheticNames(10_000);
const list = new NameList(names);
console.log(`pkgprotect bindings benchmark (Node ${process.versions.node}), medians`);

for (const pattern of ["@acme/*", "*-plugin-*"]) {
  const wasm = list.preview(pattern, { kind: "npm" });
  const js = regexpPreview(pattern, names);
  if (wasm.matched.length !== js.matched.length) {
    throw new Error(`${pattern}: NameList matched ${wasm.matched.length}, RegExp ${js.matched.length}`);
  }
  const wasmMs = time(() => list.preview(pattern, { kind: "npm" }));
  const jsMs = time(() => regexpPreview(pattern, names));
  console.log(
    `preview \`${pattern}\` over ${names.length.toLocaleString("en")} names (${wasm.matched.length} match): ` +
      `NameList ${fmtMs(wasmMs)} (${fmtNs(wasmMs, names.length)}/name), ` +
      `JS RegExp loop ${fmtMs(jsMs)} (${fmtNs(jsMs, names.length)}/name), ratio ${(wasmMs / jsMs).toFixed(2)}`,
  );
}

const fromArrayMs = time(() => new NameList(names).free(), 50);
console.log(`new NameList(10,000 names): ${fmtMs(fromArrayMs)} (once per list)`);

const few = names.slice(0, 500);
const arrayMs = time(() => preview("@acme/*", few, { kind: "npm" }));
console.log(`preview() one-shot, 500 names: ${fmtMs(arrayMs)} (${fmtNs(arrayMs, few.length)}/name)`);

const rules = [];
for (let i = 0; i < 50; i++) {
  rules.push({
    id: i + 1,
    package_name_pattern: i % 5 === 0 ? `@team${i}/*` : `@team${i}/pkg-${i}`,
    package_type: "npm",
    minimum_access_level_for_push: "maintainer",
  });
}
const set = compileRules(rules);
const developer = { type: "user", access_level: "developer" };
const targetNames = names.map((name) => name.replace("@acme/", "@team10/"));
const requests = targetNames.map((name) => ({ package_name: name, package_type: "npm", action: "push", actor: developer }));
const blocked = set.decideBatch(requests).filter((verdict) => verdict === "blocked").length;
let next = 0;
const decideMs = time(() => {
  for (let i = 0; i < 1000; i++) set.decide(requests[(next++ * 7919) % requests.length]);
}, 100);
console.log(`RuleSet#decide, 50 rules: ${fmtNs(decideMs, 1000)} per call (JS object in, Summary out)`);
const explainMs = time(() => {
  for (let i = 0; i < 1000; i++) set.explain(requests[(next++ * 7919) % requests.length]);
}, 100);
console.log(`RuleSet#explain, 50 rules: ${fmtNs(explainMs, 1000)} per call (JS object in, Decision out)`);
const batchMs = time(() => set.decideBatch(requests), 30);
console.log(
  `decideBatch of ${requests.length.toLocaleString("en")} requests (${blocked} blocked): ${fmtMs(batchMs)} ` +
    `(${fmtNs(batchMs, requests.length)}/request)`,
);
const options = { kind: "npm", action: "push", actor: developer };
const namesMs = time(() => set.decideNames(targetNames, options), 30);
console.log(`decideNames of ${targetNames.length.toLocaleString("en")} names: ${fmtMs(namesMs)} (${fmtNs(namesMs, targetNames.length)}/name)`);
const targets = new NameList(targetNames);
const listMs = time(() => targets.decide(set, options), 30);
console.log(`NameList#decide of ${targetNames.length.toLocaleString("en")} names: ${fmtMs(listMs)} (${fmtNs(listMs, targetNames.length)}/name)`);
targets.free();

const compileMs = time(() => compileRules(rules).free(), 100);
const rulesJson = JSON.stringify(rules);
const compileJsonMs = time(() => compileRules(rulesJson).free(), 100);
console.log(`compileRules, 50 rules: ${fmtMs(compileMs)} (array), ${fmtMs(compileJsonMs)} (GitLab JSON text)`);
const tenRules = rules.slice(0, 10);
const oneShotMs = time(() => {
  for (let i = 0; i < 100; i++) decide(tenRules, requests[(next++ * 7919) % requests.length]);
}, 50);
console.log(`one-shot decide, 10 rules: ${fmtNs(oneShotMs, 100)} per call`);
const validate = (existingRules) =>
  time(() => {
    for (let i = 0; i < 100; i++) {
      validateRule(
        { package_name_pattern: `@acme/pkg-${i}*`, package_type: "npm", minimum_access_level_for_push: "maintainer" },
        { kind: "package", existingRules },
      );
    }
  }, 50);
console.log(`validateRule (no / 50 existing rules): ${fmtNs(validate([]), 100)} / ${fmtNs(validate(rules), 100)} per call`);
set.free();
list.free();
