// Checked by `tsc --noEmit` (npm run typecheck): the package's types accept real usage and
// reject the mistakes below (each `@ts-expect-error` fails the check if the line compiles).
import {
  compileRules,
  decide,
  DecisionError,
  engineVersion,
  explain,
  NameList,
  parseRule,
  PkgprotectError,
  preview,
  RuleSet,
  RuleSetError,
  RuleValidationError,
  validateRule,
  version,
  type DecisionErrorCause,
  type Decision,
  type DecisionRequest,
  type Finding,
  type Preview,
  type Rule,
  type RuleSetErrorCause,
  type Summary,
  type TargetKind,
  type TargetOptions,
  type Validation,
  type ValidationError,
  type Verdict,
} from "pkgprotect";

const contract: string = version();
const engine: string = engineVersion();

const rules: Rule[] = [
  { id: 1, package_name_pattern: "@demo/*", package_type: "npm", minimum_access_level_for_push: "maintainer" },
  { id: 2, repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "admin" },
];

const validation: Validation = validateRule(
  { package_name_pattern: "@demo/*", package_type: "npm", minimum_access_level_for_push: "maintainer" },
  { kind: "package", projectPath: "group/app", existingRules: rules },
);
const status: 201 | 400 | 422 = validation.httpStatus;
const firstMessage: string | undefined = validation.errors[0]?.message;
// REST parameters may be anything a client sends; validateRule reports what is wrong.
validateRule({ package_name_pattern: 42, extra: true }, { kind: "package" });
// @ts-expect-error: the options need a rule kind
validateRule({}, {});
// @ts-expect-error: not a rule kind
validateRule({}, { kind: "packages" });
const parsed: Rule = parseRule({ repository_path_pattern: "group/app/*" }, { kind: "container_repository", previous: rules[1] });

const set: RuleSet = RuleSet.compile(rules);
const fromJson: RuleSet = compileRules('[{"id": 1, "repository_path_pattern": "g/p/*"}]');
const request: DecisionRequest = {
  package_name: "@demo/ui",
  package_type: "npm",
  action: "push",
  actor: { type: "user", access_level: "developer" },
};
const summary: Summary = set.decide(request);
const first: number | null = summary.first_blocking_rule;
const blockingCount: number = summary.blocking_rules;
const decision: Decision = set.explain(request);
const blocking: number[] = decision.blocking_rule_ids;
const reason: string = decision.reason;
const verdicts: Verdict[] = set.decideBatch([request, { repository_path: "g/p", action: "delete", actor: { type: "deploy_token" } }]);
const targets: TargetOptions = { kind: "pypi", action: "push", actor: { type: "deploy_token" } };
const named: Verdict[] = set.decideNames(["my-pkg"], targets);
for (const verdict of named) {
  if (verdict === "undecidable") {
    // refuse
  }
}
const findings: Finding[] = set.lint();
const count: number = set.length;
// @ts-expect-error: a summary has no reason; explain() has
set.decide(request).reason;
// @ts-expect-error: verdicts are strings, not decisions
set.decideBatch([request])[0].allowed;
// @ts-expect-error: not an action
set.decide({ package_name: "a", package_type: "npm", action: "pull", actor: { type: "deploy_token" } });
// @ts-expect-error: a package request needs its package type
set.explain({ package_name: "a", action: "push", actor: { type: "deploy_token" } });
// @ts-expect-error: a rule kind is not a target kind
set.decideNames(["a"], { kind: "package", action: "push", actor: { type: "deploy_token" } });
// @ts-expect-error: access levels are GitLab's names
compileRules([{ id: 1, package_name_pattern: "a", package_type: "npm", minimum_access_level_for_push: 40 }]);
set.free();
fromJson[Symbol.dispose]();

const oneShot: Summary = decide(rules, request);
const oneShotExplained: Decision = explain(JSON.stringify(rules), request);

const kind: TargetKind = "container_repository";
const result: Preview = preview("@demo/*", ["@demo/ui"], { kind: "npm" });
const positions: number[] = result.matched;
const spans: number[] = result.spans.slice(result.span_offsets[0], result.span_offsets[1]);
const undecidable: number[] = result.undecidable;
preview("group/*", ["group/app"], { kind });
// @ts-expect-error: the target kind is required
preview("group/*", ["group/app"]);
// @ts-expect-error: not a target kind
preview("a", ["a"], { kind: "composer" });

const list = new NameList(["@demo/ui"]);
const listed: Preview = list.preview("@demo/*", { kind: "npm" });
const length: number = list.length;
const listVerdicts: Verdict[] = list.decide(RuleSet.compile(rules), targets);
list.free();
// @ts-expect-error: NameList has no fromLines in contract 0.2
NameList.fromLines("a\nb");

try {
  compileRules([]);
} catch (e) {
  if (e instanceof RuleSetError) {
    const cause: RuleSetErrorCause = e.cause;
    if (cause.kind === "level_not_allowed") {
      const level: string = cause.level;
      const ruleId: number = cause.rule_id;
    } else if (cause.kind === "invalid_json") {
      const line: number = cause.line;
    }
  } else if (e instanceof DecisionError) {
    const cause: DecisionErrorCause = e.cause;
    if (cause.kind === "unevaluable") {
      const pattern: string = cause.pattern;
    }
  } else if (e instanceof RuleValidationError) {
    const httpStatus: 400 | 422 = e.httpStatus;
    const errors: ValidationError[] = e.errors;
  }
  if (e instanceof PkgprotectError) {
    const where: string = e.field;
    const why: string = e.message;
    const isError: Error = e;
  }
}
