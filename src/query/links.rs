//! The delivery, use and assume links of the topology as one list with evidence, for `impact`
//! and `path`: the graph's typed edges (account containment left out) and the dependencies the
//! usage derivation found (a function's execution role naming a resource), each with the
//! detail that showed it.

use super::can::Hop;
use crate::graph::{EdgeKind, Topology};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashSet};

/// One link between two nodes.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: NodeIndex,
    pub to: NodeIndex,
    pub kind: EdgeKind,
    /// For a derived dependency: its source node and position in `dependencies_of(source)`
    /// (the evidence is rendered only for links an answer shows).
    dep: Option<(NodeIndex, usize)>,
}

/// Every link, indexed both ways.
pub struct Links {
    pub all: Vec<Link>,
    out: BTreeMap<NodeIndex, Vec<usize>>,
    inc: BTreeMap<NodeIndex, Vec<usize>>,
}

fn edge_detail(t: &Topology<'_>, from: NodeIndex, to: NodeIndex, kind: EdgeKind) -> String {
    let (f, g) = (t.node(from).id, t.node(to).id);
    if let Some(r) = t
        .snapshot
        .relations
        .iter()
        .find(|r| r.from == f && r.to == g && r.kind == kind)
    {
        return r.evidence.clone();
    }
    match kind {
        EdgeKind::Routes => "rule on the event bus".to_string(),
        EdgeKind::Targets => "rule target (or its dead-letter queue)".to_string(),
        EdgeKind::Invokes => "event-source mapping".to_string(),
        EdgeKind::ExecutesAs => "execution role".to_string(),
        EdgeKind::CanAssume => "Agent Space association role".to_string(),
        EdgeKind::Uses => "referenced in the function's configuration".to_string(),
        EdgeKind::Grants => "resource policy grant".to_string(),
        EdgeKind::Contains => "account holds it".to_string(),
    }
}

impl Links {
    /// Collects the links of `t`, sorted by (from, to, kind).
    pub fn new(t: &Topology<'_>) -> Self {
        let mut all: Vec<Link> = t
            .graph
            .edge_references()
            .filter(|e| *e.weight() != EdgeKind::Contains)
            .map(|e| Link {
                from: e.source(),
                to: e.target(),
                kind: *e.weight(),
                dep: None,
            })
            .collect();
        let mut seen: HashSet<(NodeIndex, NodeIndex)> = all.iter().map(|l| (l.from, l.to)).collect();
        for (ix, _) in t.nodes() {
            for (i, d) in t.dependencies_of(ix).iter().enumerate() {
                if !seen.insert((d.from, d.to)) {
                    continue;
                }
                all.push(Link {
                    from: d.from,
                    to: d.to,
                    kind: EdgeKind::Uses,
                    dep: Some((ix, i)),
                });
            }
        }
        // Node indices follow the snapshot's order: deterministic; answers sort what they show.
        all.sort_by_key(|l| (l.from.index(), l.to.index(), l.kind));
        let mut out: BTreeMap<NodeIndex, Vec<usize>> = BTreeMap::new();
        let mut inc: BTreeMap<NodeIndex, Vec<usize>> = BTreeMap::new();
        for (i, l) in all.iter().enumerate() {
            out.entry(l.from).or_default().push(i);
            inc.entry(l.to).or_default().push(i);
        }
        Links { all, out, inc }
    }

    pub fn outgoing(&self, ix: NodeIndex) -> impl Iterator<Item = &Link> {
        self.out.get(&ix).into_iter().flatten().filter_map(|i| self.all.get(*i))
    }

    pub fn incoming(&self, ix: NodeIndex) -> impl Iterator<Item = &Link> {
        self.inc.get(&ix).into_iter().flatten().filter_map(|i| self.all.get(*i))
    }

    /// The link as a hop with ids.
    pub fn hop(t: &Topology<'_>, l: &Link) -> Hop {
        Hop {
            from: t.node(l.from).id.to_string(),
            to: t.node(l.to).id.to_string(),
            relation: l.kind.as_str().to_string(),
            detail: match l.dep {
                Some((src, i)) => t
                    .dependencies_of(src)
                    .get(i)
                    .and_then(|d| d.reason.evidence(t.node(d.to).id).last().map(|e| e.detail.clone()))
                    .unwrap_or_default(),
                None => edge_detail(t, l.from, l.to, l.kind),
            },
            conditions: Vec::new(),
        }
    }
}
