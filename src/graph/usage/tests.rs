//! Who uses what: each kind of evidence, and the near misses AWS's matching rules exclude.

use super::{UseReason, names_specific_resources, statement_label};
use crate::checks::known_ids;
use crate::checks::testkit::{CHECKOUT, CONFIG, INVOICE, SHARED, add, add_bus_v2, add_function, add_queue, org};
use crate::config::parse_config;
use crate::graph::{EdgeKind, Topology};
use crate::iam::Policy;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

fn with_topology<T>(s: &Value, f: impl FnOnce(&Topology<'_>) -> T) -> T {
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    f(&t)
}

/// The names of the applications using `arn` (applications are numbered in name order).
fn users_of(t: &Topology<'_>, arn: &str) -> Vec<&'static str> {
    let ix = t.find(arn).unwrap_or_else(|| panic!("{arn} is not a node"));
    t.users(ix)
        .iter()
        .map(|(app, _)| match t.app_name(*app) {
            "invoice" => "invoice",
            "checkout" => "checkout",
            other => panic!("unexpected application {other}"),
        })
        .collect()
}

/// A queue in the shared account with `policy` as its resource policy.
fn add_queue_with_policy(s: &mut Value, name: &str, policy: Value) -> String {
    let arn = crate::testkit::queue_arn("eu-west-1", SHARED, name);
    add(
        s,
        "resources",
        json!({"arn": arn, "kind": "sqs-queue", "account": SHARED, "region": "eu-west-1", "tags": {}, "policy": policy}),
    );
    arn
}

/// An EventBridge v2 subscriber's evidence follows the graph's edges: on the bus it reads, the
/// bus routes to the subscriber; on the queue it delivers to, the subscriber targets the queue.
#[test]
fn subscriber_evidence_follows_the_edges_of_the_graph() {
    let mut s = org();
    let q = add_queue(&mut s, SHARED, "eu-west-1", "orders-in", json!({}));
    let bus = add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(INVOICE, &q)], false);
    let subscriber = format!("arn:aws:events:eu-west-1:{SHARED}:subscriber/orders/s0");
    with_topology(&s, |t| {
        assert_eq!(users_of(t, &bus), ["invoice"]);
        assert_eq!(users_of(t, &q), ["invoice"]);
        let edge = |from: &str, to: &str| {
            let (from, to) = (t.find(from).unwrap(), t.find(to).unwrap());
            t.graph.find_edge(from, to).map(|e| t.graph[e])
        };
        for (resource, relation, from, to) in [(&bus, "routes", &bus, &subscriber), (&q, "targets", &subscriber, &q)] {
            let ix = t.find(resource).unwrap();
            let (_, reason) = &t.users(ix)[0];
            assert!(matches!(reason, UseReason::Subscriber { .. }), "{reason:?}");
            let evidence = reason.evidence(resource);
            assert_eq!(evidence.len(), 1, "{evidence:?}");
            let e = &evidence[0];
            assert_eq!(
                (e.relation.as_str(), e.from.as_str(), e.to.as_deref()),
                (relation, from.as_str(), Some(to.as_str())),
                "evidence on {resource}"
            );
            // The evidence names an edge the graph has, of the same kind.
            let kind = if relation == "routes" {
                EdgeKind::Routes
            } else {
                EdgeKind::Targets
            };
            assert_eq!(edge(from, to), Some(kind), "{e:?}");
        }
    });
}

/// `Sid` is optional (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html):
/// a statement without one, or with an empty one, is named by its position.
#[test]
fn statements_are_named_by_sid_or_by_position() {
    let p = Policy::from_value(&json!({"Statement": [
        {"Sid": "Send", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Sid": "", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    ]}))
    .unwrap();
    let labels: Vec<String> = p
        .statements
        .iter()
        .enumerate()
        .map(|(i, st)| statement_label(i, st))
        .collect();
    assert_eq!(labels, ["statement `Send`", "statement #1", "statement #2"]);
}

/// `*`, and an ARN whose resource part is only wildcards, name "everything" of a service or
/// account: they say nothing about which resource an application depends on.
#[test]
fn only_patterns_with_a_resource_name_name_specific_resources() {
    let q = |resource: &str| format!("arn:aws:sqs:eu-west-1:{SHARED}:{resource}");
    for everything in ["*", &q("*"), &q("?*"), &q("??"), "arn:aws:s3:::*", "not-an-arn"] {
        assert!(!names_specific_resources(everything), "{everything}");
    }
    for specific in [&q("jobs"), &q("jobs-*"), &q("j?bs"), "arn:aws:s3:::data/*"] {
        assert!(names_specific_resources(specific), "{specific}");
    }
}

/// A role's Allow statement names a resource by glob (`*` any run of characters, `?` one), as
/// IAM matches `Resource` ARNs; an ARN without a wildcard names only that resource. A pattern
/// naming objects of a bucket names the bucket.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
#[test]
fn role_policies_name_resources_as_iam_matches_them() {
    let mut s = org();
    let jobs = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    let jobs_dlq = add_queue(&mut s, SHARED, "eu-west-1", "jobs-dlq", json!({}));
    let audit = add_queue(&mut s, SHARED, "eu-west-1", "audit", json!({}));
    let bucket = "arn:aws:s3:::data";
    add(
        &mut s,
        "resources",
        json!({"arn": bucket, "kind": "s3-bucket", "account": SHARED, "region": "eu-west-1", "tags": {}}),
    );
    // invoice names `jobs-dl?` (only jobs-dlq) and objects of `data`; checkout names `job*`
    // (both jobs queues) and `audit-old`, which does not exist: `audit` is no prefix match.
    add_function(
        &mut s,
        INVOICE,
        "eu-west-1",
        "w",
        &[&jobs_dlq.replace("dlq", "dl?"), "arn:aws:s3:::data/reports/*"],
    );
    add_function(
        &mut s,
        CHECKOUT,
        "eu-west-1",
        "c",
        &[&jobs.replace("jobs", "job*"), &format!("{audit}-old")],
    );
    with_topology(&s, |t| {
        assert_eq!(users_of(t, &jobs), ["checkout"]);
        assert_eq!(users_of(t, &jobs_dlq), ["checkout", "invoice"]);
        assert_eq!(users_of(t, bucket), ["invoice"]);
        assert!(users_of(t, &audit).is_empty());
    });
}

/// Patterns naming everything (`*`, `arn:aws:sqs:REGION:ACCOUNT:*`) make no application a user,
/// and neither does a Deny statement: an explicit deny never grants access.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
#[test]
fn near_miss_wildcards_and_denies_use_nothing() {
    let mut s = org();
    let jobs = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    let all_queues = format!("arn:aws:sqs:eu-west-1:{SHARED}:*");
    add_function(&mut s, INVOICE, "eu-west-1", "w", &["*", &all_queues]);
    let role = crate::testkit::role_arn(CHECKOUT, "d-role");
    add(
        &mut s,
        "roles",
        json!({"arn": role, "account": CHECKOUT, "name": "d-role", "trust_policy": {"Statement": []},
               "inline_policies": [{"name": "deny", "document": {"Statement": [
                   {"Effect": "Deny", "Action": "sqs:*", "Resource": jobs}]}}]}),
    );
    add(
        &mut s,
        "functions",
        json!({"arn": crate::testkit::function_arn("eu-west-1", CHECKOUT, "d"), "account": CHECKOUT,
               "region": "eu-west-1", "name": "d", "role": role}),
    );
    with_topology(&s, |t| assert!(users_of(t, &jobs).is_empty()));
}

/// A resource policy's Allow statement makes the applications of the principals it names users:
/// a role, an account's root, or a bare account id (which AWS reads as the account's root); `*`
/// names nobody in particular.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
#[test]
fn resource_policies_grant_the_applications_of_their_principals() {
    let mut s = org();
    let send = |principal: Value| json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sqs:SendMessage", "Resource": "*"}]});
    let by_role = add_queue_with_policy(
        &mut s,
        "by-role",
        send(json!(crate::testkit::role_arn(INVOICE, "w-role"))),
    );
    let by_root = add_queue_with_policy(&mut s, "by-root", send(json!(crate::testkit::root_arn(CHECKOUT))));
    let by_id = add_queue_with_policy(&mut s, "by-id", send(json!([INVOICE, CHECKOUT])));
    let anyone = add_queue_with_policy(&mut s, "anyone", send(json!("*")));
    add_function(&mut s, INVOICE, "eu-west-1", "w", &[]);
    with_topology(&s, |t| {
        assert_eq!(users_of(t, &by_role), ["invoice"]);
        assert_eq!(users_of(t, &by_root), ["checkout"]);
        assert_eq!(users_of(t, &by_id), ["checkout", "invoice"]);
        assert!(users_of(t, &anyone).is_empty());
        let (_, reason) = &t.users(t.find(&by_role).unwrap())[0];
        assert_eq!(
            reason,
            &UseReason::ResourcePolicy {
                principal: crate::testkit::role_arn(INVOICE, "w-role"),
                statement: "statement #0".to_string()
            }
        );
    });
}

/// Near misses of a resource-policy grant: a Deny statement grants nothing, and `NotPrincipal`
/// with Allow grants everyone *except* the principals it names.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
#[test]
fn near_miss_deny_and_not_principal_grant_the_named_principal_nothing() {
    let mut s = org();
    let invoice_root = crate::testkit::root_arn(INVOICE);
    let denied = add_queue_with_policy(
        &mut s,
        "denied",
        json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": invoice_root}, "Action": "sqs:*", "Resource": "*"}]}),
    );
    let except = add_queue_with_policy(
        &mut s,
        "except",
        json!({"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": invoice_root}, "Action": "sqs:*", "Resource": "*"}]}),
    );
    with_topology(&s, |t| {
        assert!(users_of(t, &denied).is_empty());
        assert!(users_of(t, &except).is_empty());
    });
}

/// A service principal acting for one of an application's resources is pinned by
/// `aws:SourceArn` or `aws:SourceAccount` (the confused-deputy conditions); `aws:PrincipalArn`
/// and `aws:PrincipalAccount` name the calling principal. Condition keys are case-insensitive.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
#[test]
fn resource_policies_grant_through_source_and_principal_conditions() {
    let mut s = org();
    let function = add_function(&mut s, INVOICE, "eu-west-1", "w", &[]);
    let from_service = |key: &str, value: &str| {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                              "Resource": "*", "Condition": {"ArnLike": {key: value}}}]})
    };
    let by_arn = add_queue_with_policy(&mut s, "by-arn", from_service("aws:SourceArn", &function));
    let by_account = add_queue_with_policy(&mut s, "by-account", from_service("AWS:SourceAccount", CHECKOUT));
    let by_principal = add_queue_with_policy(
        &mut s,
        "by-principal",
        from_service("aws:PrincipalArn", &crate::testkit::role_arn(INVOICE, "w-role")),
    );
    let by_principal_account = add_queue_with_policy(&mut s, "by-pa", from_service("aws:PrincipalAccount", INVOICE));
    // Near miss: another key naming the same function grants nothing.
    let other_key = add_queue_with_policy(&mut s, "other", from_service("aws:SourceVpce", &function));
    with_topology(&s, |t| {
        assert_eq!(users_of(t, &by_arn), ["invoice"]);
        assert_eq!(users_of(t, &by_account), ["checkout"]);
        assert_eq!(users_of(t, &by_principal), ["invoice"]);
        assert_eq!(users_of(t, &by_principal_account), ["invoice"]);
        assert!(users_of(t, &other_key).is_empty());
    });
}

/// An explicit relation of a use kind (uses, targets, invokes, grants) from one of an
/// application's nodes makes it a user; a relation of another kind (here `can-assume`: a
/// principal that may assume a role has not used it) does not.
#[test]
fn explicit_use_relations_make_users_and_other_kinds_do_not() {
    let mut s = org();
    let jobs = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({}));
    let function = add_function(&mut s, INVOICE, "eu-west-1", "w", &[]);
    let role = crate::testkit::role_arn(SHARED, "reader");
    add(
        &mut s,
        "roles",
        json!({"arn": role, "account": SHARED, "name": "reader", "trust_policy": {"Statement": []}}),
    );
    let invoice_role = crate::testkit::role_arn(INVOICE, "w-role");
    add(
        &mut s,
        "relations",
        json!({"from": function, "to": jobs, "kind": "uses", "evidence": "lambda:GetFunctionConfiguration"}),
    );
    add(
        &mut s,
        "relations",
        json!({"from": invoice_role, "to": role, "kind": "can-assume", "evidence": "trust policy"}),
    );
    with_topology(&s, |t| {
        assert_eq!(users_of(t, &jobs), ["invoice"]);
        let (_, reason) = &t.users(t.find(&jobs).unwrap())[0];
        let evidence = reason.evidence(&jobs);
        assert_eq!(
            (
                evidence[0].relation.as_str(),
                evidence[0].from.as_str(),
                evidence[0].to.as_deref()
            ),
            ("uses", function.as_str(), Some(jobs.as_str()))
        );
        assert!(users_of(t, &role).is_empty());
    });
}
