// Types of @pkgprotect/node (index.js), contract pkgprotect:policy@0.2.1. The API is the JS
// bindings' (bindings/js): data records keep GitLab's REST snake_case names, functions and
// options are camelCase, so code typed against one fits the other.

export type AccessLevel =
  | "no_access" | "minimal_access" | "guest" | "planner" | "reporter"
  | "developer" | "maintainer" | "owner" | "admin";
export type PackageType =
  | "cargo" | "conan" | "generic" | "helm" | "maven" | "npm" | "nuget" | "pypi" | "terraform_module";
/** What a name is: a package of one of GitLab's package types, or a container repository. */
export type TargetKind = PackageType | "container_repository";
export type RuleKind = "package" | "container_repository";
export type Action = "push" | "delete";
/** One request's answer in a batch. `undecidable`: refuse it (`explain` says why). */
export type Verdict = "allowed" | "blocked" | "undecidable";

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

/** `decide`'s answer: scalars only (`explain` has every id and the reason). */
export interface Summary {
  allowed: boolean;
  /** How many rules block the request. */
  blocking_rules: number;
  /** The first of them, in the order the rules were given; `null` when allowed. */
  first_blocking_rule: number | null;
}

/** `explain`'s answer. */
export interface Decision {
  allowed: boolean;
  /** Every blocking rule, in rule order. */
  blocking_rule_ids: number[];
  /** One sentence naming the first blocking rule, its pattern and the level it needs. */
  reason: string;
}

/** What many names are, for `decideNames` and `NameList#decide`. */
export interface TargetOptions {
  kind: TargetKind;
  action: Action;
  actor: Actor;
}

export interface PreviewOptions {
  /** The kind of rule the pattern would be (PyPI rules compare `-`, `_`, `.` as GitLab's user path does). */
  kind: TargetKind;
}

/** Which names a pattern matches; names are not echoed: positions into the list given. */
export interface Preview {
  /** Positions of the matching names, ascending. */
  matched: number[];
  /** `[start, end)` pairs flattened, in UTF-16 code units (`name.slice(start, end)`): what the pattern's literal characters matched. */
  spans: number[];
  /** The pairs of `matched[i]` are `spans[span_offsets[i] .. span_offsets[i + 1]]`; `matched.length + 1` entries, starting with 0. */
  span_offsets: number[];
  /** Positions of the names for which GitLab's query would fail (the pattern ends with a lone `\`). */
  undecidable: number[];
}

export type FindingKind =
  | "duplicate_pattern" | "equivalent_patterns" | "subsumed_rule" | "restricts_nothing"
  | "trailing_escape" | "surprising_escape" | "literal_wildcard_lookalike" | "pypi_separators";

export interface Finding {
  kind: FindingKind;
  rule_ids: number[];
  message: string;
}

/** A REST field a `RuleSetError` cause names. */
export type RuleField = "package_name_pattern" | "repository_path_pattern" | "minimum_access_level_for_push" | "minimum_access_level_for_delete";

/** Why a rule list cannot be compiled (`RuleSetError#cause`). */
export type RuleSetErrorCause =
  | { kind: "missing_id"; position: number }
  | { kind: "duplicate_id"; id: number }
  | { kind: "too_many_rules" }
  | { kind: "level_not_allowed"; rule_id: number; field: RuleField; level: AccessLevel }
  | { kind: "blank_pattern"; rule_id: number; field: RuleField }
  | { kind: "pattern_too_long"; rule_id: number; field: RuleField; chars: number }
  | { kind: "invalid_json"; line: number; column: number };

/** Why a decision cannot be made (`DecisionError#cause`); either way, refuse. */
export type DecisionErrorCause =
  | { kind: "unevaluable"; rule_id: number; pattern: string }
  | { kind: "internal" };

/** Every error the SDK throws; thrown as is for malformed arguments. */
export class PkgprotectError extends Error {
  /** The input at fault: `rules[2].id`, `options.kind`, `requests[5].actor`. */
  field: string;
}

/** Thrown by `parseRule`: GitLab refuses the rule. `field` and `message` are the first error's. */
export class RuleValidationError extends PkgprotectError {
  /** What GitLab's API answers: 400 parameter layer, 422 model. */
  httpStatus: 400 | 422;
  errors: ValidationError[];
}

/**
 * Thrown by `RuleSet.compile` and the one-shot calls: the list could not have come from
 * GitLab's database. `field` points into the caller's list (`rules[1].id`, or `rules` for JSON text).
 */
export class RuleSetError extends PkgprotectError {
  cause: RuleSetErrorCause;
}

/**
 * Thrown by `decide` and `explain` when no decision can be made: refuse the request. `field` is
 * the unevaluable rule's pattern (`rules[0].package_name_pattern`) when the rules were an array, else `rules`.
 */
export class DecisionError extends PkgprotectError {
  cause: DecisionErrorCause;
}

/**
 * A compiled rule set in the component's memory: call `free()` when done with it (or
 * `using rules = RuleSet.compile(…)`).
 */
export class RuleSet implements Disposable {
  private constructor();
  /** Compile a project's rules: an array as GitLab's API returns it, or that JSON as text. Throws `RuleSetError`. */
  static compile(rules: Rule[] | string): RuleSet;
  /** The number of rules. */
  readonly length: number;
  /** May this actor do this? Scalars only; throws `DecisionError` when no decision can be made. */
  decide(request: DecisionRequest): Summary;
  /** Every blocking rule id and the reason; throws `DecisionError` when no decision can be made. */
  explain(request: DecisionRequest): Decision;
  /** One verdict per name, for names of one kind, one action and one actor. */
  decideNames(names: string[], options: TargetOptions): Verdict[];
  /** One verdict per request, in order. */
  decideBatch(requests: DecisionRequest[]): Verdict[];
  /** Advice: duplicates, subsumed rules, rules that restrict nothing, surprising escapes… */
  lint(): Finding[];
  /** Release the component memory; further calls throw. */
  free(): void;
  [Symbol.dispose](): void;
}

/** Names kept in the component's memory, previewed many times; spans in UTF-16 code units. */
export class NameList implements Disposable {
  constructor(names: string[]);
  /** The number of names. */
  readonly length: number;
  /** Which names `pattern` matches as a rule for targets of `options.kind` would. */
  preview(pattern: string, options: PreviewOptions): Preview;
  /** One verdict per name: would `rules` let `options.actor` do `options.action` to each? */
  decide(rules: RuleSet, options: TargetOptions): Verdict[];
  /** Release the component memory; further calls throw. */
  free(): void;
  [Symbol.dispose](): void;
}

/** `RuleSet.compile(rules)`. */
export function compileRules(rules: Rule[] | string): RuleSet;

/** One-shot: compile `rules` and decide `request` (a compiled `RuleSet` is faster for more than one). */
export function decide(rules: Rule[] | string, request: DecisionRequest): Summary;

/** One-shot `explain`. */
export function explain(rules: Rule[] | string, request: DecisionRequest): Decision;

/**
 * GitLab's answer to creating (or, with `options.previous`, updating) a rule: the parameter
 * layer (400) then the model (422), every failure at once. A refusal is returned, not thrown.
 */
export function validateRule(rule: RuleParams, options: ValidateOptions): Validation;

/** The rule GitLab would store for these parameters; throws `RuleValidationError` when it would refuse them. */
export function parseRule(rule: RuleParams, options: ValidateOptions): Rule;

/** Which of `names` `pattern` matches, as a rule for targets of `options.kind` would. */
export function preview(pattern: string, names: string[], options: PreviewOptions): Preview;

/** The contract version the component implements, `"0.2.1"`. */
export function version(): string;

/** The core engine's version inside the component. */
export function engineVersion(): string;
