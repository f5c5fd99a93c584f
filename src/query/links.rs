//! The delivery, use and assume links of the topology as one list with evidence, for `impact`
//! and `path`: the graph's typed edges (account containment left out) and the dependencies the
//! usage derivation found (a function's execution role naming a resource), each with the
//! detail that showed it.

use super::can::Hop;
use crate::graph::{EdgeKind, Topology};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One link between two nodes.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: NodeIndex,
    pub to: NodeIndex,
    pub kind: EdgeKind,
    pub detail: String,
}

/// Every link, indexed both ways.
pub struct Links {
    pub all: Vec<Link>,
    out: BTreeMap<NodeIndex, Vec<usize>>,
    inc: BTreeMap<NodeIndex, Vec<usize>>,
}

type Evidences<'s> = HashMap<(&'s str, &'s str, EdgeKind), &'s str>;

fn edge_detail(t: &Topology<'_>, relations: &Evidences<'_>, from: NodeIndex, to: NodeIndex, kind: EdgeKind) -> String {
    if let Some(r) = relations.get(&(t.node(from).id, t.node(to).id, kind)) {
        return (*r).to_string();
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
    /// Collects the links of `t`, sorted by (from id, to id, kind).
    pub fn new(t: &Topology<'_>) -> Self {
        let relations: Evidences<'_> = t
            .snapshot
            .relations
            .iter()
            .map(|r| ((r.from.as_str(), r.to.as_str(), r.kind), r.evidence.as_str()))
            .collect();
        let mut all: Vec<Link> = t
            .graph
            .edge_references()
            .filter(|e| *e.weight() != EdgeKind::Contains)
            .map(|e| Link {
                from: e.source(),
                to: e.target(),
                kind: *e.weight(),
                detail: edge_detail(t, &relations, e.source(), e.target(), *e.weight()),
            })
            .collect();
        let mut seen: HashSet<(NodeIndex, NodeIndex)> = all.iter().map(|l| (l.from, l.to)).collect();
        for (ix, _) in t.nodes() {
            for d in t.dependencies_of(ix) {
                if !seen.insert((d.from, d.to)) {
                    continue;
                }
                let evidence = d.reason.evidence(t.node(d.to).id);
                let detail = evidence.last().map(|e| e.detail.clone()).unwrap_or_default();
                all.push(Link {
                    from: d.from,
                    to: d.to,
                    kind: EdgeKind::Uses,
                    detail,
                });
            }
        }
        all.sort_by(|a, b| {
            (t.node(a.from).id, t.node(a.to).id, a.kind).cmp(&(t.node(b.from).id, t.node(b.to).id, b.kind))
        });
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
            detail: l.detail.clone(),
        }
    }
}
