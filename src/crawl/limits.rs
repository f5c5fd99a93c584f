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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The share of a published rate the crawler uses by default (headroom for other callers of
/// the same account and region, and for clock skew); [`Limits::with_headroom`] sets another.
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

/// One (service, account, region) bucket: the GCRA limiter, a fair lock that lets its waiters
/// through one at a time in the order they came (so thousands of queued calls do not all wake
/// at each free slot, and a page request queued behind a page's policy reads is not overtaken
/// by later ones), and the number of calls waiting.
#[derive(Debug)]
struct Bucket {
    limiter: DefaultDirectRateLimiter,
    turn: tokio::sync::Mutex<()>,
    waiting: AtomicUsize,
}

/// The limiters of one crawl, created on first use.
#[derive(Debug)]
pub struct Limits {
    buckets: Mutex<HashMap<Key, Arc<Bucket>>>,
    /// Multiplies every rate (tests and benchmarks use other figures than AWS's); 1 by default.
    scale: Option<f64>,
    /// The share of each published rate used, in (0, 1].
    headroom: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(None)
    }
}

/// Whether a call that got its turn leaves others of its bucket waiting: its bucket is
/// saturated (the client-side limit, not the crawl, sets its pace), so the call is on the
/// crawl's critical path and takes a crawl permit before calls that are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// No limiter, or no other call of the bucket waiting.
    Free,
    /// Other calls of the same bucket are waiting behind this one.
    Crowded,
}

/// The service of an API (`lambda` for `lambda:ListFunctions`, `eventsv2` for the EventBridge
/// v2 APIs although IAM names them `events:`), from [`Api::name`].
pub fn service(api: Api) -> &'static str {
    api.name().split(':').next().unwrap_or("")
}

/// Counts a call as waiting in its bucket until dropped (also when the wait is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Limits {
    /// Limits at `scale` times the client rates (`None`: AWS's figures), at [`HEADROOM`].
    pub fn new(scale: Option<f64>) -> Self {
        Limits {
            buckets: Mutex::new(HashMap::new()),
            scale,
            headroom: HEADROOM,
        }
    }

    /// The same limits using `headroom` of each published rate (clamped to (0, 1]: the crawler
    /// never goes above a published rate).
    pub fn with_headroom(mut self, headroom: f64) -> Self {
        self.headroom = if headroom.is_finite() {
            headroom.clamp(0.01, 1.0)
        } else {
            HEADROOM
        };
        self
    }

    /// The requests per second the crawler allows itself for `service`.
    pub fn client_rate(&self, service: &str) -> Option<f64> {
        Some(published_rate(service)? * self.headroom * self.scale.unwrap_or(1.0))
    }

    /// Waits until a call of `api` in `scope` is within its bucket's rate, after the calls of the
    /// bucket that came before it.
    pub async fn wait(&self, api: Api, scope: Scope<'_>) -> Turn {
        let Some(bucket) = self.bucket(api, scope) else {
            return Turn::Free;
        };
        bucket.waiting.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(&bucket.waiting);
        let turn = bucket.turn.lock().await;
        bucket.limiter.until_ready().await;
        drop(turn);
        drop(waiting);
        if bucket.waiting.load(Ordering::SeqCst) > 0 {
            Turn::Crowded
        } else {
            Turn::Free
        }
    }

    fn bucket(&self, api: Api, scope: Scope<'_>) -> Option<Arc<Bucket>> {
        let service = service(api);
        let rate = self.client_rate(service)?;
        let key = (
            service,
            scope.account.map(str::to_string),
            scope.region.map(str::to_string),
        );
        let mut buckets = self.buckets.lock().ok()?;
        Some(
            buckets
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Bucket {
                        limiter: RateLimiter::direct(quota(rate)),
                        turn: tokio::sync::Mutex::new(()),
                        waiting: AtomicUsize::new(0),
                    })
                })
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

    #[test]
    fn the_share_of_the_published_rate_is_configurable_and_never_above_it() {
        let rate = |headroom: f64| Limits::new(None).with_headroom(headroom).client_rate("lambda");
        assert_eq!(Limits::new(None).client_rate("lambda"), Some(15.0 * HEADROOM));
        assert_eq!(rate(0.5), Some(7.5));
        assert_eq!(rate(1.0), Some(15.0));
        // Near misses: above the published rate, or not a number.
        assert_eq!(rate(1.5), Some(15.0));
        assert_eq!(rate(f64::NAN), Some(15.0 * HEADROOM));
        assert_eq!(rate(0.5).and(Limits::new(None).client_rate("sts")), None);
    }

    #[tokio::test]
    async fn waiters_of_a_bucket_go_in_arrival_order_and_know_when_others_wait() {
        // Half the client rate (a call every 148 ms), so that the first call's slot is still
        // taken when the three arrive; their order and turns then do not depend on timing: the
        // bucket lets one waiter at a time through, in the order they came.
        let limits = Limits::new(Some(0.5));
        let scope = Scope::region("111111111111", "eu-west-1");
        assert_eq!(limits.wait(Api::LambdaListFunctions, scope).await, Turn::Free, "alone");
        let order = Mutex::new(Vec::new());
        let turns = futures::future::join_all((0..3).map(|i| {
            let (limits, order) = (&limits, &order);
            async move {
                let turn = limits.wait(Api::LambdaGetPolicy, scope).await;
                order.lock().unwrap().push(i);
                turn
            }
        }))
        .await;
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        assert_eq!(turns, vec![Turn::Crowded, Turn::Crowded, Turn::Free]);
        // Near miss: a call of another bucket is not crowded by them, nor is an unlimited one.
        assert_eq!(
            limits
                .wait(Api::LambdaGetPolicy, Scope::region("111111111111", "eu-central-1"))
                .await,
            Turn::Free
        );
        assert_eq!(limits.wait(Api::StsAssumeRole, scope).await, Turn::Free);
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
