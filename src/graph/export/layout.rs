//! The one layout every drawing renders from (DOT, Mermaid, the HTML report's SVG): the
//! clustered, collapsed picture of a set of topology nodes, computed once.
//!
//! - Nodes are placed by cluster path zone → account → region ([`VNode::place`], [`tree`]);
//!   `contains` edges are left out, the nesting says it.
//! - Functions that look alike (same account, region, owner and the same neighbours) are
//!   collapsed into one node with a count when there are at least [`COLLAPSE_MIN`].
//! - A size cap: while the picture has more than the node budget ([`NODE_BUDGET`] by default),
//!   nodes are merged further, one [`Level`] at a time — functions per account-region, then rules
//!   and subscribers per bus, then resources per account-region and kind and IAM principals per
//!   account, then everything per account-region, then per account. Merging never crosses an
//!   account, so every account and zone of the input still appears. What was merged is listed in
//!   [`View::merged`], and every drawing says it.
//! - Edges are deduplicated between drawn nodes and marked as crossing an account or a zone.

use crate::finding::Finding;
use crate::graph::{EdgeKind, NodeKind, Topology};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};

/// Functions that look alike are collapsed when there are at least this many.
pub const COLLAPSE_MIN: usize = 3;

/// The default node budget of a drawing: above it, nodes are merged further.
pub const NODE_BUDGET: usize = 150;

/// A drawn node: one topology node, or several merged ones.
#[derive(Debug, Clone)]
pub struct VNode {
    pub label: String,
    /// The kind (of most members, for a mixed group).
    pub kind: NodeKind,
    pub shared: bool,
    /// Checks with findings on it, sorted.
    pub checks: Vec<String>,
    pub count: usize,
    /// (zone, account, region) cluster path; `None` parts are left out.
    pub place: (Option<String>, Option<String>, Option<String>),
}

/// How an edge crosses boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Crossing {
    Same,
    Account,
    Zone,
}

/// How far nodes are merged; each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Only alike functions, at least [`COLLAPSE_MIN`] of them.
    Alike,
    FunctionsPerRegion,
    RulesPerBus,
    ResourcesAndPrincipals,
    KindsPerRegion,
    PerAccount,
}

impl Level {
    const ALL: [Level; 6] = [
        Level::Alike,
        Level::FunctionsPerRegion,
        Level::RulesPerBus,
        Level::ResourcesAndPrincipals,
        Level::KindsPerRegion,
        Level::PerAccount,
    ];
}

/// Why a group of nodes was merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Merge {
    Single,
    Alike,
    FunctionsPerRegion,
    RulesPerBus,
    ResourcesPerKind,
    PrincipalsPerAccount,
    KindsPerRegion,
    PerAccount,
}

impl Merge {
    fn describe(self) -> &'static str {
        match self {
            Merge::Single | Merge::Alike => "",
            Merge::FunctionsPerRegion => "functions merged per account, region and owner",
            Merge::RulesPerBus => "rules and subscribers merged per bus",
            Merge::ResourcesPerKind => "resources merged per account, region and kind",
            Merge::PrincipalsPerAccount => "IAM roles, users and groups merged per account",
            Merge::KindsPerRegion => "all kinds merged per account and region",
            Merge::PerAccount => "everything merged per account",
        }
    }
}

/// What every drawing draws.
pub struct View {
    pub nodes: Vec<VNode>,
    /// (from, to, kind, crossing), sorted, without `contains`.
    pub edges: Vec<(usize, usize, EdgeKind, Crossing)>,
    /// What the size cap merged, one sentence each (empty when under the budget).
    pub merged: Vec<String>,
    /// Topology nodes drawn (before collapsing).
    pub source_nodes: usize,
}

pub fn short(id: &str) -> &str {
    id.rsplit([':', '/']).next().filter(|s| !s.is_empty()).unwrap_or(id)
}

/// The signature that makes functions alike.
fn signature(t: &Topology<'_>, ix: NodeIndex, keep: &BTreeSet<NodeIndex>) -> String {
    let n = t.node(ix);
    let mut around: Vec<String> = Vec::new();
    for dir in [Direction::Outgoing, Direction::Incoming] {
        for e in t.graph.edges_directed(ix, dir) {
            let other = if dir == Direction::Outgoing {
                e.target()
            } else {
                e.source()
            };
            if *e.weight() != EdgeKind::Contains && keep.contains(&other) {
                around.push(format!("{dir:?}{}{}", e.weight().as_str(), t.node(other).id));
            }
        }
    }
    around.sort();
    format!("{:?}|{:?}|{:?}|{}", n.account, n.region, t.owner(ix), around.join(","))
}

/// The bus a rule or subscriber routes from.
fn bus_of<'a>(t: &Topology<'a>, ix: NodeIndex) -> Option<&'a str> {
    t.graph
        .edges_directed(ix, Direction::Incoming)
        .filter(|e| *e.weight() == EdgeKind::Routes)
        .map(|e| t.node(e.source()).id)
        .min()
}

/// The merge key of a node at `level`, and why nodes sharing it are merged.
fn key(t: &Topology<'_>, ix: NodeIndex, keep: &BTreeSet<NodeIndex>, level: Level) -> (String, Merge) {
    let n = t.node(ix);
    let (acc, reg) = (n.account.unwrap_or(""), n.region.unwrap_or(""));
    if level >= Level::PerAccount && n.account.is_some() {
        return (format!("account|{acc}"), Merge::PerAccount);
    }
    if level >= Level::KindsPerRegion {
        return (format!("place|{acc}|{reg}"), Merge::KindsPerRegion);
    }
    let owner = t.owner(ix).map_or(String::new(), |a| t.app_name(a).to_string());
    match n.kind {
        NodeKind::Function if level >= Level::FunctionsPerRegion => {
            (format!("fns|{acc}|{reg}|{owner}"), Merge::FunctionsPerRegion)
        }
        NodeKind::Function => (format!("alike|{}", signature(t, ix, keep)), Merge::Alike),
        NodeKind::Rule | NodeKind::Subscriber if level >= Level::RulesPerBus => match bus_of(t, ix) {
            Some(bus) => (format!("rules|{bus}|{owner}"), Merge::RulesPerBus),
            None => (format!("node|{}", n.id), Merge::Single),
        },
        NodeKind::Resource(k) if level >= Level::ResourcesAndPrincipals => (
            format!("res|{acc}|{reg}|{k:?}|{}", t.is_shared(ix)),
            Merge::ResourcesPerKind,
        ),
        NodeKind::Role | NodeKind::User | NodeKind::Group if level >= Level::ResourcesAndPrincipals => {
            (format!("iam|{acc}"), Merge::PrincipalsPerAccount)
        }
        _ => (format!("node|{}", n.id), Merge::Single),
    }
}

/// The drawn groups at `level`, sorted by their first member's id.
fn groups(t: &Topology<'_>, keep: &BTreeSet<NodeIndex>, level: Level) -> Vec<(Merge, Vec<NodeIndex>)> {
    let mut by_key: BTreeMap<String, (Merge, Vec<NodeIndex>)> = BTreeMap::new();
    for &ix in keep {
        let (k, why) = key(t, ix, keep, level);
        by_key.entry(k).or_insert_with(|| (why, Vec::new())).1.push(ix);
    }
    let mut out: Vec<(Merge, Vec<NodeIndex>)> = Vec::new();
    for (_, (why, mut members)) in by_key {
        members.sort_by_key(|ix| t.node(*ix).id);
        let min = if why == Merge::Alike { COLLAPSE_MIN } else { 2 };
        if members.len() >= min && why != Merge::Single {
            out.push((why, members));
        } else {
            out.extend(members.into_iter().map(|m| (Merge::Single, vec![m])));
        }
    }
    out.sort_by_key(|(_, m)| m.first().map(|ix| t.node(*ix).id));
    out
}

impl View {
    /// The picture of `nodes` with the default budget.
    pub fn new(t: &Topology<'_>, nodes: &[NodeIndex], findings: &[Finding]) -> Self {
        Self::with_budget(t, nodes, findings, NODE_BUDGET)
    }

    /// The picture of `nodes`, merged until it has at most `budget` nodes (or cannot merge more
    /// without crossing an account).
    pub fn with_budget(t: &Topology<'_>, nodes: &[NodeIndex], findings: &[Finding], budget: usize) -> Self {
        let keep: BTreeSet<NodeIndex> = nodes
            .iter()
            .copied()
            .filter(|ix| t.node(*ix).kind != NodeKind::Account)
            .collect();
        let mut by_resource: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for f in findings {
            by_resource
                .entry(f.resource.as_str())
                .or_default()
                .insert(f.check.as_str());
        }
        let mut chosen = Vec::new();
        for level in Level::ALL {
            chosen = groups(t, &keep, level);
            if chosen.len() <= budget {
                break;
            }
        }
        let mut slot: BTreeMap<NodeIndex, usize> = BTreeMap::new();
        let mut out = Vec::new();
        chosen.retain(|(_, m)| !m.is_empty());
        for (why, members) in &chosen {
            let Some(&first) = members.first() else { continue };
            for m in members {
                slot.insert(*m, out.len());
            }
            out.push(vnode(t, *why, first, members, &by_resource));
        }
        View {
            nodes: out,
            edges: edges(t, &slot),
            merged: notes(&chosen, budget),
            source_nodes: keep.len(),
        }
    }
}

fn crossing(t: &Topology<'_>, a: NodeIndex, b: NodeIndex) -> Crossing {
    let (za, zb) = (t.zone_of(a), t.zone_of(b));
    if za.is_some() && zb.is_some() && za != zb {
        Crossing::Zone
    } else if t.node(a).account != t.node(b).account {
        Crossing::Account
    } else {
        Crossing::Same
    }
}

fn edges(t: &Topology<'_>, slot: &BTreeMap<NodeIndex, usize>) -> Vec<(usize, usize, EdgeKind, Crossing)> {
    let mut edges: BTreeSet<(usize, usize, EdgeKind, Crossing)> = BTreeSet::new();
    for e in t.graph.edge_references() {
        if *e.weight() == EdgeKind::Contains {
            continue;
        }
        let (Some(&a), Some(&b)) = (slot.get(&e.source()), slot.get(&e.target())) else {
            continue;
        };
        if a != b {
            edges.insert((a, b, *e.weight(), crossing(t, e.source(), e.target())));
        }
    }
    edges.into_iter().collect()
}

/// One sentence per kind of merge the cap did: how many nodes became how many.
fn notes(chosen: &[(Merge, Vec<NodeIndex>)], budget: usize) -> Vec<String> {
    let mut per: BTreeMap<Merge, (usize, usize)> = BTreeMap::new();
    for (why, members) in chosen {
        if !matches!(why, Merge::Single | Merge::Alike) {
            let e = per.entry(*why).or_default();
            e.0 += members.len();
            e.1 += 1;
        }
    }
    let total: usize = chosen.iter().map(|(_, m)| m.len()).sum();
    let mut out: Vec<String> = per
        .into_iter()
        .map(|(why, (n, g))| format!("{}: {n} nodes drawn as {g}", why.describe()))
        .collect();
    if !out.is_empty() {
        out.insert(
            0,
            format!(
                "{total} nodes exceed the drawing budget of {budget}; merged to {} (merging never crosses an account)",
                chosen.len()
            ),
        );
    }
    out
}

/// The label of a merged group: how many of what, and where.
fn group_label(t: &Topology<'_>, why: Merge, first: NodeIndex, members: &[NodeIndex], kind: NodeKind) -> String {
    let n = t.node(first);
    let count = members.len();
    match why {
        Merge::Single => short(n.id).to_string(),
        Merge::Alike => format!("{count} × {} like {}", kind.as_str(), short(n.id)),
        Merge::RulesPerBus => format!("{count} × {} on {}", kind.as_str(), bus_of(t, first).map_or("?", short)),
        Merge::FunctionsPerRegion | Merge::ResourcesPerKind | Merge::PrincipalsPerAccount => {
            format!("{count} × {}", kind.as_str())
        }
        Merge::KindsPerRegion | Merge::PerAccount => {
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for m in members {
                *kinds.entry(t.node(*m).kind.as_str()).or_default() += 1;
            }
            let parts: Vec<String> = kinds.iter().map(|(k, c)| format!("{c} {k}")).collect();
            format!("{count} nodes: {}", parts.join(", "))
        }
    }
}

/// The kind most members have (the first by name on a tie).
fn main_kind(t: &Topology<'_>, members: &[NodeIndex]) -> NodeKind {
    let mut kinds: BTreeMap<&str, (usize, NodeKind)> = BTreeMap::new();
    for m in members {
        let k = t.node(*m).kind;
        kinds.entry(k.as_str()).or_insert((0, k)).0 += 1;
    }
    let best = kinds.values().map(|(c, _)| *c).max().unwrap_or(0);
    kinds
        .values()
        .find(|(c, _)| *c == best)
        .map_or(NodeKind::External, |(_, k)| *k)
}

fn vnode(
    t: &Topology<'_>,
    why: Merge,
    first: NodeIndex,
    members: &[NodeIndex],
    by_resource: &BTreeMap<&str, BTreeSet<&str>>,
) -> VNode {
    let n = t.node(first);
    let mut checks: BTreeSet<&str> = BTreeSet::new();
    for m in members {
        if let Some(c) = by_resource.get(t.node(*m).id) {
            checks.extend(c.iter().copied());
        }
    }
    let kind = main_kind(t, members);
    let app = t
        .owner(first)
        .filter(|_| why != Merge::PerAccount && why != Merge::KindsPerRegion)
        .map(|a| format!(" [{}]", t.app_name(a)))
        .unwrap_or_default();
    let region = if why == Merge::PerAccount { None } else { n.region };
    let zone = region.map(|r| {
        t.config
            .zone_of_region(r)
            .map_or_else(|| "no zone".to_string(), |z| format!("zone {z}"))
    });
    let account = n.account.map(|a| {
        let name = t
            .snapshot
            .organization
            .accounts
            .iter()
            .find(|x| x.id == a)
            .map_or("", |x| x.name.as_str());
        format!("account {a} {name}").trim_end().to_string()
    });
    VNode {
        label: format!("{}{app}", group_label(t, why, first, members, kind)),
        kind,
        shared: members.iter().any(|m| t.is_shared(*m)),
        checks: checks.into_iter().map(str::to_string).collect(),
        count: members.len(),
        place: (
            zone.or_else(|| Some("global".to_string()))
                .filter(|_| n.account.is_some()),
            account,
            region.map(str::to_string),
        ),
    }
}

/// Nodes by cluster path: zone → account → region → node indices (empty strings for none).
pub type Tree = BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<usize>>>>;

/// The nodes of `view` by cluster path, every level sorted.
pub fn tree(view: &View) -> Tree {
    let mut out: Tree = BTreeMap::new();
    for (i, n) in view.nodes.iter().enumerate() {
        let (z, a, r) = &n.place;
        out.entry(z.clone().unwrap_or_default())
            .or_default()
            .entry(a.clone().unwrap_or_default())
            .or_default()
            .entry(r.clone().unwrap_or_default())
            .or_default()
            .push(i);
    }
    out
}

/// The tooltip of a node: its label, whether it is shared, the checks with findings on it.
pub fn tooltip(n: &VNode) -> String {
    let mut t = n.label.clone();
    if n.shared {
        t.push_str(" (shared)");
    }
    if !n.checks.is_empty() {
        t.push_str(&format!(" findings: {}", n.checks.join(", ")));
    }
    t
}

/// The legend's entries: (kind name, kind), in the order drawn.
pub const LEGEND: &[(&str, NodeKind)] = &[
    ("eventbridge-bus", NodeKind::EventBus),
    ("eventbridge-rule", NodeKind::Rule),
    ("eventbridge-subscriber", NodeKind::Subscriber),
    ("lambda-function", NodeKind::Function),
    ("resource", NodeKind::Resource(crate::model::ResourceKind::SqsQueue)),
    ("iam-role", NodeKind::Role),
    ("agent-space", NodeKind::AgentSpace),
    ("external", NodeKind::External),
];

/// The legend class of a kind (all resources share one, and users and groups draw as roles).
pub fn legend_class(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::EventBus => "eventbridge-bus",
        NodeKind::Rule => "eventbridge-rule",
        NodeKind::Subscriber => "eventbridge-subscriber",
        NodeKind::Function => "lambda-function",
        NodeKind::Resource(_) => "resource",
        NodeKind::Role | NodeKind::User | NodeKind::Group => "iam-role",
        NodeKind::AgentSpace => "agent-space",
        NodeKind::External | NodeKind::Account => "external",
    }
}

/// The column of a kind in a left-to-right flow: bus → rule/subscriber → function →
/// resources → principals.
pub fn layer(kind: NodeKind) -> usize {
    match kind {
        NodeKind::EventBus => 0,
        NodeKind::Rule | NodeKind::Subscriber => 1,
        NodeKind::Function => 2,
        NodeKind::Role | NodeKind::User | NodeKind::Group | NodeKind::AgentSpace => 4,
        _ => 3,
    }
}
