// The errors pkgprotect throws: the same classes, names and shapes as @pkgprotect/node's.
// Every one is a real `Error` (with a stack) naming the input at fault in `field`. The data
// comes from the core's error values (never from parsing a message), and no HTTP status is
// made up where GitLab gives none. Imported by the package entries (index.js, node.js) and by
// glue.js, which the Wasm side calls to build them: one module, so `instanceof` holds.

/**
 * The base class, thrown as is for malformed arguments: `field` names the input at fault
 * (`rules[2].id`, `options.kind`, `requests[5].actor`).
 */
export class PkgprotectError extends Error {
  constructor(message, { field } = {}) {
    super(message);
    this.name = new.target.name;
    this.field = field;
  }
}

/**
 * GitLab refuses the rule (`parseRule`): `httpStatus` is the status its API answers (400 for
 * the parameter layer, 422 for the model), `errors` every failing check with GitLab's message;
 * `field` and `message` are those of the first.
 */
export class RuleValidationError extends PkgprotectError {
  constructor(httpStatus, errors) {
    const [first] = errors;
    super(first.message, { field: first.field });
    this.httpStatus = httpStatus;
    this.errors = errors;
  }
}

/**
 * A rule list that could not have come from GitLab's database (`RuleSet.compile` and the
 * one-shot calls). `cause` says why, as data: `{ kind: "missing_id", position }`,
 * `{ kind: "duplicate_id", id }`, `{ kind: "too_many_rules" }`,
 * `{ kind: "level_not_allowed", rule_id, field, level }`, `{ kind: "blank_pattern", rule_id, field }`,
 * `{ kind: "pattern_too_long", rule_id, field, chars }`, `{ kind: "invalid_json", line, column }`.
 */
export class RuleSetError extends PkgprotectError {
  constructor(message, { field, cause }) {
    super(message, { field });
    this.cause = cause;
  }
}

/**
 * A decision that could not be made: refuse the request. `cause` is
 * `{ kind: "unevaluable", rule_id, pattern }` (GitLab's own query fails: the pattern ends with
 * a lone `\` and the name reaches it) or `{ kind: "internal" }` (the engine found itself
 * inconsistent, and refuses rather than allows).
 */
export class DecisionError extends PkgprotectError {
  constructor(message, { field, cause }) {
    super(message, { field });
    this.cause = cause;
  }
}
