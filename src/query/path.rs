//! `path`: the shortest delivery, use and assume paths from one node to another — the graph's
//! links (routes, targets, invocations, execution roles, uses, grants, Agent Space roles), the
//! role assumptions the IAM engine confirms, and a last `can-access` hop from a role or user to
//! the target resource when the principal may act on it (identity and resource policy, SCPs,
//! RCPs and boundary, as `can` decides) — every hop with its evidence. Each assumption and
//! access is a request decided with the `--context` values for its place in the path.

use super::access::{Target, decide};
use super::can::{Hop, hop_in};
use super::context::Context;
use super::links::Links;
use super::{AnswerFormat, QueryError, Verdict, shown};
use crate::graph::{NodeKind, Topology};
use crate::iam::capability::{Target as CapTarget, capabilities, grant_labels, summarize_actions};
use crate::iam::catalog::{ActionClass, Catalog};
use petgraph::graph::NodeIndex;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// At most this many shortest paths are listed.
pub const MAX_PATHS: usize = 16;

/// The answer of `path`.
#[derive(Debug, Clone, Serialize)]
pub struct PathAnswer {
    /// Every shortest path (up to [`MAX_PATHS`]), each a list of hops; empty when none.
    pub paths: Vec<Vec<Hop>>,
    pub from: String,
    pub to: String,
}

/// Every class of action: any access counts for a `can-access` hop.
const ALL_CLASSES: &[ActionClass] = &[
    ActionClass::MetadataRead,
    ActionClass::ContentRead,
    ActionClass::Write,
    ActionClass::PermissionsManagement,
    ActionClass::Tagging,
];

/// What `path` asks besides its two ends.
#[derive(Debug, Clone, Copy)]
pub struct PathQuery<'a> {
    /// The action a `can-access` hop must allow (`None`: any action the principal's identity
    /// policies name that is allowed on the target).
    pub action: Option<&'a str>,
    pub context: &'a Context,
}

/// True for a node a principal acts on (not a principal, account, group or unknown node).
fn accessible(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Resource(_) | NodeKind::EventBus | NodeKind::Function | NodeKind::Rule | NodeKind::AgentSpace
    )
}

/// The `can-access` hop from principal `from` to the resource `to`, decided as request `n` of
/// the path: with `--action` that action as `can` decides it; without, the actions of the
/// principal's identity policies allowed on the resource (a role's; a user needs `--action`).
fn access_hop(t: &Topology<'_>, from: &str, to: &str, n: usize, q: PathQuery<'_>) -> Option<Hop> {
    let target = Target::resolve(t, Some(to));
    let pairs = q.context.for_hop(n);
    let mut conditions = Vec::new();
    let (actions, grants) = match q.action {
        Some(action) => {
            let d = decide(t, from, action, &target, &pairs, &q.context.session_for_hop(n))?;
            if d.decision == Verdict::Denied {
                return None;
            }
            conditions = d.conditions;
            let grants = d
                .grants
                .iter()
                .map(|g| format!("{} {} statement {}", g.layer, g.policy, g.statement))
                .collect();
            (vec![action.to_string()], grants)
        }
        None => {
            let catalog = Catalog::get().ok()?;
            let node = t.node(t.find(to)?);
            let cap_target = CapTarget::Resource {
                arn: to,
                account: node.account,
                region: node.region,
                tags: node.tags,
                policy: target.policy,
            };
            let org = t.snapshot.organization.id.as_deref();
            let caps = capabilities(&t.policies, catalog, org, from, cap_target, ALL_CLASSES);
            // Each confirmed again with the `--context` values for this request.
            let mut kept = Vec::new();
            for c in caps {
                if q.context.is_empty() {
                    conditions.extend(c.conditional_on.iter().cloned());
                    kept.push(c);
                    continue;
                }
                match decide(t, from, &c.action, &target, &pairs, &q.context.session_for_hop(n)) {
                    Some(d) if d.decision != Verdict::Denied => {
                        conditions.extend(d.conditions);
                        kept.push(c);
                    }
                    _ => {}
                }
            }
            if kept.is_empty() {
                return None;
            }
            let grants = grant_labels(&kept);
            (kept.into_iter().map(|c| c.action).collect(), grants)
        }
    };
    conditions.sort();
    conditions.dedup();
    let names: Vec<&str> = actions.iter().map(String::as_str).collect();
    Some(Hop {
        from: from.to_string(),
        to: to.to_string(),
        relation: "can-access".to_string(),
        detail: format!("{} allowed by {}", summarize_actions(&names, 3), grants.join(", ")),
        conditions,
    })
}

/// The roles `ix` (a role or user) may assume directly, as hop `n` of a path; only `only` when
/// given.
fn assumptions(
    t: &Topology<'_>,
    ix: NodeIndex,
    only: Option<NodeIndex>,
    n: usize,
    q: PathQuery<'_>,
) -> Vec<(NodeIndex, Hop)> {
    let node = t.node(ix);
    if !matches!(node.kind, NodeKind::Role | NodeKind::User) {
        return Vec::new();
    }
    let iam = t.iam();
    let mut out = Vec::new();
    for role in iam.reach.assumable_from(iam.store, node.id) {
        if let Some(r) = t.find(&role)
            && only.is_none_or(|o| o == r)
            && let Some((mut h, keys)) = hop_in(t, node.id, &role, q.context, n)
        {
            if !q.context.is_empty() {
                h.conditions = keys;
            }
            out.push((r, h));
        }
    }
    out
}

/// The hops from `ix` straight to the target `to`, as hop `n` of a path: links, an assumption
/// when the target is a role, the `can-access` hop when it is a resource the principal may act
/// on.
fn to_target(t: &Topology<'_>, links: &Links, ix: NodeIndex, to: NodeIndex, n: usize, q: PathQuery<'_>) -> Vec<Hop> {
    let mut out: Vec<Hop> = links
        .outgoing(ix)
        .filter(|l| l.to == to)
        .map(|l| Links::hop(t, l))
        .collect();
    let (node, target) = (t.node(ix), t.node(to));
    if matches!(target.kind, NodeKind::Role) {
        out.extend(assumptions(t, ix, Some(to), n, q).into_iter().map(|(_, h)| h));
    }
    if out.is_empty()
        && matches!(node.kind, NodeKind::Role | NodeKind::User)
        && accessible(target.kind)
        && let Some(h) = access_hop(t, node.id, target.id, n, q)
    {
        out.push(h);
    }
    out
}

/// The hops out of `ix`, as hop `n` of a path: its links, and for a principal the roles it may
/// assume directly.
fn next(t: &Topology<'_>, links: &Links, ix: NodeIndex, n: usize, q: PathQuery<'_>) -> Vec<(NodeIndex, Hop)> {
    let mut out: Vec<(NodeIndex, Hop)> = links.outgoing(ix).map(|l| (l.to, Links::hop(t, l))).collect();
    out.extend(assumptions(t, ix, None, n, q));
    out
}

fn node(t: &Topology<'_>, id: &str, which: &str) -> Result<NodeIndex, QueryError> {
    t.find(id).ok_or_else(|| {
        QueryError(format!(
            "unknown {which} node `{}`: not an ARN or account id of the snapshot",
            crate::escape::terminal(id)
        ))
    })
}

/// Answers `path`.
pub fn path(t: &Topology<'_>, from: &str, to: &str, q: PathQuery<'_>) -> Result<PathAnswer, QueryError> {
    let (a, b) = (node(t, from, "--from")?, node(t, to, "--to")?);
    let links = Links::new(t);
    // Breadth-first by layers, every shortest predecessor kept.
    let mut parents: BTreeMap<NodeIndex, Vec<(NodeIndex, Hop)>> = BTreeMap::new();
    let mut depth: BTreeMap<NodeIndex, usize> = BTreeMap::from([(a, 0)]);
    let mut layer = vec![a];
    let mut level = 0;
    while !layer.is_empty() && !depth.contains_key(&b) {
        level += 1;
        // First the hops straight to the target: when some node of this layer has one, the
        // shortest paths end here and the layer's other hops need not be worked out.
        let hits: Vec<(NodeIndex, Hop)> = layer
            .iter()
            .flat_map(|&n| to_target(t, &links, n, b, level, q).into_iter().map(move |h| (n, h)))
            .collect();
        if !hits.is_empty() {
            depth.insert(b, level);
            parents.insert(b, hits);
            break;
        }
        let mut next_layer: BTreeSet<NodeIndex> = BTreeSet::new();
        for &n in &layer {
            for (m, h) in next(t, &links, n, level, q) {
                match depth.get(&m) {
                    Some(&d) if d < level => continue,
                    Some(_) => {}
                    None => {
                        depth.insert(m, level);
                    }
                }
                parents.entry(m).or_default().push((n, h));
                next_layer.insert(m);
            }
        }
        layer = next_layer.into_iter().collect();
    }
    let mut paths = Vec::new();
    if a != b && depth.contains_key(&b) {
        collect(&parents, b, &mut Vec::new(), &mut paths);
    }
    paths.sort();
    paths.truncate(MAX_PATHS);
    Ok(PathAnswer {
        paths,
        from: from.to_string(),
        to: to.to_string(),
    })
}

/// Walks predecessors back from `n`, pushing each complete path (start first).
fn collect(
    parents: &BTreeMap<NodeIndex, Vec<(NodeIndex, Hop)>>,
    n: NodeIndex,
    suffix: &mut Vec<Hop>,
    out: &mut Vec<Vec<Hop>>,
) {
    if out.len() >= MAX_PATHS * 4 {
        return;
    }
    match parents.get(&n) {
        None => {
            let mut p = suffix.clone();
            p.reverse();
            out.push(p);
        }
        Some(list) => {
            for (prev, h) in list {
                suffix.push(h.clone());
                collect(parents, *prev, suffix, out);
                suffix.pop();
            }
        }
    }
}

impl PathAnswer {
    /// Writes the answer in `format`.
    pub fn render(&self, format: AnswerFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == AnswerFormat::Json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            return writeln!(out);
        }
        let s = |v: &str| shown(format, v);
        let md = format == AnswerFormat::Markdown;
        if self.paths.is_empty() {
            return writeln!(
                out,
                "no delivery, use or assume path from {} to {}",
                s(&self.from),
                s(&self.to)
            );
        }
        writeln!(
            out,
            "{} shortest path(s) from {} to {}",
            self.paths.len(),
            s(&self.from),
            s(&self.to)
        )?;
        for (i, p) in self.paths.iter().enumerate() {
            writeln!(out, "{}path {}:", if md { "\n" } else { "" }, i + 1)?;
            for h in p {
                let keys: Vec<String> = h.conditions.iter().map(|k| s(k)).collect();
                let cond = if keys.is_empty() {
                    String::new()
                } else {
                    format!(" if {}", keys.join(", "))
                };
                writeln!(
                    out,
                    "{}{} -[{}]-> {} ({}){cond}",
                    if md { "1. " } else { "  " },
                    s(&h.from),
                    h.relation,
                    s(&h.to),
                    s(&h.detail)
                )?;
            }
        }
        Ok(())
    }
}
