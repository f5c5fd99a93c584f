//! Reachability tests: direct trust, account trust needing the caller's own permission, SCPs,
//! chains, and service principals pinned by source ARN.

use super::*;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

fn role(arn_account: &str, name: &str, trust: Value, policy: Option<Value>) -> Value {
    let mut r = json!({"arn": format!("arn:aws:iam::{arn_account}:role/{name}"), "account": arn_account, "name": name, "trust_policy": trust});
    if let Some(p) = policy {
        r["inline_policies"] = json!([{"name": "p", "document": p}]);
    }
    r
}

fn trust_aws(principal: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
}

fn can_assume(resource: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]})
}

fn snapshot(roles: Vec<Value>, scps: Value) -> crate::model::Snapshot {
    let v = json!({
        "schema_version": 1,
        "organization": {"id": "o-abc", "units": [{"id": "r-1", "name": "Root"}], "policies": scps,
            "accounts": [{"id": "111111111111", "name": "a", "parent": "r-1"}, {"id": "222222222222", "name": "b", "parent": "r-1"}, {"id": "999999999999", "name": "s", "parent": "r-1"}]},
        "roles": roles,
    });
    parse_snapshot(&v.to_string(), Path::new("t.json")).unwrap()
}

const SHARED_ROLE: &str = "arn:aws:iam::999999999999:role/shared-reader";

#[test]
fn account_trust_needs_the_callers_permission() {
    let s = snapshot(
        vec![
            role(
                "999999999999",
                "shared-reader",
                trust_aws("arn:aws:iam::111111111111:root"),
                None,
            ),
            role(
                "111111111111",
                "responder",
                trust_aws("arn:aws:iam::111111111111:root"),
                Some(can_assume("arn:aws:iam::999999999999:role/*")),
            ),
            role(
                "111111111111",
                "lambda",
                json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                Some(can_assume("arn:aws:iam::222222222222:role/*")),
            ),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let who: Vec<&str> = reach
        .assumers(SHARED_ROLE)
        .iter()
        .map(|a| a.principal.as_str())
        .collect();
    assert_eq!(who, vec!["arn:aws:iam::111111111111:role/responder"]);
}

#[test]
fn scp_denying_assume_role_removes_the_edge() {
    let deny = json!([{"id": "p-1", "arn": "arn:aws:organizations::100000000000:policy/o-abc/service_control_policy/p-1", "name": "no-assume", "kind": "SERVICE_CONTROL_POLICY", "targets": ["111111111111"],
        "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}}]);
    let s = snapshot(
        vec![
            role(
                "999999999999",
                "shared-reader",
                trust_aws("arn:aws:iam::111111111111:root"),
                None,
            ),
            role(
                "111111111111",
                "responder",
                trust_aws("arn:aws:iam::111111111111:root"),
                Some(can_assume("*")),
            ),
        ],
        deny,
    );
    let store = PolicyStore::new(&s);
    assert!(Reach::compute(&s, &store).assumers(SHARED_ROLE).is_empty());
}

#[test]
fn chains_are_followed_and_bounded() {
    let s = snapshot(
        vec![
            role(
                "111111111111",
                "hop0",
                trust_aws("arn:aws:iam::111111111111:root"),
                Some(can_assume("*")),
            ),
            role(
                "222222222222",
                "hop1",
                trust_aws("arn:aws:iam::111111111111:role/hop0"),
                Some(can_assume("*")),
            ),
            role(
                "999999999999",
                "shared-reader",
                trust_aws("arn:aws:iam::222222222222:role/hop1"),
                None,
            ),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let from = reach.reachable_from("arn:aws:iam::111111111111:role/hop0");
    let chain = from.iter().find(|(r, _)| r == SHARED_ROLE).map(|(_, p)| p.len());
    assert_eq!(chain, Some(3), "{from:?}");
}

#[test]
fn unknown_condition_makes_the_edge_conditional() {
    let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
    let s = snapshot(
        vec![
            role("999999999999", "shared-reader", trust, None),
            role(
                "111111111111",
                "responder",
                trust_aws("arn:aws:iam::111111111111:root"),
                Some(can_assume("*")),
            ),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    assert!(reach.assumers(SHARED_ROLE).first().is_some_and(|a| a.conditional));
}

#[test]
fn service_principal_pinned_to_one_source() {
    let space = "arn:aws:aidevops:us-east-1:111111111111:agentspace/invoice";
    let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}, "ArnEquals": {"aws:SourceArn": space}}}]});
    let s = snapshot(vec![role("999999999999", "agent", trust, None)], json!([]));
    let store = PolicyStore::new(&s);
    let role = "arn:aws:iam::999999999999:role/agent";
    assert_eq!(
        Reach::service_may_assume(&store, role, "aidevops.amazonaws.com", Some(space), "111111111111"),
        Truth::True
    );
    assert_eq!(
        Reach::service_may_assume(
            &store,
            role,
            "aidevops.amazonaws.com",
            Some("arn:aws:aidevops:us-east-1:111111111111:agentspace/other"),
            "111111111111"
        ),
        Truth::False
    );
    assert_eq!(
        Reach::service_may_assume(&store, role, "lambda.amazonaws.com", Some(space), "111111111111"),
        Truth::False
    );
}
