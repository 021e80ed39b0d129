// The shared conformance vectors (shared/conformance/*.json) through @pkgprotect/node,
// answered as the component's own conformance host does (crates/pkgprotect-host,
// `ComponentHost`) and described in the same words, so a failure reads the same in every host:
// - match: `preview` of one name as a container repository rule (plain `ILIKE`); a name in
//   `undecidable` is GitLab's error;
// - validate: `validateRule`, GitLab's status and the failing fields;
// - decide: a compiled `RuleSet`: `explain` gives the ids compared with the vector, and
//   `decide`, `decideBatch`, `decideNames` and the one-shot `decide` must agree with it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** `{ passed, failures: [{ vector, note, expected, got }] }` for a parsed vector file, answered by `sdk`. */
export function runVectors(sdk, file) {
  const report = { passed: 0, failures: [] };
  const record = (vector, note, expected, got) => {
    if (expected === got) report.passed += 1;
    else report.failures.push({ vector, note, expected, got });
  };

  (file.match ?? []).forEach((v, i) => {
    const expected = v.matches === null ? "error" : `matches=${v.matches}`;
    const got = hostCall(() => {
      const preview = sdk.preview(v.pattern, [v.name], { kind: "container_repository" });
      return preview.undecidable.length > 0 ? "error" : `matches=${preview.matched.length > 0}`;
    });
    record(`match[${i}]`, `pattern \`${v.pattern}\` name \`${v.name}\`: ${v.note ?? ""}`, expected, got);
  });

  (file.validate ?? []).forEach((v, i) => {
    const expectedFields = v.fields ?? (v.field ? [v.field] : []);
    const expected = showValidate(v.http_status, expectedFields);
    const got = hostCall(() => {
      const result = sdk.validateRule(v.rule, {
        kind: v.kind,
        projectPath: v.project_path ?? null,
        existingRules: v.existing_rules ?? [],
      });
      return showValidate(result.httpStatus, [...new Set(result.errors.map((e) => e.field))]);
    });
    record(`validate[${i}]`, `${v.kind} ${JSON.stringify(v.rule)}: ${v.note ?? ""}`, expected, got);
  });

  (file.decide ?? []).forEach((v, i) => {
    const expected = showDecide(v.allowed, v.blocking_rule_ids);
    const got = hostCall(() => decideAll(sdk, v.rules, v.request));
    record(`decide[${i}]`, `${JSON.stringify(v.request)}: ${v.note ?? ""}`, expected, got);
  });
  return report;
}

/** The decision as `explain` gives it, or a sentence naming the call that disagrees with it. */
function decideAll(sdk, rules, request) {
  const set = sdk.compileRules(rules);
  try {
    const decision = set.explain(request);
    const answer = showDecide(decision.allowed, decision.blocking_rule_ids);
    const summary = {
      allowed: decision.allowed,
      blocking_rules: decision.blocking_rule_ids.length,
      first_blocking_rule: decision.blocking_rule_ids[0] ?? null,
    };
    const verdict = decision.allowed ? "allowed" : "blocked";
    const { package_name, package_type, repository_path, action, actor } = request;
    const options = { kind: package_type ?? "container_repository", action, actor };
    const others = [
      ["decide", JSON.stringify(set.decide(request)), JSON.stringify(summary)],
      ["one-shot decide", JSON.stringify(sdk.decide(rules, request)), JSON.stringify(summary)],
      ["decideBatch", set.decideBatch([request]).join(), verdict],
      ["decideNames", set.decideNames([package_name ?? repository_path], options).join(), verdict],
    ];
    for (const [call, got, want] of others) {
      if (got !== want) return `${answer}, but \`${call}\` answered ${got} where \`explain\` means ${want}`;
    }
    return answer;
  } finally {
    set.free();
  }
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
    return `host failure: ${error?.name ?? "error"}${error?.field ? ` at ${error.field}` : ""}: ${error?.message ?? error}`;
  }
}

function showValidate(status, fields) {
  return fields.length === 0 ? `${status}` : `${status} ${fields.join(" | ")}`;
}

function showDecide(allowed, ids) {
  return `allowed=${allowed} blocking_rule_ids=[${ids.join(", ")}]`;
}

/**
 * The command line: reads the vector file named by the first argument (relative to the
 * directory npm was called from), prints the report, and exits 0 when every vector passed,
 * 1 on a failure, 2 on a usage or file error.
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
  const report = runVectors(sdk, file);
  console.log(formatReport(report));
  process.exit(report.failures.length === 0 ? 0 : 1);
}
