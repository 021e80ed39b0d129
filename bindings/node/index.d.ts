// Types of @pkgprotect/node (index.js). Rules, requests and decisions use GitLab's REST
// field names, as in the JS bindings (bindings/js): code typed against one fits the other.

export type AccessLevel =
  | "no_access" | "minimal_access" | "guest" | "planner" | "reporter"
  | "developer" | "maintainer" | "owner" | "admin";
export type PackageType =
  | "cargo" | "conan" | "generic" | "helm" | "maven" | "npm" | "nuget" | "pypi" | "terraform_module";
export type RuleKind = "package" | "container_repository";
export type Action = "push" | "delete";

/** A package protection rule as GitLab's REST API returns it. */
export interface PackageRule {
  id?: number;
  project_id?: number;
  package_name_pattern: string;
  package_type: PackageType;
  minimum_access_level_for_push?: AccessLevel | null;
  minimum_access_level_for_delete?: AccessLevel | null;
}

/** A container repository protection rule as GitLab's REST API returns it. */
export interface ContainerRepositoryRule {
  id?: number;
  project_id?: number;
  repository_path_pattern: string;
  minimum_access_level_for_push?: AccessLevel | null;
  minimum_access_level_for_delete?: AccessLevel | null;
}

/** Either kind; the pattern field tells them apart, as in GitLab's API. */
export type Rule = PackageRule | ContainerRepositoryRule;

/** The parameters of a create (or update) request as a client sends them: any may be missing or wrong. */
export type RuleParams = { [parameter: string]: unknown };

export interface ValidateOptions {
  kind: RuleKind;
  /** The project's full path; container patterns must start with it. Omit to skip that check. */
  projectPath?: string | null;
  /** The project's stored rules, for GitLab's uniqueness check. */
  existingRules?: Rule[];
  /** The stored rule being updated: the parameters are then a PATCH (every one optional). */
  previous?: Rule | null;
}

export interface ValidationError {
  /** The REST parameter at fault (`base` for the whole rule). */
  field: string;
  /** GitLab's own message text. */
  message: string;
}

export interface Validation {
  valid: boolean;
  /** GitLab's answer to the request: 201 created, 400 parameter error, 422 model error. */
  httpStatus: 201 | 400 | 422;
  errors: ValidationError[];
}

export type Actor = { type: "user"; access_level: AccessLevel } | { type: "deploy_token" };

export type DecisionRequest =
  | { package_name: string; package_type: PackageType; action: Action; actor: Actor }
  | { repository_path: string; action: Action; actor: Actor };

export interface Decision {
  allowed: boolean;
  /** Every blocking rule, in rule order. */
  blocking_rule_ids: number[];
  /** One sentence naming the first blocking rule, its pattern and the level it needs. */
  reason: string;
}

/** A request of a batch GitLab could not answer (its query would fail): treat it as refused. */
export interface DecisionFailure {
  allowed: false;
  error: { field: string; message: string };
}

export type FindingKind =
  | "duplicate_pattern" | "equivalent_patterns" | "subsumed_rule" | "restricts_nothing"
  | "trailing_escape" | "surprising_escape" | "literal_wildcard_lookalike" | "pypi_separators";

export interface Finding {
  kind: FindingKind;
  rule_ids: number[];
  message: string;
}

export interface PreviewOptions {
  /** The rule's package type; omit (or null) for a container repository rule. */
  packageType?: PackageType | null;
}

export interface PreviewMatch {
  name: string;
  matched: boolean;
  /** `[start, end)` in UTF-16 code units (`name.slice(start, end)`) of what the pattern's literal characters matched. */
  spans: [number, number][];
  /** Set when GitLab's query would fail for this name (the pattern ends with a lone `\`). */
  error?: string;
}

/** The component `npm run build` copied and transpiled. */
export interface ComponentInfo {
  /** Where it was copied from, relative to the repository (`target/pkgprotect.wasm`). */
  source: string;
  bytes: number;
  sha256: string;
}

/**
 * Every error the SDK throws: `field` names the input at fault (`rules[2].id`,
 * `options.kind`, `requests[5].actor`); `httpStatus` is what GitLab would answer
 * (400 malformed parameter, 422 refused by its model, 500 its own query fails).
 */
export class PkgprotectError extends Error {
  field: string;
  httpStatus: number;
}

/** Thrown by `parseRule`: every failing check, with GitLab's messages. */
export class RuleValidationError extends PkgprotectError {
  httpStatus: 400 | 422;
  errors: Array<ValidationError & { httpStatus: number }>;
}

/** Thrown by `RuleSet.compile` (and one-shot `decide`) for a rule list GitLab's database could not hold. */
export class RuleSetError extends PkgprotectError {
  httpStatus: 422;
  errors: Array<ValidationError & { httpStatus: number }>;
}

/** Thrown by `decide` when GitLab's own query would fail for the request: treat it as refused. */
export class DecisionError extends PkgprotectError {
  httpStatus: 500;
}

/**
 * A compiled rule set in the component's memory: call `free()` when done with it (or
 * `using rules = RuleSet.compile(…)`).
 */
export class RuleSet implements Disposable {
  private constructor();
  /** Compile a project's rules (both kinds, as GitLab's API returns them); throws `RuleSetError`. */
  static compile(rules: Rule[]): RuleSet;
  /** The number of rules. */
  readonly length: number;
  /** May this actor do this? Throws `DecisionError` where GitLab's query would fail. */
  decide(request: DecisionRequest): Decision;
  /** `decide` for many requests in one crossing; a failing request is a `DecisionFailure`, not a throw. */
  decideBatch(requests: DecisionRequest[]): Array<Decision | DecisionFailure>;
  /** Advice: duplicates, subsumed rules, rules that restrict nothing, surprising escapes… */
  lint(): Finding[];
  /** Release the component memory; further calls throw. */
  free(): void;
  [Symbol.dispose](): void;
}

/** `RuleSet.compile(rules)`, named as in the JS bindings. */
export function compileRules(rules: Rule[]): RuleSet;

/** One-shot: compile `rules` and decide `request` (a compiled `RuleSet` is faster for more than one). */
export function decide(rules: Rule[], request: DecisionRequest): Decision;

/**
 * GitLab's answer to creating (or, with `options.previous`, updating) a rule: the parameter
 * layer (400) then the model (422), every failure at once. A refusal is returned, not thrown.
 */
export function validateRule(rule: RuleParams, options: ValidateOptions): Validation;

/** The rule GitLab would store for these parameters; throws `RuleValidationError` when it would refuse them. */
export function parseRule(rule: RuleParams, options: ValidateOptions): Rule;

/** Which of `names` `pattern` matches, as GitLab would for a rule of `options.packageType`. */
export function preview(pattern: string, names: string[], options?: PreviewOptions | null): PreviewMatch[];

/** The engine's version. */
export function version(): string;

/** The component this SDK runs (compare `sha256` with the audited `target/pkgprotect.wasm`). */
export function componentInfo(): ComponentInfo;
