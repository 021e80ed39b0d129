// Checked by `tsc --noEmit` (npm run typecheck): the package's types accept real usage and
// reject the mistakes below (each `@ts-expect-error` fails the check if the line compiles).
import {
  compileRules,
  NameList,
  preview,
  validateRule,
  version,
  type Decision,
  type DecisionFailure,
  type DecisionRequest,
  type Finding,
  type NameListPreview,
  type PkgprotectError,
  type PreviewMatch,
  type Rule,
  type Validation,
} from "pkgprotect";

const v: string = version();

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

const set = compileRules(rules);
const request: DecisionRequest = {
  package_name: "@demo/ui",
  package_type: "npm",
  action: "push",
  actor: { type: "user", access_level: "developer" },
};
const decision: Decision = set.decide(request);
const blocking: number[] = decision.blocking_rule_ids;
const answers: Array<Decision | DecisionFailure> = set.decideBatch([request, { repository_path: "g/p", action: "delete", actor: { type: "deploy_token" } }]);
for (const answer of answers) {
  if ("error" in answer) {
    const field: string = answer.error.field;
  } else {
    const reason: string = answer.reason;
  }
}
const findings: Finding[] = set.lint();
const count: number = set.length;
set.free();
// @ts-expect-error: not an action
set.decide({ package_name: "a", package_type: "npm", action: "pull", actor: { type: "deploy_token" } });
// @ts-expect-error: a package request needs its package type
set.decide({ package_name: "a", action: "push", actor: { type: "deploy_token" } });
// @ts-expect-error: access levels are GitLab's names
compileRules([{ id: 1, package_name_pattern: "a", package_type: "npm", minimum_access_level_for_push: 40 }]);

const matches: PreviewMatch[] = preview("@demo/*", ["@demo/ui"], { packageType: "npm" });
const span: [number, number] | undefined = matches[0]?.spans[0];
const error: string | undefined = matches[0]?.error;
preview("group/*", ["group/app"]);
// @ts-expect-error: not a package type
preview("a", ["a"], { packageType: "composer" });

const list = new NameList(["@demo/ui"]);
const fromFile: NameList = NameList.fromLines("@demo/ui\n@demo/core\n");
const result: NameListPreview = list.preview("@demo/*", { packageType: "npm" });
const indices: Uint32Array = result.matched;
const name: string | undefined = list.get(0);
const length: number = list.length;
list.free();
fromFile.free();

try {
  compileRules([]);
} catch (e) {
  const failure = e as PkgprotectError;
  const where: string = failure.field;
  const why: string = failure.message;
}
