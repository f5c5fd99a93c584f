//! Query tests on small organizations built here (the checks' test kit: invoice 111111111111,
//! checkout 222222222222, shared 999999999999, zones eu and us). Each access case has a firing,
//! a quiet and a near-miss variant.

use super::can::{CanAnswer, can};
use super::impact::{Scope, impact};
use super::path::path;
use super::who_can::who_can;
use super::*;
use crate::checks::known_ids;
use crate::checks::testkit::{
    CHECKOUT, CONFIG, INVOICE, SHARED, add, add_function, add_queue, add_role, allow, org, trust,
};
use crate::config::parse_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

fn with_topology<R>(s: &Value, f: impl FnOnce(&Topology<'_>) -> R) -> R {
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    f(&t)
}

fn ask(s: &Value, principal: &str, action: &str, resource: Option<&str>, ctx: &[(&str, &str)]) -> CanAnswer {
    let ctx: Vec<String> = ctx.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let ctx = context::Context::parse(&ctx).unwrap();
    with_topology(s, |t| can(t, principal, action, resource, &ctx).unwrap())
}

static NO_CONTEXT: std::sync::LazyLock<context::Context> = std::sync::LazyLock::new(context::Context::default);

fn no_q() -> super::path::PathQuery<'static> {
    super::path::PathQuery {
        action: None,
        context: &NO_CONTEXT,
    }
}

const TABLE: &str = "arn:aws:dynamodb:eu-west-1:999999999999:table/customers";

fn with_table(s: &mut Value, policy: Option<Value>) {
    let mut r = json!({"arn": TABLE, "kind": "dynamodb-table", "account": SHARED, "region": "eu-west-1"});
    if let Some(p) = policy {
        r["policy"] = p;
    }
    add(s, "resources", r);
}

#[test]
fn direct_allow_names_the_identity_statement() {
    let mut s = org();
    with_table(&mut s, None);
    let r = add_role(
        &mut s,
        SHARED,
        "ops",
        trust("arn:aws:iam::999999999999:root"),
        allow(&["dynamodb:GetItem"], TABLE),
    );
    let a = ask(&s, &r, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Allowed);
    assert_eq!(a.grants.first().map(|g| g.layer), Some("identity"));
    assert!(a.chain.is_empty() && a.deciding.is_none());
    // near miss: another action of the same service is not allowed
    let b = ask(&s, &r, "dynamodb:PutItem", Some(TABLE), &[]);
    assert_eq!(b.decision, Verdict::Denied);
    assert_eq!(b.deciding.unwrap().layer, "identity");
}

/// An SCP that denies at one OU denies the accounts under it, not its siblings.
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>
#[test]
fn scp_deny_names_the_ou() {
    let mut s = org();
    s["organization"]["units"] =
        json!([{"id": "r-root", "name": "Root"}, {"id": "ou-prod", "name": "prod", "parent": "r-root"}]);
    s["organization"]["accounts"][0]["parent"] = json!("ou-prod");
    let full = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let deny = json!({"Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}]});
    s["organization"]["policies"] = json!([
        {"id": "p-full", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-full", "name": "FullAWSAccess", "kind": "SERVICE_CONTROL_POLICY", "document": full, "targets": ["r-root", "ou-prod", INVOICE, CHECKOUT, SHARED]},
        {"id": "p-deny", "arn": "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-deny", "name": "no-delete", "kind": "SERVICE_CONTROL_POLICY", "document": deny, "targets": ["ou-prod"]}
    ]);
    let table = "arn:aws:dynamodb:eu-west-1:111111111111:table/t";
    let inv = add_role(
        &mut s,
        INVOICE,
        "admin",
        trust("arn:aws:iam::111111111111:root"),
        allow(&["dynamodb:*"], "*"),
    );
    let chk = add_role(
        &mut s,
        CHECKOUT,
        "admin",
        trust("arn:aws:iam::222222222222:root"),
        allow(&["dynamodb:*"], "*"),
    );
    let a = ask(&s, &inv, "dynamodb:DeleteTable", Some(table), &[]);
    assert_eq!(a.decision, Verdict::NotProven, "the table is not in the snapshot");
    let a = ask(&s, &inv, "dynamodb:DeleteTable", None, &[]);
    assert_eq!(a.decision, Verdict::Denied);
    let d = a.deciding.unwrap();
    assert_eq!((d.layer, d.explicit, d.at.as_deref()), ("scp", true, Some("ou-prod")));
    assert_eq!(d.statement.as_deref(), Some("NoDelete"));
    // quiet: the sibling account outside the OU
    assert_eq!(
        ask(&s, &chk, "dynamodb:DeleteTable", None, &[]).decision,
        Verdict::Allowed
    );
    // near miss: another action in the denied account
    assert_eq!(
        ask(&s, &inv, "dynamodb:DescribeTable", None, &[]).decision,
        Verdict::Allowed
    );
}

#[test]
fn boundary_denies_what_identity_allows() {
    let mut s = org();
    with_table(&mut s, None);
    add(
        &mut s,
        "managed_policies",
        json!({"arn": "arn:aws:iam::999999999999:policy/read-only", "name": "read-only", "document": allow(&["dynamodb:GetItem"], "*")}),
    );
    let r = add_role(
        &mut s,
        SHARED,
        "dev",
        trust("arn:aws:iam::999999999999:root"),
        allow(&["dynamodb:*"], "*"),
    );
    s["roles"][0]["permission_boundary"] = json!("arn:aws:iam::999999999999:policy/read-only");
    let a = ask(&s, &r, "dynamodb:PutItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Denied);
    let d = a.deciding.unwrap();
    assert_eq!(d.layer, "boundary");
    assert_eq!(d.policy.as_deref(), Some("arn:aws:iam::999999999999:policy/read-only"));
    // quiet: what the boundary allows
    assert_eq!(
        ask(&s, &r, "dynamodb:GetItem", Some(TABLE), &[]).decision,
        Verdict::Allowed
    );
}

/// Across accounts the identity policy and the resource policy must both allow.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_evaluation-logic-cross-account.html>
#[test]
fn cross_account_needs_the_resource_policy() {
    let grant = json!({"Statement": [{"Sid": "Checkout", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/worker"}, "Action": "dynamodb:GetItem", "Resource": TABLE}]});
    let build = |policy: Option<Value>| {
        let mut s = org();
        with_table(&mut s, policy);
        add_role(
            &mut s,
            CHECKOUT,
            "worker",
            trust("arn:aws:iam::222222222222:root"),
            allow(&["dynamodb:GetItem"], TABLE),
        );
        s
    };
    let role = "arn:aws:iam::222222222222:role/worker";
    let a = ask(&build(Some(grant.clone())), role, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Allowed);
    let layers: Vec<&str> = a.grants.iter().map(|g| g.layer).collect();
    assert!(
        layers.contains(&"resource") && layers.contains(&"identity"),
        "{layers:?}"
    );
    // quiet: no resource policy, no access
    assert_eq!(
        ask(&build(None), role, "dynamodb:GetItem", Some(TABLE), &[]).decision,
        Verdict::Denied
    );
    // near miss: the resource policy grants another action
    let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": role}, "Action": "dynamodb:Query", "Resource": TABLE}]});
    assert_eq!(
        ask(&build(Some(other)), role, "dynamodb:GetItem", Some(TABLE), &[]).decision,
        Verdict::Denied
    );
    // who-can lists the role and, through its trust in its own account, that account's
    // administrators (a synthetic caller, with the chain); nobody else
    let s = build(Some(grant));
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    let ps: Vec<(&str, &str, usize)> = w
        .principals
        .iter()
        .map(|p| (p.principal.as_str(), p.kind, p.chain.len()))
        .collect();
    assert_eq!(
        ps,
        vec![
            ("arn:aws:iam::222222222222:role/worker", "role", 0),
            ("arn:aws:iam::222222222222:root", "account-administrators", 1)
        ]
    );
}

#[test]
fn explicit_deny_wins_over_an_allow() {
    let mut s = org();
    with_table(&mut s, None);
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Sid": "NoDrop", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": TABLE}
    ]});
    let r = add_role(&mut s, SHARED, "ops", trust("arn:aws:iam::999999999999:root"), policy);
    let a = ask(&s, &r, "dynamodb:DeleteTable", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Denied);
    let d = a.deciding.unwrap();
    assert!(
        d.explicit && d.layer == "identity" && d.statement.as_deref() == Some("NoDrop"),
        "{d:?}"
    );
    // near miss: the deny names another table
    let other = "arn:aws:dynamodb:eu-west-1:999999999999:table/other";
    add(
        &mut s,
        "resources",
        json!({"arn": other, "kind": "dynamodb-table", "account": SHARED, "region": "eu-west-1"}),
    );
    assert_eq!(
        ask(&s, &r, "dynamodb:DeleteTable", Some(other), &[]).decision,
        Verdict::Allowed
    );
}

/// A → B → C, only C may read: `can` for A shows both hops with their trust statements.
fn three_roles() -> (Value, [String; 3]) {
    let mut s = org();
    with_table(&mut s, None);
    let c_arn = "arn:aws:iam::999999999999:role/c";
    let b_arn = "arn:aws:iam::999999999999:role/b";
    let a = add_role(
        &mut s,
        INVOICE,
        "a",
        trust("arn:aws:iam::111111111111:root"),
        allow(&["sts:AssumeRole"], b_arn),
    );
    let mut tb = trust(&a);
    tb["Statement"][0]["Sid"] = json!("FromA");
    let b = add_role(&mut s, SHARED, "b", tb, allow(&["sts:AssumeRole"], c_arn));
    let c = add_role(&mut s, SHARED, "c", trust(&b), allow(&["dynamodb:GetItem"], TABLE));
    (s, [a, b, c])
}

#[test]
fn chain_of_three_roles() {
    let (s, [a, b, c]) = three_roles();
    let ans = ask(&s, &a, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(ans.decision, Verdict::Allowed);
    let hops: Vec<(&str, &str)> = ans.chain.iter().map(|h| (h.from.as_str(), h.to.as_str())).collect();
    assert_eq!(hops, vec![(a.as_str(), b.as_str()), (b.as_str(), c.as_str())]);
    assert!(ans.chain[0].detail.contains("FromA"), "{}", ans.chain[0].detail);
    // who-can finds A through the chain, B with one hop, C directly
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    let by: Vec<(&str, usize)> = w
        .principals
        .iter()
        .map(|p| (p.principal.as_str(), p.chain.len()))
        .collect();
    assert!(
        by.contains(&(a.as_str(), 2)) && by.contains(&(b.as_str(), 1)) && by.contains(&(c.as_str(), 0)),
        "{by:?}"
    );
    // near miss: the action C cannot do is denied for A too
    assert_eq!(
        ask(&s, &a, "dynamodb:PutItem", Some(TABLE), &[]).decision,
        Verdict::Denied
    );
    // path follows the same assumptions
    let p = with_topology(&s, |t| path(t, &a, &c, no_q()).unwrap());
    assert_eq!(p.paths.len(), 1);
    assert_eq!(p.paths[0].len(), 2);
}

/// `aws:MultiFactorAuthPresent` is unknown in a snapshot: conditional, until `--context` says.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent>
#[test]
fn context_decides_a_conditional_answer() {
    let mut s = org();
    with_table(&mut s, None);
    let policy = json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteItem", "Resource": TABLE, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
    let r = add_role(&mut s, SHARED, "mfa", trust("arn:aws:iam::999999999999:root"), policy);
    let a = ask(&s, &r, "dynamodb:DeleteItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Conditional);
    assert_eq!(a.conditions, vec!["aws:MultiFactorAuthPresent".to_string()]);
    assert_eq!(
        ask(
            &s,
            &r,
            "dynamodb:DeleteItem",
            Some(TABLE),
            &[("aws:MultiFactorAuthPresent", "true")]
        )
        .decision,
        Verdict::Allowed
    );
    assert_eq!(
        ask(
            &s,
            &r,
            "dynamodb:DeleteItem",
            Some(TABLE),
            &[("aws:MultiFactorAuthPresent", "false")]
        )
        .decision,
        Verdict::Denied
    );
}

// `--context aws:SourceIp=ADDR` decides an IpAddress condition (issue 15):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
#[test]
fn context_source_ip_decides_an_ip_address_condition() {
    let mut s = org();
    with_table(&mut s, None);
    let policy = json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteItem", "Resource": TABLE, "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}]});
    let r = add_role(
        &mut s,
        SHARED,
        "office",
        trust("arn:aws:iam::999999999999:root"),
        policy,
    );
    let a = ask(&s, &r, "dynamodb:DeleteItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Conditional);
    assert_eq!(a.conditions, vec!["aws:SourceIp".to_string()]);
    let with_ip = |ip: &str| ask(&s, &r, "dynamodb:DeleteItem", Some(TABLE), &[("aws:SourceIp", ip)]).decision;
    assert_eq!(with_ip("203.0.113.255"), Verdict::Allowed);
    assert_eq!(with_ip("2001:db8:ffff::1"), Verdict::Allowed);
    assert_eq!(with_ip("203.0.114.0"), Verdict::Denied);
    assert_eq!(with_ip("198.51.100.1"), Verdict::Denied);
}

#[test]
fn a_gap_makes_the_answer_not_proven() {
    let mut s = org();
    with_table(&mut s, None);
    let r = add_role(
        &mut s,
        CHECKOUT,
        "w",
        trust("arn:aws:iam::222222222222:root"),
        allow(&["dynamodb:GetItem"], TABLE),
    );
    s["coverage"] = json!({"gaps": [{"account": SHARED, "api": "dynamodb:GetResourcePolicy", "error_code": "AccessDeniedException"}]});
    let a = ask(&s, &r, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::NotProven);
    assert_eq!(a.evaluated, Some(Verdict::Denied));
    assert!(
        a.gaps[0].contains("dynamodb:GetResourcePolicy") && a.gaps[0].contains(SHARED),
        "{:?}",
        a.gaps
    );
    // near miss: a gap in an account the answer does not touch
    s["coverage"]["gaps"][0]["account"] = json!(INVOICE);
    assert_eq!(
        ask(&s, &r, "dynamodb:GetItem", Some(TABLE), &[]).decision,
        Verdict::Denied
    );
}

fn shared_queue() -> (Value, String) {
    let mut s = org();
    let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
    add_function(&mut s, INVOICE, "eu-west-1", "inv", &[&q]);
    add_function(&mut s, CHECKOUT, "us-east-1", "chk", &[&q]);
    add_function(&mut s, CHECKOUT, "us-east-1", "alone", &[]);
    (s, q)
}

#[test]
fn impact_of_a_shared_resource_and_of_a_region() {
    let (s, q) = shared_queue();
    let a = with_topology(&s, |t| impact(t, Scope::Resource(&q)).unwrap());
    assert_eq!(a.applications, vec!["checkout", "invoice"]);
    let ids: Vec<&str> = a.resources.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"arn:aws:lambda:eu-west-1:111111111111:function:inv"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"arn:aws:lambda:us-east-1:222222222222:function:chk"),
        "{ids:?}"
    );
    // quiet: the function that does not use the queue
    assert!(!ids.iter().any(|i| i.ends_with(":alone")), "{ids:?}");
    // the checkout function in us-east-1 uses the eu-west-1 queue: a cross-zone flow
    assert!(
        a.flows
            .iter()
            .any(|f| f.from_zone.as_deref() == Some("us") && f.to_zone.as_deref() == Some("eu")),
        "{:?}",
        a.flows
    );
    assert!(a.proven);
    // region: the eu-west-1 queue fails, so the us-east-1 function using it is affected
    let r = with_topology(&s, |t| impact(t, Scope::Region("us-west-2")).err());
    assert!(
        r.unwrap()
            .0
            .contains("no node of the snapshot is in region `us-west-2`")
    );
    let r = with_topology(&s, |t| impact(t, Scope::Region("eu-west-1")).unwrap());
    let ids: Vec<&str> = r.resources.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, vec!["arn:aws:lambda:us-east-1:222222222222:function:chk"]);
    assert_eq!(r.applications, vec!["checkout", "invoice"]);
}

#[test]
fn impact_gap_is_named() {
    let (mut s, q) = shared_queue();
    s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "eu-west-1", "api": "sqs:ListQueues", "error_code": "AccessDenied"}]});
    let a = with_topology(&s, |t| impact(t, Scope::Resource(&q)).unwrap());
    assert!(!a.proven && a.gaps[0].contains("sqs:ListQueues"), "{:?}", a.gaps);
    // near miss: a gap in another region
    s["coverage"]["gaps"][0]["region"] = json!("ap-southeast-1");
    assert!(with_topology(&s, |t| impact(t, Scope::Resource(&q)).unwrap()).proven);
}

#[test]
fn path_has_evidence_for_every_hop() {
    let (s, q) = shared_queue();
    let f = "arn:aws:lambda:eu-west-1:111111111111:function:inv";
    let p = with_topology(&s, |t| path(t, f, &q, no_q()).unwrap());
    assert_eq!(p.paths.len(), 1, "{:?}", p.paths);
    assert!(p.paths[0].iter().all(|h| !h.detail.is_empty()));
    // no path backwards from the queue to the function
    assert!(
        with_topology(&s, |t| path(
            t,
            &q,
            "arn:aws:lambda:us-east-1:222222222222:function:alone",
            no_q()
        )
        .unwrap())
        .paths
        .is_empty()
    );
    assert!(with_topology(&s, |t| path(
        t,
        "arn:aws:sqs:eu-west-1:1:nope",
        &q,
        no_q()
    )
    .is_err()));
}

#[test]
fn unknown_action_suggests_the_closest() {
    let catalog = Catalog::get().unwrap();
    let e = known_action(catalog, "dynamodb:GetItm").unwrap_err();
    assert!(e.0.contains("`dynamodb:GetItem`"), "{e}");
    let e = known_action(catalog, "dynamodbb:GetItem").unwrap_err();
    assert!(e.0.contains("did you mean service `dynamodb`"), "{e}");
    assert!(known_action(catalog, "s3:Get*").is_err());
    assert_eq!(known_action(catalog, "S3:getobject").unwrap(), "s3:GetObject");
}

#[test]
fn unknown_principal_is_an_error() {
    let (s, _) = shared_queue();
    let e = with_topology(&s, |t| {
        can(
            t,
            "arn:aws:iam::111111111111:role/ghost",
            "sqs:SendMessage",
            None,
            &Default::default(),
        )
        .unwrap_err()
    });
    assert!(
        e.0.contains("unknown principal `arn:aws:iam::111111111111:role/ghost`"),
        "{e}"
    );
}

#[test]
fn context_pairs_parse_or_fail() {
    assert_eq!(
        parse_context(&["a:b=c=d".to_string()]).unwrap(),
        vec![("a:b".to_string(), "c=d".to_string())]
    );
    assert!(parse_context(&["novalue".to_string()]).is_err());
    assert!(parse_context(&["=x".to_string()]).is_err());
}

#[test]
fn hostile_policy_names_are_escaped_in_every_sink() {
    let mut s = org();
    with_table(&mut s, None);
    let r = add_role(
        &mut s,
        SHARED,
        "ops",
        trust("arn:aws:iam::999999999999:root"),
        allow(&["dynamodb:GetItem"], TABLE),
    );
    s["roles"][0]["inline_policies"][0]["name"] = json!("evil\u{1b}[2J\n`*|@x");
    let a = ask(&s, &r, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(a.decision, Verdict::Allowed);
    let render = |f: AnswerFormat| {
        let mut out = Vec::new();
        a.render(f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let human = render(AnswerFormat::Human);
    assert!(
        !human.contains('\u{1b}') && human.contains("\\u{1b}") && human.lines().count() == 2,
        "{human}"
    );
    let md = render(AnswerFormat::Markdown);
    assert!(!md.contains('\u{1b}') && !md.contains("evil\u{1b}"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&render(AnswerFormat::Json)).unwrap();
    assert!(
        json["grants"][0]["policy"]
            .as_str()
            .unwrap()
            .contains("evil\u{1b}[2J\n")
    );
}

/// The table's policy lets the administrators of checkout and invoice read it, with a Deny
/// statement `deny` next to the grant.
fn who_reads_with_deny(deny: Value) -> Vec<(String, Verdict, Vec<String>)> {
    let mut s = org();
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [format!("arn:aws:iam::{CHECKOUT}:root"), INVOICE]},
         "Action": "dynamodb:GetItem", "Resource": TABLE},
        deny,
    ]});
    with_table(&mut s, Some(policy));
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    w.principals
        .into_iter()
        .filter(|p| p.kind == "account-administrators")
        .map(|p| (p.principal, p.decision, p.conditions))
        .collect()
}

// An explicit Deny in the resource policy overrides its Allow, for callers the snapshot cannot
// enumerate as well; `NotPrincipal` with Deny applies to everyone it does not name.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
#[test]
fn fires_a_resource_policy_deny_removes_an_account_trusted_by_its_allow() {
    let deny = json!({"Effect": "Deny", "Principal": {"AWS": CHECKOUT}, "Action": "dynamodb:*", "Resource": "*"});
    let listed = who_reads_with_deny(deny);
    let ids: Vec<&str> = listed.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(ids, [format!("arn:aws:iam::{INVOICE}:root")]);
    // NotPrincipal: everyone but invoice is denied.
    let deny =
        json!({"Effect": "Deny", "NotPrincipal": {"AWS": INVOICE}, "Action": "dynamodb:GetItem", "Resource": TABLE});
    let ids: Vec<String> = who_reads_with_deny(deny).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(ids, [format!("arn:aws:iam::{INVOICE}:root")]);
}

#[test]
fn quiet_a_deny_under_an_undecided_condition_makes_the_callers_conditional() {
    let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": TABLE,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    let listed = who_reads_with_deny(deny);
    assert_eq!(listed.len(), 2, "{listed:?}");
    for (p, decision, keys) in &listed {
        assert_eq!(*decision, Verdict::Conditional, "{p}");
        assert_eq!(keys, &["aws:SecureTransport".to_string()], "{p}");
    }
}

#[test]
fn near_miss_a_deny_for_another_account_or_action_removes_nobody() {
    for deny in [
        json!({"Effect": "Deny", "Principal": {"AWS": "333333333333"}, "Action": "dynamodb:GetItem", "Resource": TABLE}),
        json!({"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": TABLE}),
    ] {
        let listed = who_reads_with_deny(deny.clone());
        assert_eq!(listed.len(), 2, "{deny}: {listed:?}");
        assert!(
            listed.iter().all(|(_, d, _)| *d == Verdict::Allowed),
            "{deny}: {listed:?}"
        );
    }
}

// A resource control policy's Deny applies to every principal that calls a resource of the
// accounts it is attached to, including principals of other accounts: the data-perimeter RCP
// removes an outside account's administrators and makes "anyone" depend on the caller's
// organization, and leaves the organization's own accounts alone.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
#[test]
fn fires_an_rcp_perimeter_removes_outside_callers_and_keeps_the_organizations() {
    let mut s = org();
    let org_id = "o-a1b2c3d4e5";
    s["organization"]["id"] = json!(org_id);
    let perimeter = json!({"Statement": [{"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:*",
        "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id}}}]});
    let full = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    s["organization"]["policies"] = json!([
        {"id": "p-rcpfull", "arn": "arn:aws:organizations::aws:policy/resource_control_policy/p-rcpfull", "name": "RCPFullAWSAccess", "kind": "RESOURCE_CONTROL_POLICY", "document": full, "targets": [SHARED]},
        {"id": "p-perim", "arn": "arn:aws:organizations::111111111111:policy/o-x/resource_control_policy/p-perim", "name": "perimeter", "kind": "RESOURCE_CONTROL_POLICY", "document": perimeter, "targets": [SHARED]}
    ]);
    let policy = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*", INVOICE, "333333333333"]},
        "Action": "dynamodb:GetItem", "Resource": TABLE}]});
    with_table(&mut s, Some(policy));
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    let listed: Vec<(&str, Verdict)> = w
        .principals
        .iter()
        .filter(|p| matches!(p.kind, "account-administrators" | "anyone"))
        .map(|p| (p.principal.as_str(), p.decision))
        .collect();
    assert!(
        listed.contains(&(&format!("arn:aws:iam::{INVOICE}:root"), Verdict::Allowed)),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|(p, _)| p.contains("333333333333")), "{listed:?}");
    assert!(listed.contains(&("*", Verdict::Conditional)), "{listed:?}");
}

// --- `--context` on every request of a chain -------------------------------------------------

/// A → B → C as [`three_roles`], but B's trust lets A in only with MFA, and C may read the
/// table only through the VPC endpoint `vpce-1`: request 1 (A assumes B) depends on
/// `aws:MultiFactorAuthPresent`, request 3 (C reads) on `aws:SourceVpce`.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
fn gated_chain() -> (Value, [String; 3]) {
    let (mut s, names) = three_roles();
    s["roles"][1]["trust_policy"]["Statement"][0]["Condition"] =
        json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
    s["roles"][2]["inline_policies"][0]["document"]["Statement"][0]["Condition"] =
        json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}});
    (s, names)
}

fn hops_of(a: &CanAnswer) -> Vec<(&str, &str)> {
    a.chain.iter().map(|h| (h.from.as_str(), h.to.as_str())).collect()
}

#[test]
fn fires_context_decides_the_trust_of_every_hop() {
    let (s, [a, b, c]) = gated_chain();
    let open = ask(&s, &a, "dynamodb:GetItem", Some(TABLE), &[]);
    assert_eq!(open.decision, Verdict::Conditional);
    assert_eq!(open.conditions, vec!["aws:MultiFactorAuthPresent", "aws:SourceVpce"]);
    let yes = [("aws:MultiFactorAuthPresent", "true"), ("aws:SourceVpce", "vpce-1")];
    let ok = ask(&s, &a, "dynamodb:GetItem", Some(TABLE), &yes);
    assert_eq!(ok.decision, Verdict::Allowed, "{ok:?}");
    assert_eq!(hops_of(&ok), vec![(a.as_str(), b.as_str()), (b.as_str(), c.as_str())]);
    // Without MFA the first assumption is denied: there is no chain, whatever the last request.
    let no_mfa = [("aws:MultiFactorAuthPresent", "false"), ("aws:SourceVpce", "vpce-1")];
    let denied = ask(&s, &a, "dynamodb:GetItem", Some(TABLE), &no_mfa);
    assert_eq!(denied.decision, Verdict::Denied, "{denied:?}");
    assert!(denied.chain.is_empty());
    // who-can: without MFA, A is gone; B and C (whose requests need no MFA) stay
    let w = |pairs: &[&str]| {
        let ctx = context::Context::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap();
        with_topology(&s, |t| who_can(t, "dynamodb:GetItem", TABLE, &ctx, None).unwrap())
            .principals
            .iter()
            .map(|p| (p.principal.clone(), p.decision))
            .collect::<Vec<_>>()
    };
    let without = w(&["aws:MultiFactorAuthPresent=false", "aws:SourceVpce=vpce-1"]);
    assert!(!without.iter().any(|(p, _)| *p == a), "{without:?}");
    assert!(without.contains(&(b.clone(), Verdict::Allowed)), "{without:?}");
    let with = w(&["aws:MultiFactorAuthPresent=true", "aws:SourceVpce=vpce-1"]);
    assert!(with.contains(&(a.clone(), Verdict::Allowed)), "{with:?}");
    // path: the same hops, decided the same way
    let p = |pairs: &[&str]| {
        let ctx = context::Context::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap();
        let q = super::path::PathQuery {
            action: Some("dynamodb:GetItem"),
            context: &ctx,
        };
        with_topology(&s, |t| path(t, &a, TABLE, q).unwrap()).paths
    };
    assert!(p(&["aws:MultiFactorAuthPresent=false"]).is_empty());
    let found = p(&["aws:MultiFactorAuthPresent=true", "aws:SourceVpce=vpce-1"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].iter().all(|h| h.conditions.is_empty()), "{found:?}");
}

#[test]
fn near_miss_a_scoped_value_decides_its_own_request_only() {
    let (s, [a, ..]) = gated_chain();
    // MFA given for request 2 (B assumes C) does not decide request 1
    let a2 = ask(
        &s,
        &a,
        "dynamodb:GetItem",
        Some(TABLE),
        &[
            ("hop=2:aws:MultiFactorAuthPresent", "true"),
            ("aws:SourceVpce", "vpce-1"),
        ],
    );
    assert_eq!(a2.decision, Verdict::Conditional);
    assert_eq!(a2.conditions, vec!["aws:MultiFactorAuthPresent"]);
    // the VPC endpoint given for request 2 does not decide the final request, 3
    let a3 = ask(
        &s,
        &a,
        "dynamodb:GetItem",
        Some(TABLE),
        &[
            ("hop=1:aws:MultiFactorAuthPresent", "true"),
            ("hop=2:aws:SourceVpce", "vpce-1"),
        ],
    );
    assert_eq!(a3.conditions, vec!["aws:SourceVpce"]);
    // each given for its own request: allowed
    let ok = ask(
        &s,
        &a,
        "dynamodb:GetItem",
        Some(TABLE),
        &[
            ("hop=1:aws:MultiFactorAuthPresent", "true"),
            ("hop=3:aws:SourceVpce", "vpce-1"),
        ],
    );
    assert_eq!(ok.decision, Verdict::Allowed, "{ok:?}");
    // a scoped value wins over the unscoped one at its request
    let over = ask(
        &s,
        &a,
        "dynamodb:GetItem",
        Some(TABLE),
        &[
            ("aws:MultiFactorAuthPresent", "false"),
            ("hop=1:aws:MultiFactorAuthPresent", "true"),
            ("aws:SourceVpce", "vpce-1"),
        ],
    );
    assert_eq!(over.decision, Verdict::Allowed, "{over:?}");
}

#[test]
fn quiet_values_for_keys_no_policy_uses_change_nothing() {
    let (s, [a, ..]) = gated_chain();
    let open = ask(&s, &a, "dynamodb:GetItem", Some(TABLE), &[]);
    let other = ask(
        &s,
        &a,
        "dynamodb:GetItem",
        Some(TABLE),
        &[("aws:SourceVpc", "vpc-9"), ("hop=2:aws:UserAgent", "x")],
    );
    assert_eq!((other.decision, &other.conditions), (open.decision, &open.conditions));
    assert_eq!(hops_of(&other), hops_of(&open));
}

#[test]
fn scoped_context_parses_or_fails_naming_the_argument() {
    let ok = context::Context::parse(&["a:b=1".to_string(), "hop=2:a:b=2".to_string()]).unwrap();
    assert_eq!(ok.for_hop(1), vec![("a:b".to_string(), "1".to_string())]);
    assert_eq!(ok.for_hop(2), vec![("a:b".to_string(), "2".to_string())]);
    assert!(ok.is_scoped());
    for bad in ["hop=0:a:b=1", "hop=7:a:b=1", "hop=x:a:b=1", "hop=2:novalue", "hop=2"] {
        let e = context::Context::parse(&[bad.to_string()]).unwrap_err();
        assert!(e.0.contains("bad --context"), "{bad}: {e}");
    }
}

// --- `path` to a resource: the last `can-access` hop ----------------------------------------

fn path_q<'a>(action: Option<&'a str>) -> super::path::PathQuery<'a> {
    super::path::PathQuery {
        action,
        context: &NO_CONTEXT,
    }
}

#[test]
fn fires_path_reaches_a_resource_through_the_role_that_may_access_it() {
    let (s, [a, b, c]) = three_roles();
    let p = with_topology(&s, |t| path(t, &a, TABLE, path_q(None)).unwrap());
    assert_eq!(p.paths.len(), 1, "{:?}", p.paths);
    let hops: Vec<(&str, &str, &str)> = p.paths[0]
        .iter()
        .map(|h| (h.from.as_str(), h.to.as_str(), h.relation.as_str()))
        .collect();
    assert_eq!(
        hops,
        vec![
            (a.as_str(), b.as_str(), "can-assume"),
            (b.as_str(), c.as_str(), "can-assume"),
            (c.as_str(), TABLE, "can-access")
        ]
    );
    let last = &p.paths[0][2].detail;
    assert!(
        last.contains("dynamodb:GetItem") && last.contains("statement #0"),
        "{last}"
    );
    // with the action the role has, the same path
    let p = with_topology(&s, |t| path(t, &a, TABLE, path_q(Some("dynamodb:GetItem"))).unwrap());
    assert_eq!(p.paths.len(), 1);
}

#[test]
fn near_miss_path_with_an_action_no_role_of_the_chain_has() {
    let (s, [a, ..]) = three_roles();
    let p = with_topology(&s, |t| path(t, &a, TABLE, path_q(Some("dynamodb:PutItem"))).unwrap());
    assert!(p.paths.is_empty(), "{:?}", p.paths);
}

/// Across accounts the resource policy must grant too: without it the role's identity policy
/// alone does not reach the table.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_evaluation-logic-cross-account.html>
#[test]
fn quiet_path_across_accounts_needs_the_resource_policy() {
    let role = "arn:aws:iam::222222222222:role/worker";
    let build = |policy: Option<Value>| {
        let mut s = org();
        with_table(&mut s, policy);
        add_role(
            &mut s,
            CHECKOUT,
            "worker",
            trust("arn:aws:iam::222222222222:root"),
            allow(&["dynamodb:GetItem"], TABLE),
        );
        s
    };
    let none = with_topology(&build(None), |t| path(t, role, TABLE, path_q(None)).unwrap());
    assert!(none.paths.is_empty(), "{:?}", none.paths);
    let grant = json!({"Statement": [{"Sid": "Worker", "Effect": "Allow", "Principal": {"AWS": role}, "Action": "dynamodb:GetItem", "Resource": TABLE}]});
    let some = with_topology(&build(Some(grant)), |t| path(t, role, TABLE, path_q(None)).unwrap());
    assert_eq!(some.paths.len(), 1, "{:?}", some.paths);
    assert_eq!(some.paths[0][0].relation, "can-access");
    assert!(
        some.paths[0][0].detail.contains("Worker"),
        "{}",
        some.paths[0][0].detail
    );
}

/// The trust of a role in another account names the worker's account root (its
/// administrators, a caller the snapshot cannot enumerate) under a condition on
/// `aws:SourceVpce`: `--context` decides that assumption for them too.
#[test]
fn fires_context_decides_the_assumption_of_an_account_s_administrators() {
    let mut s = org();
    with_table(&mut s, None);
    let mut tr = trust("arn:aws:iam::222222222222:root");
    tr["Statement"][0]["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}});
    let reader = add_role(&mut s, SHARED, "reader", tr, allow(&["dynamodb:GetItem"], TABLE));
    let who = |pairs: &[&str]| {
        let ctx = context::Context::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap();
        with_topology(&s, |t| who_can(t, "dynamodb:GetItem", TABLE, &ctx, None).unwrap())
            .principals
            .iter()
            .map(|p| (p.principal.clone(), p.decision))
            .collect::<Vec<_>>()
    };
    let admins = "arn:aws:iam::222222222222:root".to_string();
    assert!(
        who(&[]).contains(&(admins.clone(), Verdict::Conditional)),
        "{:?}",
        who(&[])
    );
    assert!(who(&["aws:SourceVpce=vpce-1"]).contains(&(admins.clone(), Verdict::Allowed)));
    let other = who(&["aws:SourceVpce=vpce-2"]);
    assert!(!other.iter().any(|(p, _)| *p == admins), "{other:?}");
    // near miss: the role itself reads directly, whatever the endpoint of the assumption
    assert!(other.contains(&(reader, Verdict::Allowed)), "{other:?}");
}

/// A session policy limits the starting session's own requests, its first assumption included:
/// without `sts:AssumeRole` in it, A's chain to C is closed.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>
#[test]
fn near_miss_a_session_policy_closes_the_chain_it_does_not_allow() {
    let (s, [a, ..]) = three_roles();
    let with_session = |doc: Value| {
        let named = crate::iam::store::Named {
            name: "session policy `s.json`".to_string(),
            policy: std::sync::Arc::new(crate::iam::Policy::from_value(&doc).unwrap()),
        };
        let ctx = context::Context::default().with_session(vec![named]);
        with_topology(&s, |t| can(t, &a, "dynamodb:GetItem", Some(TABLE), &ctx).unwrap())
    };
    let closed = with_session(allow(&["dynamodb:GetItem"], "*"));
    assert_eq!(closed.decision, Verdict::Denied, "{closed:?}");
    assert_eq!(closed.deciding.as_ref().map(|d| d.layer), Some("identity"));
    let open = with_session(allow(&["sts:AssumeRole"], "*"));
    assert_eq!(open.decision, Verdict::Allowed, "{open:?}");
    assert_eq!(open.chain.len(), 2);
}

/// A service that assumes a role is listed with its chain whether or not `--context` is given:
/// its assumption's conditions are the service's (as the reachability leaves them).
#[test]
fn quiet_context_keeps_a_service_that_assumes_the_role() {
    let mut s = org();
    with_table(&mut s, None);
    let tr = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    add_role(&mut s, SHARED, "fn", tr, allow(&["dynamodb:GetItem"], TABLE));
    for pairs in [vec![], vec!["aws:SourceVpce=vpce-1".to_string()]] {
        let ctx = context::Context::parse(&pairs).unwrap();
        let w = with_topology(&s, |t| who_can(t, "dynamodb:GetItem", TABLE, &ctx, None).unwrap());
        let services: Vec<(&str, usize)> = w
            .principals
            .iter()
            .filter(|p| p.kind == "service")
            .map(|p| (p.principal.as_str(), p.chain.len()))
            .collect();
        assert_eq!(services, vec![("lambda.amazonaws.com", 1)], "{pairs:?}");
    }
}

/// `who-can` skips, without evaluating them, the principals whose own policies have no Allow for
/// the action when the resource policy has none either: only an Allow in an identity-based or a
/// resource-based policy grants; everything else only limits.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
#[test]
fn who_can_finds_every_kind_of_allow_and_skips_only_principals_nothing_could_grant() {
    let run = |table_policy: Option<Value>| {
        let mut s = org();
        with_table(&mut s, table_policy);
        let root = "arn:aws:iam::999999999999:root";
        add_role(&mut s, SHARED, "reader", trust(root), allow(&["dynamodb:Get*"], TABLE));
        let not_action = json!({"Statement": [{"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}]});
        add_role(&mut s, SHARED, "broad", trust(root), not_action);
        add_role(&mut s, SHARED, "other", trust(root), allow(&["sqs:SendMessage"], "*"));
        add_role(&mut s, SHARED, "named", trust(root), allow(&["sqs:SendMessage"], "*"));
        let w = with_topology(&s, |t| {
            who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
        });
        let mut names: Vec<String> = w
            .principals
            .iter()
            .filter(|e| e.chain.is_empty())
            .map(|e| e.principal.rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    };
    // fires: a wildcard action and a NotAction that does not exclude the action both allow
    assert_eq!(run(None), ["broad", "reader"]);
    // near miss: the resource policy names a role whose own policies do not allow the action;
    // within its account that grant suffices, so the role must be evaluated and listed
    let named = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:role/named"},
        "Action": "dynamodb:GetItem", "Resource": TABLE}]});
    assert_eq!(run(Some(named)), ["broad", "named", "reader"]);
    // quiet: a resource policy allowing another action lets no one else in
    let elsewhere = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:role/other"},
        "Action": "dynamodb:PutItem", "Resource": TABLE}]});
    assert_eq!(run(Some(elsewhere)), ["broad", "reader"]);
}

/// Across accounts both the identity-based and the resource-based policy must allow, so a
/// principal of another account whose own policies do not allow the action is not listed even
/// when the resource policy names its account.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html>
#[test]
fn who_can_across_accounts_needs_the_principals_own_allow_too() {
    let mut s = org();
    let to_invoice = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "dynamodb:GetItem", "Resource": TABLE}]});
    with_table(&mut s, Some(to_invoice));
    let root = "arn:aws:iam::111111111111:root";
    add_role(
        &mut s,
        INVOICE,
        "reader",
        trust(root),
        allow(&["dynamodb:GetItem"], TABLE),
    );
    add_role(&mut s, INVOICE, "other", trust(root), allow(&["sqs:SendMessage"], "*"));
    add_role(
        &mut s,
        CHECKOUT,
        "reader",
        trust(root),
        allow(&["dynamodb:GetItem"], TABLE),
    );
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    let direct: Vec<&str> = w
        .principals
        .iter()
        .filter(|e| e.chain.is_empty() && e.principal.contains(":role/"))
        .map(|e| e.principal.as_str())
        .collect();
    // fires: the invoice role with its own allow; quiet: the invoice role without one;
    // near miss: the checkout role has its own allow but the resource policy names invoice only
    assert_eq!(direct, ["arn:aws:iam::111111111111:role/reader"]);
}

/// Two roles trusted organization-wide (`"*"` pinned by `aws:PrincipalOrgID`) whose trusts let in
/// different principals (`aws:PrincipalArn`): each principal reaches the table through the role
/// whose trust names it, never through the other — the principals behind one organization-wide
/// trust are confirmed for that role, not carried over to another role of the same shape.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid>
#[test]
fn fires_org_wide_trusts_with_different_conditions_keep_their_own_principals() {
    let mut s = org();
    s["organization"]["id"] = json!("o-test");
    with_table(&mut s, None);
    let org_trust = |name: &str| {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-test"},
                          "ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::*:role/{name}")}}}]})
    };
    let root = "arn:aws:iam::111111111111:root";
    let in_shared = "arn:aws:iam::999999999999:role/*";
    let responder = add_role(
        &mut s,
        INVOICE,
        "responder",
        trust(root),
        allow(&["sts:AssumeRole"], in_shared),
    );
    let auditor = add_role(
        &mut s,
        CHECKOUT,
        "auditor",
        trust(root),
        allow(&["sts:AssumeRole"], in_shared),
    );
    let other = add_role(
        &mut s,
        CHECKOUT,
        "other",
        trust(root),
        allow(&["sts:AssumeRole"], in_shared),
    );
    let get = allow(&["dynamodb:GetItem"], TABLE);
    let for_responder = add_role(&mut s, SHARED, "for-responder", org_trust("responder"), get.clone());
    let for_auditor = add_role(&mut s, SHARED, "for-auditor", org_trust("auditor"), get);
    let w = with_topology(&s, |t| {
        who_can(t, "dynamodb:GetItem", TABLE, &Default::default(), None).unwrap()
    });
    let through = |p: &str| {
        w.principals
            .iter()
            .find(|e| e.principal == p)
            .map(|e| e.chain.iter().map(|h| h.to.clone()).collect::<Vec<_>>())
    };
    assert_eq!(through(&responder), Some(vec![for_responder.clone()]));
    assert_eq!(through(&auditor), Some(vec![for_auditor.clone()]));
    // near miss: in the organization and allowed to assume, but named by neither trust
    assert_eq!(through(&other), None);
    // `can` follows the same trust for the auditor, with its statement as evidence
    let a = ask(&s, &auditor, "dynamodb:GetItem", Some(TABLE), &[]);
    // (conditional without --context: the organization-wide trust's `aws:PrincipalArn` is
    // undecided for the synthetic caller, as the checks' reachability leaves it)
    assert_ne!(a.decision, Verdict::Denied);
    assert_eq!(hops_of(&a), vec![(auditor.as_str(), for_auditor.as_str())]);
    assert!(
        a.chain[0].detail.contains("which trusts aws:PrincipalOrgID=o-test"),
        "{}",
        a.chain[0].detail
    );
}

/// The hop lookup of one principal behind a synthetic assumer ([`Reach::behind`]) says what the
/// full listing ([`Reach::concrete_behind`]) says, for every role, synthetic assumer and
/// principal of a snapshot with account, organization and anyone trusts.
///
/// [`Reach::behind`]: crate::iam::reach::Reach::behind
/// [`Reach::concrete_behind`]: crate::iam::reach::Reach::concrete_behind
#[test]
fn quiet_one_principal_behind_a_trust_agrees_with_the_full_listing() {
    let mut s = org();
    s["organization"]["id"] = json!("o-test");
    let anyone = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]});
    let in_org = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-test"}}}]});
    let root = "arn:aws:iam::111111111111:root";
    add_role(&mut s, INVOICE, "a", trust(root), allow(&["sts:AssumeRole"], "*"));
    add_role(
        &mut s,
        CHECKOUT,
        "b",
        trust(root),
        allow(&["sts:AssumeRole"], "arn:aws:iam::999999999999:role/o*"),
    );
    add_role(&mut s, SHARED, "open", anyone, allow(&["sts:AssumeRole"], "*"));
    add_role(&mut s, SHARED, "org", in_org, allow(&["sqs:SendMessage"], "*"));
    with_topology(&s, |t| {
        let iam = t.iam();
        let principals: Vec<&str> = t.policies.roles.keys().copied().collect();
        let mut compared = 0;
        for role in &principals {
            for a in iam.reach.assumers(role).iter().filter(|a| a.caller.is_synthetic()) {
                let listed = iam.reach.concrete_behind(iam.store, a, role);
                for p in &principals {
                    let one = iam.reach.behind(iam.store, a, role, p);
                    assert_eq!(
                        one.as_ref(),
                        listed.iter().find(|c| c.principal == *p),
                        "{p} behind {role}"
                    );
                    compared += usize::from(one.is_some());
                }
            }
        }
        assert!(compared >= 3, "{compared}");
    });
}
