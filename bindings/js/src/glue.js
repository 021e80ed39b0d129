// What the Wasm side (src/glue.rs) calls to build JavaScript values in one crossing: the
// typed errors, and results whose many small parts would otherwise cross one by one.
// Internal: not exported by the package. scripts/build-preview.sh copies it (and errors.js)
// next to the generated pkgprotect_js.js, which imports it as `./glue.js`.
import { DecisionError, PkgprotectError, RuleSetError, RuleValidationError } from "./errors.js";

export const pkgprotectError = (message, field) => new PkgprotectError(message, { field });
export const ruleValidationError = (httpStatus, errors) => new RuleValidationError(httpStatus, errors);
export const ruleSetError = (message, field, cause) => new RuleSetError(message, { field, cause });
export const decisionError = (message, field, cause) => new DecisionError(message, { field, cause });

/** A `Summary`; `first` is `undefined` when no rule blocks. */
export const summary = (allowed, blocking, first) => ({
  allowed,
  blocking_rules: blocking,
  first_blocking_rule: first === undefined ? null : first,
});

const VERDICTS = ["allowed", "blocked", "undecidable"];

/** One verdict string per code (0 allowed, 1 blocked, 2 undecidable). */
export const verdicts = (codes) => Array.from(codes, (code) => VERDICTS[code]);

/** A `Preview` from four views of Wasm memory, copied into plain arrays before they go stale. */
export const previewResult = (matched, spans, spanOffsets, undecidable) => ({
  matched: Array.from(matched),
  spans: Array.from(spans),
  span_offsets: Array.from(spanOffsets),
  undecidable: Array.from(undecidable),
});

/** A `PreviewFirst`: how many names match, and a `Preview` of the first of them. */
export const previewFirstResult = (matchedCount, matched, spans, spanOffsets, undecidable) => ({
  matched_count: matchedCount,
  ...previewResult(matched, spans, spanOffsets, undecidable),
});
