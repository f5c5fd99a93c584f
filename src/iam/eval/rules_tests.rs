//! AWS's documented evaluation rules that differ by principal kind and by resource type, and
//! AWS's own default resource policies, each as firing / quiet / near-miss cases with the
//! documentation page next to the test.

use super::*;
use crate::iam::store::PolicyStore;
use crate::model::Snapshot;
use serde_json::{Value, json};

const OWN: &str = "111111111111";
const OTHER: &str = "222222222222";
const ROLE: &str = "arn:aws:iam::111111111111:role/app/worker";
const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/worker/i-0abc";
const USER: &str = "arn:aws:iam::111111111111:user/legacy-deployer";
const OTHER_ROLE: &str = "arn:aws:iam::222222222222:role/intruder";
const TOPIC: &str = "arn:aws:sns:us-east-2:111111111111:MyTopic";
const QUEUE: &str = "arn:aws:sqs:us-east-2:111111111111:MyQueue";
const KEY: &str = "arn:aws:kms:us-east-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUS: &str = "arn:aws:events:us-east-2:111111111111:event-bus/default";

fn p(v: Value) -> Policy {
    Policy::from_value(&v).unwrap()
}

fn admin() -> Policy {
    p(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
}

fn none() -> Policy {
    p(json!({"Statement": []}))
}

/// Decides `action` on `resource` (in `OWN`) for `principal` with one identity policy, an
/// optional boundary and an optional resource policy.
fn decide(
    principal: &str,
    action: &str,
    resource: &str,
    identity: &Policy,
    boundary: Option<&Policy>,
    resource_policy: Option<&Policy>,
) -> Decision {
    let ctx = RequestContext::new();
    let account = principal.split(':').nth(4).unwrap_or("");
    let req = Request {
        principal,
        principal_account: account,
        action,
        resource,
        resource_account: Some(OWN),
        context: &ctx,
    };
    let named = |policy| NamedPolicy { name: "p", policy };
    let set = PolicySet {
        identity: vec![named(identity)],
        boundary: boundary.map(named),
        resource_policy: resource_policy.map(named),
        ..Default::default()
    };
    evaluate(&req, &set)
}

fn allowed(d: &Decision) -> bool {
    matches!(d, Decision::Allowed { .. })
}

// --- 8.2: AWS's own default resource policies grant nothing to other accounts -----------------

/// The default topic policy SNS attaches to a new topic.
/// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
fn sns_default(owner: &str) -> Policy {
    p(json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": TOPIC,
            "Condition": {"StringEquals": {"AWS:SourceOwner": owner}}
        }]
    }))
}

// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
#[test]
fn sns_default_topic_policy_grants_nothing_to_another_account() {
    let policy = sns_default(OWN);
    // Quiet: an administrator of another account cannot publish (AWS:SourceOwner is its own
    // account, not the owner's).
    let d = decide(OTHER_ROLE, "sns:Publish", TOPIC, &admin(), None, Some(&policy));
    assert_eq!(d, Decision::Denied(DenyReason::NoAllow));
    // Fires: the owner account's principals are granted by the policy itself.
    assert!(allowed(&decide(
        ROLE,
        "sns:Publish",
        TOPIC,
        &none(),
        None,
        Some(&policy)
    )));
    // Near miss: the same statement pinned to the other account lets its administrator publish.
    let open = sns_default(OTHER);
    assert!(allowed(&decide(
        OTHER_ROLE,
        "sns:Publish",
        TOPIC,
        &admin(),
        None,
        Some(&open)
    )));
}

/// The access policy the SQS console writes for a new queue: the owner account only.
/// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-examples-of-sqs-policies.html
#[test]
fn sqs_default_queue_policy_grants_nothing_to_another_account() {
    let policy = p(json!({
        "Version": "2012-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__owner_statement",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "SQS:*",
            "Resource": QUEUE
        }]
    }));
    let d = decide(OTHER_ROLE, "sqs:SendMessage", QUEUE, &admin(), None, Some(&policy));
    assert!(d.is_denied());
    // Within the account the identity policy decides: granted with it, not without it.
    assert!(allowed(&decide(
        ROLE,
        "sqs:SendMessage",
        QUEUE,
        &admin(),
        None,
        Some(&policy)
    )));
    assert!(decide(ROLE, "sqs:SendMessage", QUEUE, &none(), None, Some(&policy)).is_denied());
}

/// The default key policy: the account root with `kms:*`.
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
fn kms_default() -> Policy {
    p(json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "kms:*",
            "Resource": "*"
        }]
    }))
}

// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
#[test]
fn kms_default_key_policy_grants_nothing_to_another_account() {
    let policy = kms_default();
    assert!(decide(OTHER_ROLE, "kms:Decrypt", KEY, &admin(), None, Some(&policy)).is_denied());
    assert!(allowed(&decide(
        ROLE,
        "kms:Decrypt",
        KEY,
        &admin(),
        None,
        Some(&policy)
    )));
    // Near miss: the account is enabled, the principal has no identity permission.
    assert!(decide(ROLE, "kms:Decrypt", KEY, &none(), None, Some(&policy)).is_denied());
}

/// The AWS managed key pattern: `*` limited by kms:CallerAccount and kms:ViaService.
/// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account
#[test]
fn kms_caller_account_is_known_and_via_service_is_conditional() {
    let policy = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": OWN, "kms:ViaService": "s3.us-east-2.amazonaws.com"}}
    }]}));
    assert!(decide(OTHER_ROLE, "kms:Decrypt", KEY, &admin(), None, Some(&policy)).is_denied());
    match decide(ROLE, "kms:Decrypt", KEY, &none(), None, Some(&policy)) {
        Decision::Conditional { keys, .. } => assert_eq!(keys, vec!["kms:ViaService".to_string()]),
        d => panic!("expected conditional, got {d:?}"),
    }
}

/// A bus without a resource policy (the default bus as created) accepts no other account.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
#[test]
fn eventbridge_default_bus_grants_nothing_to_another_account() {
    assert!(decide(OTHER_ROLE, "events:PutEvents", BUS, &admin(), None, None).is_denied());
    // Near miss: a bus policy naming the other account lets its administrators send.
    let policy = p(json!({"Statement": [{
        "Sid": "AllowAccount", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": "events:PutEvents", "Resource": BUS
    }]}));
    assert!(allowed(&decide(
        OTHER_ROLE,
        "events:PutEvents",
        BUS,
        &admin(),
        None,
        Some(&policy)
    )));
    // Same account: the identity policy alone suffices.
    assert!(allowed(&decide(ROLE, "events:PutEvents", BUS, &admin(), None, None)));
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
#[test]
fn source_account_is_absent_for_direct_calls_and_calledvia_is_conditional() {
    let policy = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": QUEUE,
        "Condition": {"StringEquals": {"aws:SourceAccount": OTHER}}
    }]}));
    assert!(decide(OTHER_ROLE, "sqs:SendMessage", QUEUE, &admin(), None, Some(&policy)).is_denied());
    let via = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": QUEUE,
        "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}
    }]}));
    assert!(matches!(
        decide(OTHER_ROLE, "sqs:SendMessage", QUEUE, &admin(), None, Some(&via)),
        Decision::Conditional { .. }
    ));
}

// --- 8.8: permission boundaries and principal kinds -------------------------------------------

/// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
/// ("Resource-based policies" — within an account, a grant to the role ARN is limited by the
/// boundary; a grant to the session ARN or to the user is not).
#[test]
fn boundary_limits_a_same_account_grant_naming_the_role_not_the_session_or_user() {
    let boundary = p(json!({"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}));
    let grant = |who: &str| {
        p(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": who}, "Action": "sqs:SendMessage", "Resource": QUEUE}]}),
        )
    };
    // Fires: the grant names the role ARN, the boundary does not allow the action.
    let by_role = grant(ROLE);
    assert!(
        decide(
            SESSION,
            "sqs:SendMessage",
            QUEUE,
            &none(),
            Some(&boundary),
            Some(&by_role)
        )
        .is_denied()
    );
    assert!(decide(ROLE, "sqs:SendMessage", QUEUE, &none(), Some(&boundary), Some(&by_role)).is_denied());
    // Quiet: the grant names the session ARN, or the user.
    let by_session = grant(SESSION);
    assert!(allowed(&decide(
        SESSION,
        "sqs:SendMessage",
        QUEUE,
        &none(),
        Some(&boundary),
        Some(&by_session)
    )));
    let by_user = grant(USER);
    assert!(allowed(&decide(
        USER,
        "sqs:SendMessage",
        QUEUE,
        &none(),
        Some(&boundary),
        Some(&by_user)
    )));
    // Near miss: a boundary that allows the action lets the role-ARN grant through.
    let wide = p(json!({"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}));
    assert!(allowed(&decide(
        SESSION,
        "sqs:SendMessage",
        QUEUE,
        &none(),
        Some(&wide),
        Some(&by_role)
    )));
}

#[test]
fn session_arns_map_to_their_role() {
    assert_eq!(
        session_role(SESSION).as_deref(),
        Some("arn:aws:iam::111111111111:role/worker")
    );
    assert_eq!(session_role(ROLE), None);
    assert_eq!(session_role("arn:aws:sts::111111111111:assumed-role/worker"), None);
}

/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html ("Unless the key
/// policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key")
#[test]
fn kms_key_policy_is_primary_even_within_the_account() {
    let only_other_role = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/key-admin"},
        "Action": "kms:*", "Resource": "*"
    }]}));
    // Fires: an administrator of the key's own account gets nothing from its identity policy.
    assert!(decide(ROLE, "kms:Decrypt", KEY, &admin(), None, Some(&only_other_role)).is_denied());
    // Quiet: the principal named by the key policy needs no identity policy.
    let names_role = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"
    }]}));
    assert!(allowed(&decide(
        ROLE,
        "kms:Decrypt",
        KEY,
        &none(),
        None,
        Some(&names_role)
    )));
    // Near miss: the same identity policy on a queue (not a key) grants within the account.
    assert!(allowed(&decide(
        ROLE,
        "sqs:SendMessage",
        QUEUE,
        &admin(),
        None,
        Some(&only_other_role)
    )));
}

/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html and
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
/// (a role's trust policy must allow the caller, also within the account)
#[test]
fn assume_role_needs_the_trust_policy_even_within_the_account() {
    let target = "arn:aws:iam::111111111111:role/deploy";
    let trusts_other = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]}));
    assert!(decide(ROLE, "sts:AssumeRole", target, &admin(), None, Some(&trusts_other)).is_denied());
    let trusts_account = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"
    }]}));
    assert!(allowed(&decide(
        ROLE,
        "sts:AssumeRole",
        target,
        &admin(),
        None,
        Some(&trusts_account)
    )));
    // Near miss: the account is trusted but the caller holds no sts:AssumeRole permission.
    assert!(decide(ROLE, "sts:AssumeRole", target, &none(), None, Some(&trusts_account)).is_denied());
}

/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
#[test]
fn multi_valued_keys_are_sets() {
    use crate::iam::condition::{Truth, evaluate as cond_eval};
    use crate::iam::policy::Condition;
    let c = |op: &str, v: &[&str]| Condition {
        operator: op.into(),
        key: "aws:PrincipalOrgPaths".into(),
        values: v.iter().map(|s| s.to_string()).collect(),
    };
    let mut ctx = RequestContext::new();
    ctx.set_many("aws:PrincipalOrgPaths", ["o-a/r-1/ou-x/", "o-a/r-1/ou-y/"]);
    assert_eq!(
        cond_eval(&c("ForAnyValue:StringLike", &["o-a/r-1/ou-x/*"]), &ctx),
        Truth::True
    );
    assert_eq!(
        cond_eval(&c("ForAllValues:StringLike", &["o-a/r-1/ou-x/*"]), &ctx),
        Truth::False
    );
    assert_eq!(
        cond_eval(&c("ForAllValues:StringLike", &["o-a/r-1/*"]), &ctx),
        Truth::True
    );
    assert_eq!(cond_eval(&c("ForAnyValue:StringLike", &["o-b/*"]), &ctx), Truth::False);
    // A negated plain operator on several values is not decided.
    assert!(matches!(
        cond_eval(&c("StringNotLike", &["o-b/*"]), &ctx),
        Truth::Unknown(_)
    ));
    // The empty set: ForAllValues holds, ForAnyValue does not.
    let mut empty = RequestContext::new();
    empty.set_many("aws:PrincipalOrgPaths", Vec::<String>::new());
    assert_eq!(
        cond_eval(&c("ForAllValues:StringLike", &["o-b/*"]), &empty),
        Truth::True
    );
    assert_eq!(
        cond_eval(&c("ForAnyValue:StringLike", &["o-b/*"]), &empty),
        Truth::False
    );
}

// --- SCP levels (store) -------------------------------------------------------------------------

fn org_snapshot(full_access_targets: &[&str]) -> Snapshot {
    let doc = |effect: &str, action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]});
    let s = json!({
        "schema_version": 1,
        "organization": {
            "id": "o-abc",
            "units": [{"id": "r-1", "name": "Root"}, {"id": "ou-x", "name": "x", "parent": "r-1"}],
            "accounts": [{"id": OWN, "name": "a", "parent": "ou-x"}],
            "policies": [
                {"id": "p-full", "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess", "name": "FullAWSAccess", "kind": "SERVICE_CONTROL_POLICY", "document": doc("Allow", "*"), "targets": full_access_targets},
                {"id": "p-ro", "arn": "arn:aws:organizations::111111111111:policy/o-abc/service_control_policy/p-ro", "name": "deny-writes", "kind": "SERVICE_CONTROL_POLICY", "document": doc("Deny", "sqs:Send*"), "targets": ["ou-x"]}
            ]
        },
        "roles": [{"arn": ROLE, "account": OWN, "name": "worker", "trust_policy": {"Version": "2012-10-17", "Statement": []},
                   "inline_policies": [{"name": "admin", "document": doc("Allow", "*")}]}]
    });
    serde_json::from_value(s).unwrap()
}

fn store_decides(s: &Snapshot, principal: &str, action: &str) -> (Decision, Vec<String>) {
    let store = PolicyStore::new(s);
    let set = store.policy_set(principal, Some(OWN), None).unwrap();
    let ctx = store.principal_context(principal, Some("o-abc")).unwrap();
    let req = Request {
        principal,
        principal_account: OWN,
        action,
        resource: "arn:aws:logs:us-east-2:111111111111:log-group:x",
        resource_account: Some(OWN),
        context: &ctx,
    };
    (evaluate(&req, &set), set.assumed.clone())
}

/// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
/// (every level of the path must allow; a deny-only level allows nothing)
#[test]
fn scp_level_with_recorded_attachments_and_no_allow_denies() {
    // Fires: ou-x records only the deny-style SCP, so nothing is allowed there.
    let s = org_snapshot(&["r-1", OWN]);
    let (d, assumed) = store_decides(&s, ROLE, "logs:GetLogEvents");
    assert_eq!(d, Decision::Denied(DenyReason::Scp(1)));
    assert!(assumed.is_empty());
    // Quiet: FullAWSAccess recorded at every level.
    let s = org_snapshot(&["r-1", "ou-x", OWN]);
    assert!(allowed(&store_decides(&s, ROLE, "logs:GetLogEvents").0));
    assert!(store_decides(&s, ROLE, "sqs:SendMessage").0.is_denied());
    // Near miss: the account level records nothing: FullAWSAccess is assumed there, and said.
    let s = org_snapshot(&["r-1", "ou-x"]);
    let (d, assumed) = store_decides(&s, ROLE, "logs:GetLogEvents");
    assert!(allowed(&d));
    assert_eq!(assumed.len(), 1);
    assert!(assumed.first().unwrap().contains(OWN), "{assumed:?}");
}

/// Session ARNs are accepted wherever a principal is named: the store answers with the role's
/// policies and the role's ARN as aws:PrincipalArn; the org path is known.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
#[test]
fn store_accepts_session_arns_and_knows_org_paths() {
    let s = org_snapshot(&["r-1", "ou-x", OWN]);
    let (d, _) = store_decides(&s, SESSION, "logs:GetLogEvents");
    assert!(allowed(&d));
    let store = PolicyStore::new(&s);
    let ctx = store.principal_context(SESSION, Some("o-abc")).unwrap();
    let c = |op: &str, key: &str, v: &str| crate::iam::policy::Condition {
        operator: op.into(),
        key: key.into(),
        values: vec![v.to_string()],
    };
    use crate::iam::condition::{Truth, evaluate as cond_eval};
    assert_eq!(
        cond_eval(&c("StringEquals", "aws:PrincipalArn", ROLE), &ctx),
        Truth::True
    );
    assert_eq!(
        cond_eval(
            &c("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-abc/r-1/ou-x/*"),
            &ctx
        ),
        Truth::True
    );
    assert_eq!(
        cond_eval(
            &c("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-abc/r-1/ou-y/*"),
            &ctx
        ),
        Truth::False
    );
    // Near miss: a session of a role the snapshot does not hold.
    assert!(
        store
            .principal_context("arn:aws:sts::111111111111:assumed-role/ghost/s", None)
            .is_none()
    );
}

// --- users and groups --------------------------------------------------------------------------

fn users_snapshot(groups: &[&str], boundary: Option<&str>) -> Snapshot {
    let doc = |action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]});
    let mut user = json!({"arn": USER, "account": OWN, "name": "legacy-deployer", "groups": groups,
                          "inline_policies": [{"name": "logs", "document": doc("logs:*")}]});
    if let (Some(b), Some(obj)) = (boundary, user.as_object_mut()) {
        obj.insert("permission_boundary".into(), json!(b));
    }
    serde_json::from_value(json!({
        "schema_version": 1,
        "organization": {"id": "o-abc", "accounts": [{"id": OWN, "name": "a"}]},
        "managed_policies": [
            {"arn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess", "name": "AmazonSQSFullAccess", "document": doc("sqs:*")},
            {"arn": "arn:aws:iam::111111111111:policy/logs-only", "name": "logs-only", "document": doc("logs:*")}
        ],
        "users": [user],
        "groups": [
            {"arn": "arn:aws:iam::111111111111:group/deployers", "account": OWN, "name": "deployers",
             "attached_policies": ["arn:aws:iam::aws:policy/AmazonSQSFullAccess"]},
            {"arn": "arn:aws:iam::111111111111:group/dynamo", "account": OWN, "name": "dynamo",
             "inline_policies": [{"name": "d", "document": doc("dynamodb:*")}]}
        ]
    }))
    .unwrap()
}

fn user_decides(s: &Snapshot, action: &str) -> Decision {
    let store = PolicyStore::new(s);
    let set = store.policy_set(USER, Some(OWN), None).unwrap();
    let ctx = store.principal_context(USER, Some("o-abc")).unwrap();
    let req = Request {
        principal: USER,
        principal_account: OWN,
        action,
        resource: QUEUE,
        resource_account: Some(OWN),
        context: &ctx,
    };
    evaluate(&req, &set)
}

/// Users are principals: their own, their groups' inline and attached policies apply, and their
/// permission boundary limits them.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html and
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
#[test]
fn users_get_their_groups_policies_and_their_boundary() {
    // Fires: the group's attached policy grants the user sqs:SendMessage.
    assert!(allowed(&user_decides(
        &users_snapshot(&["deployers"], None),
        "sqs:SendMessage"
    )));
    // Quiet: not a member of that group.
    assert!(user_decides(&users_snapshot(&["dynamo"], None), "sqs:SendMessage").is_denied());
    // Near miss: a member, but the boundary allows only logs.
    let bounded = users_snapshot(&["deployers"], Some("arn:aws:iam::111111111111:policy/logs-only"));
    assert_eq!(
        user_decides(&bounded, "sqs:SendMessage"),
        Decision::Denied(DenyReason::Boundary)
    );
    assert!(allowed(&user_decides(&bounded, "logs:PutLogEvents")));
    // aws:username and aws:PrincipalType are known for a user.
    let s = users_snapshot(&[], None);
    let store = PolicyStore::new(&s);
    let ctx = store.principal_context(USER, None).unwrap();
    let policy = p(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": QUEUE,
        "Condition": {"StringEquals": {"aws:username": "legacy-deployer", "aws:PrincipalType": "User"}}}]}),
    );
    let named = NamedPolicy {
        name: "q",
        policy: &policy,
    };
    let set = store.policy_set(USER, Some(OWN), Some(named)).unwrap();
    let req = Request {
        principal: USER,
        principal_account: OWN,
        action: "sqs:SendMessage",
        resource: QUEUE,
        resource_account: Some(OWN),
        context: &ctx,
    };
    assert!(allowed(&evaluate(&req, &set)));
}

// The check-side question "does this statement let another account in?" (the default topic
// policy) is answered by `iam::reach::callers_of`; its tests are in `src/iam/reach/tests.rs`.

/// aws:ResourceOrgID and aws:ResourceOrgPaths are known for a resource in an account of the
/// organization, and unknown for one outside it.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid
#[test]
fn resource_org_keys_are_known_inside_the_organization() {
    use crate::iam::condition::{Truth, evaluate as cond_eval};
    let s = org_snapshot(&["r-1", "ou-x", OWN]);
    let store = PolicyStore::new(&s);
    let c = |key: &str, v: &str| crate::iam::policy::Condition {
        operator: "StringLike".into(),
        key: key.into(),
        values: vec![v.to_string()],
    };
    let mut ctx = RequestContext::new();
    store.resource_context(&mut ctx, OWN);
    assert_eq!(cond_eval(&c("aws:ResourceOrgID", "o-abc"), &ctx), Truth::True);
    assert_eq!(cond_eval(&c("aws:ResourceOrgID", "o-other"), &ctx), Truth::False);
    assert_eq!(
        cond_eval(&c("aws:ResourceOrgPaths", "o-abc/r-1/ou-x/*"), &ctx),
        Truth::True
    );
    // Near miss: an account outside the organization stays unknown.
    let mut outside = RequestContext::new();
    store.resource_context(&mut outside, OTHER);
    assert!(matches!(
        cond_eval(&c("aws:ResourceOrgID", "o-abc"), &outside),
        Truth::Unknown(_)
    ));
}

// --- which principal a same-account resource policy names ---------------------------------------

/// Decides `sqs:SendMessage` on `QUEUE` for `principal` with no identity policy, so that only a
/// queue policy allowing `named` can grant it.
fn queue_policy_naming(principal: &str, named: &str) -> Decision {
    let policy = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": named}, "Action": "sqs:SendMessage", "Resource": QUEUE
    }]}));
    decide(principal, "sqs:SendMessage", QUEUE, &none(), None, Some(&policy))
}

/// A resource-based policy grants to the principals its `Principal` element names: within the
/// account, a role session gets what a grant to its role's ARN (any path) or to its own session
/// ARN allows, and nothing a grant to another role, to a role of the same name in another
/// account, or to a user of the same name allows.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
/// ("IAM role principals", "Role session principals") and
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html
#[test]
fn a_session_gets_only_grants_naming_its_role_or_itself() {
    // Fires: the role's ARN (with its path) and the session's ARN.
    assert!(allowed(&queue_policy_naming(SESSION, ROLE)));
    assert!(allowed(&queue_policy_naming(SESSION, SESSION)));
    // Quiet: another role of the account.
    assert_eq!(
        queue_policy_naming(SESSION, "arn:aws:iam::111111111111:role/app/reader"),
        Decision::Denied(DenyReason::NoAllow)
    );
    // Near misses: the same role name in another account, a user of the same name, another
    // session of another role.
    for named in [
        "arn:aws:iam::222222222222:role/app/worker",
        "arn:aws:iam::111111111111:user/worker",
        "arn:aws:sts::111111111111:assumed-role/reader/i-0abc",
    ] {
        assert_eq!(
            queue_policy_naming(SESSION, named),
            Decision::Denied(DenyReason::NoAllow),
            "{named}"
        );
    }
}

/// A grant naming a user lets that user in, not another user of the account, and not the user
/// through a grant naming a role.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
/// ("IAM user principals")
#[test]
fn a_user_gets_only_grants_naming_it() {
    assert!(allowed(&queue_policy_naming(USER, USER)));
    for named in ["arn:aws:iam::111111111111:user/other", ROLE] {
        assert_eq!(
            queue_policy_naming(USER, named),
            Decision::Denied(DenyReason::NoAllow),
            "{named}"
        );
    }
}

/// A session ARN is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, with a role name and a
/// session name (2 to 64 characters): without either it names no session.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
/// and https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (`RoleSessionName`)
#[test]
fn near_miss_a_session_arn_needs_a_role_and_a_session_name() {
    assert_eq!(session_role("arn:aws:sts::111111111111:assumed-role/worker/"), None);
    assert_eq!(session_role("arn:aws:sts::111111111111:assumed-role//i-0abc"), None);
    assert_eq!(
        session_role("arn:aws-cn:sts::111111111111:assumed-role/worker/i-0abc").as_deref(),
        Some("arn:aws-cn:iam::111111111111:role/worker")
    );
}

/// `NotPrincipal` with `Deny` denies every principal except the ones it names; AWS recommends
/// naming the account, the role and the session so that the session is not denied.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
#[test]
fn fires_not_principal_with_deny_denies_everyone_not_named() {
    let queue_policy = |spared: Value| {
        p(json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sqs:*", "Resource": QUEUE},
            {"Sid": "OnlyTheAuditor", "Effect": "Deny", "NotPrincipal": {"AWS": spared}, "Action": "sqs:*", "Resource": QUEUE}
        ]}))
    };
    // Fires: the session is not among the principals spared (naming its account spares only
    // the account's administrators).
    let other = queue_policy(json!([
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::111111111111:role/auditor"
    ]));
    assert_eq!(
        decide(SESSION, "sqs:SendMessage", QUEUE, &admin(), None, Some(&other)),
        Decision::Denied(DenyReason::Explicit(StatementRef {
            policy: "p".into(),
            statement: "OnlyTheAuditor".into()
        }))
    );
    // Quiet: account, role and session spared, as the page recommends.
    let spared = queue_policy(json!(["arn:aws:iam::111111111111:root", ROLE, SESSION]));
    let d = decide(SESSION, "sqs:SendMessage", QUEUE, &admin(), None, Some(&spared));
    assert!(allowed(&d), "{d:?}");
    assert!(!d.is_denied());
    // Near miss: the same element with a permissions boundary on the role. "The NotPrincipal
    // element with a Deny effect will always deny any IAM principal that has a permissions
    // boundary policy attached, regardless of the values specified in the NotPrincipal element."
    assert!(matches!(
        decide(
            SESSION,
            "sqs:SendMessage",
            QUEUE,
            &admin(),
            Some(&admin()),
            Some(&spared)
        ),
        Decision::Denied(DenyReason::Explicit(_))
    ));
}

/// The page's own example: `NotPrincipal` naming the user Bob and his account denies every
/// principal except Bob — other users of Bob's account too.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
/// ("Example IAM user in the same or a different account")
#[test]
fn near_miss_not_principal_naming_the_account_spares_only_the_principals_named() {
    let bob = "arn:aws:iam::111111111111:user/Bob";
    let policy = p(json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sqs:*", "Resource": QUEUE},
        {"Effect": "Deny", "NotPrincipal": {"AWS": [bob, "arn:aws:iam::111111111111:root"]}, "Action": "sqs:*", "Resource": QUEUE}
    ]}));
    assert!(allowed(&decide(
        bob,
        "sqs:SendMessage",
        QUEUE,
        &admin(),
        None,
        Some(&policy)
    )));
    for other in [USER, ROLE, SESSION] {
        assert!(
            matches!(
                decide(other, "sqs:SendMessage", QUEUE, &admin(), None, Some(&policy)),
                Decision::Denied(DenyReason::Explicit(_))
            ),
            "{other}"
        );
    }
    // The account's administrators (the account root principal) are named, so spared.
    assert!(allowed(&decide(
        "arn:aws:iam::111111111111:root",
        "sqs:SendMessage",
        QUEUE,
        &admin(),
        None,
        Some(&policy)
    )));
}

/// Within one account, an identity-based policy alone grants access to an S3 object or to
/// `iam:GetRole`; only a KMS key's key policy and a role's trust policy (for `sts:AssumeRole*`)
/// must allow too. An object key that contains `:key/` or `:role/` is still an S3 object.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
/// ("Identity-based policies and resource-based policies"),
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html and
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html ("trust policy")
#[test]
fn near_miss_only_key_policies_and_trust_policies_are_required_within_the_account() {
    let names_nobody = p(json!({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/other"},
        "Action": "*", "Resource": "*"
    }]}));
    for (action, resource) in [
        ("s3:GetObject", "arn:aws:s3:::reports/2026:key/export.csv"),
        ("s3:GetObject", "arn:aws:s3:::reports/backup:role/x"),
        ("iam:GetRole", "arn:aws:iam::111111111111:role/deploy"),
    ] {
        let d = decide(ROLE, action, resource, &admin(), None, Some(&names_nobody));
        assert!(allowed(&d), "{action} {resource}: {d:?}");
    }
    // The policy that must allow: the key policy for a KMS action on a key, the trust policy
    // for sts:AssumeRole on a role.
    assert!(decide(ROLE, "kms:Decrypt", KEY, &admin(), None, Some(&names_nobody)).is_denied());
    assert!(
        decide(
            ROLE,
            "sts:AssumeRole",
            "arn:aws:iam::111111111111:role/deploy",
            &admin(),
            None,
            Some(&names_nobody)
        )
        .is_denied()
    );
}

/// An account's principal is named by its root ARN or by the bare account id (AWS turns the id
/// into the root ARN): `NotPrincipal` naming either spares the account, naming only one of its
/// users does not.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
/// ("AWS account principals") and
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
#[test]
fn near_miss_not_principal_spares_an_account_named_by_its_id() {
    let root = "arn:aws:iam::111111111111:root";
    let policy = |spared: &str| {
        p(json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sqs:*", "Resource": QUEUE},
            {"Effect": "Deny", "NotPrincipal": {"AWS": spared}, "Action": "sqs:*", "Resource": QUEUE}
        ]}))
    };
    assert!(allowed(&decide(
        root,
        "sqs:SendMessage",
        QUEUE,
        &admin(),
        None,
        Some(&policy(OWN))
    )));
    for spared in [USER, OTHER] {
        assert!(
            matches!(
                decide(root, "sqs:SendMessage", QUEUE, &admin(), None, Some(&policy(spared))),
                Decision::Denied(DenyReason::Explicit(_))
            ),
            "{spared}"
        );
    }
}

/// The keys a direct call by an IAM principal fixes (`aws:PrincipalArn`, `aws:PrincipalAccount`,
/// `aws:SourceArn` absent, …) are filled only for IAM and STS principals. A Lambda function is
/// no principal — it calls AWS with its execution role's credentials — so a request named after
/// its ARN leaves them unknown.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html and
/// https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
#[test]
fn near_miss_only_iam_and_sts_principals_get_the_derived_keys() {
    let ctx = RequestContext::new();
    let request = |principal| Request {
        principal,
        principal_account: OWN,
        action: "sqs:SendMessage",
        resource: QUEUE,
        resource_account: Some(OWN),
        context: &ctx,
    };
    for principal in [ROLE, SESSION, USER] {
        let derived = request_context(&request(principal));
        assert!(
            derived.knows("aws:PrincipalArn") && derived.knows("aws:SourceArn"),
            "{principal}"
        );
    }
    for principal in [
        "arn:aws:lambda:us-east-2:111111111111:function:f",
        "lambda.amazonaws.com",
    ] {
        let derived = request_context(&request(principal));
        for key in DERIVED_KEYS {
            assert!(!derived.knows(key), "{principal}: {key}");
        }
    }
}
