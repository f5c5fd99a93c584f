//! Tests of the SARIF renderer: the output validates against the official SARIF 2.1.0 schema
//! (and a broken document does not), results point at the right lines, fingerprints are stable.

use super::*;
use crate::output::tests::{BUS_RULE, clean_report, sample_report};
use std::path::PathBuf;
use std::process::Command;

/// The SARIF 2.1.0 schema that `serde-sarif` ships, found through `cargo metadata`.
fn schema() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .unwrap()["manifest_path"]
        .as_str()
        .unwrap();
    let path = PathBuf::from(manifest).parent().unwrap().join("src/schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A draft-07 validator of the schema, formats (`uri`, `uri-reference`…) included.
fn validator() -> jsonschema::Validator {
    let mut schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    // The published schema's `language` patterns (on `run` and `toolComponent`) have a stray
    // `]`, which the draft-07 meta-schema's `regex` format rejects once formats are asserted;
    // escape it.
    for definition in ["run", "toolComponent"] {
        let pattern = &mut schema["definitions"][definition]["properties"]["language"]["pattern"];
        assert_eq!(pattern, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *pattern = json!("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
    }
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn render_value(report: &Report) -> Value {
    let mut out = Vec::new();
    render(report, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_validates_against_schema() {
    let validator = validator();
    assert_valid(&validator, &render_value(&sample_report()));
    assert_valid(&validator, &render_value(&clean_report()));
}

#[test]
fn sarif_schema_rejects_broken_documents() {
    let validator = validator();
    let good = render_value(&sample_report());
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!validator.is_valid(&bad_level));
    let mut no_message = good.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&no_message));
    // Formats are asserted too: `informationUri` must be an absolute URI.
    let mut bad_uri = good.clone();
    bad_uri["runs"][0]["tool"]["driver"]["informationUri"] = json!("not a uri");
    assert!(!validator.is_valid(&bad_uri));
    let mut bad_version = good;
    bad_version["version"] = json!("2.0.0");
    assert!(!validator.is_valid(&bad_version));
}

#[test]
fn sarif_results_point_at_resources() {
    let doc = render_value(&sample_report());
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for r in results {
        let index = usize::try_from(r["ruleIndex"].as_i64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let location = &r["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "snapshots/topology.json"
        );
        let name = &location["logicalLocations"][0]["fullyQualifiedName"];
        let line = &location["physicalLocation"]["region"]["startLine"];
        let expected = match name.as_str().unwrap() {
            BUS_RULE => 5,
            "arn:aws:iam::111111111111:role/legacy-admin" => 8,
            _ => 1,
        };
        assert_eq!(line, &json!(expected), "{name}");
        assert_eq!(r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap().len(), 16);
    }
    let not_proven: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["status"] == "not-proven")
        .collect();
    assert_eq!(not_proven.len(), 1);
    assert_eq!(not_proven[0]["level"], "warning");
    let notifications = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["level"], "warning");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn sarif_helpers() {
    assert_eq!(format!("{:016x}", fnv1a64(b"")), "cbf29ce484222325");
    assert_eq!(format!("{:016x}", fnv1a64(b"a")), "af63dc4c8601ec8c");
    assert_eq!(artifact_uri(r"snapshots\my org.json"), "snapshots/my%20org.json");
    assert_eq!(artifact_uri(r"C:\topo.json"), "file:///C:/topo.json");
    assert_eq!(pascal_case("cross-app-bus-target"), "CrossAppBusTarget");
    assert_eq!(resource_line("a\n\"x\"\n", "x"), 2);
    assert_eq!(resource_line("a\n", "x"), 1);
}

#[test]
fn sarif_fingerprint_ignores_application_order() {
    let report = sample_report();
    let mut finding = report.findings[1].clone();
    let before = fingerprint(&finding);
    finding.applications.reverse();
    assert_eq!(fingerprint(&finding), before);
    finding.message.push('!');
    assert_ne!(fingerprint(&finding), before);
}
