//! The differential corpus: IAM evaluation cases taken from WithSecureLabs/IAMSpy (Apache-2.0),
//! converted once by `scripts/convert_iamspy.py` into snapshots and expected decisions under
//! `tests/corpus/iamspy/`. Every case runs through topoguard's IAM engine (the policy store of
//! the snapshot and `iam::eval::evaluate`); the test prints agreed/total and fails on any
//! disagreement not listed in `tests/corpus/iamspy/known-differences.json`, on a listed one that
//! now agrees (stale), and on a listed one that `docs/testing.md` does not explain.

use crate::support::root;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use topoguard::iam::eval::{Decision, Request, evaluate};
use topoguard::iam::store::PolicyStore;
use topoguard::model::{Snapshot, load_snapshot};

/// topoguard's answer for one request, in the corpus's vocabulary.
fn answer(d: &Decision) -> &'static str {
    match d {
        Decision::Allowed { .. } => "allowed",
        Decision::Conditional { .. } => "conditional",
        Decision::Denied(_) => "denied",
    }
}

/// The snapshot resource whose policy governs `arn`, and the resource's account. An S3 object is
/// governed by its bucket's policy (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html).
fn governing<'s>(snap: &'s Snapshot, arn: &str) -> Option<&'s topoguard::model::Resource> {
    let bucket = arn
        .strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
        .map(|(b, _)| format!("arn:aws:s3:::{b}"));
    snap.resources
        .iter()
        .find(|r| r.arn == arn || Some(&r.arn) == bucket.as_ref())
}

/// Every principal of the snapshot that can act: roles and users.
fn principals(snap: &Snapshot) -> impl Iterator<Item = &str> {
    snap.roles
        .iter()
        .map(|r| r.arn.as_str())
        .chain(snap.users.iter().map(|u| u.arn.as_str()))
}

/// The account of a role or user of the snapshot.
fn principal_account<'s>(snap: &'s Snapshot, principal: &str) -> Option<&'s str> {
    let role = snap
        .roles
        .iter()
        .find(|r| r.arn == principal)
        .map(|r| r.account.as_str());
    role.or_else(|| {
        snap.users
            .iter()
            .find(|u| u.arn == principal)
            .map(|u| u.account.as_str())
    })
}

/// Decides `principal` × `action` × `resource` with the case's request context.
fn decide(snap: &Snapshot, store: &PolicyStore<'_>, case: &Value, principal: &str, resource: &str) -> String {
    let Some(account) = principal_account(snap, principal) else {
        return format!("principal `{principal}` not in the snapshot");
    };
    let owner = governing(snap, resource);
    let resource_account = owner.map(|r| r.account.clone()).or_else(|| {
        topoguard::arn::Arn::parse(resource)
            .ok()
            .and_then(|a| a.account())
            .map(str::to_string)
    });
    let policy = owner.and_then(|r| store.resource_policy(&r.arn)).map(|n| n.as_named());
    let Some(set) = store.policy_set(principal, resource_account.as_deref(), policy) else {
        return format!("no policy set for `{principal}`");
    };
    let mut ctx = store
        .principal_context(principal, snap.organization.id.as_deref())
        .unwrap_or_default();
    if let Some(a) = &resource_account {
        ctx.set("aws:ResourceAccount", a.clone());
    }
    for (k, v) in case["context"].as_object().unwrap() {
        ctx.set(k, v.as_str().unwrap());
    }
    for k in case["absent"].as_array().unwrap() {
        ctx.absent(k.as_str().unwrap());
    }
    let req = Request {
        principal,
        principal_account: account,
        action: case["action"].as_str().unwrap(),
        resource,
        resource_account: resource_account.as_deref(),
        context: &ctx,
    };
    answer(&evaluate(&req, &set)).to_string()
}

/// Whether an answer counts as "can": IAMSpy's non-strict mode means "can, if the conditions
/// allow", which is topoguard's conditional too.
fn can(answer: &str, strict: bool) -> bool {
    answer == "allowed" || (!strict && answer == "conditional")
}

/// Runs one case: `Ok(())` when topoguard agrees, else what it answered.
fn run(dir: &Path, case: &Value) -> Result<(), String> {
    let snap = load_snapshot(&dir.join(case["snapshot"].as_str().unwrap())).unwrap();
    let store = PolicyStore::new(&snap);
    let strict = case["strict"].as_bool().unwrap();
    let who = |resource: &str| -> BTreeSet<String> {
        principals(&snap)
            .filter(|arn| can(&decide(&snap, &store, case, arn, resource), strict))
            .map(str::to_string)
            .collect()
    };
    let strings = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    match case["kind"].as_str().unwrap() {
        "can" => {
            let got = decide(
                &snap,
                &store,
                case,
                case["principal"].as_str().unwrap(),
                case["resource"].as_str().unwrap(),
            );
            let want = case["expect"].as_str().unwrap();
            if got == want {
                Ok(())
            } else {
                Err(format!("expected {want}, topoguard: {got}"))
            }
        }
        "who-can" => {
            let got = who(case["resource"].as_str().unwrap());
            let want = strings(&case["expect_principals"]);
            if got == want {
                Ok(())
            } else {
                Err(format!("expected {want:?}, topoguard: {got:?}"))
            }
        }
        "who-can-batch" => {
            let mut got = BTreeSet::new();
            for resource in strings(&case["resources"]) {
                for p in who(&resource) {
                    got.insert(format!("{p} {resource}"));
                }
            }
            let want: BTreeSet<String> = case["expect_pairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| format!("{} {}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
                .collect();
            if got == want {
                Ok(())
            } else {
                Err(format!("expected {want:?}, topoguard: {got:?}"))
            }
        }
        other => Err(format!("unknown case kind `{other}`")),
    }
}

#[test]
fn iamspy_corpus_agrees_with_topoguard_or_the_difference_is_documented() {
    let dir = root().join("tests/corpus/iamspy");
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let known: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("known-differences.json")).unwrap()).unwrap();
    let doc = std::fs::read_to_string(root().join("docs/testing.md")).unwrap();
    let cases = corpus["cases"].as_array().unwrap();
    let not_converted = corpus["not_converted"].as_array().unwrap().len();
    let mut agreed = 0;
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        match (run(&dir, case), known.contains_key(id)) {
            (Ok(()), false) => agreed += 1,
            (Ok(()), true) => {
                agreed += 1;
                stale.push(id.to_string());
            }
            (Err(e), false) => unexpected.push(format!("{id}: {e}")),
            (Err(e), true) => eprintln!("known difference {id}: {e}"),
        }
    }
    eprintln!(
        "iamspy corpus: {agreed}/{} cases agree ({not_converted} not converted)",
        cases.len()
    );
    assert!(cases.len() >= 30, "the corpus lost cases: {}", cases.len());
    let undocumented: Vec<&String> = known.keys().filter(|id| !doc.contains(id.as_str())).collect();
    assert!(
        undocumented.is_empty(),
        "known differences missing from docs/testing.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "listed as known differences but now agree (remove them): {stale:?}"
    );
    assert!(
        unexpected.is_empty(),
        "undocumented disagreements:\n{}",
        unexpected.join("\n")
    );
}

/// The harness itself tells the three answers apart: a near miss of each corpus shape must not
/// agree by accident (a decision that is always "allowed" or always "denied" fails here).
#[test]
fn iamspy_harness_distinguishes_allowed_denied_and_conditional() {
    let dir = root().join("tests/corpus/iamspy");
    let base = |snapshot: &str, action: &str, resource: &str, expect: &str| {
        serde_json::json!({
            "id": "probe", "kind": "can", "snapshot": snapshot, "strict": false,
            "principal": "arn:aws:iam::123456789012:role/name",
            "action": action, "resource": resource, "context": {}, "absent": [], "expect": expect,
        })
    };
    let function = "arn:aws:lambda:eu-west-1:123456789012:function:helloworld";
    // Same request, flipped expectation: exactly one of each pair agrees.
    for (snapshot, action, right, wrong) in [
        (
            "snapshots/basic-allow.json",
            "lambda:InvokeFunction",
            "allowed",
            "denied",
        ),
        ("snapshots/basic-allow.json", "lambda:GetFunction", "denied", "allowed"),
        (
            "snapshots/allow-with-conditions.json",
            "lambda:InvokeFunction",
            "conditional",
            "allowed",
        ),
    ] {
        assert_eq!(
            run(&dir, &base(snapshot, action, function, right)),
            Ok(()),
            "{snapshot} {action}"
        );
        assert!(
            run(&dir, &base(snapshot, action, function, wrong)).is_err(),
            "{snapshot} {action}"
        );
    }
}
