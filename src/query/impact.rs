//! `impact`: what is affected if a resource, an account, a region or an application's own
//! nodes fail or are compromised. Everything that depends on the scope, transitively: functions
//! and roles that use it, functions and rules that run as it, rules routed from it, targets and
//! functions it delivers to, Agent Spaces that assume it; rules that deliver to it (their
//! delivery fails, nothing further). Then the applications concerned, their Agent Spaces, the
//! cross-region delivery flows through the affected nodes (the residency flows that break),
//! and — for a role — the shared resources it (or a role it reaches) can change.

use super::can::Hop;
use super::links::Links;
use super::{AnswerFormat, QueryError, describe_gap, gaps_touching, shown};
use crate::graph::{EdgeKind, NodeKind, Topology};
use crate::iam::capability::{Target as CapTarget, capabilities};
use crate::iam::catalog::{ActionClass, Catalog};
use petgraph::graph::NodeIndex;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{self, Write};

/// What `impact` is asked about.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'q> {
    Resource(&'q str),
    Account(&'q str),
    Region(&'q str),
    App(&'q str),
}

/// A node affected beyond the scope, with the link that made it so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Affected {
    pub id: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub because: Hop,
}

/// A delivery or use across regions that passes through the affected nodes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub relation: String,
    pub from_region: String,
    pub to_region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_zone: Option<String>,
}

/// A shared resource a compromised role could change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub resource: String,
    /// The role that can (the scope itself, or a role it reaches).
    pub via: String,
    pub actions: Vec<String>,
    pub conditional: bool,
}

/// The answer of `impact`.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactAnswer {
    pub applications: Vec<String>,
    pub resources: Vec<Affected>,
    pub agent_spaces: Vec<String>,
    pub flows: Vec<Flow>,
    /// For a role: shared resources it can change, directly or through the roles it reaches.
    pub can_change: Vec<Change>,
    pub scope: String,
    /// How many nodes the scope itself holds.
    pub scope_nodes: usize,
    /// False when a coverage gap touches the scope or the affected nodes: the lists may be short.
    pub proven: bool,
    pub gaps: Vec<String>,
}

fn start_nodes(t: &Topology<'_>, scope: Scope<'_>) -> Result<Vec<NodeIndex>, QueryError> {
    let esc = |s: &str| crate::escape::terminal(s).into_owned();
    let nodes: Vec<NodeIndex> = match scope {
        Scope::Resource(arn) => vec![
            t.find(arn)
                .ok_or_else(|| QueryError(format!("unknown resource `{}`: not in the snapshot", esc(arn))))?,
        ],
        Scope::Account(id) => {
            let acc = t
                .find(id)
                .filter(|ix| t.node(*ix).kind == NodeKind::Account)
                .ok_or_else(|| QueryError(format!("unknown account `{}`: not in the organization", esc(id))))?;
            std::iter::once(acc)
                .chain(t.nodes_in_account(id).iter().copied())
                .collect()
        }
        Scope::Region(r) => {
            let nodes: Vec<NodeIndex> = t
                .nodes()
                .filter(|(_, n)| n.region == Some(r))
                .map(|(ix, _)| ix)
                .collect();
            if nodes.is_empty() {
                return Err(QueryError(format!("no node of the snapshot is in region `{}`", esc(r))));
            }
            nodes
        }
        Scope::App(name) => {
            let app = t.app_id(name).ok_or_else(|| {
                QueryError(format!(
                    "unknown application `{}`; configured applications: {}",
                    esc(name),
                    t.applications.join(", ")
                ))
            })?;
            t.owned_by(app).collect()
        }
    };
    Ok(nodes)
}

/// Every node that depends on the start nodes, transitively, with the link that reached it.
fn dependents(t: &Topology<'_>, links: &Links, start: &BTreeSet<NodeIndex>) -> BTreeMap<NodeIndex, Hop> {
    let mut seen: BTreeMap<NodeIndex, Hop> = BTreeMap::new();
    let mut queued: BTreeSet<NodeIndex> = start.clone();
    let mut queue: VecDeque<NodeIndex> = start.iter().copied().collect();
    while let Some(n) = queue.pop_front() {
        let users = links
            .incoming(n)
            .filter(|l| matches!(l.kind, EdgeKind::Uses | EdgeKind::ExecutesAs | EdgeKind::CanAssume))
            .map(|l| (l.from, l, true));
        let downstream = links
            .outgoing(n)
            .filter(|l| matches!(l.kind, EdgeKind::Routes | EdgeKind::Targets | EdgeKind::Invokes))
            .map(|l| (l.to, l, true));
        // A rule delivering to a failed target fails to deliver; nothing depends on that.
        let senders = links
            .incoming(n)
            .filter(|l| l.kind == EdgeKind::Targets)
            .map(|l| (l.from, l, false));
        for (next, link, spread) in users.chain(downstream).chain(senders) {
            if start.contains(&next) {
                continue;
            }
            seen.entry(next).or_insert_with(|| Links::hop(t, link));
            // A sender reached first may still spread when something it depends on fails.
            if spread && queued.insert(next) {
                queue.push_back(next);
            }
        }
    }
    seen
}

fn flows(t: &Topology<'_>, links: &Links, hit: &BTreeSet<NodeIndex>) -> Vec<Flow> {
    let mut out: BTreeSet<Flow> = BTreeSet::new();
    for l in &links.all {
        if !(hit.contains(&l.from) || hit.contains(&l.to)) || l.kind == EdgeKind::CanAssume {
            continue;
        }
        let (a, b) = (t.node(l.from), t.node(l.to));
        if let (Some(ra), Some(rb)) = (a.region, b.region)
            && ra != rb
        {
            out.insert(Flow {
                from: a.id.to_string(),
                to: b.id.to_string(),
                relation: l.kind.as_str().to_string(),
                from_region: ra.to_string(),
                to_region: rb.to_string(),
                from_zone: t.zone_of(l.from).map(str::to_string),
                to_zone: t.zone_of(l.to).map(str::to_string),
            });
        }
    }
    out.into_iter().collect()
}

/// Shared resources `role` (or a role it reaches) can change.
fn changes(t: &Topology<'_>, role: &str) -> Result<Vec<Change>, QueryError> {
    let catalog = Catalog::get().map_err(|e| QueryError(format!("cannot load the action catalog: {e}")))?;
    let iam = t.iam();
    let mut roles = vec![role.to_string()];
    roles.extend(iam.reach.reachable_from(iam.store, role).into_iter().map(|(r, _)| r));
    let org = t.snapshot.organization.id.as_deref();
    let mut out = Vec::new();
    for (ix, n) in t.nodes() {
        if !matches!(n.kind, NodeKind::Resource(_) | NodeKind::EventBus | NodeKind::Function) || !t.is_shared(ix) {
            continue;
        }
        let policy = t.policies.resource_policy(n.id).map(|p| p.as_named());
        for r in &roles {
            let target = CapTarget::Resource {
                arn: n.id,
                account: n.account,
                region: n.region,
                tags: n.tags,
                policy,
            };
            let caps = capabilities(iam.store, catalog, org, r, target, ActionClass::CHANGES);
            if !caps.is_empty() {
                out.push(Change {
                    resource: n.id.to_string(),
                    via: r.clone(),
                    conditional: caps.iter().all(|c| !c.conditional_on.is_empty()),
                    actions: caps.into_iter().map(|c| c.action).collect(),
                });
                break;
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Answers `impact`.
pub fn impact(t: &Topology<'_>, scope: Scope<'_>) -> Result<ImpactAnswer, QueryError> {
    let start_list = start_nodes(t, scope)?;
    let start: BTreeSet<NodeIndex> = start_list.iter().copied().collect();
    let links = Links::new(t);
    let affected = dependents(t, &links, &start);
    let hit: BTreeSet<NodeIndex> = start.iter().chain(affected.keys()).copied().collect();
    let mut apps: BTreeSet<&str> = BTreeSet::new();
    for &ix in &hit {
        if t.node(ix).kind == NodeKind::Account {
            continue;
        }
        apps.extend(t.owner(ix).map(|a| t.app_name(a)));
        apps.extend(t.users(ix).iter().map(|(a, _)| t.app_name(*a)));
    }
    let accounts: BTreeSet<&str> = hit.iter().filter_map(|ix| t.node(*ix).account).collect();
    let regions: BTreeSet<&str> = hit.iter().filter_map(|ix| t.node(*ix).region).collect();
    let spaces: BTreeSet<String> = t
        .agent_spaces()
        .into_iter()
        .filter(|sv| apps.contains(t.app_name(sv.app)))
        .map(|sv| sv.id())
        .collect();
    let resources: Vec<Affected> = affected
        .into_iter()
        .map(|(ix, because)| {
            let n = t.node(ix);
            Affected {
                id: n.id.to_string(),
                kind: n.kind.as_str(),
                account: n.account.map(str::to_string),
                region: n.region.map(str::to_string),
                because,
            }
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let can_change = match scope {
        Scope::Resource(arn) if t.policies.roles.contains_key(arn) => changes(t, arn)?,
        _ => Vec::new(),
    };
    let gaps: Vec<String> = gaps_touching(t.snapshot, &accounts, Some(&regions))
        .into_iter()
        .map(describe_gap)
        .collect();
    Ok(ImpactAnswer {
        applications: apps.into_iter().map(str::to_string).collect(),
        resources,
        agent_spaces: spaces.into_iter().collect(),
        flows: flows(t, &links, &hit),
        can_change,
        scope: match scope {
            Scope::Resource(a) => format!("resource {a}"),
            Scope::Account(a) => format!("account {a}"),
            Scope::Region(r) => format!("region {r}"),
            Scope::App(a) => format!("application {a}"),
        },
        scope_nodes: start.len(),
        proven: gaps.is_empty(),
        gaps,
    })
}

impl ImpactAnswer {
    /// Writes the answer in `format`.
    pub fn render(&self, format: AnswerFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == AnswerFormat::Json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            return writeln!(out);
        }
        let s = |v: &str| shown(format, v);
        let md = format == AnswerFormat::Markdown;
        let b = if md { "- " } else { "  " };
        let section = |out: &mut dyn Write, title: &str| -> io::Result<()> {
            if md {
                writeln!(out, "\n**{title}**\n")
            } else {
                writeln!(out, "{title}:")
            }
        };
        let proof = if self.proven {
            ""
        } else {
            " (not proven: coverage gaps below)"
        };
        writeln!(
            out,
            "impact of {} ({} node(s) in scope){proof}",
            s(&self.scope),
            self.scope_nodes
        )?;
        section(out, "applications")?;
        for a in &self.applications {
            writeln!(out, "{b}{}", s(a))?;
        }
        section(out, "affected beyond the scope")?;
        for r in &self.resources {
            let h = &r.because;
            writeln!(
                out,
                "{b}{} {}: {} -[{}]-> {} ({})",
                r.kind,
                s(&r.id),
                s(&h.from),
                h.relation,
                s(&h.to),
                s(&h.detail)
            )?;
        }
        section(out, "agent spaces")?;
        for a in &self.agent_spaces {
            writeln!(out, "{b}{}", s(a))?;
        }
        section(out, "cross-region flows through it")?;
        for f in &self.flows {
            let zone = |z: &Option<String>| z.as_deref().map(|z| format!(" [{}]", s(z))).unwrap_or_default();
            writeln!(
                out,
                "{b}{} {}{} → {} {}{} ({})",
                s(&f.from),
                s(&f.from_region),
                zone(&f.from_zone),
                s(&f.to),
                s(&f.to_region),
                zone(&f.to_zone),
                f.relation
            )?;
        }
        if !self.can_change.is_empty() {
            section(out, "shared resources it can change")?;
            for c in &self.can_change {
                let cond = if c.conditional { " (conditional)" } else { "" };
                let actions = crate::iam::capability::summarize_actions(
                    &c.actions.iter().map(String::as_str).collect::<Vec<_>>(),
                    3,
                );
                writeln!(out, "{b}{} via {}: {}{cond}", s(&c.resource), s(&c.via), s(&actions))?;
            }
        }
        for g in &self.gaps {
            writeln!(out, "{b}gap: {}", s(g))?;
        }
        Ok(())
    }
}
