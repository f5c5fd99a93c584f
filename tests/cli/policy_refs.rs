//! A resource named only by the `Resource` of an Allow statement, on a hand-written snapshot:
//! the bucket has no record and no other reference, yet `check` judges it ("not proven", since
//! its tags were not read) instead of passing in silence; a Deny statement naming it is nothing.

use crate::support::topoguard;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[applications.invoice]
accounts = ["111111111111"]
[shared_dependencies]
accounts = ["999999999999"]
"#;

/// A function of the shared account, claimed by invoice, whose execution role names the bucket
/// `exports` (owned by the shared account) with `effect`.
fn snapshot(effect: &str) -> Value {
    let role = "arn:aws:iam::999999999999:role/exporter";
    json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": "111111111111", "name": "invoice"}, {"id": "999999999999", "name": "shared"}]},
        "roles": [{"arn": role, "account": "999999999999", "name": "exporter",
            "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "inline_policies": [{"name": "write-exports", "document": {"Statement": [
                {"Sid": "Exports", "Effect": effect, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::exports/daily/*"}]}}]}],
        "functions": [{"arn": "arn:aws:lambda:eu-west-1:999999999999:function:exporter", "account": "999999999999",
            "region": "eu-west-1", "name": "exporter", "role": role, "tags": {"app": "invoice"}}],
        "bucket_owners": {"exports": "999999999999"}
    })
}

fn check(effect: &str) -> (Option<i32>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let (topology, config) = (dir.path().join("t.json"), dir.path().join("c.toml"));
    std::fs::write(&topology, snapshot(effect).to_string()).unwrap();
    std::fs::write(&config, CONFIG).unwrap();
    let out = topoguard()
        .args(["check", "--format", "json", "--fail-on", "medium", "--topology"])
        .arg(&topology)
        .arg("--policies")
        .arg(&config)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code(), report["findings"].as_array().unwrap().clone())
}

#[test]
fn a_bucket_named_only_by_an_allow_statement_is_not_proven() {
    let (code, findings) = check("Allow");
    let untagged: Vec<&Value> = findings
        .iter()
        .filter(|f| f["check"] == "shared-resource-untagged")
        .collect();
    assert_eq!(untagged.len(), 1, "{findings:#?}");
    let f = untagged[0];
    assert_eq!(f["resource"], "arn:aws:s3:::exports");
    assert_eq!(f["status"], "not-proven");
    assert_eq!(f["account"], "999999999999");
    assert!(f["message"].as_str().unwrap().contains("is not in the snapshot"), "{f}");
    // At `--fail-on medium`, not proven fails the run unless accepted (`--allow-not-proven`).
    assert_eq!(code, Some(1));
    // Near miss: the same statement as a Deny names nothing, so nothing is judged.
    let (code, findings) = check("Deny");
    assert!(
        !findings.iter().any(|f| f["resource"] == "arn:aws:s3:::exports"),
        "{findings:#?}"
    );
    assert_eq!(code, Some(0), "{findings:#?}");
}
