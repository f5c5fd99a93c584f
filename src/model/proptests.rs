//! Property tests of the loaders: snapshots and configs mutated from the minimal fixtures
//! (`tests/fixtures/minimal.json`, `minimal.toml`) never make them panic, and whatever they
//! accept respects the name rules.

use crate::config::parse_config;
use crate::model::{agent_space_name_problem, parse_snapshot};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

const MINIMAL_JSON: &str = include_str!("../../tests/fixtures/minimal.json");
const MINIMAL_TOML: &str = include_str!("../../tests/fixtures/minimal.toml");

/// Any JSON value, small.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        Just(json!("111111111111")),
        Just(json!("arn:aws:sqs:eu-west-1:111111111111:q")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4).prop_map(|m| json!(m)),
        ]
    })
}

/// A path into the minimal snapshot where a mutation lands (existing keys and likely new ones).
fn json_path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::select(vec![
        vec!["coverage"],
        vec!["coverage", "gaps"],
        vec!["organization"],
        vec!["organization", "accounts"],
        vec!["organization", "units"],
        vec!["event_buses"],
        vec!["resources"],
        vec!["agent_spaces"],
        vec!["relations"],
        vec!["roles"],
        vec!["schema_version"],
        vec!["functions"],
    ])
}

fn set_path(doc: &mut Value, path: &[&str], v: Value) {
    let mut at = doc;
    for (i, key) in path.iter().enumerate() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(obj) = at.as_object_mut() else { return };
        if i + 1 == path.len() {
            obj.insert((*key).to_string(), v);
            return;
        }
        at = obj.entry((*key).to_string()).or_insert_with(|| json!({}));
    }
}

fn agent_space(name: &str) -> Value {
    json!([{
        "id": "s1", "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/s1",
        "name": name, "account": "111111111111", "region": "eu-west-1"
    }])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn snapshot_loader_never_panics_on_mutations(path in json_path(), v in json_value()) {
        let mut doc: Value = serde_json::from_str(MINIMAL_JSON).unwrap_or_default();
        set_path(&mut doc, &path, v);
        let _ = parse_snapshot(&doc.to_string(), Path::new("p.json"));
    }

    #[test]
    fn snapshot_loader_never_panics_on_cut_or_spliced_text(cut in 0usize..400, insert in ".{0,8}") {
        let mut text = MINIMAL_JSON.to_string();
        let at = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
        text.insert_str(at, &insert);
        let _ = parse_snapshot(&text, Path::new("p.json"));
        let _ = parse_snapshot(text.get(..at).unwrap_or(""), Path::new("p.json"));
    }

    #[test]
    fn accepted_snapshot_agent_space_names_follow_aws(name in "\\PC{0,4}[\\x00-\\x1f\\u{202e}]?\\PC{0,4}") {
        let mut doc: Value = serde_json::from_str(MINIMAL_JSON).unwrap_or_default();
        set_path(&mut doc, &["agent_spaces"], agent_space(&name));
        let loaded = parse_snapshot(&doc.to_string(), Path::new("p.json"));
        prop_assert_eq!(loaded.is_ok(), agent_space_name_problem(&name).is_none());
    }

    #[test]
    fn config_loader_never_panics(app in "\\PC{0,10}", space in ".{0,10}", extra in "[\\[\\]=\"a-z._ \\n\\x00-\\x1f]{0,40}") {
        let text = format!(
            "{MINIMAL_TOML}\n[applications.{app:?}]\n[agent_spaces.{space:?}]\napplication = {app:?}\n{extra}"
        );
        let _ = parse_config(&text, Path::new("p.toml"), &["unused-ignore"]);
        let bom = format!("\u{feff}{text}");
        let _ = parse_config(&bom, Path::new("p.toml"), &["unused-ignore"]);
    }

    #[test]
    fn config_loader_never_panics_on_spliced_text(cut in 0usize..60, insert in ".{0,12}") {
        let mut text = MINIMAL_TOML.to_string();
        let at = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
        text.insert_str(at, &insert);
        let _ = parse_config(&text, Path::new("p.toml"), &["unused-ignore"]);
    }
}
