//! What a change does: findings matched by their stable fingerprint (new, resolved, unchanged)
//! and the topology's nodes and edges (added, removed, changed), each edge marked when it
//! crosses accounts or residency zones.

use crate::finding::{Finding, Severity};
use crate::graph::Topology;
use crate::model::Snapshot;
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Findings before and after, matched by fingerprint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingDiff {
    pub new: Vec<Finding>,
    pub resolved: Vec<Finding>,
    pub unchanged: Vec<Finding>,
}

impl FindingDiff {
    /// Matches findings by `fingerprint`; a fingerprint seen twice before and once after leaves
    /// one resolved. Each list keeps the findings' order.
    pub fn new(before: &[Finding], after: &[Finding], fingerprint: impl Fn(&Finding) -> String) -> Self {
        let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
        for f in before {
            *remaining.entry(fingerprint(f)).or_default() += 1;
        }
        let mut diff = FindingDiff::default();
        let mut matched: BTreeMap<String, usize> = BTreeMap::new();
        for f in after {
            let fp = fingerprint(f);
            match remaining.get_mut(&fp).filter(|n| **n > 0) {
                Some(n) => {
                    *n -= 1;
                    *matched.entry(fp).or_default() += 1;
                    diff.unchanged.push(f.clone());
                }
                None => diff.new.push(f.clone()),
            }
        }
        for f in before {
            let fp = fingerprint(f);
            match matched.get_mut(&fp).filter(|n| **n > 0) {
                Some(n) => *n -= 1,
                None => diff.resolved.push(f.clone()),
            }
        }
        diff
    }

    /// Whether the change introduces a finding at or above `threshold` that `counts` lets fail.
    pub fn introduces(&self, threshold: Severity, counts: impl Fn(&Finding) -> bool) -> bool {
        self.new.iter().any(|f| f.severity >= threshold && counts(f))
    }
}

/// A node of the topology that the change adds, removes or changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NodeChange {
    pub id: String,
    pub kind: String,
}

/// An edge of the topology that the change adds or removes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EdgeChange {
    pub from: String,
    pub to: String,
    pub relation: String,
    /// The endpoints are in different accounts.
    pub cross_account: bool,
    /// The endpoints are in different residency zones.
    pub cross_zone: bool,
}

/// Topology changes, each list sorted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopologyDiff {
    pub added_nodes: Vec<NodeChange>,
    pub removed_nodes: Vec<NodeChange>,
    pub changed_nodes: Vec<NodeChange>,
    pub added_edges: Vec<EdgeChange>,
    pub removed_edges: Vec<EdgeChange>,
}

impl TopologyDiff {
    pub fn is_empty(&self) -> bool {
        self.added_nodes.is_empty()
            && self.removed_nodes.is_empty()
            && self.changed_nodes.is_empty()
            && self.added_edges.is_empty()
            && self.removed_edges.is_empty()
    }

    /// Compares two topologies built with the same config.
    pub fn new(before: &Topology<'_>, after: &Topology<'_>) -> Self {
        let (nb, na) = (nodes(before), nodes(after));
        let (rb, ra) = (records(before.snapshot), records(after.snapshot));
        let (eb, ea) = (edges(before), edges(after));
        TopologyDiff {
            added_nodes: na
                .iter()
                .filter(|(k, _)| !nb.contains_key(*k))
                .map(node_change)
                .collect(),
            removed_nodes: nb
                .iter()
                .filter(|(k, _)| !na.contains_key(*k))
                .map(node_change)
                .collect(),
            changed_nodes: na
                .iter()
                .filter(|(k, _)| nb.contains_key(*k) && rb.get(*k) != ra.get(*k))
                .map(node_change)
                .collect(),
            added_edges: ea.difference(&eb).cloned().collect(),
            removed_edges: eb.difference(&ea).cloned().collect(),
        }
    }
}

fn node_change((id, kind): (&String, &String)) -> NodeChange {
    NodeChange {
        id: id.clone(),
        kind: kind.clone(),
    }
}

fn nodes(t: &Topology<'_>) -> BTreeMap<String, String> {
    t.nodes()
        .map(|(_, n)| (n.id.to_string(), n.kind.as_str().to_string()))
        .collect()
}

fn edges(t: &Topology<'_>) -> BTreeSet<EdgeChange> {
    t.graph
        .edge_references()
        .map(|e| {
            let (a, b) = (t.node(e.source()), t.node(e.target()));
            let (za, zb) = (t.zone_of(e.source()), t.zone_of(e.target()));
            EdgeChange {
                from: a.id.to_string(),
                to: b.id.to_string(),
                relation: e.weight().as_str().to_string(),
                cross_account: a.account.is_some() && b.account.is_some() && a.account != b.account,
                cross_zone: za.is_some() && zb.is_some() && za != zb,
            }
        })
        .collect()
}

/// Each record of the snapshot as JSON text, by identity, to see which nodes changed.
fn records(s: &Snapshot) -> BTreeMap<String, String> {
    fn put<T: Serialize>(out: &mut BTreeMap<String, String>, id: &str, record: &T) {
        out.insert(id.to_string(), serde_json::to_string(record).unwrap_or_default());
    }
    let mut out = BTreeMap::new();
    for a in &s.organization.accounts {
        put(&mut out, &a.id, a);
    }
    for r in &s.roles {
        let mut r = r.clone();
        // A policy's document lives in `managed_policies`: a changed document changes the role.
        let docs: Vec<_> = s
            .managed_policies
            .iter()
            .filter(|p| r.attached_policies.contains(&p.arn))
            .collect();
        r.tags.insert(
            "\u{0}attached".to_string(),
            serde_json::to_string(&docs).unwrap_or_default(),
        );
        put(&mut out, &r.arn, &r);
    }
    for u in &s.users {
        put(&mut out, &u.arn, u);
    }
    for b in &s.event_buses {
        put(&mut out, &b.arn, b);
    }
    for r in &s.rules {
        put(&mut out, &r.arn, r);
    }
    for f in &s.functions {
        put(&mut out, &f.arn, f);
    }
    for r in &s.resources {
        put(&mut out, &r.arn, r);
    }
    for a in &s.agent_spaces {
        put(&mut out, &a.arn, a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, Status};

    fn finding(check: &str, resource: &str, message: &str) -> Finding {
        Finding {
            check: check.into(),
            severity: Severity::High,
            status: Status::Violation,
            title: "t".into(),
            message: message.into(),
            resource: resource.into(),
            account: None,
            region: None,
            applications: vec![],
            evidence: vec![Evidence::new("uses", "a", Some(resource.to_string()), "d")],
            remediation: "r".into(),
            conditions: vec![],
            location: None,
        }
    }

    #[test]
    fn findings_match_by_fingerprint_not_wording() {
        let fp = |f: &Finding| crate::output::fingerprint(f);
        let before = [finding("c", "x", "old wording"), finding("c", "gone", "m")];
        let after = [finding("c", "x", "new wording"), finding("c", "fresh", "m")];
        let d = FindingDiff::new(&before, &after, fp);
        assert_eq!(
            d.unchanged.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(),
            ["x"]
        );
        assert_eq!(d.new.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(), ["fresh"]);
        assert_eq!(
            d.resolved.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(),
            ["gone"]
        );
        assert!(d.introduces(Severity::High, |_| true));
        assert!(!d.introduces(Severity::Critical, |_| true));
    }

    #[test]
    fn duplicate_fingerprints_are_counted() {
        let fp = |f: &Finding| crate::output::fingerprint(f);
        let before = [finding("c", "x", "a"), finding("c", "x", "b")];
        let after = [finding("c", "x", "a")];
        let d = FindingDiff::new(&before, &after, fp);
        assert_eq!((d.new.len(), d.unchanged.len(), d.resolved.len()), (0, 1, 1));
    }
}
