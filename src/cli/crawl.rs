//! `topoguard crawl`: read a live AWS Organization into a snapshot file.
//!
//! Credentials, profile, region and endpoint come from the standard AWS chain (`aws-config`).
//! Exit codes: 0 the snapshot is complete, 3 the snapshot was written but has coverage gaps
//! (listed on stderr), 2 bad usage or nothing written.

use super::InputError;
use std::path::PathBuf;

/// Without the `aws` feature there is no crawler.
#[cfg(not(feature = "aws"))]
pub const NOT_BUILT: &str = "topoguard was built without the `aws` feature: crawling is not supported in this build";

/// The most calls in flight `--concurrency` accepts.
pub const MAX_CONCURRENCY: u64 = 1024;
/// The longest `--call-timeout` accepted, in seconds (one hour).
pub const MAX_CALL_TIMEOUT: u64 = 3600;

/// `--endpoint-url`: an `http://` or `https://` URL with a host, nothing else (a bare host name
/// or another scheme would make every call fail and leave an empty snapshot).
fn endpoint_url(value: &str) -> Result<String, String> {
    let lower = value.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or_else(|| "expected an `http://` or `https://` URL".to_string())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !authority.ends_with(']') => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{port}` is not a port number"));
            }
            h
        }
        _ => authority,
    };
    if host.is_empty() || host.contains('@') {
        return Err("expected an `http://` or `https://` URL with a host".to_string());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL cannot contain spaces or control characters".to_string());
    }
    Ok(value.to_string())
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the snapshot here (atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Regions to read in every account, comma-separated (default: the configured region).
    #[arg(long, value_delimiter = ',', value_name = "REGION,…")]
    pub regions: Vec<String>,
    /// Only these accounts, comma-separated (default: every active account of the organization).
    #[arg(long, value_delimiter = ',', value_name = "ID,…")]
    pub accounts: Vec<String>,
    /// The role assumed in every member account.
    #[arg(long, default_value = "OrganizationAccountAccessRole", value_name = "NAME")]
    pub role_name: String,
    /// External id passed to `sts:AssumeRole`.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// AWS calls in flight at most (1 to 1024).
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_CONCURRENCY))]
    pub concurrency: usize,
    /// Do not read AWS DevOps Agent Spaces (e.g. where the API is not offered): each account and
    /// region gets a `Skipped` coverage gap, so the Agent Space checks say "not proven".
    #[arg(long)]
    pub skip_agent_spaces: bool,
    /// The share of each published request rate (Lambda 15/s, EventBridge 50/s per account and
    /// region, Organizations 10/s) the crawl uses, in percent (10 to 100); the rest is left to
    /// other callers in the same accounts.
    #[arg(long, default_value_t = 90, value_name = "PERCENT",
          value_parser = clap::value_parser!(u64).range(10..=100))]
    pub rate_share: u64,
    /// Send every call to this endpoint (an emulator); `AWS_ENDPOINT_URL` works too.
    #[arg(long, value_name = "URL", value_parser = endpoint_url)]
    pub endpoint_url: Option<String>,
    /// The AWS profile to use, as in the AWS CLI.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The region for global calls (and the default of `--regions`), as in the AWS CLI.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Give up on one request after this many seconds (1 to 3600); it becomes a `Timeout`
    /// coverage gap, and the same service is not called again in that account and region.
    #[arg(long, default_value_t = 60, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=MAX_CALL_TIMEOUT))]
    pub call_timeout: u64,
    /// Trace every call on stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

impl Args {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(a) = self.accounts.iter().find(|a| !crate::arn::is_account_id(a)) {
            return Err(InputError(format!("`{a}` is not a twelve-digit account id")));
        }
        if let Some(r) = self.regions.iter().find(|r| {
            r.is_empty()
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }) {
            return Err(InputError(format!("`{r}` is not a region name")));
        }
        Ok(())
    }
}

#[cfg(not(feature = "aws"))]
pub fn run(_args: Args) -> Result<u8, InputError> {
    Err(InputError(NOT_BUILT.to_string()))
}

#[cfg(feature = "aws")]
pub fn run(args: Args) -> Result<u8, InputError> {
    live::run(args)
}

#[cfg(feature = "aws")]
mod live {
    use super::super::{EXIT_GAPS, EXIT_OK, InputError, write_atomically};
    use super::Args;
    use crate::crawl::{self, Connector, CrawlOptions, ProgressMode, describe_gap};
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use aws_config::{BehaviorVersion, Region};
    use std::io::{IsTerminal, Write as _};
    use std::time::{Duration, Instant};

    pub fn run(args: Args) -> Result<u8, InputError> {
        args.validate()?;
        init_tracing(args.verbose);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| InputError(format!("cannot start the async runtime: {e}")))?;
        runtime.block_on(crawl_and_write(args))
    }

    fn init_tracing(verbose: bool) {
        let filter = if verbose { "topoguard=debug" } else { "warn" };
        // Trace lines carry names from AWS: each line goes through the terminal escaper (and no
        // ANSI colours of our own, which the escaper would show as text).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(|| crate::escape::TerminalLines::new(std::io::stderr()))
            .with_ansi(false)
            .with_target(false)
            .try_init();
    }

    async fn crawl_and_write(args: Args) -> Result<u8, InputError> {
        let timeout = Duration::from_secs(args.call_timeout);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // The crawler retries throttled and transient calls itself (outside its permits,
            // within the client-side rate limits); each request gets the whole call timeout.
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10).min(timeout))
                    .operation_timeout(timeout)
                    .build(),
            );
        if let Some(p) = &args.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &args.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &args.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let config = loader.load().await;
        let regions = if args.regions.is_empty() {
            match config.region() {
                Some(r) => vec![r.to_string()],
                None => {
                    return Err(InputError(
                        "no region to crawl: pass `--regions`, `--region` or set `AWS_REGION`".to_string(),
                    ));
                }
            }
        } else {
            args.regions.clone()
        };
        if config.region().is_none() {
            return Err(InputError(
                "no region for global calls: pass `--region` or set `AWS_REGION`".to_string(),
            ));
        }
        let progress = if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        };
        let options = CrawlOptions {
            regions,
            accounts: (!args.accounts.is_empty()).then(|| args.accounts.clone()),
            role_name: args.role_name.clone(),
            external_id: args.external_id.clone(),
            concurrency: args.concurrency,
            progress,
            skip_agent_spaces: args.skip_agent_spaces,
            rate_headroom: args.rate_share as f64 / 100.0,
        };
        let started = Instant::now();
        let outcome = crawl::crawl(&Connector::new(config), &options).await;
        let elapsed = started.elapsed();
        let mut snapshot = outcome.snapshot;
        snapshot.crawled_at = Some(crawl::now_rfc3339());
        write_atomically(Some(&args.output), |w| {
            serde_json::to_writer_pretty(&mut *w, &snapshot).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
        let gaps = &snapshot.coverage.gaps;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "wrote `{}`: {} accounts crawled of {}, {} regions, {} calls in {:.1}s, {} coverage gaps",
            args.output.display(),
            outcome.accounts_crawled,
            snapshot.organization.accounts.len(),
            options.regions.len(),
            outcome.calls,
            elapsed.as_secs_f64(),
            gaps.len()
        );
        summarize_gaps(&mut err, gaps);
        Ok(if gaps.is_empty() { EXIT_OK } else { EXIT_GAPS })
    }

    /// Gaps listed one per line when there are few; otherwise grouped by API and error code with a
    /// count and the first gap of each group as an example (the snapshot has every one).
    fn summarize_gaps(err: &mut impl std::io::Write, gaps: &[crate::model::CoverageGap]) {
        const LIST_UP_TO: usize = 20;
        if gaps.len() <= LIST_UP_TO {
            for g in gaps {
                let _ = writeln!(err, "  gap: {}", describe_gap(g));
            }
            return;
        }
        let mut groups: std::collections::BTreeMap<(&str, &str), Vec<&crate::model::CoverageGap>> = Default::default();
        for g in gaps {
            groups
                .entry((g.api.as_str(), g.error_code.as_str()))
                .or_default()
                .push(g);
        }
        for ((api, code), list) in groups {
            if let Some(first) = list.first() {
                let _ = writeln!(
                    err,
                    "  gaps: {} {} × {} (e.g. {}); every gap is in the snapshot's `coverage.gaps`",
                    crate::escape::terminal(api),
                    crate::escape::terminal(code),
                    list.len(),
                    describe_gap(first)
                );
            }
        }
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]
        use super::summarize_gaps;
        use crate::model::CoverageGap;

        fn gap(account: &str, api: &str, code: &str) -> CoverageGap {
            CoverageGap {
                account: Some(account.to_string()),
                region: Some("eu-west-1".to_string()),
                api: api.to_string(),
                error_code: code.to_string(),
                message: "m".to_string(),
            }
        }

        fn summary(gaps: &[CoverageGap]) -> Vec<String> {
            let mut out = Vec::new();
            summarize_gaps(&mut out, gaps);
            String::from_utf8(out).unwrap().lines().map(str::to_string).collect()
        }

        #[test]
        fn few_gaps_are_listed_many_are_grouped() {
            let few: Vec<CoverageGap> = (0..3).map(|i| gap(&format!("11111111111{i}"), "a:B", "X")).collect();
            assert_eq!(summary(&few).len(), 3);
            let mut many: Vec<CoverageGap> = (0..24)
                .map(|i| {
                    gap(
                        &format!("1111111111{i:02}"),
                        "aidevops:ListAgentSpaces",
                        "DispatchFailure",
                    )
                })
                .collect();
            many.push(gap("222222222222", "sts:AssumeRole", "AccessDenied"));
            let lines = summary(&many);
            assert_eq!(lines.len(), 2, "{lines:?}");
            assert!(
                lines[0]
                    .starts_with("  gaps: aidevops:ListAgentSpaces DispatchFailure × 24 (e.g. account 111111111100"),
                "{lines:?}"
            );
            assert!(
                lines[1].starts_with("  gaps: sts:AssumeRole AccessDenied × 1"),
                "{lines:?}"
            );
        }
    }
}
