// Runs shared/conformance vector files through the JS bindings, answering each category as
// crates/pkgprotect-conformance's native host does, and describing answers in the same words
// so that a failure reads the same in every host.
import { compileRules, preview, validateRule } from "pkgprotect";

/** `{ passed, failures: [{ vector, note, expected, got }] }` for a parsed vector file. */
export function runVectors(file) {
  const report = { passed: 0, failures: [] };
  const record = (vector, note, expected, got) => {
    if (expected === got) report.passed += 1;
    else report.failures.push({ vector, note, expected, got });
  };

  (file.match ?? []).forEach((v, i) => {
    const expected = v.matches === null ? "error" : `matches=${v.matches}`;
    // No package type: the plain `name ILIKE to_like(pattern)` the vectors record.
    const got = hostCall(() => {
      const [outcome] = preview(v.pattern, [v.name], {});
      return outcome.error !== undefined ? "error" : `matches=${outcome.matched}`;
    });
    record(`match[${i}]`, `pattern \`${v.pattern}\` name \`${v.name}\`: ${v.note ?? ""}`, expected, got);
  });

  (file.validate ?? []).forEach((v, i) => {
    const expectedFields = v.fields ?? (v.field ? [v.field] : []);
    const expected = showValidate(v.http_status, expectedFields);
    const got = hostCall(() => {
      const result = validateRule(v.rule, {
        kind: v.kind,
        projectPath: v.project_path ?? null,
        existingRules: v.existing_rules ?? [],
      });
      const fields = [...new Set(result.errors.map((e) => e.field))];
      return showValidate(result.httpStatus, fields);
    });
    record(`validate[${i}]`, `${v.kind} ${JSON.stringify(v.rule)}: ${v.note ?? ""}`, expected, got);
  });

  (file.decide ?? []).forEach((v, i) => {
    const expected = showDecide(v.allowed, v.blocking_rule_ids);
    const got = hostCall(() => {
      const rules = compileRules(v.rules);
      try {
        const decision = rules.decide(v.request);
        return showDecide(decision.allowed, decision.blocking_rule_ids);
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
