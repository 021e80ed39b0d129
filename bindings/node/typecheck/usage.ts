// `npm run typecheck` (tsc --noEmit): index.d.ts accepts what index.js does and refuses the
// mistakes marked `@ts-expect-error` (the check fails if such a line compiles).
import * as pkgprotect from "@pkgprotect/node";
import {
  DecisionError,
  NameList,
  PkgprotectError,
  RuleSet,
  RuleSetError,
  RuleValidationError,
  type Decision,
  type DecisionErrorCause,
  type DecisionRequest,
  type Finding,
  type Preview,
  type Rule,
  type RuleSetErrorCause,
  type Summary,
  type Validation,
  type Verdict,
} from "@pkgprotect/node";

const projectRules: Rule[] = [
  { id: 1, project_id: 7, package_name_pattern: "@demo/*", package_type: "npm", minimum_access_level_for_push: "maintainer", minimum_access_level_for_delete: null },
  { id: 2, repository_path_pattern: "group/app/*", minimum_access_level_for_delete: "owner" },
];
const ask: DecisionRequest = { package_name: "@demo/ui", package_type: "npm", action: "push", actor: { type: "user", access_level: "developer" } };
const image: DecisionRequest = { repository_path: "group/app/web", action: "delete", actor: { type: "deploy_token" } };

const checked: Validation = pkgprotect.validateRule({ anything: "goes" }, { kind: "container_repository", projectPath: null });
const status: 201 | 400 | 422 = checked.httpStatus;
const stored: Rule = pkgprotect.parseRule({ package_name_pattern: "x" }, { kind: "package", existingRules: projectRules, previous: projectRules[0] });

const set: RuleSet = RuleSet.compile(projectRules);
const fromJson: RuleSet = RuleSet.compile('[{"id": 1, "repository_path_pattern": "g/*"}]');
const count: number = set.length;
const summary: Summary = set.decide(ask);
const first: number | null = summary.first_blocking_rule;
const blocking: number = summary.blocking_rules;
const why: Decision = set.explain(ask);
const ids: number[] = why.blocking_rule_ids;
const verdicts: Verdict[] = set.decideBatch([ask, image]);
const byName: Verdict[] = set.decideNames(["@demo/ui"], { kind: "npm", action: "push", actor: { type: "deploy_token" } });
const advice: Finding[] = set.lint();

const names = new NameList(["@demo/ui", "😀@DEMO/x"]);
const size: number = names.length;
const shown: Preview = names.preview("@demo/*", { kind: "npm" });
const [start, end] = shown.spans.slice(shown.span_offsets[0], shown.span_offsets[0] + 2);
const part: string = "@demo/ui".slice(start, end);
const fromList: Verdict[] = names.decide(set, { kind: "container_repository", action: "delete", actor: { type: "user", access_level: "owner" } });
names.free();
names[Symbol.dispose]();
set.free();
set[Symbol.dispose]();
fromJson.free();
pkgprotect.compileRules(projectRules).free();
const once: Summary = pkgprotect.decide(projectRules, image);
const told: Decision = pkgprotect.explain("[]", image);
const matched: number[] = pkgprotect.preview("@demo/*", ["@demo/ui"], { kind: "npm" }).matched;
const contract: string = pkgprotect.version();
const engine: string = pkgprotect.engineVersion();

try {
  set.decide(ask);
} catch (error) {
  if (error instanceof DecisionError) {
    const at: string = error.field;
    const cause: DecisionErrorCause = error.cause;
    if (cause.kind === "unevaluable") {
      const rule: number = cause.rule_id;
      const pattern: string = cause.pattern;
    }
  } else if (error instanceof RuleSetError) {
    const cause: RuleSetErrorCause = error.cause;
    if (cause.kind === "invalid_json") {
      const line: number = cause.line;
    } else if (cause.kind === "level_not_allowed") {
      const level: string = cause.level;
    }
  } else if (error instanceof RuleValidationError) {
    const code: 400 | 422 = error.httpStatus;
    const all: Array<{ field: string; message: string }> = error.errors;
  } else if (error instanceof PkgprotectError) {
    const message: string = error.message;
  }
}

// @ts-expect-error -- levels are GitLab's snake_case names
RuleSet.compile([{ id: 1, package_name_pattern: "a", package_type: "npm", minimum_access_level_for_push: "Maintainer" }]);
// @ts-expect-error -- package rules need package_type
RuleSet.compile([{ id: 1, package_name_pattern: "a" }]);
// @ts-expect-error -- actions are push and delete
set.decide({ package_name: "a", package_type: "npm", action: "pull", actor: { type: "deploy_token" } });
// @ts-expect-error -- the kind is required
pkgprotect.validateRule({}, {});
// @ts-expect-error -- preview options name the target kind
pkgprotect.preview("a", ["a"], { packageType: "npm" });
// @ts-expect-error -- container_repository is a target kind, container is not
set.decideNames(["a"], { kind: "container", action: "push", actor: { type: "deploy_token" } });
// @ts-expect-error -- RuleSetError has no HTTP status: GitLab answers none for it
const invented: number = new RuleSetError().httpStatus;
// @ts-expect-error -- a NameList decides with a compiled RuleSet, not rules
names.decide(projectRules, { kind: "npm", action: "push", actor: { type: "deploy_token" } });
// @ts-expect-error -- the constructor is private: RuleSet.compile
new RuleSet();
