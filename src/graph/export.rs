//! Graph export: Graphviz DOT, Mermaid and JSON, whole or limited to one application's
//! footprint. Nodes and edges are sorted so the output is byte-stable. JSON is the raw graph;
//! DOT, Mermaid and the HTML report's SVG are drawings of one [`layout::View`] (clusters zone →
//! account → region, similar functions collapsed, a node budget, crossings marked), rendered by
//! [`picture`] (DOT, Mermaid) and placed by [`svg`] (SVG geometry).

pub mod layout;
mod picture;
pub mod svg;

use super::{AppId, EdgeKind, NodeKind, Topology};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<&'a str>,
    used_by: Vec<&'a str>,
    shared: bool,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a str,
    to: &'a str,
    kind: EdgeKind,
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

/// Writes the graph (or one application's part of it) in `format`.
pub fn export(
    t: &Topology<'_>,
    app: Option<AppId>,
    format: GraphFormat,
    findings: &[crate::finding::Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    let nodes = selected(t, app);
    let ids: BTreeMap<NodeIndex, usize> = nodes.iter().enumerate().map(|(i, ix)| (*ix, i)).collect();
    let mut edges: Vec<(NodeIndex, NodeIndex, EdgeKind)> = t
        .graph
        .edge_references()
        .filter(|e| ids.contains_key(&e.source()) && ids.contains_key(&e.target()))
        .map(|e| (e.source(), e.target(), *e.weight()))
        .collect();
    edges.sort_by(|a, b| (t.node(a.0).id, t.node(a.1).id, a.2).cmp(&(t.node(b.0).id, t.node(b.1).id, b.2)));
    match format {
        GraphFormat::Json => {
            let graph = JsonGraph {
                nodes: nodes
                    .iter()
                    .map(|&ix| {
                        let n = t.node(ix);
                        JsonNode {
                            id: n.id,
                            kind: n.kind.as_str(),
                            account: n.account.filter(|_| n.kind != NodeKind::Account),
                            region: n.region,
                            application: t.owner(ix).map(|a| t.app_name(a)),
                            used_by: t.users(ix).iter().map(|(a, _)| t.app_name(*a)).collect(),
                            shared: t.is_shared(ix),
                        }
                    })
                    .collect(),
                edges: edges
                    .iter()
                    .map(|(a, b, k)| JsonEdge {
                        from: t.node(*a).id,
                        to: t.node(*b).id,
                        kind: *k,
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &graph)?;
            writeln!(out)
        }
        GraphFormat::Dot => picture::dot(&layout::View::new(t, &nodes, findings), out),
        GraphFormat::Mermaid => picture::mermaid(&layout::View::new(t, &nodes, findings), out),
    }
}

/// The drawing of one application's footprint (its own and used nodes), with the findings given
/// marked on their resources.
pub fn app_view(t: &Topology<'_>, app: AppId, findings: &[crate::finding::Finding]) -> layout::View {
    layout::View::new(t, &selected(t, Some(app)), findings)
}

/// The Mermaid flowchart of one application (for the runbook).
pub fn app_mermaid(t: &Topology<'_>, app: AppId, findings: &[crate::finding::Finding]) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; the labels are escaped, so the text is UTF-8.
    let _ = picture::mermaid(&app_view(t, app, findings), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The nodes to export, sorted by id: everything, or an application's own and used nodes plus
/// the accounts holding them.
fn selected(t: &Topology<'_>, app: Option<AppId>) -> Vec<NodeIndex> {
    let mut chosen: BTreeSet<(&str, NodeIndex)> = BTreeSet::new();
    for (ix, node) in t.nodes() {
        let keep = match app {
            None => true,
            Some(a) => {
                node.kind != NodeKind::Account && (t.owner(ix) == Some(a) || t.users(ix).iter().any(|(u, _)| *u == a))
            }
        };
        if keep {
            chosen.insert((node.id, ix));
            if app.is_some()
                && let Some(acc) = node.account.and_then(|a| t.find(a))
            {
                chosen.insert((t.node(acc).id, acc));
            }
        }
    }
    chosen.into_iter().map(|(_, ix)| ix).collect()
}

#[cfg(test)]
mod tests;
