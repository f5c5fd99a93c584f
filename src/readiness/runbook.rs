//! Runbooks and AWS DevOps Agent skills, generated from the topology: per application,
//! `<app>/RUNBOOK.md` (the responder's map) and `<app>/skills/<app>-topology/` (a skill
//! directory: `SKILL.md` plus reference files, as the DevOps Agent documentation describes
//! skills: <https://docs.aws.amazon.com/devopsagent/latest/userguide/about-aws-devops-agent-devops-agent-skills-index.html>).
//!
//! Everything named comes from the snapshot or the config and is Markdown- or Mermaid-escaped;
//! roles are named only when they exist in the snapshot. Output is sorted, so the same input
//! gives byte-identical files.

use super::AppReadiness;
use crate::escape::{markdown_code, markdown_code_inline, markdown_text};
use crate::finding::Finding;
use crate::graph::{AppId, NodeKind, Topology, UseReason};
use crate::model::file_name;
use petgraph::graph::NodeIndex;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Relative path → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The documentation page the skill format follows.
pub const SKILLS_DOC: &str =
    "https://docs.aws.amazon.com/devopsagent/latest/userguide/about-aws-devops-agent-devops-agent-skills-index.html";

/// What one application's runbook says, gathered once and rendered twice (runbook and skill).
pub struct AppMap<'s> {
    pub name: &'s str,
    pub owner: Option<&'s str>,
    pub zone: Option<&'s str>,
    /// zone (or "(no zone)") → account → regions.
    pub places: BTreeMap<String, BTreeMap<&'s str, BTreeSet<&'s str>>>,
    /// (from, relation, to), sorted.
    pub flows: Vec<(&'s str, &'static str, &'s str)>,
    /// bus → rules on it, for the diagram.
    pub buses: Vec<(&'s str, &'s str)>,
    /// Shared resource → (owner application, other users).
    pub shared: BTreeMap<&'s str, (Option<&'s str>, Vec<&'s str>)>,
    /// Account → roles in the snapshot responders or the application's Agent Space assume there.
    pub roles: BTreeMap<&'s str, BTreeSet<String>>,
    /// Agent Spaces of the application that exist.
    pub spaces: Vec<(&'s str, &'s str)>,
    pub findings: Vec<Finding>,
}

/// The account's name from the snapshot, or "".
pub fn account_name<'s>(t: &Topology<'s>, id: &str) -> &'s str {
    t.snapshot
        .organization
        .accounts
        .iter()
        .find(|a| a.id == id)
        .map_or("", |a| a.name.as_str())
}

fn relation(reason: &UseReason<'_>) -> &'static str {
    match reason {
        UseReason::RuleTarget { .. } | UseReason::Subscriber { .. } => "delivers to",
        UseReason::RolePolicy { .. } => "uses",
        UseReason::PolicyNames { .. } => "is allowed to use",
        UseReason::EventSourceMapping { .. } => "is fed by",
        UseReason::Reference { .. } => "references",
        UseReason::ResourcePolicy { .. } => "is granted",
        UseReason::Relation { .. } => "relates to",
    }
}

/// Gathers an application's map from the topology and the findings.
pub fn app_map<'s>(t: &Topology<'s>, findings: &[Finding], app: AppId) -> AppMap<'s> {
    let name = t.app_name(app);
    let app_cfg = t.config.application(name);
    let footprint = super::footprint_nodes(t, app);
    let mut places: BTreeMap<String, BTreeMap<&'s str, BTreeSet<&'s str>>> = BTreeMap::new();
    let mut shared = BTreeMap::new();
    for &ix in &footprint {
        let n = t.node(ix);
        if let (Some(acc), Some(region)) = (n.account, n.region) {
            let zone = t.zone_of(ix).unwrap_or("(no zone)").to_string();
            places.entry(zone).or_default().entry(acc).or_default().insert(region);
        }
        if t.is_shared(ix) && t.owner(ix) != Some(app) {
            let others: Vec<&'s str> = t
                .users(ix)
                .iter()
                .filter(|(u, _)| *u != app)
                .map(|(u, _)| t.app_name(*u))
                .collect();
            shared.insert(n.id, (t.owner(ix).map(|o| t.app_name(o)), others));
        }
    }
    // Accounts where the application has only global resources (IAM).
    for acc in t.footprint_accounts(app) {
        if !places.values().any(|a| a.contains_key(acc)) {
            places
                .entry("(global only)".to_string())
                .or_default()
                .entry(acc)
                .or_default();
        }
    }
    AppMap {
        name,
        owner: app_cfg.and_then(|a| a.owner.as_deref()),
        zone: app_cfg.and_then(|a| a.zone.as_ref()).map(|z| z.get_ref().as_str()),
        places,
        flows: flows(t, &footprint, app),
        buses: buses(t, app),
        shared,
        roles: roles(t, app),
        spaces: t
            .agent_spaces()
            .into_iter()
            .filter(|s| s.app == app)
            .filter_map(|s| s.existing.map(|e| (s.name, e.arn.as_str())))
            .collect(),
        findings: {
            let mut f: Vec<Finding> = findings
                .iter()
                .filter(|f| f.applications.iter().any(|a| a == name))
                .cloned()
                .collect();
            f.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            f
        },
    }
}

fn flows<'s>(t: &Topology<'s>, footprint: &[NodeIndex], app: AppId) -> Vec<(&'s str, &'static str, &'s str)> {
    let mut out = BTreeSet::new();
    for &ix in footprint {
        let n = t.node(ix);
        if !matches!(n.kind, NodeKind::Rule | NodeKind::Function) || t.owner(ix) != Some(app) {
            continue;
        }
        for dep in t.dependencies_of(ix) {
            let to = t.node(dep.to).id;
            match dep.reason {
                UseReason::EventSourceMapping { .. } => out.insert((to, "feeds", n.id)),
                ref r => out.insert((n.id, relation(r), to)),
            };
        }
    }
    out.into_iter().collect()
}

fn buses<'s>(t: &Topology<'s>, app: AppId) -> Vec<(&'s str, &'s str)> {
    let mut out: Vec<(&'s str, &'s str)> = t
        .snapshot
        .rules
        .iter()
        .filter(|r| t.find(&r.arn).and_then(|ix| t.owner(ix)) == Some(app))
        .map(|r| (r.bus.as_str(), r.arn.as_str()))
        .collect();
    out.sort_unstable();
    out
}

/// Roles in the snapshot that a configured responder principal or one of the application's
/// Agent Spaces reaches, in the application's footprint accounts.
fn roles<'s>(t: &Topology<'s>, app: AppId) -> BTreeMap<&'s str, BTreeSet<String>> {
    let accounts = t.footprint_accounts(app);
    let spaces: BTreeSet<String> = t
        .agent_spaces()
        .into_iter()
        .filter(|s| s.app == app)
        .filter_map(|s| s.existing.map(|e| e.arn.clone()))
        .collect();
    let responders: BTreeSet<&str> = t
        .config
        .responders
        .principals
        .iter()
        .map(|p| p.get_ref().as_str())
        .collect();
    let mut out: BTreeMap<&'s str, BTreeSet<String>> = BTreeMap::new();
    for r in t.incident_roles() {
        if !(spaces.contains(&r.reached_by) || responders.contains(r.reached_by.as_str())) {
            continue;
        }
        let Some(role) = t.snapshot.roles.iter().find(|x| x.arn == r.role) else {
            continue;
        };
        if let Some(acc) = accounts.get(role.account.as_str()) {
            out.entry(*acc).or_default().insert(role.arn.clone());
        }
    }
    out
}

/// The application's Mermaid flowchart: the same drawing as `topoguard graph --format mermaid
/// --app NAME` (the shared layout of [`crate::graph::export::layout`]), with the application's
/// findings marked.
pub fn mermaid(t: &Topology<'_>, map: &AppMap<'_>) -> String {
    match t.app_id(map.name) {
        Some(app) => crate::graph::export::app_mermaid(t, app, &map.findings),
        None => "flowchart LR\n  empty[\"application not configured\"]\n".to_string(),
    }
}

/// `RUNBOOK.md` of one application.
pub fn runbook(t: &Topology<'_>, map: &AppMap<'_>, score: Option<&AppReadiness>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Runbook: {}\n", markdown_text(map.name));
    let _ = writeln!(
        s,
        "Generated by `topoguard runbooks` from the topology snapshot; regenerate rather than edit.\n"
    );
    if let Some(owner) = map.owner {
        let _ = writeln!(s, "**Owner:** {}\n", markdown_text(owner));
    }
    if let Some(score) = score {
        let _ = writeln!(s, "**Readiness:** {}% (see `topoguard readiness`)\n", score.score);
    }
    places_section(t, map, &mut s);
    let _ = writeln!(s, "## Delivery flow\n\n```mermaid\n{}```\n", mermaid(t, map));
    flow_table(map, &mut s);
    shared_section(t, map, &mut s);
    roles_section(t, map, &mut s);
    residency_section(t, map, &mut s);
    findings_section(map, &mut s);
    s
}

fn places_section(t: &Topology<'_>, map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(
        s,
        "## Where it runs\n\n| Zone | Account | Name | Regions |\n|---|---|---|---|"
    );
    for (zone, accounts) in &map.places {
        for (acc, regions) in accounts {
            let regions: Vec<&str> = regions.iter().copied().collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                markdown_code(zone),
                markdown_code(acc),
                markdown_code(account_name(t, acc)),
                markdown_code(&regions.join(", "))
            );
        }
    }
    s.push('\n');
}

fn flow_table(map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(s, "| From | Relation | To |\n|---|---|---|");
    for (a, k, b) in &map.flows {
        let _ = writeln!(s, "| {} | {k} | {} |", markdown_code(a), markdown_code(b));
    }
    s.push('\n');
}

fn owner_of<'s>(t: &Topology<'s>, app: Option<&str>) -> String {
    app.and_then(|a| t.config.application(a))
        .and_then(|a| a.owner.as_deref())
        .map_or_else(|| "(no owner configured)".to_string(), markdown_text)
}

fn shared_section(t: &Topology<'_>, map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(
        s,
        "## Shared dependencies: whom to call\n\n| Resource | Owning application | Its owner | Other users |\n|---|---|---|---|"
    );
    for (res, (owner, others)) in &map.shared {
        let others: Vec<String> = others.iter().map(|o| markdown_code(o)).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            markdown_code(res),
            owner.map_or_else(|| "(none)".to_string(), markdown_code),
            owner_of(t, *owner),
            others.join(", ")
        );
    }
    if map.shared.is_empty() {
        let _ = writeln!(s, "| (none) | | | |");
    }
    s.push('\n');
}

fn roles_section(t: &Topology<'_>, map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(s, "## Roles to assume\n");
    for (name, arn) in &map.spaces {
        let _ = writeln!(
            s,
            "- Agent Space {}: {}",
            markdown_code_inline(name),
            markdown_code_inline(arn)
        );
    }
    if map.spaces.is_empty() {
        let _ = writeln!(s, "- No Agent Space of this application exists in the snapshot.");
    }
    let _ = writeln!(s, "\n| Account | Name | Roles (in the snapshot) |\n|---|---|---|");
    let accounts: BTreeSet<&str> = map.places.values().flat_map(|a| a.keys().copied()).collect();
    for acc in accounts {
        let roles: Vec<String> = map
            .roles
            .get(acc)
            .map(|r| r.iter().map(|x| markdown_code(x)).collect())
            .unwrap_or_default();
        let roles = if roles.is_empty() {
            "none: generate them with `topoguard roles`".to_string()
        } else {
            roles.join("<br>")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {roles} |",
            markdown_code(acc),
            markdown_code(account_name(t, acc))
        );
    }
    s.push('\n');
}

fn residency_section(t: &Topology<'_>, map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(s, "## Residency constraints\n");
    match map.zone {
        Some(zone) => {
            let regions: Vec<&str> = t
                .config
                .zones
                .iter()
                .find(|(k, _)| k.get_ref() == zone)
                .map(|(_, z)| z.regions.iter().map(|r| r.get_ref().as_str()).collect())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "The application's data must stay in zone {} ({}). During mitigation, do not move events, queues or data to a region outside it.\n",
                markdown_code_inline(zone),
                markdown_code_inline(&regions.join(", "))
            );
        }
        None => {
            let _ = writeln!(
                s,
                "No zone is configured for the application. Each resource stays in the zone of its region: when failing over, move work only between regions of the same zone (listed above).\n"
            );
        }
    }
}

fn findings_section(map: &AppMap<'_>, s: &mut String) {
    let _ = writeln!(s, "## Open findings that hamper an investigation\n");
    if map.findings.is_empty() {
        let _ = writeln!(s, "None.");
        return;
    }
    for f in &map.findings {
        let _ = writeln!(
            s,
            "- **{}** {} ({}) on {}: {}",
            f.severity,
            markdown_code_inline(&f.check),
            f.status,
            markdown_code_inline(&f.resource),
            markdown_text(&f.message)
        );
    }
}

/// The skill's name: lowercase letters, digits and hyphens, at most 64 characters, as the
/// DevOps Agent requires; other characters of the application name become hyphens.
pub fn skill_name(app: &str) -> String {
    let mut base: String = app
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(64 - "-topology".len());
    let base = base.trim_matches('-');
    if base.is_empty() {
        "app-topology".to_string()
    } else {
        format!("{base}-topology")
    }
}

/// The skill directory's files, relative to it: `SKILL.md` and `references/*.md`.
pub fn skill(t: &Topology<'_>, map: &AppMap<'_>) -> Files {
    let name = skill_name(map.name);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "---\nname: {name}\ndescription: Topology of the {name} application for incident investigation: its AWS accounts and regions per residency zone, its EventBridge buses, rules, Lambda functions and the shared dependencies they use, who owns those dependencies, and where data may not move. Use when investigating or mitigating an incident that touches this application.\n---\n"
    );
    let _ = writeln!(body, "# Application {}\n", markdown_text(map.name));
    if let Some(owner) = map.owner {
        let _ = writeln!(body, "Owning team: {}.\n", markdown_text(owner));
    }
    let _ = writeln!(
        body,
        "## How to use this map\n\n1. Start from the account and region where the symptom appears (table below).\n2. Follow the delivery flow in `references/dependencies.md` upstream (what feeds it) and downstream (what it uses).\n3. If a shared dependency is involved, its owner and its other users are in `references/shared.md`: check whether the other users see the same symptom before blaming this application.\n4. Keep every action inside the residency constraints below.\n"
    );
    places_section(t, map, &mut body);
    residency_section(t, map, &mut body);
    let mut files = Files::new();
    files.insert("SKILL.md".to_string(), body.into_bytes());
    let mut deps = format!("# Dependencies of {}\n\n", markdown_text(map.name));
    flow_table(map, &mut deps);
    files.insert("references/dependencies.md".to_string(), deps.into_bytes());
    let mut shared = String::new();
    shared_section(t, map, &mut shared);
    roles_section(t, map, &mut shared);
    files.insert("references/shared.md".to_string(), shared.into_bytes());
    files
}

/// Every file for the applications given: `<app>/RUNBOOK.md`, the skill directory under
/// `<app>/skills/<app>-topology/`, and `<app>/skills/UPLOAD.md`. Application names are turned
/// into single path components with [`file_name`].
pub fn generate(t: &Topology<'_>, findings: &[Finding], scores: &[AppReadiness], apps: &[AppId]) -> Files {
    let mut files = Files::new();
    for &app in apps {
        let map = app_map(t, findings, app);
        let dir = file_name(map.name);
        let score = scores.iter().find(|s| s.application == map.name);
        files.insert(format!("{dir}/RUNBOOK.md"), runbook(t, &map, score).into_bytes());
        let skill_dir = file_name(&format!("{}-topology", map.name));
        for (rel, bytes) in skill(t, &map) {
            files.insert(format!("{dir}/skills/{skill_dir}/{rel}"), bytes);
        }
        files.insert(
            format!("{dir}/skills/UPLOAD.md"),
            upload(&skill_dir, &skill_name(map.name)).into_bytes(),
        );
    }
    files
}

/// How to upload the skill. The DevOps Agent takes skills as a `.zip` with `SKILL.md` at its
/// root, uploaded in the Operator Web App ([`SKILLS_DOC`]). Neither that page nor the other AWS
/// pages found when looking for one (issue 11, December 2026) describe an `aws` CLI command, an
/// API operation or a CloudFormation resource that uploads a skill, so topoguard writes none
/// that would pretend otherwise, and the file says so.
fn upload(dir: &str, name: &str) -> String {
    format!(
        "# Uploading the {name} skill\n\nAWS DevOps Agent loads skills uploaded as a `.zip` archive whose root holds `SKILL.md`, through the Operator Web App of the application's Agent Space ({SKILLS_DOC}).\n\n```sh\ncd {}\nzip -r ../{name}.zip SKILL.md references\n```\n\nThen upload `{name}.zip` in the Operator Web App and target the incident agent types.\n\nThere is no scripted upload: the DevOps Agent documentation ({SKILLS_DOC}) describes no `aws` CLI command, API operation or CloudFormation resource that uploads a skill, only the Operator Web App. Regenerate and re-upload the archive when the topology changes.\n",
        dir
    )
}
