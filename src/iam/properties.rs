//! Property tests that can fail: invariants AWS documents for policy evaluation, checked on
//! generated *valid* policies (a small universe of principals, actions, resources and condition
//! keys, Allow and Deny, `NotAction`/`NotResource`, boundaries, SCPs and resource policies,
//! same- and cross-account requests), and the laws of the three-valued [`Truth`] and of glob
//! matching. `src/iam/proptests.rs` only checks that arbitrary JSON never panics.
//!
//! Each property was seen to fail on a deliberately broken build (docs/testing.md, "Properties
//! that can fail", lists the mutation tried for each).

use super::condition::{RequestContext, Truth};
use super::eval::{Decision, DenyReason, NamedPolicy, PolicySet, Request, evaluate};
use super::policy::Policy;
use crate::arn::{glob_match, glob_match_ignore_case};
use proptest::prelude::*;
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::111111111111:role/app";
const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "sqs:SendMessage",
    "dynamodb:GetItem",
];
const ACTION_PATTERNS: &[&str] = &[
    "s3:GetObject",
    "S3:getobject",
    "s3:Get*",
    "s3:*",
    "*",
    "sqs:Send?essage",
    "dynamodb:GetItem",
    "s3:PutObject",
    "sqs:*",
    "dynamodb:*",
    // Repeated: a statement that matches any action is common in real policies.
    "*",
    "*",
];
const RESOURCES: &[(&str, Option<&str>)] = &[
    ("arn:aws:s3:::bucket/key", None),
    ("arn:aws:s3:::bucket", None),
    ("arn:aws:sqs:eu-west-1:111111111111:q", Some("111111111111")),
    ("arn:aws:sqs:eu-west-1:222222222222:q", Some("222222222222")),
    ("arn:aws:dynamodb:eu-west-1:111111111111:table/t", Some("111111111111")),
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "*",
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket",
    "arn:aws:sqs:*:111111111111:*",
    "arn:aws:sqs:eu-west-1:*:q",
    "arn:aws:dynamodb:eu-west-1:111111111111:table/t",
];
/// Principals of resource-policy statements: the role, its account (root ARN and bare id), anyone.
const PRINCIPALS: &[&str] = &[ROLE, "arn:aws:iam::111111111111:root", "111111111111", "*"];

/// A condition block, or none. Keys are known (`aws:PrincipalOrgID`, `aws:PrincipalTag/team`)
/// or unknown (`aws:SecureTransport`), so that all three decisions occur.
fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}))),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-other"}}))),
        1 => Just(Some(json!({"StringLike": {"aws:PrincipalTag/team": "dev*"}}))),
        3 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        1 => Just(Some(json!({"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "ops"}}))),
        1 => Just(Some(json!({"Null": {"aws:PrincipalTag/missing": "true"}}))),
    ]
}

fn statement(effect: &'static str, with_principal: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.15),
        prop::sample::subsequence(ACTION_PATTERNS, 1..3),
        prop::bool::weighted(0.15),
        prop::sample::subsequence(RESOURCE_PATTERNS, 1..3),
        condition(),
        prop::sample::select(PRINCIPALS),
    )
        .prop_map(move |(not_action, actions, not_resource, resources, cond, principal)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(effect));
            s.insert(if not_action { "NotAction" } else { "Action" }.into(), json!(actions));
            s.insert(
                if not_resource { "NotResource" } else { "Resource" }.into(),
                json!(resources),
            );
            if let Some(c) = cond {
                s.insert("Condition".into(), c);
            }
            if with_principal {
                s.insert("Principal".into(), json!({ "AWS": principal }));
            }
            Value::Object(s)
        })
}

fn any_statement(with_principal: bool) -> impl Strategy<Value = Value> {
    prop_oneof![4 => statement("Allow", with_principal), 1 => statement("Deny", with_principal)]
}

fn document(with_principal: bool, statements: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(any_statement(with_principal), statements)
}

/// Everything that applies to one request, as statement lists (turned into policies per test).
#[derive(Debug, Clone)]
struct Case {
    identity: Vec<Vec<Value>>,
    boundary: Option<Vec<Value>>,
    scp: Option<Vec<Value>>,
    resource: Option<Vec<Value>>,
    action: &'static str,
    resource_arn: &'static str,
    resource_account: Option<&'static str>,
    secure_transport_known: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(document(false, 1..4), 1..3),
        prop::option::weighted(0.2, document(false, 1..3)),
        prop::option::weighted(0.2, document(false, 1..3)),
        prop::option::weighted(0.4, document(true, 1..3)),
        prop::sample::select(ACTIONS),
        prop::sample::select(RESOURCES),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(identity, boundary, scp, resource, action, (arn, account), known)| Case {
                identity,
                boundary,
                scp,
                resource,
                action,
                resource_arn: arn,
                resource_account: account,
                secure_transport_known: known,
            },
        )
}

fn policy(statements: &[Value]) -> Policy {
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    match Policy::from_value(&doc) {
        Ok(p) => p,
        Err(e) => panic!("the generator made an invalid policy ({e:?}): {doc}"),
    }
}

/// The decision reduced to what must not change: its kind, the unknown keys of a conditional
/// answer, and which kind of policy denied.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Conditional(Vec<String>),
    Denied(std::mem::Discriminant<DenyReason>),
}

impl Outcome {
    fn rank(&self) -> u8 {
        match self {
            Outcome::Denied(_) => 0,
            Outcome::Conditional(_) => 1,
            Outcome::Allowed => 2,
        }
    }
}

fn named(policy: &Policy) -> NamedPolicy<'_> {
    NamedPolicy { name: "p", policy }
}

fn decide(case: &Case) -> Outcome {
    let identity: Vec<Policy> = case.identity.iter().map(|d| policy(d)).collect();
    let boundary = case.boundary.as_deref().map(policy);
    let scp = case.scp.as_deref().map(policy);
    let resource = case.resource.as_deref().map(policy);
    let full_access = policy(&[json!({"Effect": "Allow", "Action": "*", "Resource": "*"})]);
    let set = PolicySet {
        identity: identity.iter().map(named).collect(),
        boundary: boundary.as_ref().map(named),
        // The account's own level allows everything; the generated SCP is the level above it.
        scps: match &scp {
            Some(s) => vec![vec![named(s)], vec![named(&full_access)]],
            None => Vec::new(),
        },
        rcps: Vec::new(),
        resource_policy: resource.as_ref().map(named),
        session: Vec::new(),
        scp_exempt: false,
        assumed: Vec::new(),
    };
    let mut ctx = RequestContext::new();
    ctx.set("aws:PrincipalOrgID", "o-abc")
        .set("aws:PrincipalTag/team", "dev-1");
    ctx.absent("aws:PrincipalTag/missing");
    if case.secure_transport_known {
        ctx.set("aws:SecureTransport", "true");
    }
    let req = Request {
        principal: ROLE,
        principal_account: "111111111111",
        action: case.action,
        resource: case.resource_arn,
        resource_account: case.resource_account,
        context: &ctx,
    };
    match evaluate(&req, &set) {
        Decision::Allowed { .. } => Outcome::Allowed,
        Decision::Conditional { keys, .. } => {
            // Keys are named as the policy spells them; IAM compares them ignoring case.
            let mut keys: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
            keys.sort();
            keys.dedup();
            Outcome::Conditional(keys)
        }
        Decision::Denied(reason) => Outcome::Denied(std::mem::discriminant(&reason)),
    }
}

/// Where an extra Deny goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    Identity,
    Boundary,
    Scp,
    Resource,
}

fn with_deny(case: &Case, place: Place, deny: Value) -> Case {
    let mut c = case.clone();
    // A boundary, SCP or resource policy that was not there is added holding only the Deny.
    let push = |doc: &mut Option<Vec<Value>>| doc.get_or_insert_with(Vec::new).push(deny.clone());
    match place {
        Place::Identity => c.identity.push(vec![deny.clone()]),
        Place::Boundary => push(&mut c.boundary),
        Place::Scp => push(&mut c.scp),
        Place::Resource => push(&mut c.resource),
    }
    c
}

/// The same policies with every statement list and the identity policies in reverse order.
fn reversed(case: &Case) -> Case {
    let mut c = case.clone();
    c.identity.reverse();
    for doc in c
        .identity
        .iter_mut()
        .chain([&mut c.boundary, &mut c.scp, &mut c.resource].into_iter().flatten())
    {
        doc.reverse();
    }
    c
}

/// Every action pattern and condition key of the policies in another letter case (values and
/// ARNs untouched: those are case-sensitive).
fn recased(case: &Case, upper: bool) -> Case {
    let change = |s: &str| {
        if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        }
    };
    let recase_statement = |st: &mut Value| {
        for field in ["Action", "NotAction"] {
            if let Some(Value::Array(list)) = st.get_mut(field) {
                for a in list.iter_mut() {
                    if let Some(s) = a.as_str() {
                        *a = json!(change(s));
                    }
                }
            }
        }
        if let Some(Value::Object(ops)) = st.get_mut("Condition") {
            for block in ops.values_mut() {
                if let Value::Object(keys) = block {
                    *keys = std::mem::take(keys).into_iter().map(|(k, v)| (change(&k), v)).collect();
                }
            }
        }
    };
    let mut c = case.clone();
    for doc in c
        .identity
        .iter_mut()
        .chain([&mut c.boundary, &mut c.scp, &mut c.resource].into_iter().flatten())
    {
        doc.iter_mut().for_each(recase_statement);
    }
    c
}

fn truth() -> impl Strategy<Value = Truth> {
    prop_oneof![
        Just(Truth::True),
        Just(Truth::False),
        prop::sample::subsequence(vec!["a", "b", "c"], 1..3)
            .prop_map(|keys| Truth::Unknown(keys.into_iter().map(String::from).collect())),
    ]
}

/// The truth value without its keys.
fn level(t: &Truth) -> u8 {
    match t {
        Truth::False => 0,
        Truth::Unknown(_) => 1,
        Truth::True => 2,
    }
}

/// An independent matcher: the glob as an anchored regular expression.
/// Case is ignored as IAM ignores it in action names: ASCII letters only.
fn reference_glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if ignore_case {
        return reference_glob(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase(), false);
    }
    let mut re = String::from("(?s)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(text))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// An explicit Deny in any applicable policy can only take permissions away.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
    #[test]
    fn adding_a_deny_never_grants_more(
        c in case(),
        deny in statement("Deny", false),
        deny_in_resource_policy in statement("Deny", true),
        place in prop::sample::select(vec![Place::Identity, Place::Boundary, Place::Scp, Place::Resource]),
    ) {
        let before = decide(&c);
        let deny = if matches!(place, Place::Resource) { deny_in_resource_policy } else { deny };
        let after = decide(&with_deny(&c, place, deny));
        prop_assert!(after.rank() <= before.rank(), "before {before:?}, after {after:?}");
    }

    /// Evaluation looks at all statements of all policies; their order does not matter.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html>
    #[test]
    fn statement_and_policy_order_never_matters(c in case()) {
        prop_assert_eq!(decide(&c), decide(&reversed(&c)));
    }

    /// Service prefixes and action names, and condition key names, are case-insensitive.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>
    #[test]
    fn action_and_condition_key_case_never_matters(c in case(), upper in any::<bool>()) {
        let expected = decide(&c);
        prop_assert_eq!(&decide(&recased(&c, upper)), &expected);
        let request = Case { action: if upper { "S3:GETOBJECT" } else { "s3:getobject" }, ..c.clone() };
        let same = Case { action: "s3:GetObject", ..c };
        prop_assert_eq!(decide(&request), decide(&same));
    }

    /// `and` and `or` are commutative and associative (keys included), have their identities and
    /// annihilators, and absorb and distribute on the truth level (Kleene's three-valued logic).
    #[test]
    fn truth_obeys_the_lattice_laws(a in truth(), b in truth(), c in truth()) {
        prop_assert_eq!(a.clone().and(b.clone()), b.clone().and(a.clone()));
        prop_assert_eq!(a.clone().or(b.clone()), b.clone().or(a.clone()));
        prop_assert_eq!(a.clone().and(b.clone()).and(c.clone()), a.clone().and(b.clone().and(c.clone())));
        prop_assert_eq!(a.clone().or(b.clone()).or(c.clone()), a.clone().or(b.clone().or(c.clone())));
        prop_assert_eq!(a.clone().and(Truth::True), a.clone());
        prop_assert_eq!(a.clone().or(Truth::False), a.clone());
        prop_assert_eq!(a.clone().and(Truth::False), Truth::False);
        prop_assert_eq!(a.clone().or(Truth::True), Truth::True);
        prop_assert_eq!(level(&a.clone().and(a.clone().or(b.clone()))), level(&a));
        prop_assert_eq!(level(&a.clone().or(a.clone().and(b.clone()))), level(&a));
        prop_assert_eq!(
            level(&a.clone().and(b.clone().or(c.clone()))),
            level(&a.clone().and(b.clone()).or(a.clone().and(c.clone())))
        );
        prop_assert_eq!(
            level(&a.clone().or(b.clone().and(c.clone()))),
            level(&a.clone().or(b.clone()).and(a.or(c)))
        );
    }

    /// IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` exactly one.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>
    #[test]
    fn glob_matching_agrees_with_a_regular_expression(
        pattern in "[ab*?:/.A]{0,8}",
        text in "[abAB:/.é]{0,10}",
    ) {
        prop_assert_eq!(glob_match(&pattern, &text), reference_glob(&pattern, &text, false), "{} / {}", pattern, text);
        prop_assert_eq!(
            glob_match_ignore_case(&pattern, &text),
            reference_glob(&pattern, &text, true),
            "{} / {}", pattern, text
        );
    }
}

/// The generator is not degenerate: over a fixed sample each decision is at least 5% of the
/// cases (today about 26% allowed, 9% conditional, 65% denied).
#[test]
fn the_generator_reaches_every_decision() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let (mut allowed, mut conditional, mut denied) = (0, 0, 0);
    for _ in 0..400 {
        let c = case().new_tree(&mut runner).map(|t| t.current());
        match c.as_ref().map(decide) {
            Ok(Outcome::Allowed) => allowed += 1,
            Ok(Outcome::Conditional(_)) => conditional += 1,
            Ok(Outcome::Denied(_)) => denied += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        allowed >= 20 && conditional >= 20 && denied >= 20,
        "{allowed} / {conditional} / {denied}"
    );
}
