// `npm run typecheck` (tsc --noEmit): index.d.ts accepts what index.js does and refuses the
// mistakes marked `@ts-expect-error` (the check fails if such a line compiles).
import * as pkgprotect from "@pkgprotect/node";
import {
  DecisionError,
  PkgprotectError,
  RuleSet,
  RuleSetError,
  RuleValidationError,
  type ComponentInfo,
  type Decision,
  type DecisionFailure,
  type DecisionRequest,
  type Finding,
  type PreviewMatch,
  type Rule,
  type Validation,
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
const count: number = set.length;
const one: Decision = set.decide(ask);
const ids: number[] = one.blocking_rule_ids;
const many: Array<Decision | DecisionFailure> = set.decideBatch([ask, image]);
for (const answer of many) {
  if ("error" in answer) {
    const field: string = answer.error.field;
  }
}
const advice: Finding[] = set.lint();
set.free();
set[Symbol.dispose]();
pkgprotect.compileRules(projectRules).free();
const once: Decision = pkgprotect.decide(projectRules, image);
const marks: PreviewMatch[] = pkgprotect.preview("@demo/*", ["@demo/ui"], { packageType: "npm" });
const spans: [number, number][] = marks[0].spans;
pkgprotect.preview("group/*", ["group/a"]);
const info: ComponentInfo = pkgprotect.componentInfo();
const engine: string = pkgprotect.version();

try {
  set.decide(ask);
} catch (error) {
  if (error instanceof DecisionError) {
    const at: string = error.field;
    const code: number = error.httpStatus;
  } else if (error instanceof RuleSetError || error instanceof RuleValidationError) {
    const all: Array<{ field: string; message: string; httpStatus: number }> = error.errors;
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
// @ts-expect-error -- packageType, not package_type
pkgprotect.preview("a", ["a"], { package_type: "npm" });
// @ts-expect-error -- the constructor is private: RuleSet.compile
new RuleSet();
