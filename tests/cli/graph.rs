//! `topoguard graph` and `topoguard schema`.

use crate::support::{fixture, root, topoguard};

fn graph(format: &str, extra: &[&str]) -> String {
    let out = topoguard()
        .args(["graph", "--format", format, "--topology"])
        .arg(fixture("minimal.json"))
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .args(extra)
        .assert()
        .code(0);
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn exports_every_format() {
    // Nesting instead of `contains` edges: the bus sits in its region, account and zone.
    let dot = graph("dot", &[]);
    assert!(
        dot.starts_with("digraph topology {")
            && dot.contains("label=\"account 111111111111 a\";")
            && dot.contains("label=\"eu-west-1\";")
            && dot.contains("label=\"b [a]\"];")
            && dot.contains("subgraph cluster_legend {")
            && !dot.contains("contains"),
        "{dot}"
    );
    let mermaid = graph("mermaid", &["--app", "a"]);
    assert!(
        mermaid.starts_with("flowchart LR")
            && mermaid.contains("subgraph c1 [\"account 111111111111 a\"]")
            && mermaid.contains("n0[\"b [a]\"]")
            && !mermaid.contains("contains"),
        "{mermaid}"
    );
    let json: serde_json::Value = serde_json::from_str(&graph("json", &[])).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(json["edges"][0]["kind"], "contains");
}

#[test]
fn unknown_app_is_an_input_error() {
    let out = topoguard()
        .args(["graph", "--app", "nope", "--topology"])
        .arg(fixture("minimal.json"))
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("unknown application `nope`"));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = topoguard().arg("schema").assert().code(0);
    let committed = std::fs::read(root().join("topology/schema.json")).unwrap();
    assert_eq!(out.get_output().stdout, committed);
}
