//! The shared state of one crawl: the concurrency bound, the rate limits, the call counter, the
//! coverage gaps and the progress display. Every AWS call goes through [`Ctx::call`], which waits
//! for its (service, account, region) rate limit, holds a permit only while a request is in
//! flight, retries throttling and transient errors after a backoff slept *without* the permit,
//! counts and traces the call, and turns a failure into a coverage gap; [`Ctx::pages`] does the
//! same for every page of a listing. The SDK clients do not retry themselves (see
//! [`Connector`](super::session::Connector)): one retry policy, here.
//!
//! A call that times out marks its service as hung in that account and region: the service's
//! later calls there fail at once with a `Timeout` gap instead of each waiting for its own
//! timeout, so a hung service costs one call timeout per account and region.

use super::apis::Api;
use super::limits::{Limits, Turn, service};
use super::permits::{Permits, Priority};
use super::progress::Progress;
use crate::model::CoverageGap;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Retries of a throttled call before it becomes a gap (with the backoff below, about 25 s in
/// all: a throttled call is retried until the service lets it through, not dropped).
const THROTTLE_RETRIES: u32 = 10;
/// Retries of a transient failure (5xx, connection reset) before it becomes a gap.
const TRANSIENT_RETRIES: u32 = 2;
/// First backoff; doubled on each retry up to [`MAX_BACKOFF`], with jitter.
const BASE_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// The error codes AWS services use for throttling (the SDKs' list).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes of failures worth one more try.
const TRANSIENT: &[&str] = &[
    "DispatchFailure",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// How many retries a failure with `code` gets.
fn retries_for(code: &str) -> u32 {
    if THROTTLING.contains(&code) {
        THROTTLE_RETRIES
    } else if TRANSIENT.contains(&code) {
        TRANSIENT_RETRIES
    } else {
        0
    }
}

/// The backoff before retry `n` (1-based): `BASE × 2^(n-1)` capped at `MAX`, then a random
/// fraction between a half and all of it, so that calls throttled together do not come back
/// together.
fn backoff(n: u32, seed: u64) -> Duration {
    let full = BASE_BACKOFF
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    // splitmix64 of the seed: enough randomness for jitter, no dependency.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let fraction = 0.5 + 0.5 * ((z ^ (z >> 31)) as f64 / u64::MAX as f64);
    full.mul_f64(fraction)
}

/// Where a call goes: the account (absent for organization calls) and the region (absent for
/// global services).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
}

impl<'a> Scope<'a> {
    pub fn org() -> Self {
        Scope {
            account: None,
            region: None,
        }
    }
    pub fn account(account: &'a str) -> Self {
        Scope {
            account: Some(account),
            region: None,
        }
    }
    pub fn region(account: &'a str, region: &'a str) -> Self {
        Scope {
            account: Some(account),
            region: Some(region),
        }
    }
}

/// A failed call: the error code as AWS returned it (or a local one such as `Timeout`) and the
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub code: String,
    pub message: String,
}

/// Calls counted by account, region and API.
pub type CallCounts = BTreeMap<(Option<String>, Option<String>, Api), u64>;

/// The state shared by every task of a crawl.
#[derive(Debug)]
pub struct Ctx {
    permits: Permits,
    limits: Limits,
    /// (service, account, region) where a call timed out.
    hung: Mutex<BTreeSet<HungKey>>,
    calls: AtomicU64,
    retries: AtomicU64,
    counts: Mutex<CallCounts>,
    gaps: Mutex<Vec<CoverageGap>>,
    pub progress: Progress,
}

impl Ctx {
    pub fn new(concurrency: usize, progress: Progress) -> Self {
        Self::with_limits(concurrency, progress, Limits::new(None))
    }

    /// A context with other rate limits than AWS's (tests, benchmarks).
    pub fn with_limits(concurrency: usize, progress: Progress, limits: Limits) -> Self {
        Ctx {
            permits: Permits::new(concurrency),
            limits,
            hung: Mutex::new(BTreeSet::new()),
            calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            counts: Mutex::new(BTreeMap::new()),
            gaps: Mutex::new(Vec::new()),
            progress,
        }
    }

    /// Runs one call; a failure is recorded as a gap and gives `None`.
    pub async fn call<T, E, R, Fut>(&self, api: Api, scope: Scope<'_>, send: impl FnMut() -> Fut) -> Option<T>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match self.try_call(api, scope, send).await {
            Ok(v) => Some(v),
            Err(e) => {
                self.gap(api, scope, e);
                None
            }
        }
    }

    /// Runs one call (`send` sends one request; it is called again for each retry) and hands a
    /// failure back to the caller, which decides whether it is a gap.
    pub async fn try_call<T, E, R, Fut>(
        &self,
        api: Api,
        scope: Scope<'_>,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T, CallError>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry((scope.account.map(str::to_string), scope.region.map(str::to_string), api))
                .or_insert(0) += 1;
        }
        let mut attempt = 0;
        loop {
            if let Some(e) = self.hung_error(api, scope) {
                return Err(e);
            }
            let priority = match self.limits.wait(api, scope).await {
                Turn::Crowded => Priority::First,
                Turn::Free => Priority::Normal,
            };
            let result = self.attempt(api, scope, priority, send()).await;
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if attempt < retries_for(&e.code) {
                attempt += 1;
                let n = self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    api = api.name(),
                    account = scope.account.unwrap_or("-"),
                    region = scope.region.unwrap_or("-"),
                    code = e.code.as_str(),
                    attempt,
                    "retry"
                );
                tokio::time::sleep(backoff(attempt, n)).await;
                continue;
            }
            if e.code == "Timeout"
                && let Ok(mut hung) = self.hung.lock()
            {
                hung.insert(hung_key(api, scope));
            }
            tracing::debug!(
                api = api.name(),
                account = scope.account.unwrap_or("-"),
                region = scope.region.unwrap_or("-"),
                code = e.code.as_str(),
                "call failed"
            );
            return Err(e);
        }
    }

    /// One request, holding a permit while it is in flight.
    async fn attempt<T, E, R>(
        &self,
        api: Api,
        scope: Scope<'_>,
        priority: Priority,
        request: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let permit = self.permits.acquire(priority).await;
        self.progress.call_started();
        tracing::debug!(
            api = api.name(),
            account = scope.account.unwrap_or("-"),
            region = scope.region.unwrap_or("-"),
            "call"
        );
        let result = request.await;
        drop(permit);
        self.progress.call_finished();
        result.map_err(|e| describe(&e))
    }

    /// The error of a call to a service that already timed out in the same account and region.
    fn hung_error(&self, api: Api, scope: Scope<'_>) -> Option<CallError> {
        let hung = self.hung.lock().ok()?;
        hung.contains(&hung_key(api, scope)).then(|| CallError {
            code: "Timeout".to_string(),
            message: format!(
                "not called: an earlier `{}` call in this account and region timed out",
                service(api)
            ),
        })
    }

    /// Runs one call for which some failures are answers: an error code in `absent` means there
    /// is nothing to read (`Some(None)`: e.g. no resource policy), one in `skip` that the call
    /// is to be dropped without a gap (`None`); any other failure is recorded as a gap (`None`).
    pub async fn call_or_absent<T, E, R, Fut>(
        &self,
        api: Api,
        scope: Scope<'_>,
        send: impl FnMut() -> Fut,
        absent: &[&str],
        skip: &[&str],
    ) -> Option<Option<T>>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match self.try_call(api, scope, send).await {
            Ok(v) => Some(Some(v)),
            Err(e) if absent.contains(&e.code.as_str()) => Some(None),
            Err(e) if skip.contains(&e.code.as_str()) => None,
            Err(e) => {
                self.gap(api, scope, e);
                None
            }
        }
    }

    /// Reads every page of a listing: `send(token)` sends the request for one page, `next` gives
    /// the following page's token (an empty token ends the listing, as some services send one),
    /// and `each` takes each page as it comes. A failed page is recorded as a gap and ends the
    /// listing, keeping what was read; a token that comes back twice is recorded as a
    /// `PagingLoop` gap rather than followed for ever. Returns whether every page was read.
    pub async fn pages<T, E, R, Fut>(
        &self,
        api: Api,
        scope: Scope<'_>,
        mut send: impl FnMut(Option<String>) -> Fut,
        next: impl Fn(&T) -> Option<&str>,
        mut each: impl FnMut(T),
    ) -> bool
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let mut token = None;
        let mut seen = BTreeSet::new();
        loop {
            let Some(page) = self.call(api, scope, || send(token.clone())).await else {
                return false;
            };
            let following = next(&page).filter(|t| !t.is_empty()).map(str::to_string);
            each(page);
            match following {
                None => return true,
                Some(t) if !seen.insert(t.clone()) => {
                    let message = format!("the service returned the page token `{t}` a second time");
                    self.gap(
                        api,
                        scope,
                        CallError {
                            code: "PagingLoop".to_string(),
                            message,
                        },
                    );
                    return false;
                }
                Some(t) => token = Some(t),
            }
        }
    }

    /// Records a coverage gap.
    pub fn gap(&self, api: Api, scope: Scope<'_>, e: CallError) {
        self.gap_action(api.name(), scope, e);
    }

    /// Records a gap for an API the crawler does not call (one it cannot read yet), named in IAM
    /// action form.
    pub fn gap_action(&self, action: &str, scope: Scope<'_>, e: CallError) {
        let gap = CoverageGap {
            account: scope.account.map(str::to_string),
            region: scope.region.map(str::to_string),
            api: action.to_string(),
            error_code: e.code,
            message: e.message,
        };
        self.progress.gap(&gap);
        if let Ok(mut gaps) = self.gaps.lock() {
            gaps.push(gap);
        }
    }

    /// Total calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Requests sent again after a throttling or transient error.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Calls by account, region and API.
    pub fn call_counts(&self) -> CallCounts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The gaps recorded so far, sorted.
    pub fn gaps(&self) -> Vec<CoverageGap> {
        let mut gaps = self.gaps.lock().map(|g| g.clone()).unwrap_or_default();
        gaps.sort();
        gaps.dedup();
        gaps
    }
}

/// A service in one account and region.
type HungKey = (&'static str, Option<String>, Option<String>);

/// The hung-service key of a call: its service, account and region.
fn hung_key(api: Api, scope: Scope<'_>) -> HungKey {
    (
        service(api),
        scope.account.map(str::to_string),
        scope.region.map(str::to_string),
    )
}

/// The error code and message of a failed call. Errors without a service code get a local one:
/// `Timeout`, `DispatchFailure`, `ResponseError`, `ConstructionFailure`.
pub fn describe<E, R>(e: &SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let local = |code: &str| CallError {
        code: code.to_string(),
        message: short(&DisplayErrorContext(e).to_string()),
    };
    match e {
        SdkError::ServiceError(_) => CallError {
            code: e.code().unwrap_or("Unknown").to_string(),
            message: e
                .message()
                .map_or_else(|| short(&DisplayErrorContext(e).to_string()), str::to_string),
        },
        SdkError::TimeoutError(_) => local("Timeout"),
        SdkError::DispatchFailure(d) if d.is_timeout() => local("Timeout"),
        SdkError::DispatchFailure(_) => local("DispatchFailure"),
        SdkError::ResponseError(_) => local("ResponseError"),
        SdkError::ConstructionFailure(_) => local("ConstructionFailure"),
        _ => local("Unknown"),
    }
}

/// The first part of a long error chain: enough to say what failed, not a page of debug output.
fn short(message: &str) -> String {
    const MAX: usize = 240;
    let message = message.split(" (").next().unwrap_or(message);
    match message.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", message.get(..i).unwrap_or(message)),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::result_large_err)]
    use super::super::progress::ProgressMode;
    use super::*;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use std::sync::atomic::AtomicU32;

    type Sent = Result<(), SdkError<GetCallerIdentityError, HttpResponse>>;

    fn timeout() -> Sent {
        Err(SdkError::timeout_error("no answer"))
    }

    #[tokio::test]
    async fn a_timed_out_service_is_not_called_again_in_that_account_and_region() {
        let ctx = Ctx::new(4, Progress::new(ProgressMode::Quiet));
        let sent = AtomicU32::new(0);
        let send = || {
            sent.fetch_add(1, Ordering::Relaxed);
            async { timeout() }
        };
        let here = Scope::region("111111111111", "eu-west-1");
        let first = ctx.try_call(Api::LambdaListFunctions, here, send).await.unwrap_err();
        assert_eq!(first.code, "Timeout");
        assert_eq!(sent.load(Ordering::Relaxed), 1, "a timeout is not retried");
        // The same service in the same account and region: not sent, a Timeout at once.
        let second = ctx.try_call(Api::LambdaGetPolicy, here, send).await.unwrap_err();
        assert_eq!(second.code, "Timeout");
        assert!(second.message.starts_with("not called"), "{}", second.message);
        assert_eq!(sent.load(Ordering::Relaxed), 1);
        // Near misses: another region, another account, another service are still called.
        let elsewhere = [
            (Api::LambdaListFunctions, Scope::region("111111111111", "eu-central-1")),
            (Api::LambdaListFunctions, Scope::region("222222222222", "eu-west-1")),
            (Api::EventsListRules, here),
        ];
        for (api, scope) in elsewhere {
            let _ = ctx.try_call(api, scope, send).await;
        }
        assert_eq!(sent.load(Ordering::Relaxed), 4);
        assert_eq!(ctx.calls(), 5, "every call is counted, sent or not");
        assert_eq!(ctx.retries(), 0);
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_then_succeeds_without_a_gap() {
        let ctx = Ctx::new(1, Progress::new(ProgressMode::Quiet));
        let sent = AtomicU32::new(0);
        let send = || {
            let n = sent.fetch_add(1, Ordering::Relaxed);
            async move {
                let r: Sent = if n < TRANSIENT_RETRIES {
                    Err(SdkError::dispatch_failure(
                        aws_smithy_runtime_api::client::result::ConnectorError::io("reset".into()),
                    ))
                } else {
                    Ok(())
                };
                r
            }
        };
        let r: Option<()> = ctx.call(Api::StsGetCallerIdentity, Scope::org(), send).await;
        assert!(r.is_some());
        assert_eq!(sent.load(Ordering::Relaxed), TRANSIENT_RETRIES + 1);
        assert_eq!(ctx.retries(), u64::from(TRANSIENT_RETRIES));
        assert!(ctx.gaps().is_empty());
    }

    #[test]
    fn throttling_is_retried_longest_transient_briefly_the_rest_never() {
        // Throttling codes as the services send them: Organizations and Lambda
        // `TooManyRequestsException`, IAM and STS `Throttling`, EventBridge `ThrottlingException`,
        // the Tagging API `ThrottledException`.
        for code in [
            "TooManyRequestsException",
            "Throttling",
            "ThrottlingException",
            "ThrottledException",
        ] {
            assert_eq!(retries_for(code), THROTTLE_RETRIES, "{code}");
        }
        assert_eq!(retries_for("DispatchFailure"), TRANSIENT_RETRIES);
        assert_eq!(retries_for("ServiceUnavailable"), TRANSIENT_RETRIES);
        // Near misses: a timeout is not retried (the service is taken as hung), nor is a denial.
        for code in ["Timeout", "AccessDenied", "AccessDeniedException", "throttling", ""] {
            assert_eq!(retries_for(code), 0, "{code}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        for seed in [0, 1, 42, u64::MAX] {
            for n in 1..=THROTTLE_RETRIES {
                let full = BASE_BACKOFF.saturating_mul(1 << (n - 1)).min(MAX_BACKOFF);
                let b = backoff(n, seed);
                assert!(b >= full / 2 && b <= full, "retry {n}, seed {seed}: {b:?}");
            }
        }
        let spread: BTreeSet<Duration> = (0..20).map(|s| backoff(3, s)).collect();
        assert!(spread.len() > 10, "jitter spreads retries: {spread:?}");
        assert!(backoff(40, 7) <= MAX_BACKOFF);
    }
}
