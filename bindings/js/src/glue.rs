//! The JavaScript helpers in `src/glue.js`, which the generated module imports as
//! `./glue.js` (scripts/build-preview.sh copies it and `errors.js` beside it). Each builds
//! one value in one crossing: a typed error, or a result of many small parts.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(raw_module = "./glue.js")]
extern "C" {
    /// `new PkgprotectError(message, { field })`.
    #[wasm_bindgen(js_name = pkgprotectError)]
    pub fn pkgprotect_error(message: &str, field: &str) -> JsValue;

    /// `new RuleValidationError(httpStatus, errors)`.
    #[wasm_bindgen(js_name = ruleValidationError)]
    pub fn rule_validation_error(http_status: u16, errors: JsValue) -> JsValue;

    /// `new RuleSetError(message, { field, cause })`.
    #[wasm_bindgen(js_name = ruleSetError)]
    pub fn rule_set_error(message: &str, field: &str, cause: JsValue) -> JsValue;

    /// `new DecisionError(message, { field, cause })`.
    #[wasm_bindgen(js_name = decisionError)]
    pub fn decision_error(message: &str, field: &str, cause: JsValue) -> JsValue;

    /// `{ allowed, blocking_rules, first_blocking_rule }` (`null` for `None`).
    pub fn summary(allowed: bool, blocking_rules: u32, first_blocking_rule: Option<f64>) -> JsValue;

    /// Verdict strings from codes (see [`crate::convert::verdict_code`]).
    pub fn verdicts(codes: &[u8]) -> JsValue;

    /// `{ matched, spans, span_offsets, undecidable }` as plain arrays (copied from the views).
    #[wasm_bindgen(js_name = previewResult)]
    pub fn preview_result(matched: &[u32], spans: &[u32], span_offsets: &[u32], undecidable: &[u32]) -> JsValue;

    /// `{ matched_count, matched, spans, span_offsets, undecidable }` (`NameList#previewFirst`).
    #[wasm_bindgen(js_name = previewFirstResult)]
    pub fn preview_first_result(
        matched_count: f64,
        matched: &[u32],
        spans: &[u32],
        span_offsets: &[u32],
        undecidable: &[u32],
    ) -> JsValue;
}
