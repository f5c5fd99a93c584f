//! Property tests: the policy parser and the evaluator never panic, whatever JSON they get.

use super::condition::RequestContext;
use super::eval::{NamedPolicy, PolicySet, Request, evaluate};
use super::policy::Policy;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys policies use, so that generated documents often get past the first checks.
const KEYS: &[&str] = &[
    "Version",
    "Statement",
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "AWS",
    "Service",
    "StringEquals",
    "ArnLike",
    "ForAnyValue:StringLike",
    "StringNotEqualsIfExists",
    "Null",
    "aws:PrincipalOrgID",
    "aws:SourceArn",
    "aws:ResourceTag/app",
];
const STRINGS: &[&str] = &[
    "Allow",
    "Deny",
    "*",
    "s3:Get*",
    "iam:*",
    "sts:AssumeRole",
    "arn:aws:s3:::b/*",
    "${aws:username}",
    "%7B%7D",
    "arn:aws:iam::111111111111:root",
    "true",
    "o-abc",
    "?",
    "",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics(doc in json()) {
        let _ = Policy::from_value(&doc);
        let _ = Policy::from_text(&doc.to_string());
    }

    #[test]
    fn parser_never_panics_on_text(text in ".{0,200}") {
        let _ = Policy::from_text(&text);
    }

    #[test]
    fn evaluator_never_panics(doc in json(), action in prop::sample::select(STRINGS), resource in prop::sample::select(STRINGS)) {
        if let Ok(policy) = Policy::from_value(&doc) {
            let mut ctx = RequestContext::new();
            ctx.set("aws:PrincipalOrgID", "o-abc");
            let named = NamedPolicy { name: "p", policy: &policy };
            let set = PolicySet {
                identity: vec![named],
                boundary: Some(named),
                scps: vec![vec![named]],
                rcps: vec![vec![named]],
                session: vec![named],
                resource_policy: Some(named),
                scp_exempt: false,
                assumed: Vec::new(),
            };
            let req = Request { principal: "arn:aws:iam::111111111111:role/r", principal_account: "111111111111", action, resource, resource_account: Some("222222222222"), context: &ctx };
            let _ = evaluate(&req, &set);
        }
    }
}
