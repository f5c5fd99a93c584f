//! Client-side rate limits per (service, account, region), below the request rates AWS
//! publishes, so that a large organization is crawled at the pace AWS allows instead of being
//! throttled and retried. One GCRA limiter (the `governor` crate) per bucket; a call waits for
//! its turn before it takes a crawl permit, so waiting never holds a permit.
//!
//! The published figures (requests per second, per account and region):
//! - Lambda: 15 for the control-plane APIs the crawler calls (`ListFunctions`,
//!   `ListEventSourceMappings`, `GetPolicy`), counted together —
//!   <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests>;
//! - EventBridge: 50 for the APIs other than `PutEvents` (`ListEventBuses`, `ListRules`,
//!   `ListTargetsByRule`) —
//!   <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html>;
//! - EventBridge v2 (Custom Event Buses, endpoint `eventsv2`): its quotas are "separate from
//!   the Custom Event Bus - Classic quotas" and no control-plane request rate is published on
//!   <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html>; it gets its own
//!   bucket at the classic figure, 50;
//! - Organizations: throttles `ListParents`/`ListRoots` and the other listing APIs for the
//!   whole organization (`TooManyRequestsException`) without a published per-API figure on
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html>;
//!   the crawler keeps to 10 per second for the organization (one bucket, from the management
//!   or delegated administrator account).
//!
//! Other services' published rates (STS, the Tagging API, SQS/SNS/KMS/Secrets Manager/DynamoDB
//! policy reads, IAM's one paginated call per account) are far above what the crawler sends
//! per account and region, so they get no limiter; a throttling error there is still retried.

use super::apis::Api;
use super::ctx::Scope;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The share of a published rate the crawler uses (headroom for other callers and clock skew).
pub const HEADROOM: f64 = 0.9;

/// The published request rate of a service (the IAM prefix of its actions), per account and
/// region (per organization for `organizations`); `None` where the crawler needs no limiter.
pub fn published_rate(service: &str) -> Option<f64> {
    match service {
        "lambda" => Some(15.0),
        "events" | "eventsv2" => Some(50.0),
        "organizations" => Some(10.0),
        _ => None,
    }
}

/// The bucket a call counts against: service, account, region.
type Key = (&'static str, Option<String>, Option<String>);

/// The limiters of one crawl, created on first use.
#[derive(Debug, Default)]
pub struct Limits {
    buckets: Mutex<HashMap<Key, Arc<DefaultDirectRateLimiter>>>,
    /// Multiplies every rate (tests and benchmarks use other figures than AWS's); 1 by default.
    scale: Option<f64>,
}

/// The service of an API (`lambda` for `lambda:ListFunctions`, `eventsv2` for the EventBridge
/// v2 APIs although IAM names them `events:`), from [`Api::name`].
pub fn service(api: Api) -> &'static str {
    api.name().split(':').next().unwrap_or("")
}

impl Limits {
    /// Limits at `scale` times the client rates (`None`: AWS's figures).
    pub fn new(scale: Option<f64>) -> Self {
        Limits {
            buckets: Mutex::new(HashMap::new()),
            scale,
        }
    }

    /// Waits until a call of `api` in `scope` is within its bucket's rate.
    pub async fn wait(&self, api: Api, scope: Scope<'_>) {
        if let Some(limiter) = self.limiter(api, scope) {
            limiter.until_ready().await;
        }
    }

    fn limiter(&self, api: Api, scope: Scope<'_>) -> Option<Arc<DefaultDirectRateLimiter>> {
        let service = service(api);
        let rate = published_rate(service)? * HEADROOM * self.scale.unwrap_or(1.0);
        let key = (
            service,
            scope.account.map(str::to_string),
            scope.region.map(str::to_string),
        );
        let mut buckets = self.buckets.lock().ok()?;
        Some(
            buckets
                .entry(key)
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota(rate))))
                .clone(),
        )
    }
}

/// One request every `1/rate` seconds, no burst: the calls of a bucket are spread evenly, so
/// a service that counts requests over any one-second window never sees more than `rate`.
fn quota(rate: f64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Instant;

    #[test]
    fn only_services_with_published_rates_are_limited() {
        assert_eq!(published_rate("lambda"), Some(15.0));
        assert_eq!(published_rate("events"), Some(50.0));
        assert!(published_rate("organizations").is_some());
        assert_eq!(published_rate("sts"), None);
        assert_eq!(service(Api::LambdaGetPolicy), "lambda");
        assert_eq!(service(Api::EventsV2DescribeSubscriber), "eventsv2");
        assert_eq!(published_rate(service(Api::EventsV2ListSubscribers)), Some(50.0));
        assert_eq!(published_rate(service(Api::RamListResources)), None);
    }

    #[tokio::test]
    async fn calls_of_one_bucket_are_paced_and_other_buckets_are_not() {
        // 15 × 0.9 per second: 28 Lambda calls in one account and region take about two
        // seconds; a near miss in another region does not wait behind them.
        let limits = Limits::new(None);
        let scope = Scope::region("111111111111", "eu-west-1");
        let started = Instant::now();
        for api in [Api::LambdaListFunctions, Api::LambdaGetPolicy].iter().cycle().take(28) {
            limits.wait(*api, scope).await;
        }
        let paced = started.elapsed();
        assert!(paced >= Duration::from_millis(1900), "{paced:?}");
        assert!(paced < Duration::from_millis(2600), "{paced:?}");
        let other = Instant::now();
        limits
            .wait(Api::LambdaListFunctions, Scope::region("111111111111", "eu-central-1"))
            .await;
        limits
            .wait(Api::LambdaListFunctions, Scope::region("222222222222", "eu-west-1"))
            .await;
        for _ in 0..50 {
            limits.wait(Api::StsAssumeRole, Scope::account("111111111111")).await;
        }
        assert!(other.elapsed() < Duration::from_millis(100));
    }
}
