//! Snapshot loading: the schema file is current, and every kind of bad input gets one clear
//! error naming the file and the problem.

use super::*;
use serde_json::json;
use std::path::Path;

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("topology/schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json_schema(),
        "topology/schema.json is stale: run `cargo run -- schema --output topology/schema.json`"
    );
}

fn minimal() -> serde_json::Value {
    json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
        "event_buses": [{"arn": "arn:aws:events:eu-west-1:111111111111:event-bus/b", "account": "111111111111", "region": "eu-west-1", "name": "b"}]
    })
}

fn error(v: &serde_json::Value) -> String {
    parse_snapshot(&v.to_string(), Path::new("snap.json"))
        .unwrap_err()
        .to_string()
}

#[test]
fn minimal_snapshot_loads() {
    let s = parse_snapshot(&minimal().to_string(), Path::new("snap.json")).unwrap();
    assert_eq!(s.event_buses.len(), 1);
}

#[test]
fn truncated_and_non_json_input() {
    let text = minimal().to_string();
    let cut = &text[..text.len() / 2];
    let e = parse_snapshot(cut, Path::new("snap.json")).unwrap_err().to_string();
    assert!(
        e.starts_with("snapshot `snap.json` is not valid: line 1, column"),
        "{e}"
    );
    assert!(e.contains("EOF"), "{e}");
    let e = parse_snapshot("hello", Path::new("snap.json")).unwrap_err().to_string();
    assert!(e.contains("not a JSON object"), "{e}");
}

#[test]
fn wrong_schema_version_is_named_even_when_fields_differ() {
    let mut v = minimal();
    v["schema_version"] = json!(2);
    assert!(
        error(&v).contains("has schema_version 2, this topoguard reads version 1"),
        "{}",
        error(&v)
    );
    v["brand_new_field"] = json!(true);
    assert!(error(&v).contains("schema_version 2"), "{}", error(&v));
}

#[test]
fn unknown_field_is_rejected() {
    let mut v = minimal();
    v["event_buses"][0]["colour"] = json!("blue");
    let e = error(&v);
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn duplicate_arn_invalid_arn_and_unknown_references() {
    let mut v = minimal();
    let bus = v["event_buses"][0].clone();
    v["event_buses"].as_array_mut().unwrap().push(bus);
    assert_eq!(
        error(&v),
        "snapshot `snap.json` is not valid: event_buses[1].arn: duplicate ARN `arn:aws:events:eu-west-1:111111111111:event-bus/b`"
    );

    let mut v = minimal();
    v["event_buses"][0]["arn"] = json!("arn:aws:events:eu-west-1:1111:event-bus/b");
    assert!(
        error(&v).contains("event_buses[0].arn: `arn:aws:events:eu-west-1:1111:event-bus/b` has an invalid account"),
        "{}",
        error(&v)
    );

    let mut v = minimal();
    v["rules"] = json!([{"arn": "arn:aws:events:eu-west-1:111111111111:rule/x/r", "account": "111111111111", "region": "eu-west-1", "name": "r", "bus": "arn:aws:events:eu-west-1:111111111111:event-bus/x", "state": "ENABLED"}]);
    assert!(
        error(&v).contains("rules[0].bus: relation to unknown event bus"),
        "{}",
        error(&v)
    );

    let mut v = minimal();
    v["relations"] = json!([{"from": "arn:aws:events:eu-west-1:111111111111:event-bus/b", "to": "arn:aws:sqs:eu-west-1:111111111111:nope", "kind": "uses", "evidence": "test"}]);
    assert!(
        error(&v).contains("relations[0].to: relation to unknown node `arn:aws:sqs:eu-west-1:111111111111:nope`"),
        "{}",
        error(&v)
    );

    let mut v = minimal();
    v["event_buses"][0]["account"] = json!("222222222222");
    assert!(
        error(&v).contains("account `222222222222` is not in `organization.accounts`"),
        "{}",
        error(&v)
    );
}

#[test]
fn invalid_policy_documents_are_located() {
    let mut v = minimal();
    v["event_buses"][0]["policy"] = json!({"Statement": [{"Effect": "Permit", "Action": "events:PutEvents"}]});
    assert!(
        error(&v)
            .contains("event_buses[0].policy: invalid policy document: Statement[0].Effect: must be `Allow` or `Deny`"),
        "{}",
        error(&v)
    );
}

#[test]
fn secrets_have_no_place_in_the_format() {
    // A function record cannot carry environment values: the field does not exist.
    let mut v = minimal();
    v["functions"] = json!([{"arn": "arn:aws:lambda:eu-west-1:111111111111:function:f", "account": "111111111111", "region": "eu-west-1", "name": "f", "role": "arn:aws:iam::111111111111:role/r", "environment": {"DB_PASSWORD": "hunter2"}}]);
    assert!(error(&v).contains("unknown field `environment`"), "{}", error(&v));
}

#[test]
fn relation_kind_names_are_the_serialized_ones() {
    use crate::model::RelationKind as K;
    for k in [
        K::Contains,
        K::Routes,
        K::Targets,
        K::Invokes,
        K::ExecutesAs,
        K::CanAssume,
        K::Uses,
        K::Grants,
    ] {
        assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
    }
}

// https://json-schema.org/understanding-json-schema/reference/object: `topology/schema.json`
// declares these as `"type": "object"`, so an array is not one.
#[test]
fn objects_given_as_arrays_are_rejected_with_a_location() {
    let mut v = minimal();
    v["coverage"] = json!([]);
    let e = error(&v);
    assert!(
        e.contains("line 1") && e.contains("invalid type: array, expected an object"),
        "{e}"
    );
    let mut v = minimal();
    v["organization"]["accounts"] = json!([["111111111111", "a"]]);
    let e = error(&v);
    assert!(e.contains("expected an object (struct Account)"), "{e}");
    let mut v = minimal();
    v["organization"] = json!([[]]);
    assert!(error(&v).contains("expected an object"), "{}", error(&v));
    // near misses: real arrays and free-form policy documents holding arrays still load
    let mut v = minimal();
    v["coverage"] = json!({"gaps": []});
    v["event_buses"][0]["policy"] = json!({"Version": "2012-10-17", "Statement": []});
    assert!(parse_snapshot(&v.to_string(), Path::new("snap.json")).is_ok());
}

#[test]
fn a_byte_order_mark_is_skipped_as_in_configs() {
    let text = format!("\u{feff}{}", minimal());
    assert!(parse_snapshot(&text, Path::new("snap.json")).is_ok());
    // only one, and only at the start
    let twice = format!("\u{feff}\u{feff}{}", minimal());
    assert!(parse_snapshot(&twice, Path::new("snap.json")).is_err());
}

#[test]
fn agent_space_names_from_the_snapshot_are_checked() {
    let space = |name: &str| {
        let mut v = minimal();
        v["agent_spaces"] = json!([{
            "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/s1",
            "account": "111111111111", "region": "eu-west-1", "name": name, "id": "s1"
        }]);
        parse_snapshot(&v.to_string(), Path::new("snap.json")).map_err(|e| e.to_string())
    };
    let e = space("evil\u{202e}txt").unwrap_err();
    assert!(e.contains("agent_spaces[0].name") && e.contains("U+202E"), "{e}");
    assert!(space("").is_err());
    assert!(space("a\nb").is_err());
    // AWS allows punctuation and separators, so these load (and are encoded in file names)
    assert!(space("../../etc passwd").is_ok(), "{:?}", space("../../etc passwd"));
}
