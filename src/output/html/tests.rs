//! The HTML report: the layout's geometry, determinism, and hostile names staying inert.

use super::{LAYER_MAX, layout};
use crate::checks::testkit::{CONFIG, INVOICE, SHARED, add_function, add_queue, add_rule, org};
use crate::checks::{known_ids, run_checks};
use crate::config::parse_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

fn hostile() -> Vec<String> {
    let doc: Value = serde_json::from_str(include_str!("../../../tests/fixtures/hostile-strings.json")).unwrap();
    doc["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn page(s: &Value) -> String {
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let outcome = run_checks(&t, "test.toml");
    let mut out = Vec::new();
    super::check(&t, &outcome.findings, "<snap>.json", &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn layout_flows_left_to_right_without_overlap_and_collapses_long_columns() {
    let mut s = org();
    let mut fns = Vec::new();
    for i in 0..(LAYER_MAX + 5) {
        fns.push(add_function(&mut s, INVOICE, "eu-west-1", &format!("f{i:03}"), &[]));
    }
    let q = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    let first = fns.first().unwrap().clone();
    add_rule(&mut s, INVOICE, "eu-west-1", "orders", &[&first, &q], json!({}));
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let svg = layout(&t, t.app_id("invoice").unwrap(), &BTreeSet::new());
    let x_of = |label: &str| {
        svg.nodes
            .iter()
            .find(|n| n.label.starts_with(&format!("{label} ·")))
            .map(|n| n.x)
            .unwrap()
    };
    assert!(x_of("orders-bus") < x_of("orders"));
    assert!(x_of("orders") < x_of("f000"));
    assert!(x_of("f000") < x_of("jobs"));
    // No two boxes overlap; every box is inside the canvas.
    for (i, a) in svg.nodes.iter().enumerate() {
        assert!(a.x + a.w <= svg.width && a.y + a.h <= svg.height);
        for b in svg.nodes.iter().skip(i + 1) {
            let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
    // The function column shows LAYER_MAX functions and one node counting the rest.
    let fx = x_of("f000");
    assert_eq!(
        svg.nodes
            .iter()
            .filter(|n| n.x == fx && n.class.contains("lambda-function"))
            .count(),
        LAYER_MAX
    );
    assert!(svg.nodes.iter().any(|n| n.x == fx && n.label == "+5 more"));
    // The rule's two deliveries are drawn, the shared queue is highlighted.
    assert!(svg.edges.len() >= 3, "{:?}", svg.edges);
    assert!(
        svg.nodes
            .iter()
            .any(|n| n.label == "jobs · eu-west-1" && n.class.contains("shared"))
    );
}

#[test]
fn page_is_self_contained_and_deterministic() {
    let mut s = org();
    let q = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    add_function(&mut s, INVOICE, "eu-west-1", "worker", &[&q]);
    let a = page(&s);
    assert_eq!(a, page(&s));
    assert!(a.starts_with("<!DOCTYPE html>"));
    for remote in ["http://", "https://", "src=\"", "<link", "@import"] {
        let hits: Vec<&str> = a
            .match_indices(remote)
            .map(|(i, _)| a.get(i..i + 60).unwrap_or(""))
            .collect();
        // The SVG namespace is an identifier, not a fetch.
        assert!(
            hits.iter().all(|h| h.starts_with("http://www.w3.org/2000/svg")),
            "{remote}: {hits:?}"
        );
    }
    assert!(a.contains("data-check=\"shared-resource-untagged\""));
    assert!(a.contains("<svg xmlns"));
}

#[test]
fn hostile_names_render_inert() {
    let mut s = org();
    for (i, h) in hostile().iter().enumerate() {
        let name: String = format!("h{i}-{h}");
        let q = add_queue(&mut s, SHARED, "eu-west-1", &name, json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", &format!("fn{i}"), &[&q]);
    }
    let html = page(&s);
    // Every tag in the page is one the template writes: no element comes from data.
    const TAGS: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "code", "div", "strong",
        "table", "tr", "th", "td", "ul", "li", "span", "svg", "line", "g", "rect", "text", "label", "select", "option",
        "br", "em", "script", "details", "summary",
    ];
    // (The script, the template's own code, comes last and is left out.)
    let markup = html.split("<script>").next().unwrap();
    for (i, _) in markup.match_indices('<') {
        let rest = markup.get(i + 1..).unwrap();
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            TAGS.contains(&name.as_str()),
            "unexpected tag `<{name}` at {i}: {}",
            rest.get(..40).unwrap_or(rest)
        );
    }
    assert_eq!(html.matches("<script").count(), 1);
    // The data is there, escaped.
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
}
