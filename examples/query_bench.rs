//! Benchmark of the incident questions (issue 10): `can`, `who-can`, `impact` and `path` on the
//! bench organization, after the snapshot is loaded and the graph built.
//!
//! The organization is the one `examples/bench.rs` generates (its generator is compiled in as a
//! module: same plan, same snapshot, same config): by default 1,000 accounts × 6 regions × 50
//! functions; to it are added, per account, a `responder` role and an `incident-admin` role that
//! any responder of the organization may assume (so that access questions have cross-account
//! chains to follow), and `FullAWSAccess` at the root (see [`add_incident_roles`]). The parent process generates it and writes the snapshot to a temporary file; a
//! fresh child process then measures, so that its peak memory is that of the questions alone:
//! read + `parse_snapshot` (load), `parse_config`, `Topology::build` (graph), the role
//! reachability the access questions share (computed on first use), then each question once:
//! `can` (the execution role of a function that uses a shared table and whose own policies
//! allow `dynamodb:GetItem` on it, that action on it), `who-can` (`dynamodb:PutItem` on the table, without and with a `--context` value, which
//! decides every assumption of every chain again), `impact` of the table and of one region, `path` from a
//! function to the table and from the function's execution role to the table (a `can-access`
//! hop). Each line shows the
//! time, `VmRSS` after it and the answer's size; the run ends with the peak (`VmHWM`).
//!
//! Targets (issue 10): `can` and `impact` under 1 s and `who-can` on a shared table under 5 s
//! after load, on 1,000 accounts, in a release build:
//!
//! ```text
//! cargo run --release --example query_bench -- [--accounts N] [--regions N] [--functions N] [--keep PATH]
//! ```

#[allow(
    dead_code,
    reason = "the generator of the checks' bench is reused; its own main and measurement are not"
)]
#[path = "bench.rs"]
mod bench;

use serde_json::{Value, json};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use topoguard::checks::known_ids;
use topoguard::config::parse_config;
use topoguard::graph::Topology;
use topoguard::model::{
    InlinePolicy, OrganizationPolicy, OrganizationPolicyKind, PolicyDocument, Role, Snapshot, Tags, parse_snapshot,
};
use topoguard::query::context::Context;
use topoguard::query::impact::{Scope, impact};
use topoguard::query::path::{PathQuery, path};
use topoguard::query::{can::can, who_can::who_can};

type Res<T> = Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: query_bench [--accounts N] [--regions N (1-6)] [--functions N] [--keep PATH]";

struct Args {
    accounts: usize,
    regions: usize,
    functions: usize,
    keep: Option<PathBuf>,
    /// Internal: measure this snapshot file (the child process).
    measure: Option<PathBuf>,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        accounts: 1000,
        regions: 6,
        functions: 50,
        keep: None,
        measure: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--accounts" => args.accounts = number()?,
            "--regions" => args.regions = number()?,
            "--functions" => args.functions = number()?,
            "--keep" => args.keep = Some(PathBuf::from(value)),
            "--measure" => args.measure = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}").into()),
        }
    }
    if args.accounts == 0 || args.regions == 0 || args.regions > 6 {
        return Err(format!("--accounts must be at least 1 and --regions between 1 and 6\n{USAGE}").into());
    }
    Ok(args)
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`) in MiB, or `unknown` off Linux.
fn mem(key: &str) -> String {
    let mib = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    });
    mib.map_or_else(|| "unknown".to_string(), |m| format!("{m:.0} MiB"))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn row(phase: &str, time: Duration, note: &str) {
    println!(
        "{phase:<26} {:>10}   {:>10}   {note}",
        format!("{:.3} s", time.as_secs_f64()),
        mem("VmRSS")
    );
}

/// A role of `account` with one trust statement and one inline policy statement.
fn role(account: &str, name: &str, trust: Value, allow: Value) -> Role {
    let doc = |st: Value| -> PolicyDocument { json!({"Version": "2012-10-17", "Statement": [st]}).into() };
    Role {
        arn: format!("arn:aws:iam::{account}:role/{name}"),
        account: account.to_string(),
        name: name.to_string(),
        tags: Tags::new(),
        trust_policy: doc(trust),
        inline_policies: vec![InlinePolicy {
            name: name.to_string(),
            document: doc(allow),
        }],
        attached_policies: Vec::new(),
        permission_boundary: None,
    }
}

/// Incident access across accounts, so that `who-can` and `path` have chains to follow: in every
/// account a `responder` role (trusting the account root) that may assume any `incident-admin`
/// role, and an `incident-admin` role that may do anything and trusts any `responder` of the
/// organization (`"AWS": "*"` pinned by `aws:PrincipalOrgID` and `aws:PrincipalArn`).
///
/// The generated organization attaches only a Deny SCP at its root, which leaves every request
/// of a member account implicitly denied; AWS attaches `FullAWSAccess` to every root, OU and
/// account by default, so it is attached here at the root (the lower levels have no recorded
/// attachments, where the policy store assumes `FullAWSAccess`).
fn add_incident_roles(s: &mut Snapshot) {
    let org = s.organization.id.clone().unwrap_or_default();
    if let Some(root) = s
        .organization
        .units
        .iter()
        .find(|u| u.parent.is_none())
        .map(|u| u.id.clone())
    {
        s.organization.policies.push(OrganizationPolicy {
            id: "p-FullAWSAccess".to_string(),
            arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess".to_string(),
            name: "FullAWSAccess".to_string(),
            kind: OrganizationPolicyKind::ServiceControlPolicy,
            document:
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
                    .into(),
            targets: vec![root],
        });
    }
    let accounts: Vec<String> = s.organization.accounts.iter().map(|a| a.id.clone()).collect();
    for a in accounts {
        s.roles.push(role(
            &a,
            "responder",
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{a}:root")}, "Action": "sts:AssumeRole"}),
            json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/incident-admin"}),
        ));
        s.roles.push(role(
            &a,
            "incident-admin",
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                   "Condition": {"StringEquals": {"aws:PrincipalOrgID": org},
                                 "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/responder"}}}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ));
    }
}

/// The child: load, build, ask, print.
fn measure(args: &Args, file: &Path) -> Res<()> {
    let plan = bench::Plan::new(args.accounts, args.regions, args.functions, 0);
    let ((snapshot, load), config_text) = (
        timed(|| -> Res<_> {
            let text = std::fs::read_to_string(file)?;
            Ok(parse_snapshot(&text, file)?)
        }),
        bench::config_text(&plan)?,
    );
    let snapshot = snapshot?;
    row("load (read + parse)", load, &format!("{} roles", snapshot.roles.len()));
    let (config, config_t) = timed(|| parse_config(&config_text, Path::new(bench::CONFIG_PATH), &known_ids()));
    let config = config?;
    row("config", config_t, "");
    let (t, graph) = timed(|| Topology::build(&snapshot, &config));
    row("graph", graph, &format!("{} nodes", t.graph.node_count()));
    let (_, reach) = timed(|| t.iam().reach.assumers("").len());
    row(
        "role reachability",
        reach,
        "shared by can / who-can / path; once per process",
    );

    let (catalog, catalog_t) = timed(topoguard::iam::catalog::Catalog::get);
    row(
        "action catalog",
        catalog_t,
        &format!("{} services; loaded once per process", catalog?.services().len()),
    );

    let Some(table) = t
        .nodes()
        .find(|(ix, n)| n.id.contains(":table/") && t.is_shared(*ix))
        .map(|(_, n)| n.id.to_string())
    else {
        println!("no shared table in this organization: choose more accounts");
        return Ok(());
    };
    let (answer, impact_t) = timed(|| impact(&t, Scope::Resource(&table)));
    let answer = answer?;
    row(
        "impact (shared table)",
        impact_t,
        &format!(
            "{} resources, {} applications",
            answer.resources.len(),
            answer.applications.len()
        ),
    );
    // The sample: a function of the table's account that uses the table and whose execution
    // role's own policies allow `dynamodb:GetItem` on it. Not every function that uses the
    // table may read it: of the table account's functions only a third have the `Table`
    // statement, and a function of another account whose role allows the action is still
    // denied, since the table has no resource policy and across accounts both must allow.
    // Else any function that uses it, else any role.
    let role_of = |f: &str| snapshot.functions.iter().find(|x| x.arn == f).map(|x| x.role.clone());
    let names_table = |role: &str| {
        t.policies.identity_policies(role).is_some_and(|policies| {
            policies.iter().any(|p| {
                p.policy.statements.iter().any(|st| {
                    st.effect == topoguard::iam::Effect::Allow
                        && st.allows_action("dynamodb:GetItem")
                        && st.resources().iter().any(|r| topoguard::arn::glob_match(r, &table))
                })
            })
        })
    };
    let functions: Vec<&str> = answer
        .resources
        .iter()
        .filter(|r| r.kind == "lambda-function")
        .map(|r| r.id.as_str())
        .collect();
    let table_account = t
        .node(t.find(&table).ok_or("table not in the graph")?)
        .account
        .unwrap_or_default();
    let function = functions
        .iter()
        .find(|f| role_of(f).is_some_and(|r| r.contains(&format!("::{table_account}:")) && names_table(&r)))
        .or(functions.first())
        .map(|f| f.to_string());
    let role = function
        .as_deref()
        .and_then(role_of)
        .or_else(|| snapshot.roles.first().map(|r| r.arn.clone()))
        .ok_or("no role in this organization")?;
    let region = t
        .node(t.find(&table).ok_or("table not in the graph")?)
        .region
        .unwrap_or("eu-west-1");
    let (r, region_t) = timed(|| impact(&t, Scope::Region(region)));
    row(
        &format!("impact (region {region})"),
        region_t,
        &format!("{} resources", r?.resources.len()),
    );
    let none = Context::default();
    let (c, can_t) = timed(|| can(&t, &role, "dynamodb:GetItem", Some(&table), &none));
    row("can", can_t, &format!("{} ({role})", c?.decision.as_str()));
    let (w, who_t) = timed(|| who_can(&t, "dynamodb:PutItem", &table, &none, None));
    row("who-can", who_t, &format!("{} principals", w?.principals.len()));
    // With --context every assumption of every chain is decided again as its own request.
    let mfa = Context::parse(&["aws:MultiFactorAuthPresent=true".to_string()])?;
    let (w, who_ctx_t) = timed(|| who_can(&t, "dynamodb:PutItem", &table, &mfa, None));
    row(
        "who-can --context",
        who_ctx_t,
        &format!("{} principals (aws:MultiFactorAuthPresent=true)", w?.principals.len()),
    );
    let q = PathQuery {
        action: None,
        context: &none,
    };
    if let Some(f) = &function {
        let (p, path_t) = timed(|| path(&t, f, &table, q));
        let p = p?;
        let hops = p.paths.first().map_or(0, Vec::len);
        row(
            "path (function → table)",
            path_t,
            &format!("{} path(s), {hops} hops", p.paths.len()),
        );
    }
    let (p, access_t) = timed(|| path(&t, &role, &table, q));
    let p = p?;
    let hops = p.paths.first().map_or(0, Vec::len);
    row(
        "path (role → table)",
        access_t,
        &format!("{} path(s), {hops} hops", p.paths.len()),
    );
    // A responder of another account reaches the table through the table account's incident-admin.
    let admin = format!("arn:aws:iam::{table_account}:role/incident-admin");
    let (c, admin_t) = timed(|| can(&t, &admin, "dynamodb:PutItem", Some(&table), &none));
    let c = c?;
    let why = c
        .deciding
        .as_ref()
        .map(|d| format!(": {} {}", d.layer, d.detail))
        .unwrap_or_default();
    row(
        "can (incident-admin)",
        admin_t,
        &format!("{}{why}", c.decision.as_str()),
    );
    if let Some(other) = snapshot.organization.accounts.iter().find(|a| a.id != table_account) {
        let responder = format!("arn:aws:iam::{}:role/responder", other.id);
        let (p, chain_t) = timed(|| path(&t, &responder, &table, q));
        let p = p?;
        let hops = p.paths.first().map_or(0, Vec::len);
        row(
            "path (responder → table)",
            chain_t,
            &format!("{} path(s), {hops} hops", p.paths.len()),
        );
    }
    println!("{:<26} {:>10}   {:>10}   measuring process", "peak", "", mem("VmHWM"));
    println!(
        "targets: can {:.3}/1 s | impact {:.3}/1 s | who-can {:.3}/5 s (after load {:.3} s, graph {:.3} s, reachability {:.3} s)",
        can_t.as_secs_f64(),
        impact_t.as_secs_f64(),
        who_t.as_secs_f64(),
        load.as_secs_f64(),
        graph.as_secs_f64(),
        reach.as_secs_f64()
    );
    Ok(())
}

fn main() -> Res<()> {
    let args = parse_args()?;
    if let Some(p) = &args.measure {
        return measure(&args, p);
    }
    let plan = bench::Plan::new(args.accounts, args.regions, args.functions, 0);
    println!(
        "topoguard query bench: {} accounts x {} regions x {} functions",
        args.accounts, args.regions, args.functions
    );
    let (snapshot, gen_t) = timed(|| {
        let mut s = bench::generate(&plan);
        add_incident_roles(&mut s);
        s
    });
    let text = serde_json::to_string(&snapshot)?;
    drop(snapshot);
    let dir = tempfile::tempdir()?;
    let file = args.keep.clone().unwrap_or_else(|| dir.path().join("snapshot.json"));
    std::fs::write(&file, &text)?;
    println!(
        "generated in {:.3} s: {:.1} MB at {}",
        gen_t.as_secs_f64(),
        text.len() as f64 / 1e6,
        file.display()
    );
    drop(text);
    println!("-- measured in a fresh process --");
    println!("{:<26} {:>10}   {:>10}   note", "phase", "time", "VmRSS after");
    bench::measure_in_child(
        &[
            "--accounts".to_string(),
            args.accounts.to_string(),
            "--regions".to_string(),
            args.regions.to_string(),
            "--functions".to_string(),
            args.functions.to_string(),
        ],
        &file,
    )
}
