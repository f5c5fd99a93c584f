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
}

#[test]
fn sarif_fingerprint_ignores_application_order() {
    let report = sample_report();
    let mut finding = report.findings[1].clone();
    let before = fingerprint(&finding);
    finding.applications.reverse();
    assert_eq!(fingerprint(&finding), before);
}

#[test]
fn sarif_fingerprint_depends_on_facts_not_wording() {
    let report = sample_report();
    let original = report.findings[1].clone();
    let before = fingerprint(&original);
    // Quiet: wording changes keep the fingerprint (issue 13: "changing a message must not change
    // a fingerprint").
    let mut reworded = original.clone();
    reworded.message = "an entirely different sentence".to_string();
    reworded.title.push_str(" (renamed)");
    reworded.remediation = "do something else".to_string();
    for step in &mut reworded.evidence {
        step.detail.push_str(", said differently");
    }
    reworded.evidence.reverse();
    reworded.status = Status::Conditional;
    assert_eq!(fingerprint(&reworded), before);
    // Fires: another resource, check, application or evidence endpoint is another alert.
    let mut other = original.clone();
    other.resource.push('2');
    assert_ne!(fingerprint(&other), before);
    let mut other = original.clone();
    other.check = "wildcard-trust".to_string();
    assert_ne!(fingerprint(&other), before);
    let mut other = original.clone();
    other.applications.push("payments".to_string());
    assert_ne!(fingerprint(&other), before);
    // Near miss: the same steps with one `to` changed.
    let mut other = original.clone();
    other.evidence[1].to = Some("arn:aws:lambda:eu-west-1:222222222222:function:other".to_string());
    assert_ne!(fingerprint(&other), before);
    let mut other = original;
    other.evidence.pop();
    assert_ne!(fingerprint(&other), before);
}

#[test]
fn sarif_message_change_keeps_rendered_fingerprints() {
    let first = render_value(&sample_report());
    let mut report = sample_report();
    for f in &mut report.findings {
        f.message = format!("reworded: {}", f.message.to_uppercase());
    }
    let second = render_value(&report);
    let prints = |doc: &Value| -> Vec<Value> {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&first), prints(&second));
    assert_ne!(first["runs"][0]["results"], second["runs"][0]["results"]);
}

#[test]
fn sarif_regions_span_the_resource_object() {
    let report = sample_report();
    let doc = render_value(&report);
    assert_eq!(doc["runs"][0]["columnKind"], "unicodeCodePoints");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let bus = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == BUS_RULE)
        .unwrap();
    let region = &bus["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 5);
    assert_eq!(region["startColumn"], 5);
    assert_eq!(region["endLine"], 5);
    let offset = usize::try_from(region["byteOffset"].as_u64().unwrap()).unwrap();
    let length = usize::try_from(region["byteLength"].as_u64().unwrap()).unwrap();
    let object = &report.topology_text[offset..offset + length];
    assert_eq!(
        serde_json::from_str::<Value>(object).unwrap()["arn"],
        json!(BUS_RULE),
        "{object}"
    );
    let line = report.topology_text.lines().nth(4).unwrap();
    let end = usize::try_from(region["endColumn"].as_u64().unwrap()).unwrap();
    assert_eq!(line.chars().nth(end - 2), Some('}'));
    // Near miss: a resource the snapshot does not define points at the file's start, unspanned.
    let unknown = results
        .iter()
        .find(|r| {
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                == "arn:aws:iam::222222222222:role/payments-exec"
        })
        .unwrap();
    let region = &unknown["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region, &json!({"startLine": 1}));
}

#[test]
fn sarif_code_flows_follow_the_evidence() {
    let doc = render_value(&sample_report());
    let results = doc["runs"][0]["results"].as_array().unwrap();
    for r in results {
        let flows = r["codeFlows"].as_array().unwrap();
        assert_eq!(flows.len(), 1);
        let steps = flows[0]["threadFlows"][0]["locations"].as_array().unwrap();
        let evidence = r["properties"]["evidence"].as_array().unwrap();
        let ends_with_to = evidence.last().unwrap()["to"].is_string();
        assert_eq!(steps.len(), evidence.len() + usize::from(ends_with_to));
        for (step, e) in steps.iter().zip(evidence) {
            let logical = &step["location"]["logicalLocations"][0]["fullyQualifiedName"];
            assert_eq!(logical, &e["from"]);
            let text = step["location"]["message"]["text"].as_str().unwrap();
            assert!(text.starts_with(e["relation"].as_str().unwrap()), "{text}");
        }
    }
    let bus = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == BUS_RULE)
        .unwrap();
    let steps = bus["codeFlows"][0]["threadFlows"][0]["locations"].as_array().unwrap();
    // bus -> rule (line 5) -> function (not in the excerpt).
    assert_eq!(steps[1]["location"]["physicalLocation"]["region"]["startLine"], 5);
    assert_eq!(
        steps[2]["location"]["logicalLocations"][0]["fullyQualifiedName"],
        "arn:aws:lambda:eu-west-1:222222222222:function:invoice-ingest"
    );
}

#[test]
fn sarif_marks_conditional_results() {
    let mut report = sample_report();
    let wildcard = report
        .findings
        .iter_mut()
        .find(|f| f.check == "wildcard-trust")
        .unwrap();
    wildcard.status = Status::Conditional;
    wildcard.conditions = vec!["aws:PrincipalOrgID (Statement[0])".to_string()];
    let validator = validator();
    let doc = render_value(&report);
    assert_valid(&validator, &doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let conditional: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["conditional"] == true)
        .collect();
    assert_eq!(conditional.len(), 1);
    // Level per severity: a critical conditional finding is still an error.
    assert_eq!(conditional[0]["level"], "error");
    assert_eq!(conditional[0]["properties"]["status"], "conditional");
    assert_eq!(
        conditional[0]["properties"]["conditions"][0],
        "aws:PrincipalOrgID (Statement[0])"
    );
    assert!(
        conditional[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Conditional: ")
    );
    // Quiet: the others say `false`.
    assert_eq!(
        results
            .iter()
            .filter(|r| r["properties"]["conditional"] == false)
            .count(),
        4
    );
}
