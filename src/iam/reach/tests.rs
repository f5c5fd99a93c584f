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
    // The trust is one edge from the account's administrators...
    let direct = reach.assumers(SHARED_ROLE);
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert_eq!(direct[0].caller, Caller::AccountAdmins("111111111111".into()));
    // ...behind which only the role holding the identity permission is a concrete chain.
    let who: Vec<String> = reach
        .concrete_behind(&store, &direct[0], SHARED_ROLE)
        .into_iter()
        .map(|a| a.principal)
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
    let reach = Reach::compute(&s, &store);
    // The account's administrators are still trusted; nobody there can use it today.
    let direct = reach.assumers(SHARED_ROLE);
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert!(reach.concrete_behind(&store, &direct[0], SHARED_ROLE).is_empty());
    assert!(
        reach
            .reachable_from(&store, "arn:aws:iam::111111111111:role/responder")
            .is_empty()
    );
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
    let from = reach.reachable_from(&store, "arn:aws:iam::111111111111:role/hop0");
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
    let direct = reach.assumers(SHARED_ROLE);
    assert!(direct.first().is_some_and(|a| a.conditional), "{direct:?}");
    let behind = direct
        .first()
        .map(|a| reach.concrete_behind(&store, a, SHARED_ROLE))
        .unwrap_or_default();
    assert!(behind.first().is_some_and(|a| a.conditional), "{behind:?}");
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

fn callers(trust: Value) -> Vec<(Caller, bool)> {
    let s = snapshot(vec![role("999999999999", "shared-reader", trust, None)], json!([]));
    let store = PolicyStore::new(&s);
    Reach::compute(&s, &store)
        .assumers(SHARED_ROLE)
        .iter()
        .map(|a| (a.caller.clone(), a.conditional))
        .collect()
}

fn trust_with(principal: Value, condition: Value) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", "Condition": condition}]})
}

// Trusting an account delegates to its administrators: "When you specify an AWS account ... the
// account's administrators can grant permissions to any identity in that account".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html
#[test]
fn account_root_arn_and_bare_id_are_the_accounts_administrators() {
    let admins = Caller::AccountAdmins("111111111111".into());
    assert_eq!(
        callers(trust_aws("arn:aws:iam::111111111111:root")),
        vec![(admins.clone(), false)]
    );
    assert_eq!(callers(trust_aws("111111111111")), vec![(admins, false)]);
    // Near miss: a named role of another account is that principal, not its account.
    assert_eq!(
        callers(trust_aws("arn:aws:iam::111111111111:role/x")),
        vec![(Caller::Principal("arn:aws:iam::111111111111:role/x".into()), false)]
    );
}

// "*" with aws:PrincipalOrgID is the organization, one caller (Access Analyzer's zone of trust):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-concepts.html#access-analyzer-zone-of-trust
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
#[test]
fn wildcard_is_pinned_by_principal_org_or_account_or_open() {
    let org = callers(trust_with(
        json!("*"),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
    ));
    assert_eq!(org, vec![(Caller::Organization("o-abc".into()), false)]);
    let acc = callers(trust_with(
        json!("*"),
        json!({"StringEquals": {"aws:PrincipalAccount": "222222222222"}}),
    ));
    assert_eq!(acc, vec![(Caller::AccountAdmins("222222222222".into()), false)]);
    // Near miss: another organization's id is not ours; whether a caller is in it is unknown.
    let other = callers(trust_with(
        json!("*"),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-other"}}),
    ));
    assert_eq!(other, vec![(Caller::Anyone, true)]);
    assert_eq!(callers(trust_aws("*")), vec![(Caller::Anyone, false)]);
}

#[test]
fn conditions_known_for_the_account_decide_and_unknown_ones_are_kept() {
    // An account outside the organization fails a PrincipalOrgID condition.
    let outside = trust_with(
        json!("arn:aws:iam::123456789012:root"),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
    );
    assert_eq!(callers(outside), vec![]);
    let inside = trust_with(
        json!("arn:aws:iam::111111111111:root"),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
    );
    assert_eq!(callers(inside).len(), 1);
    let unknown = trust_with(
        json!("111111111111"),
        json!({"StringEquals": {"aws:PrincipalTag/team": "ops"}}),
    );
    assert_eq!(
        callers(unknown),
        vec![(Caller::AccountAdmins("111111111111".into()), true)]
    );
}

#[test]
fn a_trust_deny_that_applies_removes_the_synthetic_edge() {
    let trust = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalAccount": "111111111111"}}}
    ]});
    assert_eq!(callers(trust), vec![]);
}

#[test]
fn same_account_root_trust_is_not_outside() {
    let c = Caller::AccountAdmins("999999999999".into());
    assert!(!c.is_outside("999999999999"));
    assert!(c.is_outside("111111111111"));
    assert!(Caller::Organization("o-abc".into()).is_outside("999999999999"));
}

#[test]
fn org_wide_trust_is_reached_lazily_by_members_with_the_permission() {
    let trust = trust_with(json!("*"), json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}));
    let s = snapshot(
        vec![
            role("999999999999", "shared-reader", trust, None),
            role(
                "111111111111",
                "admin",
                trust_aws("111111111111"),
                Some(can_assume("*")),
            ),
            role("222222222222", "plain", trust_aws("222222222222"), None),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let hops: Vec<String> = reach
        .reachable_from(&store, "arn:aws:iam::111111111111:role/admin")
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert!(hops.contains(&SHARED_ROLE.to_string()), "{hops:?}");
    assert!(
        reach
            .reachable_from(&store, "arn:aws:iam::222222222222:role/plain")
            .is_empty()
    );
}

fn statement(v: Value) -> Statement {
    crate::iam::Policy::from_value(&json!({"Statement": [v]}))
        .unwrap()
        .statements
        .remove(0)
        .as_ref()
        .clone()
}

fn org_facts(accounts: &BTreeSet<String>) -> OrgFacts<'_> {
    OrgFacts {
        id: Some("o-abc"),
        accounts,
    }
}

fn accounts() -> BTreeSet<String> {
    ["111111111111", "222222222222", "999999999999"]
        .iter()
        .map(|a| (*a).to_string())
        .collect()
}

const TOPIC: &str = "arn:aws:sns:eu-west-1:999999999999:orders";

fn sns_default(owner: &str) -> Statement {
    statement(
        json!({"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:Publish", "SNS:SetTopicAttributes", "SNS:DeleteTopic"], "Resource": TOPIC,
        "Condition": {"StringEquals": {"AWS:SourceOwner": owner}}}),
    )
}

// The default topic policy pins `AWS:SourceOwner` to the owner, which for a direct call is the
// caller's account: it lets in the owner's principals and nobody else. Pinned to another account,
// it lets that account in. A key no topology knows keeps `*` conditional.
// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
#[test]
fn callers_of_the_default_topic_policy_are_the_owners_principals() {
    let acc = accounts();
    let org = org_facts(&acc);
    let own = "999999999999";
    assert_eq!(
        callers_of(&sns_default(own), org, own),
        vec![(Caller::AccountAdmins(own.into()), Truth::True)]
    );
    // Near miss: pinned to another account, that account's administrators get in.
    assert_eq!(
        callers_of(&sns_default("111111111111"), org, own),
        vec![(Caller::AccountAdmins("111111111111".into()), Truth::True)]
    );
    let ip = statement(
        json!({"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC,
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
    );
    assert_eq!(
        callers_of(&ip, org, own),
        vec![(Caller::Anyone, Truth::Unknown(vec!["aws:SourceIp".into()]))]
    );
    let open = statement(json!({"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC}));
    assert_eq!(callers_of(&open, org, own), vec![(Caller::Anyone, Truth::True)]);
}

fn with_source(principal: &str, operator: &str, key: &str, value: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
        "Condition": {operator: {key: value}}}]})
}

// `aws:SourceAccount` and `aws:SourceArn` are present only when a service calls on behalf of a
// resource; a direct AssumeRole by an IAM principal does not carry them, so a trust naming AWS
// principals that requires them lets none of those principals in.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn
#[test]
fn source_keys_are_absent_in_a_principals_own_assume_role() {
    let admins = Caller::AccountAdmins("111111111111".into());
    // Firing: the same trust without the source condition.
    assert_eq!(callers(trust_aws("111111111111")), vec![(admins.clone(), false)]);
    // Quiet: required source account / source ARN, for an account and for a named role.
    for principal in ["111111111111", "arn:aws:iam::111111111111:role/outside-the-snapshot"] {
        for (key, value) in [
            ("aws:SourceAccount", "111111111111"),
            ("aws:SourceArn", "arn:aws:aidevops:eu-west-1:111111111111:agentspace/x"),
        ] {
            let op = if key == "aws:SourceArn" {
                "ArnLike"
            } else {
                "StringEquals"
            };
            assert_eq!(
                callers(with_source(principal, op, key, value)),
                vec![],
                "{principal} {key}"
            );
        }
    }
    // Near misses: `...IfExists` and a negated operator hold when the key is absent.
    assert_eq!(
        callers(with_source(
            "111111111111",
            "StringEqualsIfExists",
            "aws:SourceAccount",
            "111111111111"
        )),
        vec![(admins.clone(), false)]
    );
    assert_eq!(
        callers(with_source(
            "111111111111",
            "StringNotEquals",
            "aws:SourceAccount",
            "222222222222"
        )),
        vec![(admins, false)]
    );
}

// A role of the snapshot named with a source condition is not confirmed either; a service named
// in the same statement keeps its (conditional) edge.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
#[test]
fn source_pinned_trust_keeps_the_service_and_drops_the_named_role() {
    let trust = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/responder", "Service": "aidevops.amazonaws.com"},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}]});
    let s = snapshot(
        vec![
            role("999999999999", "shared-reader", trust, None),
            role(
                "111111111111",
                "responder",
                trust_aws("111111111111"),
                Some(can_assume("*")),
            ),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let who: Vec<&Caller> = reach.assumers(SHARED_ROLE).iter().map(|a| &a.caller).collect();
    assert_eq!(who, vec![&Caller::Service("aidevops.amazonaws.com".into())]);
    assert!(
        reach
            .reachable_from(&store, "arn:aws:iam::111111111111:role/responder")
            .is_empty()
    );
}

const USER: &str = "arn:aws:iam::111111111111:user/legacy-deployer";

/// A snapshot with the shared role trusting account 111111111111, and `user` (with `groups`) and
/// `managed` policies added.
fn with_user(user: Value, groups: Value, managed: Value, scps: Value) -> crate::model::Snapshot {
    let mut v = json!({
        "schema_version": 1,
        "organization": {"id": "o-abc", "units": [{"id": "r-1", "name": "Root"}], "policies": scps,
            "accounts": [{"id": "111111111111", "name": "a", "parent": "r-1"}, {"id": "999999999999", "name": "s", "parent": "r-1"}]},
        "roles": [role("999999999999", "shared-reader", trust_aws("arn:aws:iam::111111111111:root"), None)],
        "users": [user],
        "groups": groups,
        "managed_policies": managed,
    });
    if v["groups"].is_null() {
        v["groups"] = json!([]);
    }
    parse_snapshot(&v.to_string(), Path::new("t.json")).unwrap()
}

fn user(policy: Option<Value>, groups: &[&str], boundary: Option<&str>) -> Value {
    let mut u = json!({"arn": USER, "account": "111111111111", "name": "legacy-deployer", "groups": groups});
    if let Some(p) = policy {
        u["inline_policies"] = json!([{"name": "assume", "document": p}]);
    }
    if let Some(b) = boundary {
        u["permission_boundary"] = json!(b);
    }
    u
}

fn user_chains(s: &crate::model::Snapshot) -> (Vec<String>, Vec<String>) {
    let store = PolicyStore::new(s);
    let reach = Reach::compute(s, &store);
    let behind = reach
        .assumers(SHARED_ROLE)
        .iter()
        .flat_map(|a| reach.concrete_behind(&store, a, SHARED_ROLE))
        .map(|a| a.principal)
        .collect();
    let reached = reach.reachable_from(&store, USER).into_iter().map(|(r, _)| r).collect();
    (behind, reached)
}

// IAM users are principals like roles: one holding `sts:AssumeRole` (its own or its group's
// policy) is a concrete chain behind its account's trust; a boundary or an SCP that denies the
// call removes it.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
#[test]
fn users_with_assume_role_start_concrete_chains() {
    let firing = with_user(
        user(Some(can_assume(SHARED_ROLE)), &[], None),
        json!([]),
        json!([]),
        json!([]),
    );
    assert_eq!(
        user_chains(&firing),
        (vec![USER.to_string()], vec![SHARED_ROLE.to_string()])
    );
    // Granted through the user's group.
    let group = json!([{"arn": "arn:aws:iam::111111111111:group/deployers", "account": "111111111111", "name": "deployers",
        "inline_policies": [{"name": "assume", "document": can_assume("*")}]}]);
    let grouped = with_user(user(None, &["deployers"], None), group, json!([]), json!([]));
    assert_eq!(
        user_chains(&grouped),
        (vec![USER.to_string()], vec![SHARED_ROLE.to_string()])
    );
    // Near miss: no permission at all.
    let plain = with_user(user(None, &[], None), json!([]), json!([]), json!([]));
    assert_eq!(user_chains(&plain), (vec![], vec![]));
}

#[test]
fn a_users_boundary_or_an_scp_removes_its_chain() {
    let boundary = "arn:aws:iam::111111111111:policy/read-only";
    let managed = json!([{"arn": boundary, "name": "read-only", "document": {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}}]);
    let bounded = with_user(
        user(Some(can_assume(SHARED_ROLE)), &[], Some(boundary)),
        json!([]),
        managed,
        json!([]),
    );
    assert_eq!(user_chains(&bounded), (vec![], vec![]));
    let deny = json!([{"id": "p-1", "arn": "arn:aws:organizations::100000000000:policy/o-abc/service_control_policy/p-1", "name": "no-assume", "kind": "SERVICE_CONTROL_POLICY", "targets": ["111111111111"],
        "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}}]);
    let scp = with_user(
        user(Some(can_assume(SHARED_ROLE)), &[], None),
        json!([]),
        json!([]),
        deny,
    );
    assert_eq!(user_chains(&scp), (vec![], vec![]));
}

// A trust naming the user itself confirms it with the user's own policies.
#[test]
fn a_trust_naming_a_user_is_confirmed_with_its_policies() {
    let named = |policy: Option<Value>| {
        let v = json!({
            "schema_version": 1,
            "organization": {"id": "o-abc", "units": [{"id": "r-1", "name": "Root"}], "policies": [],
                "accounts": [{"id": "111111111111", "name": "a", "parent": "r-1"}, {"id": "999999999999", "name": "s", "parent": "r-1"}]},
            "roles": [role("999999999999", "shared-reader", trust_aws(USER), None)],
            "users": [user(policy, &[], None)],
        });
        parse_snapshot(&v.to_string(), Path::new("t.json")).unwrap()
    };
    let s = named(Some(can_assume(SHARED_ROLE)));
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    assert_eq!(reach.assumers(SHARED_ROLE).len(), 1);
    assert_eq!(reach.reachable_from(&store, USER).len(), 1);
    // Near miss: named, but without the identity permission across accounts.
    let s = named(None);
    let store = PolicyStore::new(&s);
    assert!(Reach::compute(&s, &store).assumers(SHARED_ROLE).is_empty());
}

// A named principal belongs to the account in its ARN, which is what `aws:PrincipalAccount`
// holds for its requests and what decides whether it is outside a resource's account.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
#[test]
fn a_named_principal_is_of_the_account_in_its_arn() {
    let role = "arn:aws:iam::111111111111:role/x";
    let caller = Caller::Principal(role.into());
    assert_eq!(caller.account(), Some("111111111111"));
    assert!(caller.is_outside("999999999999"));
    assert!(!caller.is_outside("111111111111"));
    let acc = accounts();
    let org = org_facts(&acc);
    let pinned = |account: &str| {
        statement(
            json!({"Effect": "Allow", "Principal": {"AWS": role}, "Action": "sns:Publish", "Resource": TOPIC,
            "Condition": {"StringEquals": {"aws:PrincipalAccount": account}}}),
        )
    };
    assert_eq!(
        callers_of(&pinned("111111111111"), org, "999999999999"),
        vec![(caller, Truth::True)]
    );
    // Near miss: pinned to another account, the named role does not get in.
    assert_eq!(callers_of(&pinned("222222222222"), org, "999999999999"), vec![]);
}

// A named principal's own call carries its account as `kms:CallerAccount`, so a key policy
// statement pinning it decides for that principal rather than leaving it unknown.
// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account
#[test]
fn a_named_principals_own_call_carries_its_caller_account() {
    let key = "arn:aws:kms:eu-west-1:999999999999:key/k";
    let role = "arn:aws:iam::111111111111:role/x";
    let pinned = |account: &str| {
        statement(
            json!({"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": key,
            "Condition": {"StringEquals": {"kms:CallerAccount": account}}}),
        )
    };
    let acc = accounts();
    let org = org_facts(&acc);
    assert_eq!(
        callers_of(&pinned("111111111111"), org, "999999999999"),
        vec![(Caller::Principal(role.into()), Truth::True)]
    );
    // Near miss: pinned to the key's account, the other account's role does not get in.
    assert_eq!(callers_of(&pinned("999999999999"), org, "999999999999"), vec![]);
}

// `aws:PrincipalOrgID` is the organization of a member account's principal; when the snapshot
// does not record the organization's id, it is unknown for members (not absent), and absent
// only for accounts outside the organization.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
#[test]
fn without_the_organization_id_a_members_org_is_unknown() {
    let acc = accounts();
    let org = OrgFacts {
        id: None,
        accounts: &acc,
    };
    let in_org = |principal: &str| {
        statement(
            json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sns:Publish", "Resource": TOPIC,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
        )
    };
    assert_eq!(
        callers_of(&in_org("111111111111"), org, "999999999999"),
        vec![(
            Caller::AccountAdmins("111111111111".into()),
            Truth::Unknown(vec!["aws:PrincipalOrgID".into()])
        )]
    );
    // Near miss: an account outside the organization is in no organization we could be.
    assert_eq!(callers_of(&in_org("123456789012"), org, "999999999999"), vec![]);
}

// A trust policy lets a principal in only through an Allow of `sts:AssumeRole`: a statement for
// another action, or a Deny, grants nothing.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
#[test]
fn only_an_allow_of_assume_role_lets_in() {
    let admins = Caller::AccountAdmins("111111111111".into());
    // Firing: the Allow of sts:AssumeRole.
    assert_eq!(callers(trust_aws("111111111111")), vec![(admins, false)]);
    // Quiet: an Allow of another STS action only.
    let tag =
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:TagSession"}]});
    assert_eq!(callers(tag), vec![]);
    // Quiet: a Deny naming the account, with no Allow.
    let deny =
        json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}]});
    assert_eq!(callers(deny), vec![]);
}

// An explicit Deny applies to the principals it names: a Deny naming one role of an account
// leaves the account's other principals (its administrators' grants) in; a Deny of another
// action leaves AssumeRole allowed.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
#[test]
fn a_trust_deny_naming_someone_else_leaves_the_account_in() {
    let admins = Caller::AccountAdmins("111111111111".into());
    let with_deny = |deny: Value| {
        json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"},
            deny
        ]})
    };
    // Near miss: the Deny names one role of the account, not its administrators.
    let one_role = with_deny(
        json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111111111111:role/x"}, "Action": "sts:AssumeRole"}),
    );
    assert_eq!(callers(one_role), vec![(admins.clone(), false)]);
    // Near miss: the Deny is of another action.
    let other_action = with_deny(json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:TagSession"}));
    assert_eq!(callers(other_action), vec![(admins.clone(), false)]);
    // Firing: the Deny names the account's root ARN.
    let root = with_deny(
        json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}),
    );
    assert_eq!(callers(root), vec![]);
    // Firing: the bare account id is the same principal as its root ARN.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    let bare = with_deny(json!({"Effect": "Deny", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}));
    assert_eq!(callers(bare), vec![]);
}

// Two statements letting the same principal in: it is in unconditionally when either statement
// needs no condition (the statements of a policy are OR-ed), whatever their order; the first
// statement that lets it in is the one reported.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
#[test]
fn an_unconditional_statement_wins_over_a_conditional_one() {
    let account = "arn:aws:iam::111111111111:root";
    let mfa = json!({"Sid": "mfa", "Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}});
    let plain =
        |sid: &str| json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"});
    let first = |trust: Value| {
        let s = snapshot(vec![role("999999999999", "shared-reader", trust, None)], json!([]));
        let store = PolicyStore::new(&s);
        let a = Reach::compute(&s, &store).assumers(SHARED_ROLE).to_vec();
        assert_eq!(a.len(), 1, "{a:?}");
        (a[0].conditional, a[0].statement.clone())
    };
    assert_eq!(
        first(json!({"Statement": [mfa.clone(), plain("plain")]})),
        (false, "`plain`".to_string())
    );
    assert_eq!(
        first(json!({"Statement": [plain("plain"), mfa]})),
        (false, "`plain`".to_string())
    );
    assert_eq!(
        first(json!({"Statement": [plain("one"), plain("two")]})),
        (false, "`one`".to_string())
    );
}

fn chain_role(i: usize, trusted: &str) -> Value {
    role(
        "111111111111",
        &format!("r{i}"),
        trust_aws(trusted),
        Some(can_assume("*")),
    )
}

fn arn_r(i: usize) -> String {
    format!("arn:aws:iam::111111111111:role/r{i}")
}

// Role chaining has no depth limit in AWS (only the one-hour session of a chained role); the
// search follows at most MAX_CHAIN assumptions, so a chain one longer is cut.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles.html#iam-term-role-chaining
#[test]
fn chains_stop_after_max_chain_assumptions() {
    let mut roles = vec![chain_role(0, "arn:aws:iam::222222222222:root")];
    for i in 1..=MAX_CHAIN + 1 {
        roles.push(chain_role(i, &arn_r(i - 1)));
    }
    let s = snapshot(roles, json!([]));
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let from = reach.reachable_from(&store, &arn_r(0));
    let got: Vec<(String, usize)> = from.iter().map(|(r, p)| (r.clone(), p.len())).collect();
    let want: Vec<(String, usize)> = (1..=MAX_CHAIN).map(|i| (arn_r(i), i + 1)).collect();
    assert_eq!(got, want);
}

// A cycle back to the starting principal is not a role it reaches, and each role is reported
// with its shortest chain.
#[test]
fn cycles_end_and_the_shortest_chain_is_kept() {
    // r0 → r1 → r0 (a cycle); r0 → r2 directly and through r1.
    let trust_both = |a: &str, b: &str| json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [a, b]}, "Action": "sts:AssumeRole"}]});
    let roles = vec![
        role("111111111111", "r0", trust_aws(&arn_r(1)), Some(can_assume("*"))),
        chain_role(1, &arn_r(0)),
        role("111111111111", "r2", trust_both(&arn_r(0), &arn_r(1)), None),
    ];
    let s = snapshot(roles, json!([]));
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    assert_eq!(
        reach.reachable_from(&store, &arn_r(0)),
        vec![
            (arn_r(1), vec![arn_r(0), arn_r(1)]),
            (arn_r(2), vec![arn_r(0), arn_r(2)]),
        ]
    );
}

// A role trusting itself by ARN may assume itself (role self-assumption, explicit since 2022),
// but the session has the same permissions: it is no new reach, so no edge.
// https://aws.amazon.com/blogs/security/announcing-an-update-to-iam-role-trust-policy-behavior/
#[test]
fn a_role_trusting_itself_is_not_its_own_assumer() {
    let me = "arn:aws:iam::111111111111:role/me";
    let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [me, "arn:aws:iam::111111111111:role/other"]}, "Action": "sts:AssumeRole"}]});
    let s = snapshot(
        vec![
            role("111111111111", "me", trust, Some(can_assume("*"))),
            role(
                "111111111111",
                "other",
                trust_aws("222222222222"),
                Some(can_assume("*")),
            ),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let who: Vec<&str> = reach.assumers(me).iter().map(|a| a.principal.as_str()).collect();
    assert_eq!(who, vec!["arn:aws:iam::111111111111:role/other"]);
    assert!(reach.assumable_from(&store, me).is_empty());
}

// The candidates behind an account's administrators are the principals whose own policies allow
// sts:AssumeRole at all: a role allowed only other actions cannot call it, and a Deny of it is
// no permission. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
#[test]
fn candidates_behind_hold_assume_role_permission() {
    let reader = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
    let denier = json!({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]});
    let s = snapshot(
        vec![
            role("999999999999", "shared-reader", trust_aws("111111111111"), None),
            role(
                "111111111111",
                "responder",
                trust_aws("111111111111"),
                Some(can_assume("*")),
            ),
            role("111111111111", "reader", trust_aws("111111111111"), Some(reader)),
            role("111111111111", "denier", trust_aws("111111111111"), Some(denier)),
        ],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let reach = Reach::compute(&s, &store);
    let direct = reach.assumers(SHARED_ROLE);
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert_eq!(
        reach.candidates_behind(&direct[0], SHARED_ROLE),
        vec!["arn:aws:iam::111111111111:role/responder"]
    );
}

fn service_trust(statements: Value) -> Truth {
    let s = snapshot(
        vec![role("999999999999", "svc", json!({ "Statement": statements }), None)],
        json!([]),
    );
    let store = PolicyStore::new(&s);
    let mut ctx = RequestContext::new();
    ctx.set("aws:SourceAccount", "111111111111");
    Reach::service_may_assume_in(
        &store,
        "arn:aws:iam::999999999999:role/svc",
        "lambda.amazonaws.com",
        &ctx,
    )
}

// A service may assume a role when an Allow of sts:AssumeRole names it and no Deny that applies
// does: an explicit Deny wins, an unconditional Allow beats a conditional one in any order, and a
// statement naming another service or another action says nothing.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
#[test]
fn service_trust_deny_wins_and_unconditional_allow_beats_conditional() {
    let lambda = json!({"Service": "lambda.amazonaws.com"});
    let allow = json!({"Effect": "Allow", "Principal": lambda, "Action": "sts:AssumeRole"});
    let allow_if = json!({"Effect": "Allow", "Principal": lambda, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:lambda:eu-west-1:111111111111:function:f"}}});
    let unknown = Truth::Unknown(vec!["aws:SourceArn".into()]);
    let deny = json!({"Effect": "Deny", "Principal": lambda, "Action": "sts:AssumeRole"});
    assert_eq!(service_trust(json!([allow.clone()])), Truth::True);
    assert_eq!(service_trust(json!([allow.clone(), deny.clone()])), Truth::False);
    assert_eq!(service_trust(json!([deny, allow.clone()])), Truth::False);
    assert_eq!(service_trust(json!([allow_if.clone()])), unknown);
    assert_eq!(service_trust(json!([allow_if.clone(), allow.clone()])), Truth::True);
    assert_eq!(service_trust(json!([allow.clone(), allow_if])), Truth::True);
    // Near misses: another action, another service, and NotPrincipal naming the service.
    let tag = json!({"Effect": "Allow", "Principal": lambda, "Action": "sts:TagSession"});
    assert_eq!(service_trust(json!([tag])), Truth::False);
    let ec2 = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    assert_eq!(service_trust(json!([ec2])), Truth::False);
    let not = json!({"Effect": "Allow", "NotPrincipal": lambda, "Action": "sts:AssumeRole"});
    assert_eq!(service_trust(json!([not])), Truth::False);
}
