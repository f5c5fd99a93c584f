//! Performance benchmark of the live crawler against moto in server mode (not a timed test).
//!
//! The program starts `moto_server` from `$TOPOGUARD_VENV/bin/moto_server` (default: `.venv` in
//! the repository) on a free 127.0.0.1 port, seeds an organization with
//! `scripts/moto_seed.py --light` (by default 50 member accounts × 2 regions: buses with policies,
//! rules on two buses with cross-account targets, tagged queues, cross-account roles, an SCP),
//! then crawls it through the library (`topoguard::crawl::crawl`): a small warm-up (one member
//! account, so that moto has loaded every service before anything is measured), then the whole
//! organization at `--concurrency N` (default 16) and at concurrency 1 (sequential). For each
//! measured crawl it prints the wall time, the calls
//! (the crawler's own counter, `CrawlOutcome::calls`: one per SDK operation, retries not
//! counted), calls per second and calls per account-region, and the CPU time moto's process and
//! the benchmark's own process used (from `/proc/<pid>/stat`, Linux only); then the per-call
//! latency estimated from the sequential crawl (sequential wall / calls) and the ideal concurrent
//! wall time `calls × latency / concurrency` next to the measured one.
//!
//! The issue's aim is a concurrent wall time close to that ideal. moto is one Python process:
//! when its CPU time is close to one core's worth of the wall time, the emulator, not the
//! crawler, sets the pace, and concurrency cannot beat it on this machine. So the crawls are
//! measured twice: against moto directly, and through a loopback proxy that adds
//! `--latency-ms` (default 20) to every request, as a network to AWS would; there the calls wait
//! on latency rather than on moto's CPU, which is what concurrency is for.
//!
//! ```text
//! TOPOGUARD_VENV=/path/to/venv cargo run --release --example crawl_bench -- \
//!     [--accounts N] [--regions r1,r2] [--concurrency N] [--latency-ms N] \
//!     [--throttle-pct P] [--functions-in-one N] [--faults-only true] [--limits-only true] \
//!     [--rate-share PERCENT]
//! ```
//!
//! With `--throttle-pct` (or `--faults-only` / `--limits-only`) it also crawls through a fault
//! proxy that answers with each service's own throttling error, at random or above the
//! published rate per (service, account, region); the published-limits run prints the bound
//! those rates allow (the busiest bucket's calls / its rate) next to the measured time, their
//! ratio, and how many throttling errors surfaced as coverage gaps. `--limits-only true` runs
//! that crawl alone (a large organization takes minutes per crawl).
//!
//! moto is killed when the program ends (also on an error); the seeding and every crawl are
//! bounded in time.

use anyhow::{Context, Result, bail};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use topoguard::crawl::{self, Connector, CrawlOptions, ProgressMode, limits};

/// Seeding gives up after this long.
const SEED_TIMEOUT: Duration = Duration::from_secs(900);
/// One crawl gives up after this long.
const CRAWL_TIMEOUT: Duration = Duration::from_secs(900);
/// The throttling error codes the fault proxy sends (see [`throttling_response`]).
const THROTTLING_CODES: &[&str] = &[
    "TooManyRequestsException",
    "ThrottlingException",
    "ThrottledException",
    "Throttling",
];

/// A moto server, killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start(venv: &Path) -> Result<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", venv.join("bin/moto_server").display()))?;
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("moto_server did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Args {
    accounts: usize,
    regions: Vec<String>,
    concurrency: usize,
    latency: Duration,
    /// Percentage of requests the fault proxy answers with the service's throttling error.
    throttle_pct: Option<u32>,
    /// Functions seeded in the first member account's first region.
    functions_in_one: usize,
    /// Measure the fault runs only (fault-free, throttled, published limits), not the
    /// sequential and direct-to-moto baselines.
    faults_only: bool,
    /// Measure the published-limits run only (implies `--faults-only`).
    limits_only: bool,
    /// The share of each published rate the crawler uses, in percent (the CLI's `--rate-share`).
    rate_share: u64,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        accounts: 50,
        regions: vec!["eu-west-1".to_string(), "eu-central-1".to_string()],
        concurrency: 16,
        latency: Duration::from_millis(20),
        throttle_pct: None,
        functions_in_one: 0,
        faults_only: false,
        limits_only: false,
        rate_share: 90,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("`{a}` needs a value"))?;
        match a.as_str() {
            "--accounts" => args.accounts = v.parse()?,
            "--regions" => args.regions = v.split(',').map(str::to_string).collect(),
            "--concurrency" => args.concurrency = v.parse()?,
            "--latency-ms" => args.latency = Duration::from_millis(v.parse()?),
            "--throttle-pct" => args.throttle_pct = Some(v.parse::<u32>()?.min(100)),
            "--functions-in-one" => args.functions_in_one = v.parse()?,
            "--faults-only" => args.faults_only = v.parse()?,
            "--limits-only" => args.limits_only = v.parse()?,
            "--rate-share" => args.rate_share = v.parse()?,
            _ => bail!("unknown argument `{a}`"),
        }
    }
    if args.accounts == 0 || args.concurrency == 0 || args.regions.is_empty() {
        bail!("--accounts, --concurrency and --regions must not be zero or empty");
    }
    if !(10..=100).contains(&args.rate_share) {
        bail!("--rate-share must be a percentage from 10 to 100");
    }
    Ok(args)
}

/// Runs the seeding script, killing it after [`SEED_TIMEOUT`]; returns its JSON summary.
fn seed(venv: &Path, url: &str, args: &Args) -> Result<serde_json::Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::NamedTempFile::new()?;
    let mut child = Command::new(venv.join("bin/python"))
        .arg(root.join("scripts/moto_seed.py"))
        .args([
            url,
            "--light",
            "--accounts",
            &args.accounts.to_string(),
            "--regions",
            &args.regions.join(","),
            "--functions-in-one",
            &args.functions_in_one.to_string(),
        ])
        .stdout(out.reopen()?)
        .spawn()
        .context("cannot run scripts/moto_seed.py")?;
    let deadline = Instant::now() + SEED_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("seeding took longer than {SEED_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        bail!("seeding failed: {status}");
    }
    Ok(serde_json::from_slice(&std::fs::read(out.path())?)?)
}

async fn config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "bench",
        )))
        // As the CLI: the crawler retries, the SDK does not.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`; `None` where
/// that is not readable (not Linux).
fn cpu_seconds(pid: &str, ticks_per_second: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
    // state (3), …, utime (14), stime (15).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks_per_second)
}

/// Clock ticks per second for `/proc` CPU times (`getconf CLK_TCK`, 100 if that fails).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds used by moto and by this process during one crawl.
#[derive(Default)]
struct Cpu {
    moto: Option<f64>,
    crawler: Option<f64>,
}

/// One measured crawl.
struct Run {
    wall: Duration,
    cpu: Cpu,
    calls: u64,
    retries: u64,
    call_counts: topoguard::crawl::CallCounts,
    accounts: usize,
    gaps_by_api: BTreeMap<String, usize>,
    /// Gaps whose error is a throttling error (a throttled call that ran out of retries).
    throttling_gaps: usize,
}

async fn run(
    connector: &Connector,
    moto: &Moto,
    args: &Args,
    accounts: Option<Vec<String>>,
    concurrency: usize,
) -> Result<Run> {
    let regions = &args.regions;
    let ticks = ticks_per_second();
    let moto_pid = moto.child.id().to_string();
    let cpu_before = (cpu_seconds(&moto_pid, ticks), cpu_seconds("self", ticks));
    let options = CrawlOptions {
        regions: regions.to_vec(),
        accounts,
        concurrency,
        progress: ProgressMode::Quiet,
        rate_headroom: args.rate_share as f64 / 100.0,
        ..CrawlOptions::default()
    };
    let started = Instant::now();
    let outcome = tokio::time::timeout(CRAWL_TIMEOUT, crawl::crawl(connector, &options))
        .await
        .with_context(|| format!("the crawl took longer than {CRAWL_TIMEOUT:?}"))?;
    let wall = started.elapsed();
    let cpu_after = (cpu_seconds(&moto_pid, ticks), cpu_seconds("self", ticks));
    let cpu = Cpu {
        moto: cpu_after.0.zip(cpu_before.0).map(|(a, b)| a - b),
        crawler: cpu_after.1.zip(cpu_before.1).map(|(a, b)| a - b),
    };
    let mut gaps_by_api = BTreeMap::new();
    for g in &outcome.snapshot.coverage.gaps {
        *gaps_by_api.entry(g.api.clone()).or_insert(0) += 1;
    }
    let throttling_gaps = outcome
        .snapshot
        .coverage
        .gaps
        .iter()
        .filter(|g| THROTTLING_CODES.contains(&g.error_code.as_str()))
        .count();
    Ok(Run {
        wall,
        cpu,
        calls: outcome.calls,
        retries: outcome.retries,
        call_counts: outcome.call_counts,
        accounts: outcome.accounts_crawled,
        gaps_by_api,
        throttling_gaps,
    })
}

fn report(label: &str, r: &Run, regions: usize) {
    let secs = r.wall.as_secs_f64();
    let account_regions = (r.accounts * regions).max(1);
    println!(
        "{label:<16} wall {secs:>8.2} s   calls {:>6}   {:>7.1} calls/s   {:>5.2} calls per account-region ({} accounts × {} regions)",
        r.calls,
        r.calls as f64 / secs,
        r.calls as f64 / account_regions as f64,
        r.accounts,
        regions
    );
    let busy = |cpu: Option<f64>| {
        cpu.map_or_else(
            || "not measured".to_string(),
            |c| format!("{c:.2} s CPU ({:.0} % of one core)", 100.0 * c / secs),
        )
    };
    println!("{:<16} moto {}   crawler {}", "", busy(r.cpu.moto), busy(r.cpu.crawler));
    let gaps: Vec<String> = r.gaps_by_api.iter().map(|(api, n)| format!("{api} ×{n}")).collect();
    println!(
        "{:<16} gaps: {} (of which throttling errors: {})",
        "",
        if gaps.is_empty() {
            "none".to_string()
        } else {
            gaps.join(", ")
        },
        r.throttling_gaps
    );
}

/// Crawls the whole organization at `--concurrency` and sequentially and prints the figures.
async fn measure(connector: &Connector, moto: &Moto, args: &Args, label: &str) -> Result<()> {
    let concurrent = run(connector, moto, args, None, args.concurrency).await?;
    let sequential = run(connector, moto, args, None, 1).await?;
    let regions = args.regions.len();
    println!();
    println!("{label}:");
    report(&format!("concurrency {}", args.concurrency), &concurrent, regions);
    report("concurrency 1", &sequential, regions);
    let latency = sequential.wall.as_secs_f64() / sequential.calls.max(1) as f64;
    let ideal = concurrent.calls as f64 * latency / args.concurrency as f64;
    let measured = concurrent.wall.as_secs_f64();
    println!("per-call latency (sequential wall / calls): {:.2} ms", latency * 1000.0);
    println!(
        "ideal concurrent wall (calls × latency / {}): {ideal:.2} s   measured: {measured:.2} s   ({:.1}× the ideal; speed-up over sequential {:.1}×)",
        args.concurrency,
        measured / ideal.max(f64::MIN_POSITIVE),
        sequential.wall.as_secs_f64() / measured.max(f64::MIN_POSITIVE)
    );
    if let Some(cpu) = concurrent.cpu.moto {
        println!(
            "moto's own CPU time bounds the concurrent wall from below: {cpu:.2} s (measured is {:.2}× that)",
            measured / cpu.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

/// A loopback TCP proxy in front of `target` (`http://host:port`) that holds every chunk the
/// client sends for `delay` before passing it on, so each request takes that much longer, as
/// over a network to AWS, while moto's own work stays the same. Returns the proxy's URL.
fn start_delay_proxy(target: &str, delay: Duration) -> Result<String> {
    let target: SocketAddr = target
        .trim_start_matches("http://")
        .parse()
        .with_context(|| format!("`{target}` is not host:port"))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(target) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            std::thread::spawn(move || pump(client_reader, server, delay));
            std::thread::spawn(move || pump(server_reader, client, Duration::ZERO));
        }
    });
    Ok(url)
}

/// Copies `from` to `to`, sleeping `delay` before passing on each chunk.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if buf.get(..n).is_none_or(|chunk| to.write_all(chunk).is_err()) {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// What the fault proxy does to each request.
#[derive(Debug, Clone, Copy)]
struct Faults {
    latency: Duration,
    /// Percentage of requests answered with the service's throttling error.
    throttle_pct: u32,
    /// Answer the service's throttling error above its published rate per (service, access
    /// key, region) — an access key stands for an account: every assumed-role session has its
    /// own.
    enforce_limits: bool,
}

/// A token bucket of one (service, access key, region): up to one second's worth of requests.
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The fault proxy's counters and buckets.
#[derive(Default)]
struct ProxyState {
    buckets: Mutex<HashMap<(String, String, String), Bucket>>,
    draws: AtomicU64,
    injected: AtomicU64,
    over_limit: AtomicU64,
}

impl ProxyState {
    /// A uniform draw in 0..100 (splitmix64 of a counter; reproducible run to run).
    fn percent(&self) -> u32 {
        let mut z = self
            .draws
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % 100) as u32
    }

    /// Takes a token of the request's bucket; false when the published rate is exceeded.
    fn within_limit(&self, key: &(String, String, String)) -> bool {
        let Some(rate) = limits::published_rate(&key.0) else {
            return true;
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        let b = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: rate,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(rate);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The service, access key and region of a SigV4-signed request (from `Credential=` in its
/// `Authorization` header).
fn signing_scope(head: &str) -> Option<(String, String, String)> {
    let credential = head.split("Credential=").nth(1)?;
    let mut parts = credential.split(['/', ',', ' ']);
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some((service, key, region))
}

/// The service's own throttling error, as AWS sends it (status, content type, extra header,
/// body), for the services whose protocol and code are known; `None` for the others, which are
/// not throttled by the proxy. Codes: Organizations
/// <https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html#API_ListAccounts_Errors>,
/// Lambda <https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html#API_ListFunctions_Errors>,
/// EventBridge and the common `Throttling` of query APIs
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/CommonErrors.html>.
fn throttling_response(service: &str) -> Option<String> {
    let json = |code: &str| {
        (
            400,
            "application/x-amz-json-1.1",
            String::new(),
            format!(r#"{{"__type":"{code}","message":"Rate exceeded"}}"#),
        )
    };
    let xml = || {
        (
            400,
            "text/xml",
            String::new(),
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench</RequestId></ErrorResponse>".to_string(),
        )
    };
    let (status, content_type, extra, body) = match service {
        "organizations" => json("TooManyRequestsException"),
        "events" => json("ThrottlingException"),
        "tagging" => json("ThrottledException"),
        "iam" | "sts" => xml(),
        "lambda" => (
            429,
            "application/json",
            "x-amzn-ErrorType: TooManyRequestsException\r\nRetry-After: 1\r\n".to_string(),
            r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#.to_string(),
        ),
        _ => return None,
    };
    let reason = if status == 429 {
        "Too Many Requests"
    } else {
        "Bad Request"
    };
    Some(format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{extra}x-amzn-RequestId: bench\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// Reads one HTTP/1.1 request (head and a `Content-Length` or chunked body); `None` at the end
/// of the connection.
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(chunk.get(..n)?);
    };
    let head = String::from_utf8_lossy(buf.get(..head_end)?).to_string();
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = lower.contains("transfer-encoding: chunked");
    loop {
        let body = buf.get(head_end..).unwrap_or_default();
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => true,
        };
        if done {
            break;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(chunk.get(..n)?);
    }
    Some((head, buf))
}

/// Sends `request` to `target` on a new connection marked `Connection: close` and returns the
/// whole response, marked `Connection: close` too (the client then opens a new connection).
fn forward(target: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let line_end = request.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut upstream = TcpStream::connect(target).ok()?;
    upstream.write_all(request.get(..line_end)?).ok()?;
    upstream.write_all(b"Connection: close\r\n").ok()?;
    upstream.write_all(request.get(line_end..)?).ok()?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response).ok()?;
    let status_end = response.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut marked = response.get(..status_end)?.to_vec();
    marked.extend_from_slice(b"Connection: close\r\n");
    marked.extend_from_slice(response.get(status_end..)?);
    Some(marked)
}

/// A loopback HTTP proxy in front of moto that delays every request by `faults.latency` and
/// answers some with the service's real throttling error: `faults.throttle_pct` % at random,
/// and (with `faults.enforce_limits`) every request above the service's published rate.
fn start_fault_proxy(target: &str, faults: Faults) -> Result<(String, Arc<ProxyState>)> {
    let target: SocketAddr = target
        .trim_start_matches("http://")
        .parse()
        .with_context(|| format!("`{target}` is not host:port"))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = Arc::new(ProxyState::default());
    let shared = state.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let state = shared.clone();
            std::thread::spawn(move || serve(client, target, faults, &state));
        }
    });
    Ok((url, state))
}

/// One client connection of the fault proxy.
fn serve(mut client: TcpStream, target: SocketAddr, faults: Faults, state: &ProxyState) {
    let _ = client.set_nodelay(true);
    while let Some((head, request)) = read_request(&mut client) {
        if !faults.latency.is_zero() {
            std::thread::sleep(faults.latency);
        }
        let scope = signing_scope(&head);
        let throttle = scope.as_ref().and_then(|(service, _, _)| throttling_response(service));
        if let (Some(scope), Some(response)) = (&scope, &throttle) {
            let injected = faults.throttle_pct > 0 && state.percent() < faults.throttle_pct;
            let over = faults.enforce_limits && !state.within_limit(scope);
            if injected || over {
                let counter = if over { &state.over_limit } else { &state.injected };
                counter.fetch_add(1, Ordering::Relaxed);
                if client.write_all(response.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
        }
        if let Some(response) = forward(target, &request) {
            let _ = client.write_all(&response);
        }
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
}

/// The shortest time the published limits allow for a crawl's calls: the busiest
/// (service, account, region) bucket's calls divided by its published rate.
fn limit_bound(counts: &topoguard::crawl::CallCounts) -> (f64, String) {
    let mut buckets: BTreeMap<(&str, Option<&str>, Option<&str>), u64> = BTreeMap::new();
    for ((account, region, api), n) in counts {
        let service = limits::service(*api);
        if limits::published_rate(service).is_some() {
            *buckets
                .entry((service, account.as_deref(), region.as_deref()))
                .or_insert(0) += n;
        }
    }
    buckets
        .iter()
        .filter_map(|((service, account, region), n)| {
            let rate = limits::published_rate(service)?;
            Some((
                *n as f64 / rate,
                format!(
                    "{service} {}/{}: {n} calls / {rate} per s",
                    account.unwrap_or("org"),
                    region.unwrap_or("-")
                ),
            ))
        })
        .fold((0.0, String::new()), |best, b| if b.0 > best.0 { b } else { best })
}

/// One crawl through a fault proxy, printed with the proxy's counters.
async fn fault_run(moto: &Moto, args: &Args, label: &str, faults: Faults) -> Result<Run> {
    let (url, state) = start_fault_proxy(&moto.url, faults)?;
    let connector = Connector::new(config(&url).await);
    let r = run(&connector, moto, args, None, args.concurrency).await?;
    report(label, &r, args.regions.len());
    println!(
        "{:<16} retries {}   throttling errors sent: {} at random, {} above the published rates",
        "",
        r.retries,
        state.injected.load(Ordering::Relaxed),
        state.over_limit.load(Ordering::Relaxed)
    );
    Ok(r)
}

/// Fault-free, throttled and rate-limited crawls through the fault proxy.
async fn measure_faults(moto: &Moto, args: &Args) -> Result<()> {
    let pct = args.throttle_pct.unwrap_or(20);
    println!();
    println!(
        "through the fault proxy ({} ms per request, concurrency {}):",
        args.latency.as_millis(),
        args.concurrency
    );
    let clean = Faults {
        latency: args.latency,
        throttle_pct: 0,
        enforce_limits: false,
    };
    if !args.limits_only {
        let base = fault_run(moto, args, "fault-free", clean).await?;
        let throttled = Faults {
            throttle_pct: pct,
            ..clean
        };
        let t = fault_run(moto, args, &format!("{pct} % throttled"), throttled).await?;
        println!(
            "{pct} % throttled / fault-free: {:.2}× (target ≤ 3×)",
            t.wall.as_secs_f64() / base.wall.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
    let limited = Faults {
        enforce_limits: true,
        ..clean
    };
    let l = fault_run(moto, args, "published limits", limited).await?;
    let (bound, busiest) = limit_bound(&l.call_counts);
    let share = args.rate_share as f64 / 100.0;
    println!(
        "published limits: bound {bound:.2} s ({busiest}), measured {:.2} s = {:.2}× the bound (target ≤ 1.2×); \
         the crawler's own pace ({}% of each published rate) alone makes {:.2} s = {:.2}×",
        l.wall.as_secs_f64(),
        l.wall.as_secs_f64() / bound.max(f64::MIN_POSITIVE),
        args.rate_share,
        bound / share,
        1.0 / share
    );
    println!(
        "published limits: throttling errors surfacing as gaps: {}",
        l.throttling_gaps
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let venv = std::env::var_os("TOPOGUARD_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let moto = Moto::start(&venv)?;
    println!("moto_server at {}", moto.url);

    let started = Instant::now();
    let seeded = seed(&venv, &moto.url, &args)?;
    let members: Vec<String> = seeded
        .get("accounts")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    println!(
        "seeded {} member accounts × {} regions (scripts/moto_seed.py --light) in {:.1} s",
        members.len(),
        args.regions.len(),
        started.elapsed().as_secs_f64()
    );

    let connector = Connector::new(config(&moto.url).await);
    // The last member: the first one holds `--functions-in-one`'s functions, whose crawl alone
    // takes minutes at the published Lambda rate.
    let warm = members.last().map(|m| vec![m.clone()]);
    let warmup = run(&connector, &moto, &args, warm, args.concurrency).await?;
    println!(
        "warm-up (1 account): {:.2} s, {} calls",
        warmup.wall.as_secs_f64(),
        warmup.calls
    );

    if args.faults_only || args.limits_only {
        measure_faults(&moto, &args).await?;
        drop(moto);
        return Ok(());
    }
    measure(&connector, &moto, &args, "moto directly").await?;
    let proxy = start_delay_proxy(&moto.url, args.latency)?;
    let delayed = Connector::new(config(&proxy).await);
    let label = format!("moto + {} ms per request", args.latency.as_millis());
    measure(&delayed, &moto, &args, &label).await?;
    if args.throttle_pct.is_some() {
        measure_faults(&moto, &args).await?;
    }
    drop(moto);
    Ok(())
}
