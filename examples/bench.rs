//! Performance benchmark of the offline pipeline: snapshot parse (with validation), graph build
//! and checks, on a synthetic organization.
//!
//! The program generates a deterministic organization (no randomness) as typed
//! [`topoguard::model::Snapshot`] structs — by default 1,000 accounts × 6 regions × 50 functions,
//! about 300,000 functions with as many execution roles — together with the guardrail config that
//! describes it (20 applications `app-00`…`app-19`, 5% shared-dependency accounts, zones `eu`,
//! `us` and `apac`, one Agent Space per application). It serializes the snapshot to compact JSON
//! and writes it to a file, then measures, in a fresh child process so that peak memory is that
//! of the pipeline alone, what `topoguard check` does with it: read, `parse_snapshot`,
//! `Topology::build` and `run_checks`, followed by a per-check breakdown.
//!
//! The target (from the issue): the checks together take no longer than parsing the snapshot.
//!
//! Run it in release mode:
//!
//! ```text
//! cargo run --release --example bench -- [--accounts N] [--regions N] [--functions N]
//!                                        [--gaps N] [--keep PATH] [--snapshot PATH] [--diagnose]
//! ```
//!
//! `--scenario org-trust` adds, per account, one role trusting `"AWS": "*"` pinned by
//! `aws:PrincipalOrgID` plus two admin roles trusting the account root; `--scenario root-trust`
//! adds `--roles N` (default 4,000) admin roles trusting their account root, spread round-robin
//! over the accounts. Both default to `--functions 0` unless it is given, so the IAM shapes
//! dominate.
//!
//! The reference is a plain `serde_json::from_slice::<serde_json::Value>` of the same bytes,
//! timed in a process of its own (so that its memory does not count in the pipeline's peak).
//! The run ends with `ratios: load L total T peak P`: L is the load (`parse_snapshot`: parse,
//! validate, index) relative to the reference, T is load + graph build + all checks relative to
//! the reference, and P is the measuring process's peak resident memory (`VmHWM` from
//! `/proc/self/status`, read right after the checks, so the binary and the action catalog are
//! included) relative to the file size. Targets (issue 13): L <= 1.5, T <= 3, P <= 3.
//!
//! `--regions` takes the first N of eu-west-1, us-east-1, ap-southeast-1, eu-central-1,
//! us-west-2, ap-northeast-1 (at most 6). `--gaps N` adds N coverage gaps (default 0), which
//! makes the engine compute "not proven" results. `--keep PATH` keeps the generated snapshot at
//! PATH; `--snapshot PATH` skips generation and measures an existing snapshot (one kept earlier
//! with the same sizes, since the config is generated from them). `--diagnose` adds, after the
//! measured run, how parse time splits between deserialization and validation and what one pass
//! of `Policy::from_value` over the role policies costs. `--keep-config PATH` writes the
//! generated guardrail config, and `--generate-only` stops after writing the snapshot, so that
//! `topoguard` itself can be run on the bench organization (e.g. to draw its largest
//! application).
//!
//! After the checks it also times rendering the findings as JSON and as SARIF (SARIF builds a
//! location index of the snapshot text in one pass; the target is SARIF <= 1.2x JSON), each the
//! best of three runs into a buffered sink.
//!
//! Before `run_checks` it builds, each timed on its own, what the checks compute on first use
//! and then share: the IAM action catalog, the condition-key table, role reachability,
//! application footprints and incident roles. Their sum is counted in the checks' time (and the
//! ratios), so the fixed cost outside the checks themselves is visible, not hidden.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use topoguard::checks::{REGISTRY, Status, known_ids, run_checks};
use topoguard::config::parse_config;
use topoguard::graph::Topology;
use topoguard::iam::Policy;
use topoguard::model::{
    Account, AgentSpace, AgentSpaceAssociation, CoverageGap, EventBus, EventSourceMapping, Function, InlinePolicy,
    ManagedPolicy, Organization, OrganizationPolicy, OrganizationPolicyKind, OrganizationalUnit, Resource,
    ResourceKind, Role, Rule, RuleState, SCHEMA_VERSION, Snapshot, Tags, Target, parse_snapshot,
};
use topoguard::testkit::{bus_arn, inline, policy, queue_arn, queue_url, service_trust as trust, space_arn, tags};

type Res<T> = Result<T, Box<dyn Error>>;

/// Regions in an order that alternates zones, so that any prefix spans as many zones as it can.
const REGIONS: [(&str, &str); 6] = [
    ("eu-west-1", "eu"),
    ("us-east-1", "us"),
    ("ap-southeast-1", "apac"),
    ("eu-central-1", "eu"),
    ("us-west-2", "us"),
    ("ap-northeast-1", "apac"),
];
const ZONES: [&str; 3] = ["eu", "us", "apac"];
const APPS: usize = 20;
const ORG_ID: &str = "o-bench000000";
const LAMBDA_BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
pub(crate) const CONFIG_PATH: &str = "policies/topoguard.toml";

// ---------------------------------------------------------------------------------------------
// Arguments

struct Args {
    accounts: usize,
    regions: usize,
    functions: usize,
    gaps: usize,
    keep: Option<PathBuf>,
    snapshot: Option<PathBuf>,
    /// Internal: measure this snapshot file (the child process).
    measure: Option<PathBuf>,
    /// Internal: time the reference parse of this file (a grandchild process).
    reference: Option<PathBuf>,
    /// Also print where parse time goes.
    diagnose: bool,
    /// `default`, `org-trust` or `root-trust`.
    scenario: String,
    /// Admin roles of the `root-trust` scenario.
    roles: usize,
    /// Instead of the checks, generate the roles of the largest application (see [`roles_phase`]).
    app_roles: bool,
    /// With `--app-roles`: also write those roles to this (new or empty) directory, `iam/` and
    /// `cloudformation/`, for parliament and cfn-lint.
    keep_roles: Option<PathBuf>,
    /// Write the generated guardrail config here (for running `topoguard` on a kept snapshot).
    keep_config: Option<PathBuf>,
    /// Generate (and keep) only; skip the measured run.
    generate_only: bool,
}

const USAGE: &str = "usage: bench [--scenario default|org-trust|root-trust] [--accounts N] [--roles N] [--regions N (1-6)] [--functions N] [--gaps N] [--keep PATH] [--snapshot PATH] [--diagnose] [--app-roles [--keep-roles DIR]] [--keep-config PATH] [--generate-only]";

fn parse_args() -> Res<Args> {
    let mut args = Args {
        accounts: 1000,
        regions: 6,
        functions: 50,
        gaps: 0,
        keep: None,
        snapshot: None,
        measure: None,
        reference: None,
        diagnose: false,
        scenario: "default".to_string(),
        roles: 4000,
        app_roles: false,
        keep_roles: None,
        keep_config: None,
        generate_only: false,
    };
    let mut functions_given = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if flag == "--diagnose" {
            args.diagnose = true;
            continue;
        }
        if flag == "--generate-only" {
            args.generate_only = true;
            continue;
        }
        if flag == "--app-roles" {
            args.app_roles = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--accounts" => args.accounts = number()?,
            "--regions" => args.regions = number()?,
            "--functions" => {
                args.functions = number()?;
                functions_given = true;
            }
            "--roles" => args.roles = number()?,
            "--scenario" => args.scenario = value.clone(),
            "--gaps" => args.gaps = number()?,
            "--keep" => args.keep = Some(PathBuf::from(value)),
            "--snapshot" => args.snapshot = Some(PathBuf::from(value)),
            "--measure" => args.measure = Some(PathBuf::from(value)),
            "--keep-roles" => args.keep_roles = Some(PathBuf::from(value)),
            "--reference" => args.reference = Some(PathBuf::from(value)),
            "--keep-config" => args.keep_config = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}").into()),
        }
    }
    if !matches!(args.scenario.as_str(), "default" | "org-trust" | "root-trust") {
        return Err(format!("unknown scenario `{}`\n{USAGE}", args.scenario).into());
    }
    if args.scenario != "default" && !functions_given {
        args.functions = 0;
    }
    if args.keep_roles.is_some() && !args.app_roles {
        return Err(format!("--keep-roles needs --app-roles\n{USAGE}").into());
    }
    if args.accounts == 0 || args.regions == 0 || args.regions > REGIONS.len() {
        return Err(format!("--accounts must be at least 1 and --regions between 1 and 6\n{USAGE}").into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------------
// The organization plan: which account is what. A pure function of the sizes, shared by the
// snapshot generator and the config generator.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Attributed to an application by the config's account list.
    App(usize),
    /// A shared-dependency account (index into `Plan::shared`).
    Shared(usize),
    /// In no application: its buses, rules and functions are unattributed.
    Sandbox,
}

pub(crate) struct Plan {
    ids: Vec<String>,
    kinds: Vec<Kind>,
    apps: usize,
    /// Account indexes per application.
    app_accounts: Vec<Vec<usize>>,
    /// Account indexes of the shared-dependency accounts.
    shared: Vec<usize>,
    regions: Vec<(&'static str, &'static str)>,
    functions: usize,
    gaps: usize,
}

fn app_name(a: usize) -> String {
    format!("app-{a:02}")
}

impl Plan {
    pub(crate) fn new(accounts: usize, regions: usize, functions: usize, gaps: usize) -> Plan {
        let mut kinds = Vec::with_capacity(accounts);
        let mut shared = Vec::new();
        let mut app_count = 0;
        for i in 0..accounts {
            if i % 20 == 19 {
                kinds.push(Kind::Shared(shared.len()));
                shared.push(i);
            } else if i % 500 == 57 {
                kinds.push(Kind::Sandbox);
            } else {
                kinds.push(Kind::App(app_count % APPS));
                app_count += 1;
            }
        }
        let apps = app_count.min(APPS);
        let mut app_accounts = vec![Vec::new(); apps];
        for (i, k) in kinds.iter().enumerate() {
            if let Kind::App(a) = k
                && let Some(list) = app_accounts.get_mut(*a)
            {
                list.push(i);
            }
        }
        Plan {
            ids: (0..accounts)
                .map(|i| format!("{:012}", 100_000_000_000u64 + i as u64))
                .collect(),
            kinds,
            apps,
            app_accounts,
            shared,
            regions: REGIONS.iter().copied().take(regions).collect(),
            functions,
            gaps,
        }
    }

    fn id(&self, i: usize) -> &str {
        self.ids.get(i).map_or("000000000000", String::as_str)
    }

    fn kind(&self, i: usize) -> Kind {
        self.kinds.get(i).copied().unwrap_or(Kind::Sandbox)
    }

    /// The shared-dependency accounts an application uses: two per application.
    fn shared_of(&self, app: usize, which: usize) -> Option<usize> {
        let n = self.shared.len();
        if n == 0 {
            return None;
        }
        let j = if which == 0 { app % n } else { (app * 7 + 3) % n };
        self.shared.get(j).copied()
    }

    fn shared_used_by(&self, app: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..2).filter_map(|w| self.shared_of(app, w)).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Applications that use a shared account.
    fn consumers(&self, account: usize) -> Vec<usize> {
        (0..self.apps)
            .filter(|a| self.shared_used_by(*a).contains(&account))
            .collect()
    }

    /// The application owning the buses, rules and functions of an account (by account list,
    /// or by tag in a shared account).
    fn owner(&self, i: usize) -> Option<usize> {
        match self.kind(i) {
            Kind::App(a) => Some(a),
            Kind::Shared(j) => self.consumers(i).first().copied().or(Some(j % self.apps.max(1))),
            Kind::Sandbox => None,
        }
        .filter(|a| *a < self.apps)
    }

    fn region(&self, ri: usize) -> (&'static str, &'static str) {
        self.regions
            .get(ri % self.regions.len().max(1))
            .copied()
            .unwrap_or(REGIONS[0])
    }

    /// The Agent Space of an application: name, primary account, region, associated accounts
    /// (primary excluded) and the accounts the config declares (primary included).
    fn space(&self, a: usize) -> Option<SpacePlan> {
        let accounts = self.app_accounts.get(a)?;
        let primary = *accounts.first()?;
        let (region, _) = self.region(a);
        let mut associated: Vec<usize> = accounts.iter().copied().skip(1).collect();
        associated.extend(self.shared_used_by(a));
        let mut declared: Vec<usize> = std::iter::once(primary).chain(associated.iter().copied()).collect();
        match a {
            // The second shared account is neither associated nor declared: an investigation gap.
            7 => {
                if let Some(s) = self.shared_of(a, 1) {
                    associated.retain(|x| *x != s);
                    declared.retain(|x| *x != s);
                }
            }
            // Declared in the config, but the association was never made in AWS.
            5 => {
                if let Some(last) = accounts.last().filter(|l| **l != primary) {
                    associated.retain(|x| x != last);
                }
            }
            // Associated with an account of another application: wider than its application.
            9 => {
                if let Some(&foreign) = self.app_accounts.get(10).and_then(|l| l.first()) {
                    associated.push(foreign);
                    declared.push(foreign);
                }
            }
            _ => {}
        }
        Some(SpacePlan {
            name: format!("{}-space", app_name(a)),
            primary,
            region,
            associated,
            declared,
        })
    }
}

struct SpacePlan {
    name: String,
    primary: usize,
    region: &'static str,
    associated: Vec<usize>,
    declared: Vec<usize>,
}

// ---------------------------------------------------------------------------------------------
// Config

fn quoted_accounts(plan: &Plan, accounts: impl IntoIterator<Item = usize>) -> String {
    let list: Vec<String> = accounts.into_iter().map(|i| format!("\"{}\"", plan.id(i))).collect();
    format!("[{}]", list.join(", "))
}

pub(crate) fn config_text(plan: &Plan) -> Res<String> {
    let mut t = String::new();
    writeln!(
        t,
        "# Generated by examples/bench.rs\n[attribution]\ntag_key = \"app\"\n"
    )?;
    writeln!(
        t,
        "[shared_dependencies]\naccounts = {}\nconsumer_tag_key = \"shared-with\"\n",
        quoted_accounts(plan, plan.shared.iter().copied())
    )?;
    for zone in ZONES {
        let regions: Vec<String> = REGIONS
            .iter()
            .filter(|(_, z)| *z == zone)
            .map(|(r, _)| format!("\"{r}\""))
            .collect();
        writeln!(t, "[zones.{zone}]\nregions = [{}]\n", regions.join(", "))?;
    }
    for a in 0..plan.apps {
        let accounts = plan.app_accounts.get(a).map_or(&[][..], Vec::as_slice);
        writeln!(
            t,
            "[applications.{}]\naccounts = {}\nzone = \"{}\"\nowner = \"team-{a:02}\"\n",
            app_name(a),
            quoted_accounts(plan, accounts.iter().copied()),
            ZONES.get(a % ZONES.len()).unwrap_or(&"eu")
        )?;
    }
    for a in 0..plan.apps {
        if let Some(space) = plan.space(a) {
            writeln!(
                t,
                "[agent_spaces.{}]\napplication = \"{}\"\naccounts = {}\n",
                space.name,
                app_name(a),
                quoted_accounts(plan, space.declared.iter().copied())
            )?;
        }
    }
    if let Some(sandbox) = (0..plan.ids.len()).find(|i| plan.kind(*i) == Kind::Sandbox) {
        writeln!(
            t,
            "[checks.application-resource-unattributed]\nignore = [{{ account = \"{}\", reason = \"sandbox account, torn down nightly\" }}]\n",
            plan.id(sandbox)
        )?;
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Snapshot generation

fn table_arn(region: &str, account: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/ledger")
}

fn function_arn(region: &str, account: &str, n: usize) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:fn-{n:03}")
}

fn bus_name(plan: &Plan, i: usize) -> &'static str {
    if matches!(plan.kind(i), Kind::Shared(_)) {
        "shared-events"
    } else {
        "app-events"
    }
}

/// An admin role trusting its account root, allowed everything.
fn admin_role(account: &str, name: &str) -> Role {
    topoguard::testkit::role(
        account,
        name,
        Tags::new(),
        topoguard::testkit::aws_trust(json!(topoguard::testkit::root_arn(account))),
        vec![inline(
            "admin",
            policy(vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})]),
        )],
    )
}

/// Adds the roles of `--scenario` to a generated organization.
fn add_scenario(args: &Args, plan: &Plan, s: &mut Snapshot) {
    match args.scenario.as_str() {
        "org-trust" => {
            for i in 0..plan.ids.len() {
                let account = plan.id(i);
                s.roles.push(Role {
                    arn: format!("arn:aws:iam::{account}:role/org-operator"),
                    account: account.to_string(),
                    name: "org-operator".to_string(),
                    tags: Tags::new(),
                    trust_policy: policy(vec![json!({
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
                    })]),
                    inline_policies: vec![InlinePolicy {
                        name: "operate".to_string(),
                        document: policy(vec![json!({
                            "Effect": "Allow",
                            "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "cloudwatch:GetMetricData"],
                            "Resource": "*"
                        })]),
                    }],
                    attached_policies: Vec::new(),
                    permission_boundary: None,
                });
                for name in ["admin-a", "admin-b"] {
                    s.roles.push(admin_role(account, name));
                }
            }
        }
        "root-trust" => {
            for r in 0..args.roles {
                let account = plan.id(r % plan.ids.len().max(1)).to_string();
                s.roles.push(admin_role(&account, &format!("admin-{r:05}")));
            }
        }
        _ => {}
    }
}

/// Which applications use each resource of a shared-dependency account, as the generator
/// creates the uses; the consumer tags are written from it at the end.
#[derive(Default)]
struct Usage(HashMap<String, BTreeSet<usize>>);

impl Usage {
    fn note(&mut self, plan: &Plan, account: usize, arn: &str, app: Option<usize>) {
        if let (Kind::Shared(_), Some(app)) = (plan.kind(account), app) {
            self.0.entry(arn.to_string()).or_default().insert(app);
        }
    }
}

pub(crate) fn generate(plan: &Plan) -> Snapshot {
    let mut s = Snapshot {
        schema_version: SCHEMA_VERSION,
        crawled_at: Some("2025-06-01T00:00:00Z".to_string()),
        ..Snapshot::default()
    };
    let units = vec![
        OrganizationalUnit {
            id: "r-bnch".to_string(),
            name: "Root".to_string(),
            parent: None,
        },
        OrganizationalUnit {
            id: "ou-bnch-apps0000".to_string(),
            name: "Applications".to_string(),
            parent: Some("r-bnch".to_string()),
        },
        OrganizationalUnit {
            id: "ou-bnch-shrd0000".to_string(),
            name: "Shared".to_string(),
            parent: Some("r-bnch".to_string()),
        },
        OrganizationalUnit {
            id: "ou-bnch-sbox0000".to_string(),
            name: "Sandbox".to_string(),
            parent: Some("r-bnch".to_string()),
        },
    ];
    let accounts = (0..plan.ids.len())
        .map(|i| {
            let (name, parent, tags) = match plan.kind(i) {
                Kind::App(a) => (
                    format!("{}-prod-{i:04}", app_name(a)),
                    "ou-bnch-apps0000",
                    tags(&[("app", &app_name(a)), ("environment", "prod")]),
                ),
                Kind::Shared(j) => (
                    format!("shared-{j:03}"),
                    "ou-bnch-shrd0000",
                    tags(&[("environment", "prod")]),
                ),
                Kind::Sandbox => (format!("sandbox-{i:04}"), "ou-bnch-sbox0000", Tags::new()),
            };
            Account {
                id: plan.id(i).to_string(),
                name,
                status: "ACTIVE".to_string(),
                parent: Some(parent.to_string()),
                tags,
            }
        })
        .collect();
    s.organization = Organization {
        id: Some(ORG_ID.to_string()),
        management_account: Some(plan.id(0).to_string()),
        units,
        accounts,
        policies: vec![OrganizationPolicy {
            id: "p-bnch0001".to_string(),
            arn: format!(
                "arn:aws:organizations::{}:policy/{ORG_ID}/service_control_policy/p-bnch0001",
                plan.id(0)
            ),
            name: "deny-leave-organization".to_string(),
            kind: OrganizationPolicyKind::ServiceControlPolicy,
            document: policy(vec![
                json!({"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}),
            ]),
            targets: vec!["r-bnch".to_string()],
        }],
    };
    s.managed_policies.push(ManagedPolicy {
        arn: LAMBDA_BASIC.to_string(),
        name: "AWSLambdaBasicExecutionRole".to_string(),
        document: policy(vec![json!({
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*"
        })]),
    });

    let mut usage = Usage::default();
    // Indexes of resources and buses in shared accounts: their consumer tags come last.
    let mut shared_resources = Vec::new();
    let mut shared_buses = Vec::new();
    for i in 0..plan.ids.len() {
        generate_account(plan, i, &mut s, &mut usage, &mut shared_resources, &mut shared_buses);
    }
    generate_spaces(plan, &mut s);
    for g in 0..plan.gaps {
        let (region, _) = plan.region(g);
        s.coverage.gaps.push(CoverageGap {
            account: Some(plan.id((g * 37) % plan.ids.len()).to_string()),
            region: Some(region.to_string()),
            api: "lambda:ListFunctions".to_string(),
            error_code: "AccessDeniedException".to_string(),
            message: "explicit deny in a service control policy".to_string(),
        });
    }

    // Consumer tags from actual use: right on most, absent on every 20th, one application short
    // (or naming a stale one) on the next.
    let consumer_tag = |n: usize, arn: &str| -> Option<String> {
        let apps: Vec<String> = usage.0.get(arn)?.iter().map(|a| app_name(*a)).collect();
        match n % 20 {
            0 => None,
            1 if apps.len() >= 2 => Some(apps.iter().skip(1).cloned().collect::<Vec<_>>().join("+")),
            1 => Some(format!("{}+app-retired", apps.join("+"))),
            _ => Some(apps.join("+")),
        }
    };
    for (n, ix) in shared_resources.into_iter().enumerate() {
        if let Some(r) = s.resources.get_mut(ix)
            && let Some(tag) = consumer_tag(n, &r.arn)
        {
            r.tags.insert("shared-with".to_string(), tag);
        }
    }
    for (n, ix) in shared_buses.into_iter().enumerate() {
        if let Some(b) = s.event_buses.get_mut(ix)
            && let Some(tag) = consumer_tag(n, &b.arn)
        {
            b.tags.insert("shared-with".to_string(), tag);
        }
    }
    s
}

fn generate_account(
    plan: &Plan,
    i: usize,
    s: &mut Snapshot,
    usage: &mut Usage,
    shared_resources: &mut Vec<usize>,
    shared_buses: &mut Vec<usize>,
) {
    let acct = plan.id(i).to_string();
    let kind = plan.kind(i);
    let owner = plan.owner(i);
    let owner_name = owner.map(app_name);
    let is_shared = matches!(kind, Kind::Shared(_));
    let team = match kind {
        Kind::App(a) => format!("team-{a:02}"),
        Kind::Shared(_) => "platform".to_string(),
        Kind::Sandbox => "sandbox".to_string(),
    };
    let forwarder = format!("arn:aws:iam::{acct}:role/eventbridge-forwarder");
    s.roles.push(topoguard::testkit::role(
        &acct,
        "eventbridge-forwarder",
        Tags::new(),
        trust("events.amazonaws.com"),
        vec![inline(
            "put-events",
            policy(vec![json!({
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": "arn:aws:events:*:*:event-bus/shared-events"
            })]),
        )],
    ));

    let nregions = plan.regions.len();
    for ri in 0..nregions {
        let (region, _) = plan.region(ri);
        let bus_name = bus_name(plan, i);
        let custom_bus = bus_arn(region, &acct, bus_name);
        let default_bus = bus_arn(region, &acct, "default");
        // Buses, rules and functions of a shared account are attributed by tag.
        let mut owner_tags = Tags::new();
        if is_shared && let Some(o) = &owner_name {
            owner_tags.insert("app".to_string(), o.clone());
        }
        s.event_buses.push(EventBus {
            arn: default_bus.clone(),
            account: acct.clone(),
            region: region.to_string(),
            name: "default".to_string(),
            tags: owner_tags.clone(),
            policy: None,
        });
        let mut bus_tags = owner_tags.clone();
        bus_tags.insert("team".to_string(), team.clone());
        s.event_buses.push(EventBus {
            arn: custom_bus.clone(),
            account: acct.clone(),
            region: region.to_string(),
            name: bus_name.to_string(),
            tags: bus_tags,
            policy: is_shared.then(|| {
                policy(vec![json!({
                    "Sid": "OrgPutEvents",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "events:PutEvents",
                    "Resource": custom_bus,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
                })])
            }),
        });
        if is_shared {
            shared_buses.push(s.event_buses.len() - 1);
        }

        // Queues and a table.
        let orders = queue_arn(region, &acct, "orders-events");
        let dlq = queue_arn(region, &acct, "orders-dlq");
        let table = table_arn(region, &acct);
        let base_tags = match kind {
            Kind::Sandbox => Tags::new(),
            _ => tags(&[("team", &team), ("cost-center", "cc-1042")]),
        };
        let mut orders_tags = base_tags.clone();
        if let Kind::App(a) = kind
            && (i + ri).is_multiple_of(40)
        {
            // A consumer tag in an application account; it lists one application too many.
            orders_tags.insert(
                "shared-with".to_string(),
                format!("{}+{}", app_name(a), app_name((a + 1) % APPS)),
            );
        }
        let orders_policy = if is_shared {
            let statements: Vec<Value> = plan
                .consumers(i)
                .into_iter()
                .filter_map(|c| {
                    let first = *plan.app_accounts.get(c)?.first()?;
                    usage.note(plan, i, &orders, Some(c));
                    Some(json!({
                        "Sid": format!("FromRulesOf{}", app_name(c).replace('-', "")),
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": orders,
                        "Condition": {"ArnLike": {"aws:SourceArn": format!("arn:aws:events:{region}:{}:rule/app-events/*", plan.id(first))}}
                    }))
                })
                .collect();
            (!statements.is_empty()).then(|| policy(statements))
        } else {
            None
        };
        let mut table_tags = base_tags.clone();
        if let Kind::App(a) = kind {
            table_tags.insert("app".to_string(), app_name(a));
            table_tags.insert("data-class".to_string(), "pii".to_string());
        }
        for (arn, kind, name, tags, pol) in [
            (
                &orders,
                ResourceKind::SqsQueue,
                Some("orders-events"),
                orders_tags,
                orders_policy,
            ),
            (
                &dlq,
                ResourceKind::SqsQueue,
                Some("orders-dlq"),
                base_tags.clone(),
                None,
            ),
            (&table, ResourceKind::DynamodbTable, None, table_tags, None),
        ] {
            s.resources.push(Resource {
                arn: arn.clone(),
                kind,
                account: acct.clone(),
                region: Some(region.to_string()),
                tags,
                aliases: name.map(|n| queue_url(region, &acct, n)).into_iter().collect(),
                policy: pol,
            });
            if is_shared {
                shared_resources.push(s.resources.len() - 1);
            }
        }

        // Rules: four on the custom bus, one scheduled on the default bus.
        for k in 0..5 {
            let on_default = k == 4;
            let (arn, bus) = if on_default {
                (
                    format!("arn:aws:events:{region}:{acct}:rule/rule-{k}"),
                    default_bus.clone(),
                )
            } else {
                (
                    format!("arn:aws:events:{region}:{acct}:rule/{bus_name}/rule-{k}"),
                    custom_bus.clone(),
                )
            };
            let mut targets = Vec::new();
            // Shared accounts' rules feed queues only; application rules also invoke functions.
            if plan.functions > 0 && !is_shared {
                targets.push(Target {
                    id: "function".to_string(),
                    arn: function_arn(region, &acct, (k * 10) % plan.functions),
                    role: None,
                    dead_letter_queue: None,
                });
            }
            targets.push(Target {
                id: "queue".to_string(),
                arn: orders.clone(),
                role: None,
                dead_letter_queue: k.is_multiple_of(2).then(|| dlq.clone()),
            });
            usage.note(plan, i, &orders, owner);
            if k.is_multiple_of(2) {
                usage.note(plan, i, &dlq, owner);
            }
            if let Kind::App(a) = kind {
                // Forward to a shared bus: same region on a quarter of the account-regions…
                let forward = if k == 0 && (i + ri).is_multiple_of(4) {
                    Some((0, ri))
                } else if k == 1 && i % 97 == 13 && ri == 0 && nregions > 1 {
                    // …and, in a handful of accounts, to another zone.
                    Some((0, 1))
                } else {
                    None
                };
                if let Some((which, to_region)) = forward
                    && let Some(shared) = plan.shared_of(a, which)
                {
                    let (to_region, _) = plan.region(to_region);
                    let target = bus_arn(to_region, plan.id(shared), "shared-events");
                    usage.note(plan, shared, &target, Some(a));
                    targets.push(Target {
                        id: "shared-bus".to_string(),
                        arn: target,
                        role: Some(forwarder.clone()),
                        dead_letter_queue: None,
                    });
                }
            }
            s.rules.push(Rule {
                name: arn.rsplit('/').next().unwrap_or("rule").to_string(),
                arn,
                account: acct.clone(),
                region: region.to_string(),
                bus,
                state: if k == 3 && i.is_multiple_of(50) {
                    RuleState::Disabled
                } else {
                    RuleState::Enabled
                },
                event_pattern: (!on_default)
                    .then(|| format!(r#"{{"source":["com.example.orders"],"detail-type":["OrderEvent{k}"]}}"#)),
                schedule_expression: on_default.then(|| "rate(5 minutes)".to_string()),
                tags: owner_tags.clone(),
                targets,
            });
        }

        // Functions, each with its own execution role.
        for n in 0..plan.functions {
            generate_function(plan, i, owner, ri, n, s, usage);
        }
    }
}

fn generate_function(
    plan: &Plan,
    i: usize,
    owner: Option<usize>,
    ri: usize,
    n: usize,
    s: &mut Snapshot,
    usage: &mut Usage,
) {
    let acct = plan.id(i);
    let kind = plan.kind(i);
    let (region, _) = plan.region(ri);
    let name = format!("fn-{n:03}");
    let arn = function_arn(region, acct, n);
    let role_name = format!("fn-{region}-{n:03}");
    let role_arn = format!("arn:aws:iam::{acct}:role/{role_name}");
    let orders = queue_arn(region, acct, "orders-events");
    let dlq = queue_arn(region, acct, "orders-dlq");
    let table = table_arn(region, acct);

    let mut statements = Vec::new();
    let mut queues: Vec<String> = Vec::new();
    if n % 25 == 3 {
        queues.push(format!("arn:aws:sqs:{region}:{acct}:orders-*"));
        usage.note(plan, i, &orders, owner);
        usage.note(plan, i, &dlq, owner);
    } else {
        queues.push(orders.clone());
        usage.note(plan, i, &orders, owner);
    }
    if matches!(kind, Kind::App(_)) && i % 89 == 11 && ri == 0 && n == 1 && plan.regions.len() > 1 {
        // A handful of functions use a queue of their account in another zone.
        let (other, _) = plan.region(1);
        queues.push(queue_arn(other, acct, "orders-events"));
    }
    statements.push(json!({
        "Sid": "Queue",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        "Resource": queues
    }));
    if n % 3 == 1 {
        statements.push(json!({
            "Sid": "Table",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": table
        }));
        usage.note(plan, i, &table, owner);
    }
    let mut references = vec![queue_url(region, acct, "orders-events"), table.clone()];
    usage.note(plan, i, &table, owner);
    if let Kind::App(a) = kind
        && n % 10 == 5
        && let Some(shared) = plan.shared_of(a, (n / 10) % 2)
    {
        let shared_id = plan.id(shared);
        let shared_queue = queue_arn(region, shared_id, "orders-events");
        let mut resources = vec![shared_queue.clone()];
        usage.note(plan, shared, &shared_queue, Some(a));
        if n % 20 == 5 {
            let shared_table = table_arn(region, shared_id);
            usage.note(plan, shared, &shared_table, Some(a));
            resources.push(shared_table);
        }
        statements.push(json!({
            "Sid": "Shared",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "dynamodb:GetItem"],
            "Resource": resources
        }));
        references.push(queue_url(region, shared_id, "orders-events"));
    }
    statements.push(json!({
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("arn:aws:logs:{region}:{acct}:log-group:/aws/lambda/{name}:*")
    }));
    statements.push(json!({
        "Sid": "DenyDelete",
        "Effect": "Deny",
        "Action": "dynamodb:DeleteTable",
        "Resource": "*"
    }));
    s.roles.push(Role {
        arn: role_arn.clone(),
        account: acct.to_string(),
        name: role_name,
        tags: Tags::new(),
        trust_policy: trust("lambda.amazonaws.com"),
        inline_policies: vec![InlinePolicy {
            name: "access".to_string(),
            document: policy(statements),
        }],
        attached_policies: vec![LAMBDA_BASIC.to_string()],
        permission_boundary: None,
    });

    let mut fn_tags = Tags::new();
    match kind {
        Kind::Shared(_) => {
            if let Some(o) = owner {
                fn_tags.insert("app".to_string(), app_name(o));
            }
        }
        Kind::App(_) if i % 300 == 1 && ri == 0 && n == 0 => {
            fn_tags.insert("app".to_string(), "legacy-billing".to_string());
        }
        Kind::App(a) if n.is_multiple_of(10) => {
            fn_tags.insert("app".to_string(), app_name(a));
        }
        _ => {}
    }
    let dead_letter_target = n.is_multiple_of(7).then(|| dlq.clone());
    if dead_letter_target.is_some() {
        usage.note(plan, i, &dlq, owner);
    }
    s.functions.push(Function {
        arn: arn.clone(),
        account: acct.to_string(),
        region: region.to_string(),
        name,
        runtime: Some(
            if n.is_multiple_of(2) {
                "python3.12"
            } else {
                "nodejs20.x"
            }
            .to_string(),
        ),
        role: role_arn,
        tags: fn_tags,
        environment_keys: ["QUEUE_URL", "TABLE_NAME", "LOG_LEVEL", "POWERTOOLS_SERVICE_NAME"]
            .iter()
            .map(|k| k.to_string())
            .collect(),
        environment_references: references,
        policy: None,
        dead_letter_target,
    });
    if n.is_multiple_of(5) {
        let seq = s.event_source_mappings.len() as u64;
        s.event_source_mappings.push(EventSourceMapping {
            uuid: format!("{:08x}-0000-4000-8000-{:012x}", i, seq),
            function: arn,
            source: orders.clone(),
            state: Some("Enabled".to_string()),
        });
        usage.note(plan, i, &orders, owner);
    }
}

fn generate_spaces(plan: &Plan, s: &mut Snapshot) {
    for a in 0..plan.apps {
        let Some(space) = plan.space(a) else {
            continue;
        };
        let primary = plan.id(space.primary);
        let arn = space_arn(space.region, primary, &space.name);
        let role_name = format!("aidevops-{}", app_name(a));
        let mut associations = Vec::new();
        for (k, &acc) in space.associated.iter().enumerate() {
            let account = plan.id(acc);
            let role = format!("arn:aws:iam::{account}:role/{role_name}");
            let mut conditions = json!({"StringEquals": {"aws:SourceAccount": primary}});
            match (a, k) {
                // Unpinned: no aws:SourceArn.
                (3, 0) => {}
                // Pinned to any space of the account.
                (4, 0) => {
                    if let Some(c) = conditions.as_object_mut() {
                        c.insert(
                            "ArnLike".to_string(),
                            json!({"aws:SourceArn": space_arn(space.region, primary, "*")}),
                        );
                    }
                }
                _ => {
                    if let Some(c) = conditions.as_object_mut() {
                        c.insert("ArnEquals".to_string(), json!({"aws:SourceArn": arn}));
                    }
                }
            }
            s.roles.push(Role {
                arn: role.clone(),
                account: account.to_string(),
                name: role_name.clone(),
                // Untagged: the role belongs to the account it is in.
                tags: Tags::new(),
                trust_policy: policy(vec![json!({
                    "Sid": "AgentSpace",
                    "Effect": "Allow",
                    "Principal": {"Service": "aidevops.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": conditions
                })]),
                inline_policies: vec![InlinePolicy {
                    name: "investigate".to_string(),
                    document: policy(vec![json!({
                        "Effect": "Allow",
                        "Action": ["cloudwatch:Get*", "logs:FilterLogEvents", "xray:Get*", "lambda:Get*"],
                        "Resource": "*"
                    })]),
                }],
                attached_policies: Vec::new(),
                permission_boundary: None,
            });
            associations.push(AgentSpaceAssociation {
                account: account.to_string(),
                role,
                kind: None,
                external_id: None,
                elevated_role: None,
                elevated_role_status: None,
                status: None,
            });
        }
        s.agent_spaces.push(AgentSpace {
            id: format!("as-{}", app_name(a)),
            arn,
            name: space.name,
            account: primary.to_string(),
            region: space.region.to_string(),
            tags: tags(&[("app", &app_name(a))]),
            associations,
            elevated_actions_enabled: None,
            kms_key: None,
            operator_app_role: None,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Measurement

/// A line of `/proc/self/status` in MiB (`VmRSS`, `VmHWM`); `None` off Linux.
fn proc_status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mem(key: &str) -> String {
    proc_status_mib(key).map_or_else(|| "unknown".to_string(), |m| format!("{m:.0} MiB"))
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn row(phase: &str, time: Duration, rss: &str, note: &str) {
    println!("{phase:<22} {:>10}   {rss:>12}   {note}", secs(time));
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The reference: `serde_json::from_slice::<Value>` of the file's bytes (read first, not timed),
/// in a process of its own so that its memory is not counted in the pipeline's peak. Prints
/// `reference <seconds> <VmHWM MiB>`.
fn reference_parse(path: &Path) -> Res<()> {
    let bytes = std::fs::read(path)?;
    let (value, time) = timed(|| serde_json::from_slice::<Value>(&bytes));
    let value = value?;
    let peak = proc_status_mib("VmHWM").unwrap_or(0.0);
    drop(value);
    println!("reference {} {peak:.0}", time.as_secs_f64());
    Ok(())
}

/// Runs [`reference_parse`] in a fresh process: its time and peak (MiB).
fn reference_time(path: &Path) -> Res<(Duration, f64)> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--reference")
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err(format!("reference process failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut words = text.split_whitespace().skip(1);
    let secs: f64 = words.next().ok_or("reference: no time")?.parse()?;
    let peak: f64 = words.next().ok_or("reference: no peak")?.parse()?;
    Ok((Duration::from_secs_f64(secs), peak))
}

fn measure(args: &Args, plan: &Plan, path: &Path) -> Res<()> {
    let (reference, reference_peak) = reference_time(path)?;
    row(
        "reference Value parse",
        reference,
        &format!("{reference_peak:.0} MiB"),
        "serde_json::from_slice::<Value>, own process (peak shown is its own)",
    );
    let (config_text, _) = timed(|| config_text(plan));
    let config_text = config_text?;
    let (config, config_time) = timed(|| parse_config(&config_text, Path::new(CONFIG_PATH), &known_ids()));
    let config = config?;
    row(
        "config parse",
        config_time,
        &mem("VmRSS"),
        &format!("{} bytes TOML", config_text.len()),
    );

    let (text, read_time) = timed(|| std::fs::read_to_string(path));
    let text = text?;
    row(
        "read file",
        read_time,
        &mem("VmRSS"),
        &format!("{:.1} MB", text.len() as f64 / 1e6),
    );

    let (snapshot, parse_time) = timed(|| parse_snapshot(&text, path));
    let snapshot = snapshot?;
    row("parse (+ validate)", parse_time, &mem("VmRSS"), "parse_snapshot");
    drop(text);

    let (topology, build_time) = timed(|| Topology::build(&snapshot, &config));
    row(
        "graph build",
        build_time,
        &mem("VmRSS"),
        &format!(
            "{} nodes, {} edges",
            topology.graph.node_count(),
            topology.graph.edge_count()
        ),
    );

    // What the checks build on first use and share: timed one by one and counted in the
    // checks' time, so that the cost outside the checks themselves is visible.
    let shared_time = fixed_costs(&topology);
    let (outcome, run_time) = timed(|| run_checks(&topology, CONFIG_PATH));
    let checks_time = shared_time + run_time;
    row(
        "checks (run_checks)",
        checks_time,
        &mem("VmRSS"),
        &format!(
            "{} findings, {} ignored, {} checks",
            outcome.findings.len(),
            outcome.ignored,
            outcome.checks_run.len()
        ),
    );
    let pipeline_peak = proc_status_mib("VmHWM").unwrap_or(0.0);
    println!("{:<22} {:>10}   {:>12}", "peak (VmHWM)", "", mem("VmHWM"));

    println!();
    println!(
        "snapshot: {} accounts, {} roles, {} buses, {} rules, {} functions, {} mappings, {} resources, {} agent spaces, {} gaps",
        snapshot.organization.accounts.len(),
        snapshot.roles.len(),
        snapshot.event_buses.len(),
        snapshot.rules.len(),
        snapshot.functions.len(),
        snapshot.event_source_mappings.len(),
        snapshot.resources.len(),
        snapshot.agent_spaces.len(),
        snapshot.coverage.gaps.len()
    );

    let mut per_check: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &outcome.findings {
        let e = per_check.entry(f.check.as_str()).or_default();
        match f.status {
            Status::Violation | Status::Conditional => e.0 += 1,
            Status::NotProven => e.1 += 1,
        }
    }
    println!();
    println!(
        "{:<36} {:>10} {:>10}   {:>10} (each check run alone)",
        "check", "violations", "not-proven", "time"
    );
    let mut alone_total = Duration::ZERO;
    for check in REGISTRY {
        let (findings, t) = timed(|| check.run(&topoguard::checks::Context::new(&topology, *check)));
        alone_total += t;
        let (v, np) = per_check.get(check.id()).copied().unwrap_or_default();
        println!(
            "{:<36} {v:>10} {np:>10}   {:>10} ({} raw)",
            check.id(),
            secs(t),
            findings.len()
        );
    }
    for (id, (v, np)) in per_check
        .iter()
        .filter(|(id, _)| !REGISTRY.iter().any(|c| c.id() == **id))
    {
        println!("{id:<36} {v:>10} {np:>10}");
    }
    println!(
        "{:<36} {:>10} {:>10}   {:>10}",
        "sum of checks run alone",
        "",
        "",
        secs(alone_total)
    );

    println!();
    let ratio = checks_time.as_secs_f64() / parse_time.as_secs_f64().max(f64::EPSILON);
    println!(
        "sizes: --accounts {} --regions {} --functions {} --gaps {}",
        args.accounts, args.regions, args.functions, args.gaps
    );
    println!(
        "parse {} | graph build {} | checks {} | peak {}",
        secs(parse_time),
        secs(build_time),
        secs(checks_time),
        mem("VmHWM")
    );
    println!("checks/parse ratio: {ratio:.2} (target <= 1.00)");
    render_times(
        path,
        &outcome,
        &config,
        &snapshot,
        parse_time + build_time + checks_time,
    )?;
    query_times(&topology, parse_time + build_time);
    let file_mb = std::fs::metadata(path)
        .map(|m| m.len() as f64 / (1024.0 * 1024.0))
        .unwrap_or(0.0);
    println!(
        "scenario {} | checks/parse {ratio:.2} (target <= 2.00) | build/parse {:.2} | peak/file {:.2} (target <= 3.00; {pipeline_peak:.0} MiB / {file_mb:.1} MiB)",
        args.scenario,
        build_time.as_secs_f64() / parse_time.as_secs_f64().max(f64::EPSILON),
        pipeline_peak / file_mb.max(f64::EPSILON)
    );

    if args.diagnose {
        diagnostics(path, &snapshot, parse_time)?;
    }
    let total = parse_time + build_time + checks_time;
    let reference_secs = reference.as_secs_f64().max(f64::EPSILON);
    println!(
        "reference {} | load {} | total (load + graph + checks) {} | peak {pipeline_peak:.0} MiB (VmHWM after the checks) | file {file_mb:.1} MiB",
        secs(reference),
        secs(parse_time),
        secs(total)
    );
    println!(
        "ratios: load {:.2} total {:.2} peak {:.2}",
        parse_time.as_secs_f64() / reference_secs,
        total.as_secs_f64() / reference_secs,
        pipeline_peak / file_mb.max(f64::EPSILON)
    );
    Ok(())
}

/// Times, one by one, what the checks build on first use and share; returns the sum.
fn fixed_costs(topology: &Topology<'_>) -> Duration {
    let mut total = Duration::ZERO;
    let (catalog, t) = timed(topoguard::iam::catalog::Catalog::get);
    total += t;
    let services = catalog.map_or(0, |c| c.services().len());
    row("  catalog decode", t, &mem("VmRSS"), &format!("{services} services"));
    let (keys, t) = timed(topoguard::iam::keys::table);
    total += t;
    row(
        "  condition keys",
        t,
        &mem("VmRSS"),
        &format!("{} keys", keys.map_or(0, <[_]>::len)),
    );
    let (_, t) = timed(|| topology.iam());
    total += t;
    row("  reach", t, &mem("VmRSS"), "role reachability (Topology::iam)");
    let (footprints, t) = timed(|| topology.footprints().len());
    total += t;
    row("  footprints", t, &mem("VmRSS"), &format!("{footprints} applications"));
    let (incident, t) = timed(|| topology.incident_roles().len());
    total += t;
    row("  incident roles", t, &mem("VmRSS"), &format!("{incident} roles"));
    total
}

/// Incident questions after load (issue 10): `can` and `impact` on a shared table, `who-can` on
/// it, each timed once after the snapshot is parsed and the graph built (the load time is
/// reported apart), with its ratio to the issue's target (1 s, 1 s, 5 s).
fn query_times(topology: &Topology<'_>, load: Duration) {
    use topoguard::query::{can::can, impact, who_can::who_can};
    let Some((table, _)) = topology
        .nodes()
        .map(|(ix, n)| (n.id, ix))
        .find(|(id, ix)| id.contains(":table/") && topology.is_shared(*ix))
    else {
        println!("queries: no shared table in this organization; skipped");
        return;
    };
    let Some(role) = topology.snapshot.roles.first().map(|r| r.arn.as_str()) else {
        println!("queries: no role in this organization; skipped");
        return;
    };
    let (a, can_t) = timed(|| can(topology, role, "dynamodb:GetItem", Some(table), &Default::default()));
    let (b, impact_t) = timed(|| impact::impact(topology, impact::Scope::Resource(table)));
    let (c, who_t) = timed(|| who_can(topology, "dynamodb:PutItem", table, &Default::default(), None));
    let summary = format!(
        "can {} | impact {} resources | who-can {} principals",
        a.map(|x| x.decision.as_str()).unwrap_or("error"),
        b.map(|x| x.resources.len()).unwrap_or(0),
        c.map(|x| x.principals.len()).unwrap_or(0)
    );
    println!();
    println!("queries on {table} (after load {}): {summary}", secs(load));
    println!(
        "ratios: can/1s {:.3} | impact/1s {:.3} | who-can/5s {:.3} (targets <= 1.00)",
        can_t.as_secs_f64(),
        impact_t.as_secs_f64(),
        who_t.as_secs_f64() / 5.0
    );
}

/// JSON and SARIF render times of the findings (the report holds the snapshot text, re-read here
/// since the measured run dropped it), best of three each.
fn render_times(
    path: &Path,
    outcome: &topoguard::checks::Outcome,
    config: &topoguard::config::Config,
    snapshot: &Snapshot,
    pipeline: Duration,
) -> Res<()> {
    use topoguard::output::{CheckInfo, Format, RenderOptions, Report, render};
    let text = std::fs::read_to_string(path)?;
    let checks = REGISTRY
        .iter()
        .map(|c| CheckInfo {
            id: c.id().to_string(),
            title: c.title().to_string(),
            description: c.description().to_string(),
            default_severity: c.default_severity(),
            help_uri: format!("{}#{}", topoguard::checks::DOCS_URL, c.id()),
        })
        .collect();
    let report = Report::new(
        path.display().to_string(),
        text,
        checks,
        config.application_names().map(str::to_string).collect(),
        outcome.findings.clone(),
        snapshot.coverage.gaps.clone(),
        outcome.ignored,
    );
    let time = |format: Format| -> Res<Duration> {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let mut sink = std::io::BufWriter::new(std::io::sink());
            let (done, t) = timed(|| render(&report, format, RenderOptions::default(), &mut sink));
            done?;
            best = best.min(t);
        }
        Ok(best)
    };
    let (json, sarif) = (time(Format::Json)?, time(Format::Sarif)?);
    // SARIF also scans the snapshot text once (the location index); JSON does not read it. What
    // a user waits for is `check`: parse + graph + checks + render.
    let (check_json, check_sarif) = (pipeline + json, pipeline + sarif);
    println!(
        "render {} findings: json {} | sarif {} (location index included) | check --format json {} | check --format sarif {} | sarif/json ratio (check): {:.2} (target <= 1.20)",
        report.findings.len(),
        secs(json),
        secs(sarif),
        secs(check_json),
        secs(check_sarif),
        check_sarif.as_secs_f64() / check_json.as_secs_f64().max(f64::EPSILON)
    );
    Ok(())
}

/// Where parse time goes, measured after the main run (so peak memory above is unaffected):
/// serde deserialization alone against the whole `parse_snapshot` (best of two alternating runs
/// on a warm allocator, since first-touch page faults dominate the cold run), and the cost of one
/// pass of `Policy::from_value` over the role policies, which validation, usage derivation and
/// `agent-space-role-unpinned` each pay.
fn diagnostics(path: &Path, snapshot: &Snapshot, cold_parse: Duration) -> Res<()> {
    println!();
    println!("diagnostics (warm allocator, after the measured run):");
    let text = std::fs::read_to_string(path)?;
    let mut de_time = Duration::MAX;
    let mut parse_time = Duration::MAX;
    for _ in 0..2 {
        let (deserialized, t) = timed(|| serde_json::from_str::<Snapshot>(&text));
        drop(deserialized?);
        de_time = de_time.min(t);
        let (parsed, t) = timed(|| parse_snapshot(&text, path));
        drop(parsed?);
        parse_time = parse_time.min(t);
    }
    println!(
        "  serde_json::from_str::<Snapshot>   {:>10}\n  parse_snapshot (warm)              {:>10}   => validation ~{} (cold parse was {})",
        secs(de_time),
        secs(parse_time),
        secs(parse_time.saturating_sub(de_time)),
        secs(cold_parse)
    );
    drop(text);
    let (n, trust_time) = timed(|| {
        snapshot
            .roles
            .iter()
            .filter(|r| Policy::from_value(r.trust_policy.value()).is_ok())
            .count()
    });
    println!(
        "  Policy::from_value, {n} trust policies         {:>10}",
        secs(trust_time)
    );
    let (n, inline_time) = timed(|| {
        snapshot
            .roles
            .iter()
            .flat_map(|r| &r.inline_policies)
            .filter(|p| Policy::from_value(p.document.value()).is_ok())
            .count()
    });
    println!(
        "  Policy::from_value, {n} inline policies        {:>10}",
        secs(inline_time)
    );
    Ok(())
}

fn main() -> Res<()> {
    let args = parse_args()?;
    let plan = Plan::new(args.accounts, args.regions, args.functions, args.gaps);
    if let Some(path) = &args.reference {
        return reference_parse(path);
    }
    if let Some(path) = &args.measure {
        return measure(&args, &plan, path);
    }

    println!(
        "topoguard bench: {} accounts x {} regions x {} functions ({} applications, {} shared-dependency accounts)",
        args.accounts,
        args.regions,
        args.functions,
        plan.apps,
        plan.shared.len()
    );
    if args.app_roles {
        return roles_phase(&plan, args.keep_roles.as_deref());
    }
    if let Some(path) = &args.keep_config {
        std::fs::write(path, config_text(&plan)?)?;
    }
    println!("{:<22} {:>10}   {:>12}   note", "phase", "time", "VmRSS after");
    let _dir;
    let path = match (&args.snapshot, &args.keep) {
        (Some(existing), _) => existing.clone(),
        (None, keep) => {
            let (snapshot, gen_time) = timed(|| {
                let mut s = generate(&plan);
                add_scenario(&args, &plan, &mut s);
                s
            });
            row(
                "generate (typed)",
                gen_time,
                &mem("VmRSS"),
                &format!("{} functions, {} roles", snapshot.functions.len(), snapshot.roles.len()),
            );
            let (text, ser_time) = timed(|| serde_json::to_string(&snapshot));
            let text = text?;
            row(
                "serialize (info)",
                ser_time,
                &mem("VmRSS"),
                &format!("{:.1} MB compact JSON", text.len() as f64 / 1e6),
            );
            drop(snapshot);
            let path = match keep {
                Some(p) => p.clone(),
                None => {
                    let dir = tempfile::tempdir()?;
                    let p = dir.path().join("snapshot.json");
                    _dir = dir;
                    p
                }
            };
            let (written, write_time) = timed(|| std::fs::write(&path, &text));
            written?;
            row(
                "write file (info)",
                write_time,
                &mem("VmRSS"),
                &path.display().to_string(),
            );
            println!(
                "{:<22} {:>10}   {:>12}   generator process",
                "generator peak",
                "",
                mem("VmHWM")
            );
            path
        }
    };
    if args.generate_only {
        return Ok(());
    }
    println!("-- measured in a fresh process --");
    let mut child_args = vec![
        "--scenario".to_string(),
        args.scenario.clone(),
        "--roles".to_string(),
        args.roles.to_string(),
        "--accounts".to_string(),
        args.accounts.to_string(),
        "--regions".to_string(),
        args.regions.to_string(),
        "--functions".to_string(),
        args.functions.to_string(),
        "--gaps".to_string(),
        args.gaps.to_string(),
    ];
    if args.diagnose {
        child_args.push("--diagnose".to_string());
    }
    measure_in_child(&child_args, &path)
}

/// Runs this program again in a fresh process with `args`, then `--measure SNAPSHOT`, so that the
/// child's peak memory is that of the measured work alone (not the generator's); an error when
/// the child fails. Shared with `examples/query_bench.rs`, which compiles this file as a module.
pub fn measure_in_child(args: &[String], snapshot: &Path) -> Res<()> {
    let status = Command::new(std::env::current_exe()?)
        .args(args)
        .arg("--measure")
        .arg(snapshot)
        .status()?;
    if !status.success() {
        return Err(format!("measurement process failed: {status}").into());
    }
    Ok(())
}

/// `--roles`: generates the organization, then `topoguard roles` for its largest application
/// (most functions), and prints the role count, the largest policy and the time. Every role is
/// validated by the generator itself (sizes, quotas, scope) before it is returned.
fn roles_phase(plan: &Plan, keep: Option<&Path>) -> Res<()> {
    let snapshot = generate(plan);
    let config_text = config_text(plan)?;
    let config = parse_config(&config_text, Path::new(CONFIG_PATH), &known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let mut functions: BTreeMap<usize, usize> = BTreeMap::new();
    for (ix, node) in topology.nodes() {
        if node.kind == topoguard::graph::NodeKind::Function
            && let Some(app) = topology.owner(ix)
        {
            *functions.entry(app).or_default() += 1;
        }
    }
    let Some((&app, &count)) = functions.iter().max_by_key(|(a, n)| (**n, std::cmp::Reverse(**a))) else {
        return Err("no application owns a function".into());
    };
    let name = topology.app_name(app).to_string();
    let options = topoguard::roles::Options {
        apps: vec![name.clone()],
        ..Default::default()
    };
    let (set, time) = timed(|| topoguard::roles::generate(&topology, &options));
    let set = set?;
    let largest = set
        .roles
        .iter()
        .flat_map(|r| r.policies.iter().map(topoguard::roles::compact_len))
        .max()
        .unwrap_or(0);
    let most = set.roles.iter().map(|r| r.policies.len()).max().unwrap_or(0);
    let accounts: BTreeSet<&str> = set.roles.iter().map(|r| r.account.as_str()).collect();
    println!(
        "roles for `{name}` ({count} functions): {} roles in {} accounts, at most {most} managed policies per role, largest policy {largest} characters, {} split notes, generated and validated in {}",
        set.roles.len(),
        accounts.len(),
        set.notes.iter().filter(|n| n.kind == "split").count(),
        secs(time)
    );
    if let Some(dir) = keep {
        keep_roles(&set, dir)?;
    }
    Ok(())
}

/// Writes the role set as `iam/` (one JSON document per policy, for parliament) and
/// `cloudformation/` (one template per account, for cfn-lint) under `dir`, which must be new or
/// empty.
fn keep_roles(set: &topoguard::roles::RoleSet, dir: &Path) -> Res<()> {
    use topoguard::roles::{Format, render};
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(format!("--keep-roles `{}`: the directory is not empty", dir.display()).into());
    }
    let mut written = 0;
    for (sub, format) in [("iam", Format::Iam), ("cloudformation", Format::Cloudformation)] {
        for (path, bytes) in render(set, format) {
            let target = dir.join(sub).join(&path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, bytes)?;
            written += 1;
        }
    }
    println!(
        "wrote {written} files under `{}` (iam/, cloudformation/)",
        dir.display()
    );
    Ok(())
}
