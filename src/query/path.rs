//! `path`: the shortest delivery, use and assume paths from one node to another — the graph's
//! links (routes, targets, invocations, execution roles, uses, grants, Agent Space roles) and
//! the role assumptions the IAM engine confirms — every hop with its evidence.

use super::can::{Hop, hop};
use super::links::Links;
use super::{AnswerFormat, QueryError, shown};
use crate::graph::{NodeKind, Topology};
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

/// The hops out of `ix`: its links, and for a principal the roles it may assume directly.
fn next(t: &Topology<'_>, links: &Links, ix: NodeIndex) -> Vec<(NodeIndex, Hop)> {
    let mut out: Vec<(NodeIndex, Hop)> = links.outgoing(ix).map(|l| (l.to, Links::hop(t, l))).collect();
    let node = t.node(ix);
    if matches!(node.kind, NodeKind::Role | NodeKind::User) {
        let iam = t.iam();
        for (role, chain) in iam.reach.reachable_from(iam.store, node.id) {
            if chain.len() == 2
                && let Some(r) = t.find(&role)
            {
                out.push((r, hop(t, node.id, &role).0));
            }
        }
    }
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
pub fn path(t: &Topology<'_>, from: &str, to: &str) -> Result<PathAnswer, QueryError> {
    let (a, b) = (node(t, from, "--from")?, node(t, to, "--to")?);
    let links = Links::new(t);
    // Breadth-first by layers, every shortest predecessor kept.
    let mut parents: BTreeMap<NodeIndex, Vec<(NodeIndex, Hop)>> = BTreeMap::new();
    let mut depth: BTreeMap<NodeIndex, usize> = BTreeMap::from([(a, 0)]);
    let mut layer = vec![a];
    let mut level = 0;
    while !layer.is_empty() && !depth.contains_key(&b) {
        level += 1;
        let mut next_layer: BTreeSet<NodeIndex> = BTreeSet::new();
        for &n in &layer {
            for (m, h) in next(t, &links, n) {
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
                writeln!(
                    out,
                    "{}{} -[{}]-> {} ({})",
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
