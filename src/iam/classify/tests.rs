//! Every AWS managed policy (the corpus moto bundles, in `tests/fixtures`) parses and is
//! classified; known facts about well-known policies are pinned.

use super::*;
use crate::iam::catalog::ActionClass;
use std::io::Read;

fn corpus() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-managed-policies.json.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn classify(corpus: &serde_json::Value, name: &str) -> Classified<'static> {
    let doc = &corpus["policies"][name]["document"];
    assert!(!doc.is_null(), "{name} not in corpus");
    let policy = Policy::from_value(doc).unwrap();
    allowed_actions(Catalog::get().unwrap(), &[&policy])
}

#[test]
fn every_managed_policy_parses_and_is_classified() {
    let corpus = corpus();
    let catalog = Catalog::get().unwrap();
    let policies = corpus["policies"].as_object().unwrap();
    assert!(policies.len() > 1500, "{}", policies.len());
    let mut unknown_patterns = 0usize;
    let mut empty = Vec::new();
    for (name, entry) in policies {
        let policy = Policy::from_value(&entry["document"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let c = allowed_actions(catalog, &[&policy]);
        unknown_patterns += c.unknown.len();
        let has_allow = policy.statements.iter().any(|s| s.effect == Effect::Allow);
        if has_allow && c.actions.is_empty() {
            empty.push(name.clone());
        }
    }
    // Policies newer than the catalog may name services it lacks; they must stay rare.
    assert!(
        empty.len() < 40,
        "{} policies classify to nothing: {empty:?}",
        empty.len()
    );
    assert!(
        unknown_patterns < 1500,
        "{unknown_patterns} action patterns unknown to the catalog"
    );
}

#[test]
fn read_only_access_is_read_only_but_includes_content_reads() {
    let c = classify(&corpus(), "ReadOnlyAccess");
    assert!(
        !c.has(ActionClass::Write) && !c.has(ActionClass::PermissionsManagement) && !c.has(ActionClass::Tagging),
        "{:?}",
        c.by_class.keys()
    );
    assert!(c.has(ActionClass::ContentRead));
    assert!(c.by_class[&ActionClass::ContentRead].contains("GetObject"));
}

#[test]
fn view_only_access_has_no_content_reads() {
    let c = classify(&corpus(), "ViewOnlyAccess");
    assert!(
        !c.has(ActionClass::ContentRead),
        "{:?}",
        c.by_class.get(&ActionClass::ContentRead)
    );
    assert!(!c.has(ActionClass::Write));
    assert!(c.has(ActionClass::MetadataRead));
}

#[test]
fn power_user_and_administrator_grant_writes() {
    let corpus = corpus();
    for name in ["PowerUserAccess", "AdministratorAccess"] {
        let c = classify(&corpus, name);
        assert!(c.has(ActionClass::Write), "{name}");
    }
    assert!(classify(&corpus, "AdministratorAccess").has(ActionClass::PermissionsManagement));
    let power = classify(&corpus, "PowerUserAccess");
    assert!(
        !power
            .by_class
            .get(&ActionClass::PermissionsManagement)
            .is_some_and(|s| s.contains("CreateRole")),
        "PowerUser excludes iam:*"
    );
}

#[test]
fn lambda_basic_execution_writes_only_logs() {
    let c = classify(&corpus(), "AWSLambdaBasicExecutionRole");
    let writes: Vec<String> = c
        .actions
        .iter()
        .filter(|a| a.class() == ActionClass::Write)
        .map(|a| a.full_name())
        .collect();
    assert!(!writes.is_empty());
    assert!(writes.iter().all(|w| w.starts_with("logs:")), "{writes:?}");
}

#[test]
fn wildcards_agree_with_the_catalog() {
    let catalog = Catalog::get().unwrap();
    let p = Policy::from_value(
        &serde_json::json!({"Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]}),
    )
    .unwrap();
    let c = allowed_actions(catalog, &[&p]);
    let expected = catalog
        .service("s3")
        .unwrap()
        .actions()
        .iter()
        .filter(|a| a.name().starts_with("Get"))
        .count();
    assert_eq!(c.actions.len(), expected);
    let p = Policy::from_value(
        &serde_json::json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
    )
    .unwrap();
    let c = allowed_actions(catalog, &[&p]);
    assert!(c.has(ActionClass::Write));
    assert!(!c.actions.iter().any(|a| a.service() == "iam"));
}
