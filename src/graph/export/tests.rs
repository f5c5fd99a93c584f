//! The pictures: nesting instead of `contains` edges, alike functions collapsed with a count
//! (and unlike ones kept apart), boundary-crossing edges marked, findings outlined.

use super::layout::{COLLAPSE_MIN, Crossing, NODE_BUDGET, View};
use super::{GraphFormat, export};
use crate::checks::testkit::{CONFIG, INVOICE, SHARED, add_function, add_queue, add_rule, org};
use crate::checks::{known_ids, run_checks};
use crate::config::parse_config;
use crate::graph::{EdgeKind, NodeKind, Topology};
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::collections::BTreeSet;
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

/// An application over `accounts` accounts, each with `per` functions (own roles) and a rule in
/// each of four regions of two zones, delivering to a shared queue.
fn large_app(accounts: usize, per: usize) -> (Value, String) {
    let mut s = org();
    let ids: Vec<String> = (0..accounts).map(|i| format!("5000000{i:05}")).collect();
    for id in &ids {
        s["organization"]["accounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": id, "name": format!("big-{id}"), "parent": "r-root"}));
    }
    let shared = add_queue(&mut s, SHARED, "eu-west-1", "shared-q", json!({}));
    for id in &ids {
        for region in ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2"] {
            let mut fns = Vec::new();
            for f in 0..per {
                fns.push(add_function(&mut s, id, region, &format!("f{f}-{region}"), &[&shared]));
            }
            let mut targets: Vec<&str> = fns.iter().take(2).map(String::as_str).collect();
            targets.push(&shared);
            add_rule(&mut s, id, region, &format!("r-{region}"), &targets, json!({}));
        }
    }
    let quoted: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
    let config = format!("{CONFIG}[applications.big]\naccounts = [{}]\n", quoted.join(", "));
    (s, config)
}

#[test]
fn a_large_application_is_capped_and_keeps_every_account_and_zone() {
    let (s, config) = large_app(20, 10);
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&config, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let app = t.app_id("big").unwrap();
    let view = super::app_view(&t, app, &[]);
    assert!(view.source_nodes > 4 * NODE_BUDGET, "{}", view.source_nodes);
    assert!(view.nodes.len() <= NODE_BUDGET, "{} nodes", view.nodes.len());
    // Nothing is lost: the counts add up to the nodes of the footprint.
    assert_eq!(view.nodes.iter().map(|n| n.count).sum::<usize>(), view.source_nodes);
    // Every account and zone of the footprint still appears as a cluster.
    let accounts: BTreeSet<&str> = view.nodes.iter().filter_map(|n| n.place.1.as_deref()).collect();
    for i in 0..20 {
        let id = format!("5000000{i:05}");
        assert!(
            accounts.iter().any(|a| a.contains(&id)),
            "account {id} missing: {accounts:?}"
        );
    }
    assert!(accounts.iter().any(|a| a.contains(SHARED)));
    let zones: BTreeSet<&str> = view.nodes.iter().filter_map(|n| n.place.0.as_deref()).collect();
    assert!(zones.contains("zone eu") && zones.contains("zone us"), "{zones:?}");
    // The drawing says what was merged, in every format.
    assert!(
        view.merged.first().is_some_and(|m| m.contains("drawing budget of 150")),
        "{:?}",
        view.merged
    );
    let mut dot = Vec::new();
    export(&t, Some(app), GraphFormat::Dot, &[], &mut dot).unwrap();
    let dot = String::from_utf8(dot).unwrap();
    assert!(dot.contains("legend_merged [shape=note") && dot.contains("drawing budget of 150"));
    let mut mermaid = Vec::new();
    export(&t, Some(app), GraphFormat::Mermaid, &[], &mut mermaid).unwrap();
    assert!(String::from_utf8(mermaid).unwrap().contains("merged[\""));
    let svg = super::svg::layout(&view);
    assert!(svg.texts.iter().any(|t| t.text.starts_with("Merged to stay readable")));
    for i in 0..20 {
        let id = format!("5000000{i:05}");
        assert!(svg.frames.iter().any(|f| f.class == "account" && f.label.contains(&id)));
    }
}

#[test]
fn the_cap_merges_functions_first_and_stops_as_soon_as_it_fits() {
    let (s, config) = large_app(2, 10);
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&config, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let nodes = super::selected(&t, t.app_id("big"));
    // Under the budget: nothing merged (each function has its own role, none is alike).
    let full = View::with_budget(&t, &nodes, &[], 1000);
    assert!(full.merged.is_empty() && full.nodes.iter().all(|n| n.count == 1));
    // Just over: functions merge per account-region, roles and rules stay single.
    let capped = View::with_budget(&t, &nodes, &[], full.nodes.len() - 1);
    assert!(capped.nodes.len() < full.nodes.len());
    let fns: Vec<_> = capped.nodes.iter().filter(|n| n.kind == NodeKind::Function).collect();
    assert_eq!(fns.len(), 2 * 4, "one per account-region");
    assert!(
        fns.iter()
            .all(|n| n.count == 10 && n.label.starts_with("10 × lambda-function"))
    );
    assert!(
        capped
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Role)
            .all(|n| n.count == 1)
    );
    assert_eq!(capped.merged.len(), 2, "{:?}", capped.merged);
    assert!(capped.merged[1].starts_with("functions merged per account, region and owner: 80 nodes drawn as 8"));
}
