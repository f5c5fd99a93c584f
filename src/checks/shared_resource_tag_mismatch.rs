//! `shared-resource-tag-mismatch`: the consumer tag disagrees with the graph — it omits an
//! application that uses the resource (high: that team will not be paged) or lists one that no
//! longer uses it (low: noise that erodes trust in the tag).

use super::{
    Check, Context, Evidence, Finding, Input, Meta, Severity, app_accounts, app_names, gaps_hiding, unproven_by,
};

/// The inputs use is derived from.
const USE_INPUTS: &[Input] = &[Input::EventBridge, Input::Lambda, Input::Iam, Input::ResourcePolicies];
use crate::graph::NodeKind;
use std::collections::BTreeSet;

pub struct SharedResourceTagMismatch;

/// Application names in a consumer tag value: separated by spaces or `+`.
pub fn consumer_names(value: &str) -> BTreeSet<&str> {
    value.split([' ', '+']).filter(|s| !s.is_empty()).collect()
}

const META: Meta = Meta {
    id: "shared-resource-tag-mismatch",
    title: "Consumer tag disagrees with actual use",
    description: "The consumer tag of a resource omits an application other than its owner that the graph shows using it (high), or lists an application that neither uses nor owns it (low). A wrong tag sends responders to the wrong team, or to none.",
    severity: Severity::High,
    inputs: &[
        Input::Tagging,
        Input::EventBridge,
        Input::Lambda,
        Input::Iam,
        Input::ResourcePolicies,
    ],
};

impl Check for SharedResourceTagMismatch {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let key = t.consumer_tag_key();
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if node.kind == NodeKind::Account {
                continue;
            }
            let Some(value) = node.tags.and_then(|tags| tags.get(key)) else {
                continue;
            };
            let listed = consumer_names(value);
            let users = t.users(ix);
            let tag_evidence = Evidence::new("tag", node.id, None, format!("{key}={value}"));
            let owner_id = t.owner(ix);
            // The owner may be listed or not: only the other users must be.
            let missing: Vec<_> = users
                .iter()
                .filter(|(a, _)| Some(*a) != owner_id && !listed.contains(t.app_name(*a)))
                .collect();
            if !missing.is_empty() {
                let names = app_names(t, missing.iter().map(|(a, _)| *a));
                let owner_listed = owner_id.filter(|o| listed.contains(t.app_name(*o)));
                let all = app_names(
                    t,
                    users
                        .iter()
                        .map(|(a, _)| *a)
                        .filter(|a| Some(*a) != owner_id)
                        .chain(owner_listed),
                );
                let mut f = META.finding(
                    node,
                    format!(
                        "`{key}` tag of `{}` omits {}, which {} it",
                        node.id,
                        names.join(", "),
                        if names.len() == 1 { "uses" } else { "use" }
                    ),
                    format!("Set the tag to `{key}={}`.", all.join("+")),
                );
                f.severity = Severity::High;
                f.applications = names;
                f.evidence = std::iter::once(tag_evidence.clone())
                    .chain(missing.iter().flat_map(|(_, r)| r.evidence(node.id)))
                    .collect();
                out.push(f);
            }
            let owner = owner_id.map(|a| t.app_name(a));
            let stale: Vec<&str> = listed
                .iter()
                .copied()
                .filter(|name| Some(*name) != owner && !users.iter().any(|(a, _)| t.app_name(*a) == *name))
                .collect();
            if !stale.is_empty() {
                let unknown: Vec<&str> = stale.iter().copied().filter(|n| t.app_id(n).is_none()).collect();
                let mut keep: Vec<&str> = listed.iter().copied().filter(|n| !stale.contains(n)).collect();
                keep.sort_unstable();
                let mut message = format!(
                    "`{key}` tag of `{}` lists {} that neither use nor own it",
                    node.id,
                    stale.join(", ")
                );
                if !unknown.is_empty() {
                    message.push_str(&format!(" (not configured applications: {})", unknown.join(", ")));
                }
                let remediation = if keep.is_empty() {
                    format!("Remove the `{key}` tag, or restore the use it describes.")
                } else {
                    format!("Set the tag to `{key}={}`.", keep.join("+"))
                };
                let mut f = META.finding(node, message, remediation);
                f.severity = Severity::Low;
                f.applications = stale.iter().map(|s| s.to_string()).collect();
                f.evidence = vec![tag_evidence];
                // "No longer uses it" is an absence: a gap where the listed applications' rules,
                // functions and roles are read, or in the resource's own account (its policy),
                // could hide the use.
                let mut where_: Vec<&str> = stale
                    .iter()
                    .filter_map(|n| t.app_id(n))
                    .flat_map(|a| app_accounts(t, a))
                    .chain(node.account)
                    .collect();
                where_.sort_unstable();
                where_.dedup();
                out.push(unproven_by(f, &gaps_hiding(t, USE_INPUTS, &where_, None)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{SharedResourceTagMismatch, consumer_names};
    use crate::checks::Severity;
    use crate::checks::testkit::*;
    use serde_json::json;

    #[test]
    fn tag_value_separators() {
        assert_eq!(
            consumer_names("invoice+checkout").into_iter().collect::<Vec<_>>(),
            vec!["checkout", "invoice"]
        );
        assert_eq!(consumer_names(" invoice  checkout+").len(), 2);
    }

    #[test]
    fn fires_high_on_omitted_user_and_low_on_stale_entry() {
        let mut s = org();
        let q = add_queue(
            &mut s,
            SHARED,
            "eu-west-1",
            "orders",
            json!({"shared-with": "invoice ledger"}),
        );
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&q]);
        let f = run(&SharedResourceTagMismatch, &s);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!(
            (f[0].severity, f[0].applications.clone()),
            (Severity::High, vec!["checkout".to_string()])
        );
        assert!(f[0].remediation.contains("shared-with=checkout+invoice"));
        assert_eq!(f[1].severity, Severity::Low);
        assert!(
            f[1].message.contains("ledger") && f[1].message.contains("not configured"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn near_miss_owner_may_be_listed_or_not_but_other_users_must_be() {
        let mut s = org();
        // Owned by invoice (its account), used by invoice and checkout.
        let with_owner = add_queue(
            &mut s,
            INVOICE,
            "eu-west-1",
            "a",
            json!({"shared-with": "invoice+checkout"}),
        );
        let without_owner = add_queue(&mut s, INVOICE, "eu-west-1", "b", json!({"shared-with": "checkout"}));
        // Near miss: the owner alone does not cover checkout's use.
        let owner_only = add_queue(&mut s, INVOICE, "eu-west-1", "c", json!({"shared-with": "invoice"}));
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "invoice-api",
            &[&with_owner, &without_owner, &owner_only],
        );
        add_function(
            &mut s,
            CHECKOUT,
            "eu-west-1",
            "checkout-api",
            &[&with_owner, &without_owner, &owner_only],
        );
        let f = run(&SharedResourceTagMismatch, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, owner_only);
        assert_eq!(f[0].applications, vec!["checkout"]);
        assert!(
            f[0].message.contains("omits checkout, which uses it"),
            "{}",
            f[0].message
        );
        // The remediation keeps the owner, since the tag listed it.
        assert!(
            f[0].remediation.contains("shared-with=checkout+invoice"),
            "{}",
            f[0].remediation
        );
    }

    #[test]
    fn a_stale_entry_is_not_proven_when_a_gap_could_hide_the_use() {
        let mut s = org();
        let q = add_queue(
            &mut s,
            SHARED,
            "eu-west-1",
            "orders",
            json!({"shared-with": "invoice+checkout"}),
        );
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-web", &[]);
        // Checkout's functions in us-east-1 could not be listed: one may still use the queue.
        s["coverage"] = json!({"gaps": [{"account": CHECKOUT, "region": "us-east-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException"}]});
        let f = run(&SharedResourceTagMismatch, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert!(f[0].message.contains("lambda:ListFunctions"), "{}", f[0].message);
        // Near miss: the gap is in invoice's account, which says nothing about checkout's use.
        s["coverage"] = json!({"gaps": [{"account": INVOICE, "region": "us-east-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException"}]});
        let f = run(&SharedResourceTagMismatch, &s);
        assert_eq!(f[0].status, crate::checks::Status::Violation);
    }

    #[test]
    fn quiet_when_tag_matches_use_including_owner() {
        let mut s = org();
        // Owned by invoice (its account), used by checkout: listing the owner is not stale.
        let q = add_queue(
            &mut s,
            INVOICE,
            "eu-west-1",
            "orders",
            json!({"shared-with": "invoice+checkout"}),
        );
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&q]);
        // Near miss: use through a sub-resource pattern still counts.
        let q2 = add_queue(&mut s, SHARED, "eu-west-1", "jobs", json!({"shared-with": "invoice"}));
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "invoice-jobs",
            &["arn:aws:sqs:eu-west-1:999999999999:jo*"],
        );
        let _ = q2;
        assert_eq!(run(&SharedResourceTagMismatch, &s), vec![]);
    }

    // docs/checks.md: for the low variant, remove the extra name from the tag (the others stay).
    #[test]
    fn fires_low_with_a_remediation_keeping_the_names_that_are_right() {
        let mut s = org();
        let q = add_queue(
            &mut s,
            SHARED,
            "eu-west-1",
            "orders",
            json!({"shared-with": "invoice+checkout"}),
        );
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let f = run(&SharedResourceTagMismatch, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].severity, f[0].applications.clone()),
            (Severity::Low, vec!["checkout".to_string()])
        );
        assert!(
            f[0].remediation.contains("`shared-with=invoice`"),
            "{}",
            f[0].remediation
        );
    }
}
