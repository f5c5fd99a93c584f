//! The pictures: nesting instead of `contains` edges, alike functions collapsed with a count
//! (and unlike ones kept apart), boundary-crossing edges marked, findings outlined.

use super::picture::{COLLAPSE_MIN, Crossing, View};
use super::{GraphFormat, export};
use crate::checks::testkit::{CONFIG, INVOICE, SHARED, add_function, add_queue, add_rule, org};
use crate::checks::{known_ids, run_checks};
use crate::config::parse_config;
use crate::graph::{EdgeKind, NodeKind, Topology};
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

fn with_topology<T>(s: &Value, f: impl FnOnce(&Topology<'_>) -> T) -> T {
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    f(&t)
}

fn all(t: &Topology<'_>) -> Vec<petgraph::graph::NodeIndex> {
    t.nodes().map(|(ix, _)| ix).collect()
}

#[test]
fn alike_functions_collapse_with_a_count_and_unlike_ones_stay() {
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "jobs", json!({}));
    let other = add_queue(&mut s, INVOICE, "eu-west-1", "other", json!({}));
    for i in 0..(COLLAPSE_MIN + 2) {
        add_function(&mut s, INVOICE, "eu-west-1", &format!("w{i}"), &[&q]);
    }
    // Near miss: same place, different dependency.
    add_function(&mut s, INVOICE, "eu-west-1", "odd", &[&other]);
    with_topology(&s, |t| {
        let view = View::new(t, &all(t), &[]);
        let fns: Vec<_> = view.nodes.iter().filter(|n| n.kind == NodeKind::Function).collect();
        // Each function has its own execution role, so none is alike another.
        assert!(
            fns.iter().all(|n| n.count == 1),
            "{:?}",
            fns.iter().map(|n| &n.label).collect::<Vec<_>>()
        );
        assert!(view.edges.iter().all(|(_, _, k, _)| *k != EdgeKind::Contains));
    });
    // Functions sharing one role and one queue collapse; the odd one does not.
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "jobs", json!({}));
    let first = add_function(&mut s, INVOICE, "eu-west-1", "w0", &[&q]);
    let role = s["functions"][0]["role"].clone();
    for i in 1..(COLLAPSE_MIN + 2) {
        let arn = first.replace("w0", &format!("w{i}"));
        s["functions"].as_array_mut().unwrap().push(
            json!({"arn": arn, "account": INVOICE, "region": "eu-west-1", "name": format!("w{i}"), "role": role}),
        );
    }
    add_function(&mut s, INVOICE, "eu-west-1", "odd", &[&q]);
    with_topology(&s, |t| {
        let view = View::new(t, &all(t), &[]);
        let fns: Vec<_> = view.nodes.iter().filter(|n| n.kind == NodeKind::Function).collect();
        let collapsed: Vec<_> = fns.iter().filter(|n| n.count > 1).collect();
        assert_eq!(
            collapsed.len(),
            1,
            "{:?}",
            fns.iter().map(|n| &n.label).collect::<Vec<_>>()
        );
        assert_eq!(collapsed[0].count, COLLAPSE_MIN + 2);
        assert!(
            collapsed[0]
                .label
                .starts_with(&format!("{} × lambda-function like w0", COLLAPSE_MIN + 2))
        );
        assert!(fns.iter().any(|n| n.count == 1 && n.label.starts_with("odd")));
    });
}

#[test]
fn crossings_are_marked_and_findings_outlined() {
    let mut s = org();
    let us = add_queue(&mut s, INVOICE, "us-east-1", "us-q", json!({}));
    let shared = add_queue(&mut s, SHARED, "eu-west-1", "shared-q", json!({}));
    let same = add_queue(&mut s, INVOICE, "eu-west-1", "local-q", json!({}));
    add_rule(&mut s, INVOICE, "eu-west-1", "r", &[&us, &shared, &same], json!({}));
    with_topology(&s, |t| {
        let findings = run_checks(t, "test.toml").findings;
        let view = View::new(t, &all(t), &findings);
        let crossing_to = |name: &str| {
            view.edges
                .iter()
                .find(|(_, b, k, _)| *k == EdgeKind::Targets && view.nodes[*b].label.starts_with(name))
                .map(|e| e.3)
        };
        assert_eq!(crossing_to("us-q"), Some(Crossing::Zone));
        assert_eq!(crossing_to("shared-q"), Some(Crossing::Account));
        assert_eq!(crossing_to("local-q"), Some(Crossing::Same));
        let shared_node = view.nodes.iter().find(|n| n.label.starts_with("shared-q")).unwrap();
        assert!(
            shared_node.checks.contains(&"shared-resource-untagged".to_string()),
            "{:?}",
            shared_node.checks
        );
        let mut dot = Vec::new();
        export(t, None, GraphFormat::Dot, &findings, &mut dot).unwrap();
        let dot = String::from_utf8(dot).unwrap();
        assert!(
            dot.contains("findings: ") && dot.contains("color=\"#cf222e\", style=bold"),
            "{dot}"
        );
        assert!(dot.contains("subgraph cluster_legend {"));
        let mut mermaid = Vec::new();
        export(t, None, GraphFormat::Mermaid, &findings, &mut mermaid).unwrap();
        let mermaid = String::from_utf8(mermaid).unwrap();
        assert_eq!(
            mermaid.matches("subgraph ").count(),
            mermaid.lines().filter(|l| *l == "  end").count(),
            "{mermaid}"
        );
        assert!(mermaid.contains("linkStyle "));
    });
}
