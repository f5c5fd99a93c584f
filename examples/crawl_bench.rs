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
//!     [--accounts N] [--regions r1,r2] [--concurrency N] [--latency-ms N]
//! ```
//!
//! moto is killed when the program ends (also on an error); the seeding and every crawl are
//! bounded in time.

use anyhow::{Context, Result, bail};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use topoguard::crawl::{self, Connector, CrawlOptions, ProgressMode};

/// Seeding gives up after this long.
const SEED_TIMEOUT: Duration = Duration::from_secs(900);
/// One crawl gives up after this long.
const CRAWL_TIMEOUT: Duration = Duration::from_secs(900);

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
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        accounts: 50,
        regions: vec!["eu-west-1".to_string(), "eu-central-1".to_string()],
        concurrency: 16,
        latency: Duration::from_millis(20),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("`{a}` needs a value"))?;
        match a.as_str() {
            "--accounts" => args.accounts = v.parse()?,
            "--regions" => args.regions = v.split(',').map(str::to_string).collect(),
            "--concurrency" => args.concurrency = v.parse()?,
            "--latency-ms" => args.latency = Duration::from_millis(v.parse()?),
            _ => bail!("unknown argument `{a}`"),
        }
    }
    if args.accounts == 0 || args.concurrency == 0 || args.regions.is_empty() {
        bail!("--accounts, --concurrency and --regions must not be zero or empty");
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
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(30))
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
    accounts: usize,
    gaps_by_api: BTreeMap<String, usize>,
}

async fn run(
    connector: &Connector,
    moto: &Moto,
    regions: &[String],
    accounts: Option<Vec<String>>,
    concurrency: usize,
) -> Result<Run> {
    let ticks = ticks_per_second();
    let moto_pid = moto.child.id().to_string();
    let cpu_before = (cpu_seconds(&moto_pid, ticks), cpu_seconds("self", ticks));
    let options = CrawlOptions {
        regions: regions.to_vec(),
        accounts,
        concurrency,
        progress: ProgressMode::Quiet,
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
    Ok(Run {
        wall,
        cpu,
        calls: outcome.calls,
        accounts: outcome.accounts_crawled,
        gaps_by_api,
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
        "{:<16} gaps: {}",
        "",
        if gaps.is_empty() {
            "none".to_string()
        } else {
            gaps.join(", ")
        }
    );
}

/// Crawls the whole organization at `--concurrency` and sequentially and prints the figures.
async fn measure(connector: &Connector, moto: &Moto, args: &Args, label: &str) -> Result<()> {
    let concurrent = run(connector, moto, &args.regions, None, args.concurrency).await?;
    let sequential = run(connector, moto, &args.regions, None, 1).await?;
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
    let warm = members.first().map(|m| vec![m.clone()]);
    let warmup = run(&connector, &moto, &args.regions, warm, args.concurrency).await?;
    println!(
        "warm-up (1 account): {:.2} s, {} calls",
        warmup.wall.as_secs_f64(),
        warmup.calls
    );

    measure(&connector, &moto, &args, "moto directly").await?;
    let proxy = start_delay_proxy(&moto.url, args.latency)?;
    let delayed = Connector::new(config(&proxy).await);
    let label = format!("moto + {} ms per request", args.latency.as_millis());
    measure(&delayed, &moto, &args, &label).await?;
    drop(moto);
    Ok(())
}
