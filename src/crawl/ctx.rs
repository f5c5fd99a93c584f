//! The shared state of one crawl: the concurrency bound, the call counter, the coverage gaps and
//! the progress display. Every AWS call goes through [`Ctx::call`], which holds a permit while the
//! call runs, counts it, traces it, and turns a failure into a coverage gap; [`Ctx::pages`] does the
//! same for every page of a listing.

use super::apis::Api;
use super::progress::Progress;
use crate::model::CoverageGap;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

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
    permits: Semaphore,
    calls: AtomicU64,
    counts: Mutex<CallCounts>,
    gaps: Mutex<Vec<CoverageGap>>,
    pub progress: Progress,
}

impl Ctx {
    pub fn new(concurrency: usize, progress: Progress) -> Self {
        Ctx {
            permits: Semaphore::new(concurrency.max(1)),
            calls: AtomicU64::new(0),
            counts: Mutex::new(BTreeMap::new()),
            gaps: Mutex::new(Vec::new()),
            progress,
        }
    }

    /// Runs one call; a failure is recorded as a gap and gives `None`.
    pub async fn call<T, E, R>(
        &self,
        api: Api,
        scope: Scope<'_>,
        call: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match self.try_call(api, scope, call).await {
            Ok(v) => Some(v),
            Err(e) => {
                self.gap(api, scope, e);
                None
            }
        }
    }

    /// Runs one call and hands a failure back to the caller, which decides whether it is a gap.
    pub async fn try_call<T, E, R>(
        &self,
        api: Api,
        scope: Scope<'_>,
        call: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let permit = self.permits.acquire().await;
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry((scope.account.map(str::to_string), scope.region.map(str::to_string), api))
                .or_insert(0) += 1;
        }
        self.progress.call_started();
        tracing::debug!(
            api = api.action(),
            account = scope.account.unwrap_or("-"),
            region = scope.region.unwrap_or("-"),
            "call"
        );
        let result = call.await;
        drop(permit);
        self.progress.call_finished();
        result.map_err(|e| {
            let e = describe(&e);
            tracing::debug!(
                api = api.action(),
                account = scope.account.unwrap_or("-"),
                region = scope.region.unwrap_or("-"),
                code = e.code.as_str(),
                "call failed"
            );
            e
        })
    }

    /// Runs one call for which some failures are answers: an error code in `absent` means there
    /// is nothing to read (`Some(None)`: e.g. no resource policy), one in `skip` that the call
    /// is to be dropped without a gap (`None`); any other failure is recorded as a gap (`None`).
    pub async fn call_or_absent<T, E, R>(
        &self,
        api: Api,
        scope: Scope<'_>,
        call: impl Future<Output = Result<T, SdkError<E, R>>>,
        absent: &[&str],
        skip: &[&str],
    ) -> Option<Option<T>>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match self.try_call(api, scope, call).await {
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
            let Some(page) = self.call(api, scope, send(token.take())).await else {
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
        let gap = CoverageGap {
            account: scope.account.map(str::to_string),
            region: scope.region.map(str::to_string),
            api: api.action().to_string(),
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
