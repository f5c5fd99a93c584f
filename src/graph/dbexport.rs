//! Graph-database exports: Amazon Neptune bulk-loader CSV (Gremlin property-graph format), Neo4j
//! `neo4j-admin database import` CSV, and a plain openCypher script. Nodes get a label per kind
//! (plus `Node`), relationships a type per edge kind; every property of the JSON graph export
//! (id, kind, account, region, application, used_by, shared) plus the tags (as JSON text), the
//! evidence of each edge, the confirmed role assumptions (`CAN_ASSUME` with the trust
//! statement) and the snapshot's `crawled_at`, which also prefixes every node key so that many
//! snapshots load side by side. Rows are sorted: the same snapshot gives byte-identical files.
//!
//! Formats: <https://docs.aws.amazon.com/neptune/latest/userguide/bulk-load-tutorial-format-gremlin.html>,
//! <https://neo4j.com/docs/operations-manual/current/tools/neo4j-admin/neo4j-admin-import/>.

use super::{EdgeKind, NodeKind, Topology};
use petgraph::visit::EdgeRef;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Which database format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DbFormat {
    NeptuneCsv,
    Neo4jCsv,
    Cypher,
}

/// A node as exported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbNode {
    /// `crawled_at|id`: unique across snapshots.
    pub key: String,
    pub id: String,
    pub kind: &'static str,
    pub label: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub application: Option<String>,
    pub used_by: Vec<String>,
    pub shared: bool,
    /// The tags as a JSON object (keys sorted).
    pub tags: String,
}

/// A relationship as exported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbEdge {
    pub from: String,
    pub to: String,
    /// `USES`, `TARGETS`, …
    pub rel: String,
    pub kind: String,
    pub evidence: String,
}

/// The label of a node kind: `sqs-queue` → `SqsQueue`.
pub fn label_of(kind: &str) -> String {
    kind.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The relationship type of an edge kind: `executes-as` → `EXECUTES_AS`.
pub fn rel_of(kind: &str) -> String {
    kind.to_ascii_uppercase().replace('-', "_")
}

/// Every node and relationship to export, sorted.
pub fn collect(t: &Topology<'_>) -> (Vec<DbNode>, Vec<DbEdge>) {
    let key = |id: &str| node_key(t, id);
    let mut nodes: Vec<DbNode> = t
        .nodes()
        .map(|(ix, n)| DbNode {
            key: key(n.id),
            id: n.id.to_string(),
            kind: n.kind.as_str(),
            label: label_of(n.kind.as_str()),
            account: n.account.filter(|_| n.kind != NodeKind::Account).map(str::to_string),
            region: n.region.map(str::to_string),
            application: t.owner(ix).map(|a| t.app_name(a).to_string()),
            used_by: t.users(ix).iter().map(|(a, _)| t.app_name(*a).to_string()).collect(),
            shared: t.is_shared(ix),
            tags: serde_json::to_string(&n.tags.cloned().unwrap_or_default()).unwrap_or_else(|_| "{}".to_string()),
        })
        .collect();
    nodes.sort();
    let mut edges: BTreeSet<DbEdge> = BTreeSet::new();
    let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
    for e in t.graph.edge_references() {
        let (a, b, k) = (t.node(e.source()).id, t.node(e.target()).id, *e.weight());
        let evidence = t
            .snapshot
            .relations
            .iter()
            .find(|r| r.from == a && r.to == b && r.kind == k)
            .map_or_else(|| default_evidence(k).to_string(), |r| r.evidence.clone());
        pairs.insert((a.to_string(), b.to_string()));
        edges.insert(edge(&key(a), &key(b), k.as_str(), evidence));
    }
    for (ix, _) in t.nodes() {
        for d in t.dependencies_of(ix) {
            let (a, b) = (t.node(d.from).id, t.node(d.to).id);
            if pairs.insert((a.to_string(), b.to_string())) {
                let detail = d
                    .reason
                    .evidence(b)
                    .last()
                    .map(|e| e.detail.clone())
                    .unwrap_or_default();
                edges.insert(edge(&key(a), &key(b), EdgeKind::Uses.as_str(), detail));
            }
        }
    }
    may_assume(t, &key, &mut edges);
    depends_on(&mut edges);
    (nodes, edges.into_iter().collect())
}

/// `MAY_ASSUME`: role assumptions the IAM engine confirms (trusts naming the principal, and the
/// principals of the snapshot behind a trust in their account, organization or anyone).
fn may_assume(t: &Topology<'_>, key: &dyn Fn(&str) -> String, edges: &mut BTreeSet<DbEdge>) {
    let iam = t.iam();
    for (ix, n) in t.nodes() {
        if n.kind != NodeKind::Role {
            continue;
        }
        for a in iam.reach.assumers(n.id) {
            let mut found = vec![a.clone()];
            found.extend(iam.reach.concrete_behind(iam.store, a, n.id));
            for c in found {
                if t.find(&c.principal).is_none_or(|p| p == ix) {
                    continue;
                }
                let cond = if c.conditional {
                    format!(" if {}", c.conditional_on.join(", "))
                } else {
                    String::new()
                };
                let detail = format!("trust statement {}{cond}", c.statement.trim_matches('`'));
                edges.insert(edge(&key(&c.principal), &key(n.id), "may-assume", detail));
            }
        }
    }
}

/// `DEPENDS_ON` (a → b: a fails when b fails), precomputed so that `impact` is one
/// variable-length match: a user on what it uses, a function or rule on its execution role, an
/// Agent Space on its role, a rule on its bus, a target on the rule delivering to it, a function
/// on the source feeding it.
fn depends_on(edges: &mut BTreeSet<DbEdge>) {
    let derived: Vec<(String, String, String)> = edges
        .iter()
        .filter_map(|e| match e.kind.as_str() {
            "uses" | "executes-as" | "can-assume" => Some((e.from.clone(), e.to.clone(), e.kind.clone())),
            "routes" | "targets" | "invokes" => Some((e.to.clone(), e.from.clone(), e.kind.clone())),
            _ => None,
        })
        .collect();
    for (a, b, why) in derived {
        edges.insert(DbEdge {
            from: a,
            to: b,
            rel: "DEPENDS_ON".to_string(),
            kind: "depends-on".to_string(),
            evidence: format!("derived from {why}"),
        });
    }
}

fn edge(from: &str, to: &str, kind: &str, evidence: String) -> DbEdge {
    DbEdge {
        from: from.to_string(),
        to: to.to_string(),
        rel: rel_of(kind),
        kind: kind.to_string(),
        evidence,
    }
}

fn default_evidence(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Contains => "account holds it",
        EdgeKind::Routes => "rule on the event bus",
        EdgeKind::Targets => "rule target (or its dead-letter queue)",
        EdgeKind::Invokes => "event-source mapping",
        EdgeKind::ExecutesAs => "execution role",
        EdgeKind::CanAssume => "Agent Space association role",
        EdgeKind::Uses => "referenced in the function's configuration",
        EdgeKind::Grants => "resource policy grant",
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote, line break or leading or
/// trailing space; quotes doubled.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A string[] cell: items joined by `;`, a `;` inside an item escaped as `\;` (Neptune's rule).
fn neptune_array(items: &[String]) -> String {
    items
        .iter()
        .map(|i| i.replace('\\', "\\\\").replace(';', "\\;"))
        .collect::<Vec<_>>()
        .join(";")
}

fn row(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// The key of a node in the export: `crawled_at|id` (`unknown|id` without `crawled_at`).
pub fn node_key(t: &Topology<'_>, id: &str) -> String {
    format!("{}|{id}", t.snapshot.crawled_at.as_deref().unwrap_or("unknown"))
}

/// A precomputed access edge `CAN` (principal → resource) with the action and decision.
pub fn access_edge(t: &Topology<'_>, principal: &str, resource: &str, action: &str, decision: &str) -> DbEdge {
    edge(
        &node_key(t, principal),
        &node_key(t, resource),
        "can",
        format!("{action} {decision}"),
    )
}

/// The files of an export with `extra` edges (e.g. [`access_edge`]s): (relative path,
/// contents). Errors name what the format cannot hold.
pub fn files(t: &Topology<'_>, format: DbFormat, extra: Vec<DbEdge>) -> Result<Vec<(String, String)>, String> {
    let stamp = t.snapshot.crawled_at.clone().unwrap_or_else(|| "unknown".to_string());
    let (nodes, mut edges) = collect(t);
    edges.extend(extra);
    edges.sort();
    edges.dedup();
    Ok(match format {
        DbFormat::NeptuneCsv => vec![
            ("nodes.csv".to_string(), neptune_nodes(&nodes, &stamp)),
            ("edges.csv".to_string(), neptune_edges(&edges, &stamp)),
        ],
        DbFormat::Neo4jCsv => {
            if let Some(bad) = nodes.iter().flat_map(|n| n.used_by.iter()).find(|a| a.contains(';')) {
                return Err(format!(
                    "application name `{}` has a `;`, the array delimiter of neo4j-admin import: not supported yet",
                    crate::escape::terminal(bad)
                ));
            }
            vec![
                ("nodes.csv".to_string(), neo4j_nodes(&nodes, &stamp)),
                ("relationships.csv".to_string(), neo4j_edges(&edges, &stamp)),
            ]
        }
        DbFormat::Cypher => vec![("graph.cypher".to_string(), cypher(&nodes, &edges, &stamp))],
    })
}

fn neptune_nodes(nodes: &[DbNode], stamp: &str) -> String {
    node_rows(
        "~id,~label,arn:String,kind:String,account:String,region:String,application:String,used_by:String[],shared:Bool,tags:String,crawled_at:String\n",
        nodes,
        stamp,
        neptune_array,
    )
}

/// The node file of both CSV formats: they differ only in the header and in how an array
/// (`used_by`) is written.
fn node_rows(header: &str, nodes: &[DbNode], stamp: &str, array: fn(&[String]) -> String) -> String {
    let mut out = String::from(header);
    for n in nodes {
        out.push_str(&row(&[
            n.key.clone(),
            format!("Node;{}", n.label),
            n.id.clone(),
            n.kind.to_string(),
            opt(&n.account),
            opt(&n.region),
            opt(&n.application),
            array(&n.used_by),
            n.shared.to_string(),
            n.tags.clone(),
            stamp.to_string(),
        ]));
    }
    out
}

fn neptune_edges(edges: &[DbEdge], stamp: &str) -> String {
    let mut out = String::from("~id,~from,~to,~label,kind:String,evidence:String,crawled_at:String\n");
    for (i, e) in edges.iter().enumerate() {
        out.push_str(&row(&[
            format!("{stamp}|e{i}"),
            e.from.clone(),
            e.to.clone(),
            e.rel.clone(),
            e.kind.clone(),
            e.evidence.clone(),
            stamp.to_string(),
        ]));
    }
    out
}

fn neo4j_nodes(nodes: &[DbNode], stamp: &str) -> String {
    node_rows(
        "key:ID,:LABEL,arn,kind,account,region,application,used_by:string[],shared:boolean,tags,crawled_at\n",
        nodes,
        stamp,
        |items| items.join(";"),
    )
}

fn neo4j_edges(edges: &[DbEdge], stamp: &str) -> String {
    let mut out = String::from(":START_ID,:END_ID,:TYPE,kind,evidence,crawled_at\n");
    for e in edges {
        out.push_str(&row(&[
            e.from.clone(),
            e.to.clone(),
            e.rel.clone(),
            e.kind.clone(),
            e.evidence.clone(),
            stamp.to_string(),
        ]));
    }
    out
}

/// An openCypher string literal: single-quoted, `\` and `'` escaped, every control or hidden
/// character as `\uXXXX` (so one statement stays on one line).
pub fn cypher_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if crate::escape::is_hidden(c) || u32::from(c) > 0xFFFF && c.is_whitespace() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn cypher_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|i| cypher_string(i)).collect::<Vec<_>>().join(", ")
    )
}

fn cypher(nodes: &[DbNode], edges: &[DbEdge], stamp: &str) -> String {
    let mut out = String::from("// topoguard graph export (openCypher); one statement per line\n");
    let st = cypher_string(stamp);
    for n in nodes {
        let mut props = vec![
            format!("key: {}", cypher_string(&n.key)),
            format!("arn: {}", cypher_string(&n.id)),
            format!("kind: {}", cypher_string(n.kind)),
        ];
        for (k, v) in [
            ("account", &n.account),
            ("region", &n.region),
            ("application", &n.application),
        ] {
            if let Some(v) = v {
                props.push(format!("{k}: {}", cypher_string(v)));
            }
        }
        props.push(format!("used_by: {}", cypher_list(&n.used_by)));
        props.push(format!("shared: {}", n.shared));
        props.push(format!("tags: {}", cypher_string(&n.tags)));
        props.push(format!("crawled_at: {st}"));
        let _ = writeln!(out, "CREATE (:Node:{} {{{}}});", n.label, props.join(", "));
    }
    for e in edges {
        let _ = writeln!(
            out,
            "MATCH (a:Node {{key: {}}}), (b:Node {{key: {}}}) CREATE (a)-[:{} {{kind: {}, evidence: {}, crawled_at: {st}}}]->(b);",
            cypher_string(&e.from),
            cypher_string(&e.to),
            e.rel,
            cypher_string(&e.kind),
            cypher_string(&e.evidence),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_escapes() {
        assert_eq!(label_of("sqs-queue"), "SqsQueue");
        assert_eq!(label_of("iam-role"), "IamRole");
        assert_eq!(rel_of("executes-as"), "EXECUTES_AS");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(cypher_string("it's\n\\"), "'it\\'s\\u000a\\\\'");
        assert_eq!(neptune_array(&["a;b".to_string(), "c".to_string()]), "a\\;b;c");
    }
}
