// Runs shared/conformance vector files through a JS SDK, answering each category as
// crates/pkgprotect-conformance's native host does, and describing answers in the same words
// so that a failure reads the same in every host. Nothing here imports an SDK: the JS
// bindings (lib/conformance.js) and the Node SDK (bindings/node) pass theirs in, so the one
// runner serves both.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * `{ passed, failures: [{ vector, note, expected, got }] }` for a parsed vector file, answered
 * by `sdk`: anything with contract 0.2's JS API (`preview`, `validateRule`, `parseRule`,
 * `compileRules`, one-shot `decide` and `explain`). Where the API answers one question in
 * several ways (a summary and an explanation, a verdict, a one-shot call), every way must
 * agree, or the vector fails.
 */
export function runVectorsWith(sdk, file) {
  const { compileRules, preview, validateRule, parseRule } = sdk;
  const report = { passed: 0, failures: [] };
  const record = (vector, note, expected, got) => {
    if (expected === got) report.passed += 1;
    else report.failures.push({ vector, note, expected, got });
  };

  (file.match ?? []).forEach((v, i) => {
    const expected = v.matches === null ? "error" : `matches=${v.matches}`;
    // A container repository rule: the plain `name ILIKE to_like(pattern)` the vectors record.
    const got = hostCall(() => {
      const result = preview(v.pattern, [v.name], { kind: "container_repository" });
      return result.undecidable.length > 0 ? "error" : `matches=${result.matched.length === 1}`;
    });
    record(`match[${i}]`, `pattern \`${v.pattern}\` name \`${v.name}\`: ${v.note ?? ""}`, expected, got);
  });

  (file.validate ?? []).forEach((v, i) => {
    const expectedFields = v.fields ?? (v.field ? [v.field] : []);
    const expected = showValidate(v.http_status, expectedFields);
    const got = hostCall(() => {
      const options = { kind: v.kind, projectPath: v.project_path ?? null, existingRules: v.existing_rules ?? [] };
      const result = validateRule(v.rule, options);
      const fields = [...new Set(result.errors.map((e) => e.field))];
      const shown = showValidate(result.httpStatus, fields);
      // parseRule must accept exactly what validateRule accepts, and refuse with the same status.
      let parsed;
      try {
        parseRule(v.rule, options);
        parsed = 201;
      } catch (error) {
        parsed = error.httpStatus ?? `${error.field}: ${error.message}`;
      }
      return parsed === result.httpStatus ? shown : `${shown} but parseRule answered ${parsed}`;
    });
    record(`validate[${i}]`, `${v.kind} ${JSON.stringify(v.rule)}: ${v.note ?? ""}`, expected, got);
  });

  (file.decide ?? []).forEach((v, i) => {
    const expected = showDecide(v.allowed, v.blocking_rule_ids);
    const got = hostCall(() => {
      const rules = compileRules(v.rules);
      try {
        const decision = rules.explain(v.request);
        const shown = showDecide(decision.allowed, decision.blocking_rule_ids);
        const ids = decision.blocking_rule_ids;
        const summary = {
          allowed: decision.allowed,
          blocking_rules: ids.length,
          first_blocking_rule: ids.length > 0 ? ids[0] : null,
        };
        const verdict = decision.allowed ? "allowed" : "blocked";
        const others = {
          decide: rules.decide(v.request),
          decideBatch: rules.decideBatch([v.request])[0],
          "one-shot decide": sdk.decide(v.rules, v.request),
          "one-shot explain": sdk.explain(v.rules, v.request),
        };
        const want = { decide: summary, decideBatch: verdict, "one-shot decide": summary, "one-shot explain": decision };
        for (const [call, answer] of Object.entries(others)) {
          if (JSON.stringify(answer) !== JSON.stringify(want[call])) {
            return `${shown} but ${call} answered ${JSON.stringify(answer)}`;
          }
        }
        return shown;
      } finally {
        rules.free();
      }
    });
    record(`decide[${i}]`, `${JSON.stringify(v.request)}: ${v.note ?? ""}`, expected, got);
  });
  return report;
}

/** The report as the native runner prints it, ending with `N passed, N failed`. */
export function formatReport(report) {
  const lines = report.failures.map(
    (f) => `FAIL ${f.vector}: ${f.note}\n  expected: ${f.expected}\n  got:      ${f.got}`,
  );
  lines.push(`${report.passed} passed, ${report.failures.length} failed`);
  return lines.join("\n");
}

function hostCall(answer) {
  try {
    return answer();
  } catch (error) {
    return `host failure: ${error?.field ? `${error.field}: ` : ""}${error?.message ?? error}`;
  }
}

function showValidate(status, fields) {
  return fields.length === 0 ? `${status}` : `${status} ${fields.join(" | ")}`;
}

function showDecide(allowed, ids) {
  return `allowed=${allowed} blocking_rule_ids=[${ids.join(", ")}]`;
}

/**
 * The command line of a conformance script: reads the vector file named by the first
 * argument (relative to the directory npm was called from), prints the report, and exits 0
 * when every vector passed, 1 on a failure, 2 on a usage or file error.
 */
export function conformanceMain(sdk, usage) {
  const [arg] = process.argv.slice(2);
  if (!arg) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  // npm runs scripts inside the package; a relative path means the caller's directory.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), arg);
  let file;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    console.error(`error: cannot read vector file \`${path}\`: ${error.message}`);
    process.exit(2);
  }
  const report = runVectorsWith(sdk, file);
  console.log(formatReport(report));
  process.exit(report.failures.length === 0 ? 0 : 1);
}
