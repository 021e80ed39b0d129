//! Prometheus metrics at `/-/metrics`: requests by route and status, decision latency and
//! outcomes, the rule-set cache, compile time and the engine's instance pool.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Instant;

/// Every metric the server exports, in one registry per server (tests run many servers in
/// one process, so nothing is global).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    decisions: IntCounterVec,
    decision_seconds: HistogramVec,
    rule_set_lookups: IntCounterVec,
    rule_sets_cached: IntGauge,
    compile_seconds: Histogram,
    engine_instances: IntGauge,
    engine_instances_busy: IntGauge,
    registry_tokens: IntCounterVec,
}

/// Latency buckets from 50 µs (a warm decision) to 10 s (a request at its limits).
const SECONDS: [f64; 14] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0];

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("pkgprotect".into()), None)?;
        let histogram = |name: &str, help: &str| HistogramOpts::new(name, help).buckets(SECONDS.to_vec());
        let metrics = Metrics {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by route template, method and status"),
                &["route", "method", "status"],
            )?,
            request_seconds: HistogramVec::new(
                histogram("http_request_duration_seconds", "Time to answer an HTTP request, by route template"),
                &["route"],
            )?,
            decisions: IntCounterVec::new(
                Opts::new("decisions_total", "Decisions answered, by rule kind and outcome (allowed, refused, error)"),
                &["kind", "outcome"],
            )?,
            decision_seconds: HistogramVec::new(
                histogram(
                    "decision_duration_seconds",
                    "Time the engine took to decide one decision request (single or batch)",
                ),
                &["kind"],
            )?,
            rule_set_lookups: IntCounterVec::new(
                Opts::new("rule_set_cache_lookups_total", "Compiled rule-set cache lookups, by result (hit, miss)"),
                &["result"],
            )?,
            rule_sets_cached: IntGauge::new("rule_set_cache_entries", "Compiled rule sets held by the cache")?,
            compile_seconds: Histogram::with_opts(histogram(
                "rule_set_compile_duration_seconds",
                "Time to compile a project's rules of one kind",
            ))?,
            engine_instances: IntGauge::new(
                "engine_instances",
                "Component instances in the engine's pool (0: native engine)",
            )?,
            engine_instances_busy: IntGauge::new(
                "engine_instances_busy",
                "Pool instances deciding or compiling right now",
            )?,
            registry_tokens: IntCounterVec::new(
                Opts::new(
                    "registry_token_requests_total",
                    "Registry token requests (/jwt/auth), by outcome (granted, denied, unauthorized, bad_request, error)",
                ),
                &["outcome"],
            )?,
            registry,
        };
        metrics.registry.register(Box::new(metrics.requests.clone()))?;
        metrics.registry.register(Box::new(metrics.request_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.decisions.clone()))?;
        metrics.registry.register(Box::new(metrics.decision_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.rule_set_lookups.clone()))?;
        metrics.registry.register(Box::new(metrics.rule_sets_cached.clone()))?;
        metrics.registry.register(Box::new(metrics.compile_seconds.clone()))?;
        metrics.registry.register(Box::new(metrics.engine_instances.clone()))?;
        metrics.registry.register(Box::new(metrics.engine_instances_busy.clone()))?;
        metrics.registry.register(Box::new(metrics.registry_tokens.clone()))?;
        Ok(metrics)
    }

    pub fn rule_set_lookup(&self, hit: bool) {
        self.rule_set_lookups.with_label_values(&[if hit { "hit" } else { "miss" }]).inc();
    }

    pub fn compiled(&self, seconds: f64) {
        self.compile_seconds.observe(seconds);
    }

    /// One engine call for decisions of `kind`, each `Some(allowed)` or `None` for an error.
    pub fn decided_each(&self, kind: &str, seconds: f64, answers: impl IntoIterator<Item = Option<bool>>) {
        let mut outcomes = [0u64; 3];
        for answer in answers {
            let index = match answer {
                Some(true) => 0,
                Some(false) => 1,
                None => 2,
            };
            if let Some(count) = outcomes.get_mut(index) {
                *count += 1;
            }
        }
        self.decided(kind, seconds, outcomes);
    }

    /// One engine call for `outcomes` (allowed, refused, error) of decisions of `kind`.
    pub fn decided(&self, kind: &str, seconds: f64, outcomes: [u64; 3]) {
        self.decision_seconds.with_label_values(&[kind]).observe(seconds);
        for (outcome, count) in ["allowed", "refused", "error"].into_iter().zip(outcomes) {
            if count > 0 {
                self.decisions.with_label_values(&[kind, outcome]).inc_by(count);
            }
        }
    }

    /// One answered registry token request.
    pub fn registry_token(&self, outcome: &str) {
        self.registry_tokens.with_label_values(&[outcome]).inc();
    }

    /// The text exposition, with the gauges read now.
    pub fn render(
        &self,
        rule_sets_cached: usize,
        instances: Option<(usize, usize)>,
    ) -> Result<String, prometheus::Error> {
        self.rule_sets_cached.set(i64::try_from(rule_sets_cached).unwrap_or(i64::MAX));
        let (total, busy) = instances.unwrap_or((0, 0));
        self.engine_instances.set(i64::try_from(total).unwrap_or(i64::MAX));
        self.engine_instances_busy.set(i64::try_from(busy).unwrap_or(i64::MAX));
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        String::from_utf8(text).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

/// Count and time every request that matched a route, under the route's template (never the
/// path itself: ids and project paths would make the label set unbounded).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request_seconds.with_label_values(&[&route]).observe(started.elapsed().as_secs_f64());
    metrics.requests.with_label_values(&[&route, &method, response.status().as_str()]).inc();
    response
}

/// The `/-/metrics` answer.
pub fn exposition(text: Result<String, prometheus::Error>) -> Response {
    match text {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registers_and_renders() {
        let metrics = Metrics::new().unwrap();
        metrics.rule_set_lookup(true);
        metrics.compiled(0.002);
        metrics.decided("package", 0.0001, [2, 1, 0]);
        metrics.registry_token("denied");
        let text = metrics.render(3, Some((4, 1))).unwrap();
        for line in [
            "pkgprotect_rule_set_cache_lookups_total{result=\"hit\"} 1",
            "pkgprotect_rule_set_cache_entries 3",
            "pkgprotect_engine_instances 4",
            "pkgprotect_engine_instances_busy 1",
            "pkgprotect_decisions_total{kind=\"package\",outcome=\"allowed\"} 2",
            "pkgprotect_rule_set_compile_duration_seconds_count 1",
            "pkgprotect_registry_token_requests_total{outcome=\"denied\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
    }
}
