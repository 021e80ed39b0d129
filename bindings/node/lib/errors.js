// The errors the SDK throws. Every one is a real `Error` (with a stack) carrying the
// argument or rule field at fault (`field`) and the HTTP status GitLab would answer with.

/**
 * The base class: `field` names the input at fault (`rules[2].id`, `options.kind`,
 * `requests[5].actor`), `httpStatus` is what GitLab would answer (400 for a malformed
 * parameter, 422 for a rule its model refuses, 500 where its own query would fail).
 */
export class PkgprotectError extends Error {
  constructor(message, { field, httpStatus = 400, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.field = field;
    this.httpStatus = httpStatus;
  }
}

/**
 * A rule GitLab would refuse (`parseRule`): `errors` lists every failing check, with
 * GitLab's messages; `field`, `message` and `httpStatus` are those of the first.
 */
export class RuleValidationError extends PkgprotectError {
  constructor(errors) {
    const [first] = errors;
    super(first.message, { field: first.field, httpStatus: first.httpStatus });
    this.errors = errors;
  }
}

/**
 * A rule list that could not have come from GitLab's database (`RuleSet.compile`): missing
 * or repeated ids, blank or over-long patterns, levels GitLab never stores. `field` points
 * into the list (`rules[1].id`); `errors` holds the component's answers.
 */
export class RuleSetError extends PkgprotectError {
  constructor(field, errors) {
    const [first] = errors;
    super(first.message, { field, httpStatus: first.httpStatus });
    this.errors = errors;
  }
}

/**
 * A request GitLab could not answer because its own query would fail (a pattern ending in a
 * lone `\` reached by the name): GitLab answers 500, and the request must be treated as
 * refused. `field` is the offending rule's pattern (`rules[0].package_name_pattern`).
 */
export class DecisionError extends PkgprotectError {
  constructor(field, message) {
    super(message, { field, httpStatus: 500 });
  }
}

/** Throws a `PkgprotectError` for malformed input. */
export function fail(field, message) {
  throw new PkgprotectError(message, { field });
}
