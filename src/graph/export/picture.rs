//! The DOT and Mermaid pictures of the topology: nesting instead of `contains` edges (clusters
//! zone → account → region), delivery flowing left to right, shape and colour by kind, shared
//! resources and resources with findings outlined (the checks named in the tooltip),
//! cross-account and cross-zone edges drawn distinctly, a legend, and functions that look alike
//! (same account, region, owner, and the same neighbours) collapsed into one node with a count.
//! Every name goes through the DOT or Mermaid sink function of [`crate::escape`].

use crate::escape::{dot_label, mermaid_label};
use crate::finding::Finding;
use crate::graph::{EdgeKind, NodeKind, Topology};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Functions that look alike are collapsed when there are at least this many.
pub const COLLAPSE_MIN: usize = 3;

/// A drawn node: one topology node, or several alike functions.
pub struct VNode {
    pub label: String,
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

/// What both pictures draw.
pub struct View {
    pub nodes: Vec<VNode>,
    /// (from, to, kind, crossing), sorted, without `contains`.
    pub edges: Vec<(usize, usize, EdgeKind, Crossing)>,
}

fn short(id: &str) -> &str {
    id.rsplit([':', '/']).next().filter(|s| !s.is_empty()).unwrap_or(id)
}

/// The signature that makes functions alike.
fn signature(t: &Topology<'_>, ix: NodeIndex, keep: &BTreeSet<NodeIndex>) -> Option<String> {
    let n = t.node(ix);
    if n.kind != NodeKind::Function {
        return None;
    }
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
    Some(format!(
        "{:?}|{:?}|{:?}|{}",
        n.account,
        n.region,
        t.owner(ix),
        around.join(",")
    ))
}

impl View {
    pub fn new(t: &Topology<'_>, nodes: &[NodeIndex], findings: &[Finding]) -> Self {
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
        // Group alike functions; every other node is its own group.
        let mut groups: BTreeMap<String, Vec<NodeIndex>> = BTreeMap::new();
        for &ix in &keep {
            let key = signature(t, ix, &keep).unwrap_or_else(|| format!("node|{}", t.node(ix).id));
            groups.entry(key).or_default().push(ix);
        }
        let mut split: Vec<Vec<NodeIndex>> = Vec::new();
        for (_, members) in groups {
            if members.len() >= COLLAPSE_MIN {
                split.push(members);
            } else {
                split.extend(members.into_iter().map(|m| vec![m]));
            }
        }
        split.sort_by_key(|m| m.first().map(|ix| t.node(*ix).id));
        let mut slot: BTreeMap<NodeIndex, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, members) in split.iter().enumerate() {
            let Some(&first) = members.first() else { continue };
            for m in members {
                slot.insert(*m, i);
            }
            out.push(vnode(t, first, members, &by_resource));
        }
        let mut edges: BTreeSet<(usize, usize, EdgeKind, Crossing)> = BTreeSet::new();
        for e in t.graph.edge_references() {
            if *e.weight() == EdgeKind::Contains {
                continue;
            }
            let (Some(&a), Some(&b)) = (slot.get(&e.source()), slot.get(&e.target())) else {
                continue;
            };
            if a == b {
                continue;
            }
            let (na, nb) = (t.node(e.source()), t.node(e.target()));
            let crossing = if t.zone_of(e.source()).is_some()
                && t.zone_of(e.target()).is_some()
                && t.zone_of(e.source()) != t.zone_of(e.target())
            {
                Crossing::Zone
            } else if na.account != nb.account {
                Crossing::Account
            } else {
                Crossing::Same
            };
            edges.insert((a, b, *e.weight(), crossing));
        }
        View {
            nodes: out,
            edges: edges.into_iter().collect(),
        }
    }
}

fn vnode(
    t: &Topology<'_>,
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
    let app = t
        .owner(first)
        .map(|a| format!(" [{}]", t.app_name(a)))
        .unwrap_or_default();
    let label = if members.len() > 1 {
        format!("{} × {} like {}{app}", members.len(), n.kind.as_str(), short(n.id))
    } else {
        format!("{}{app}", short(n.id))
    };
    let zone = n.region.map(|r| {
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
        label,
        kind: n.kind,
        shared: members.iter().any(|m| t.is_shared(*m)),
        checks: checks.into_iter().map(str::to_string).collect(),
        count: members.len(),
        place: (
            zone.or_else(|| Some("global".to_string()))
                .filter(|_| n.account.is_some()),
            account,
            n.region.map(str::to_string),
        ),
    }
}

/// Shape and fill of a kind (DOT); Mermaid uses the fill as its class.
fn style(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::EventBus => ("cds", "#fbefff"),
        NodeKind::Rule | NodeKind::Subscriber => ("diamond", "#ddf4ff"),
        NodeKind::Function => ("box", "#fff8c5"),
        NodeKind::Role | NodeKind::User | NodeKind::Group => ("hexagon", "#eeeeee"),
        NodeKind::AgentSpace => ("doubleoctagon", "#dafbe1"),
        NodeKind::External => ("box", "#ffffff"),
        NodeKind::Account => ("folder", "#ffffff"),
        NodeKind::Resource(_) => ("cylinder", "#f6f8fa"),
    }
}

/// The legend's entries: (kind name, kind).
const LEGEND: &[(&str, NodeKind)] = &[
    ("eventbridge-bus", NodeKind::EventBus),
    ("eventbridge-rule", NodeKind::Rule),
    ("eventbridge-subscriber", NodeKind::Subscriber),
    ("lambda-function", NodeKind::Function),
    ("resource", NodeKind::Resource(crate::model::ResourceKind::SqsQueue)),
    ("iam-role", NodeKind::Role),
    ("agent-space", NodeKind::AgentSpace),
    ("external", NodeKind::External),
];

/// Nodes by cluster path: zone → account → region → node indices (empty strings for none).
type Tree = BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<usize>>>>;

fn tree(view: &View) -> Tree {
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

fn tooltip(n: &VNode) -> String {
    let mut t = n.label.clone();
    if n.shared {
        t.push_str(" (shared)");
    }
    if !n.checks.is_empty() {
        t.push_str(&format!(" findings: {}", n.checks.join(", ")));
    }
    t
}

/// Graphviz DOT.
pub fn dot(view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "digraph topology {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  newrank=true;")?;
    writeln!(out, "  node [fontsize=10, style=\"filled\"];")?;
    let mut c = 0;
    for (zone, accounts) in tree(view) {
        let zone_open = !zone.is_empty();
        if zone_open {
            writeln!(out, "  subgraph cluster_{c} {{")?;
            writeln!(out, "    label=\"{}\";", dot_label(&zone))?;
            c += 1;
        }
        for (account, regions) in accounts {
            let account_open = !account.is_empty();
            if account_open {
                writeln!(out, "    subgraph cluster_{c} {{")?;
                writeln!(out, "      label=\"{}\";", dot_label(&account))?;
                writeln!(out, "      style=\"rounded\";")?;
                c += 1;
            }
            for (region, nodes) in regions {
                let region_open = !region.is_empty();
                if region_open {
                    writeln!(out, "      subgraph cluster_{c} {{")?;
                    writeln!(out, "        label=\"{}\";", dot_label(&region))?;
                    writeln!(out, "        style=\"dashed\";")?;
                    c += 1;
                }
                for i in nodes {
                    dot_node(view, i, out)?;
                }
                if region_open {
                    writeln!(out, "      }}")?;
                }
            }
            if account_open {
                writeln!(out, "    }}")?;
            }
        }
        if zone_open {
            writeln!(out, "  }}")?;
        }
    }
    for (a, b, kind, crossing) in &view.edges {
        let style = match crossing {
            Crossing::Same => "color=\"#57606a\"",
            Crossing::Account => "color=\"#0969da\", style=dashed",
            Crossing::Zone => "color=\"#cf222e\", style=bold, penwidth=2",
        };
        writeln!(out, "  n{a} -> n{b} [{style}, label=\"{}\"];", kind.as_str())?;
    }
    writeln!(out, "  subgraph cluster_legend {{")?;
    writeln!(out, "    label=\"legend\";")?;
    for (i, (name, kind)) in LEGEND.iter().enumerate() {
        let (shape, fill) = style(*kind);
        writeln!(
            out,
            "    legend{i} [shape={shape}, fillcolor=\"{fill}\", label=\"{name}\"];"
        )?;
    }
    writeln!(
        out,
        "    legend_shared [shape=box, fillcolor=\"#ffffff\", color=\"#0969da\", penwidth=3, label=\"shared resource\"];"
    )?;
    writeln!(
        out,
        "    legend_finding [shape=box, fillcolor=\"#ffffff\", color=\"#cf222e\", penwidth=3, label=\"has findings\"];"
    )?;
    for end in ["a", "b", "c", "d"] {
        writeln!(out, "    legend_{end} [shape=point, label=\"\"];")?;
    }
    writeln!(
        out,
        "    legend_a -> legend_b [color=\"#0969da\", style=dashed, label=\"cross-account\"];"
    )?;
    writeln!(
        out,
        "    legend_c -> legend_d [color=\"#cf222e\", style=bold, label=\"cross-zone\"];"
    )?;
    writeln!(out, "  }}")?;
    writeln!(out, "}}")
}

fn dot_node(view: &View, i: usize, out: &mut dyn Write) -> io::Result<()> {
    let Some(n) = view.nodes.get(i) else { return Ok(()) };
    let (shape, fill) = style(n.kind);
    let outline = if !n.checks.is_empty() {
        ", color=\"#cf222e\", penwidth=3"
    } else if n.shared {
        ", color=\"#0969da\", penwidth=3"
    } else {
        ""
    };
    let peripheries = if n.count > 1 { ", peripheries=2" } else { "" };
    writeln!(
        out,
        "        n{i} [shape={shape}, fillcolor=\"{fill}\"{outline}{peripheries}, tooltip=\"{}\", label=\"{}\"];",
        dot_label(&tooltip(n)),
        dot_label(&n.label)
    )
}

/// Mermaid flowchart.
pub fn mermaid(view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "flowchart LR")?;
    let mut c = 0;
    for (zone, accounts) in tree(view) {
        let zone_open = !zone.is_empty();
        if zone_open {
            writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&zone))?;
            c += 1;
        }
        for (account, regions) in accounts {
            let account_open = !account.is_empty();
            if account_open {
                writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&account))?;
                c += 1;
            }
            for (region, nodes) in regions {
                let region_open = !region.is_empty();
                if region_open {
                    writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&region))?;
                    c += 1;
                }
                for i in nodes {
                    if let Some(n) = view.nodes.get(i) {
                        writeln!(out, "  n{i}[\"{}\"]", mermaid_label(&n.label))?;
                    }
                }
                if region_open {
                    writeln!(out, "  end")?;
                }
            }
            if account_open {
                writeln!(out, "  end")?;
            }
        }
        if zone_open {
            writeln!(out, "  end")?;
        }
    }
    for (a, b, kind, _) in &view.edges {
        writeln!(out, "  n{a} -->|{}| n{b}", kind.as_str())?;
    }
    mermaid_styles(view, out)
}

fn mermaid_styles(view: &View, out: &mut dyn Write) -> io::Result<()> {
    for (name, kind) in LEGEND {
        writeln!(out, "  classDef {} fill:{}", name, style(*kind).1)?;
    }
    writeln!(out, "  classDef shared stroke:#0969da,stroke-width:3px")?;
    writeln!(out, "  classDef finding stroke:#cf222e,stroke-width:3px")?;
    for (i, n) in view.nodes.iter().enumerate() {
        let kind = LEGEND
            .iter()
            .find(|(_, k)| style(*k) == style(n.kind))
            .map_or("external", |(name, _)| name);
        writeln!(out, "  class n{i} {kind}")?;
        if !n.checks.is_empty() {
            writeln!(out, "  class n{i} finding")?;
        } else if n.shared {
            writeln!(out, "  class n{i} shared")?;
        }
    }
    for (i, (_, _, _, crossing)) in view.edges.iter().enumerate() {
        match crossing {
            Crossing::Same => {}
            Crossing::Account => writeln!(out, "  linkStyle {i} stroke:#0969da,stroke-dasharray:6 3")?,
            Crossing::Zone => writeln!(out, "  linkStyle {i} stroke:#cf222e,stroke-width:3px")?,
        }
    }
    Ok(())
}
