//! The HTML report: the layout's geometry, determinism, and hostile names staying inert.

use super::layout;
use crate::checks::testkit::{CONFIG, INVOICE, SHARED, add_function, add_queue, add_rule, org};
use crate::checks::{known_ids, run_checks};
use crate::config::parse_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
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

/// Boxes that do not overlap.
fn apart(a: (u32, u32, u32, u32), b: (u32, u32, u32, u32)) -> bool {
    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1
}

/// `inner` lies within `outer`.
fn within(inner: (u32, u32, u32, u32), outer: (u32, u32, u32, u32)) -> bool {
    inner.0 >= outer.0
        && inner.1 >= outer.1
        && inner.0 + inner.2 <= outer.0 + outer.2
        && inner.1 + inner.3 <= outer.1 + outer.3
}

#[test]
fn layout_flows_left_to_right_in_zone_account_region_frames_without_overlap() {
    let mut s = org();
    let mut fns = Vec::new();
    for i in 0..30 {
        fns.push(add_function(&mut s, INVOICE, "eu-west-1", &format!("f{i:03}"), &[]));
    }
    let q = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    let first = fns.first().unwrap().clone();
    add_rule(&mut s, INVOICE, "eu-west-1", "orders", &[&first, &q], json!({}));
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let svg = layout(&t, t.app_id("invoice").unwrap(), &[]);
    assert_eq!(svg, layout(&t, t.app_id("invoice").unwrap(), &[]), "deterministic");
    let node = |label: &str| svg.nodes.iter().find(|n| n.label.starts_with(label)).unwrap();
    assert!(node("orders-bus").x < node("orders [").x);
    assert!(
        node("orders [").x < node("f000 [").x,
        "{:?} {:?}",
        node("orders ["),
        node("f000 [")
    );
    assert!(node("f000 [").x < node("jobs").x);
    let rect = |x: u32, y: u32, w: u32, h: u32| (x, y, w, h);
    // No two boxes overlap; every box is inside the canvas and inside the frames of its place.
    for (i, a) in svg.nodes.iter().enumerate() {
        assert!(a.x + a.w <= svg.width && a.y + a.h <= svg.height);
        for b in svg.nodes.iter().skip(i + 1) {
            assert!(
                apart(rect(a.x, a.y, a.w, a.h), rect(b.x, b.y, b.w, b.h)),
                "{a:?} overlaps {b:?}"
            );
        }
    }
    let frames = |class: &str, label: &str| -> Vec<(u32, u32, u32, u32)> {
        svg.frames
            .iter()
            .filter(|f| f.class == class && f.label.contains(label))
            .map(|f| rect(f.x, f.y, f.w, f.h))
            .collect()
    };
    let in_frame =
        |b: (u32, u32, u32, u32), class: &str, label: &str| frames(class, label).iter().any(|f| within(b, *f));
    let f000 = node("f000 [");
    let f000 = rect(f000.x, f000.y, f000.w, f000.h);
    let jobs = node("jobs");
    let jobs = rect(jobs.x, jobs.y, jobs.w, jobs.h);
    let role = node("f000-role");
    let role = rect(role.x, role.y, role.w, role.h);
    assert!(
        in_frame(f000, "account", INVOICE)
            && in_frame(f000, "zone", "zone eu")
            && in_frame(f000, "region", "eu-west-1")
    );
    assert!(in_frame(jobs, "account", SHARED) && !in_frame(jobs, "account", INVOICE));
    // A role has no region: it sits in its account's frame in the `global` zone.
    assert!(in_frame(role, "account", INVOICE) && in_frame(role, "zone", "global") && !in_frame(role, "region", ""));
    // Frames of different accounts do not overlap.
    for a in frames("account", INVOICE) {
        for b in frames("account", SHARED) {
            assert!(apart(a, b));
        }
    }
    // Each function has its own role, so 30 functions stay 30 nodes under the budget.
    assert_eq!(
        svg.nodes
            .iter()
            .filter(|n| n.class.starts_with("lambda-function"))
            .count(),
        30
    );
    // The rule's two deliveries are drawn, the shared queue is highlighted, the legend is there.
    assert!(svg.edges.len() >= 3, "{:?}", svg.edges);
    assert!(
        svg.edges
            .iter()
            .any(|e| e.class == "cross-account" && e.title == "targets")
    );
    assert!(node("jobs").class.contains("shared"));
    assert!(svg.legend.iter().any(|n| n.label == "lambda-function"));
    assert!(svg.legend_lines.iter().any(|l| l.class == "cross-zone"));
    assert!(
        svg.texts.iter().all(|t| !t.text.starts_with("Merged")),
        "under the budget nothing is merged"
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
