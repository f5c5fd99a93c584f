//! `shared-resource-untagged`: a shared resource carries no consumer tag, so nobody looking at
//! it during an incident can tell which applications break when it does.

use super::{Check, Context, Finding, Input, Meta, Severity, Status, app_names, gaps_hiding, unproven_by};
use crate::graph::{NodeKind, SharedBecause, Topology};
use petgraph::graph::NodeIndex;

pub struct SharedResourceUntagged;

const META: Meta = Meta {
    id: "shared-resource-untagged",
    title: "Shared resource has no consumer tag",
    description: "A resource used by two or more applications, used by an application other than its owner, or living in a shared-dependency account and used by any application, has no consumer tag naming the applications that use it. In an incident nobody can tell from the resource who is affected or whom to page.",
    severity: Severity::Medium,
    inputs: &[
        Input::Tagging,
        Input::EventBridge,
        Input::Lambda,
        Input::Iam,
        Input::ResourcePolicies,
    ],
};

impl Check for SharedResourceUntagged {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let key = t.consumer_tag_key();
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if matches!(node.kind, NodeKind::Account | NodeKind::AgentSpace) {
                continue;
            }
            if node.kind == NodeKind::External {
                out.extend(unseen(t, ix, key));
                continue;
            }
            let Some(because) = t.shared_because(ix) else {
                continue;
            };
            let users = t.users(ix);
            let apps = app_names(t, users.iter().map(|(a, _)| *a));
            let tag_value = apps.join("+");
            if node.tags.is_some_and(|tags| tags.contains_key(key)) {
                continue;
            }
            let why = match because {
                SharedBecause::SeveralUsers => "used by several applications".to_string(),
                SharedBecause::SharedAccount => "in a shared-dependency account".to_string(),
                SharedBecause::UsedByNonOwner { owner } => {
                    format!("owned by `{}`, used by another application", t.app_name(owner))
                }
            };
            let mut f = META.finding(
                node,
                format!(
                    "shared {} `{}` ({why}: {}) has no `{key}` tag",
                    node.kind.as_str(),
                    node.id,
                    apps.join(", ")
                ),
                format!("Tag the resource with `{key}={tag_value}`."),
            );
            f.applications = apps;
            f.evidence = users.iter().flat_map(|(_, r)| r.evidence(node.id)).collect();
            // No tag is an absence: tags that could not be read there are unknown.
            let gaps = gaps_hiding(
                t,
                &[Input::Tagging],
                &node.account.into_iter().collect::<Vec<_>>(),
                node.region,
            );
            out.push(unproven_by(f, &gaps));
        }
        out
    }
}

/// An external node: referenced (by a rule, a function, an Allow statement) but not in the
/// snapshot, so its tags are unknown, not absent. "Not proven" when it is shared in an account of
/// the organization; a wildcard pattern (resources the snapshot may lack) whose account is
/// itself unknown may name one in a shared account, so any use of it is enough.
fn unseen(t: &Topology<'_>, ix: NodeIndex, key: &str) -> Option<Finding> {
    let node = t.node(ix);
    let users = t.users(ix);
    let pattern_why = t.unseen_because(ix);
    let in_org = node.account.is_some_and(|a| t.find(a).is_some());
    let judged = match (pattern_why, node.account) {
        (Some(_), None) => !users.is_empty(),
        _ => in_org && t.is_shared(ix),
    };
    if !judged {
        return None;
    }
    let apps = app_names(t, users.iter().map(|(a, _)| *a));
    let message = match pattern_why {
        Some(why) => format!(
            "resources matching `{}` are used by {}, but {why}, so their `{key}` tags cannot be checked",
            node.id,
            apps.join(", ")
        ),
        None => format!(
            "`{}` is used by {} but is not in the snapshot, so its `{key}` tag cannot be checked",
            node.id,
            apps.join(", ")
        ),
    };
    let remediation = match pattern_why {
        Some(_) => {
            "Name the resources exactly in the policy, or make sure the crawl reads every resource the pattern matches (tag them, or fix the coverage gap), then re-crawl."
        }
        None => "Make sure the crawl reads this resource (its kind and region), then re-crawl.",
    };
    let mut f = META.finding(node, message, remediation.to_string());
    f.status = Status::NotProven;
    f.applications = apps;
    f.evidence = users.iter().flat_map(|(_, r)| r.evidence(node.id)).collect();
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::SharedResourceUntagged;
    use crate::checks::testkit::*;
    use serde_json::json;

    #[test]
    fn fires_on_a_queue_two_applications_use_without_tag() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&q]);
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, q);
        assert_eq!(f[0].applications, vec!["checkout", "invoice"]);
        assert!(f[0].remediation.contains("shared-with=checkout+invoice"));
        assert_eq!(f[0].evidence[0].relation, "executes-as");
    }

    #[test]
    fn fires_on_a_shared_account_resource_one_application_uses() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        assert_eq!(run(&SharedResourceUntagged, &s).len(), 1);
    }

    #[test]
    fn quiet_when_tagged_or_not_shared() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        // Near miss: an untagged queue in the invoice account used only by invoice is not shared.
        let own = add_queue(&mut s, INVOICE, "eu-west-1", "own", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-worker", &[&own]);
        // A `*` resource is not use.
        add_queue(&mut s, SHARED, "eu-west-1", "unused", json!({}));
        add_function(
            &mut s,
            CHECKOUT,
            "eu-west-1",
            "checkout-api",
            &["*", "arn:aws:sqs:eu-west-1:999999999999:*"],
        );
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    /// A bus in invoice's account that checkout's rule delivers to.
    fn invoice_bus_used_by_checkout(tags: serde_json::Value) -> (serde_json::Value, String) {
        let mut s = org();
        let bus = format!("arn:aws:events:eu-west-1:{INVOICE}:event-bus/invoice-inbox");
        add(
            &mut s,
            "event_buses",
            json!({"arn": bus, "account": INVOICE, "region": "eu-west-1", "name": "invoice-inbox", "tags": tags}),
        );
        add_rule(&mut s, CHECKOUT, "eu-west-1", "checkout-paid", &[&bus], json!({}));
        (s, bus)
    }

    #[test]
    fn fires_on_a_resource_one_application_uses_and_another_owns() {
        let (s, bus) = invoice_bus_used_by_checkout(json!({}));
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, bus);
        assert_eq!(f[0].applications, vec!["checkout"]);
        assert!(
            f[0].message.contains("owned by `invoice`, used by another application"),
            "{}",
            f[0].message
        );
        assert!(f[0].remediation.contains("shared-with=checkout"));
        // A table another application's role reads: the same class, through a role policy.
        let mut s = org();
        let q = add_queue(&mut s, INVOICE, "eu-west-1", "ledger", json!({}));
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&q]);
        assert_eq!(run(&SharedResourceUntagged, &s).len(), 1);
    }

    #[test]
    fn quiet_when_the_only_user_is_the_owner() {
        // Near miss: checkout's queue, placed in invoice's account but tagged `app=checkout`, is
        // used by checkout alone: its owner (by tag) is its only user.
        let mut s = org();
        let q = add_queue(&mut s, INVOICE, "eu-west-1", "handoff", json!({"app": "checkout"}));
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&q]);
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
        // And tagged with the consumer, the non-owner use is quiet too.
        let (s, _) = invoice_bus_used_by_checkout(json!({"shared-with": "checkout"}));
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    #[test]
    fn near_miss_untagged_is_not_proven_only_where_tags_could_not_be_read() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "eu-west-1", "api": "tag:GetResources", "error_code": "AccessDeniedException"}]});
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert!(f[0].message.contains("tag:GetResources"), "{}", f[0].message);
        // Near miss: tags of another region were the ones not read.
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "us-east-1", "api": "tag:GetResources", "error_code": "AccessDeniedException"}]});
        assert_eq!(
            run(&SharedResourceUntagged, &s)[0].status,
            crate::checks::Status::Violation
        );
    }

    #[test]
    fn referenced_resource_missing_from_snapshot_is_not_proven() {
        let mut s = org();
        let ghost = queue_arn(SHARED, "eu-west-1", "ghost");
        add_rule(&mut s, INVOICE, "eu-west-1", "invoice-events", &[&ghost], json!({}));
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
    }

    #[test]
    fn a_v2_bus_with_subscribers_of_another_account_must_say_who_uses_it() {
        let mut s = org();
        let q = add_queue(&mut s, INVOICE, "eu-west-1", "invoice-in", json!({}));
        let bus = add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(INVOICE, &q)], true);
        let f = run(&SharedResourceUntagged, &s);
        assert!(
            f.iter().any(|x| x.resource == bus && x.applications == vec!["invoice"]),
            "{f:#?}"
        );
        // Near miss: the same bus with its consumer tag.
        if let Some(b) = s["event_buses_v2"][0].as_object_mut() {
            b.insert("tags".to_string(), json!({"shared-with": "invoice"}));
        }
        let f = run(&SharedResourceUntagged, &s);
        assert!(!f.iter().any(|x| x.resource == bus), "{f:#?}");
    }

    /// Functions of invoice and checkout that name objects of bucket `bucket` in their
    /// environment (a sub-resource reference).
    fn bucket_users(bucket: &str) -> serde_json::Value {
        let mut s = org();
        for (account, name) in [(INVOICE, "invoice-export"), (CHECKOUT, "checkout-export")] {
            add_function(&mut s, account, "eu-west-1", name, &[]);
            let f = s["functions"].as_array_mut().unwrap().last_mut().unwrap();
            f["environment_references"] = json!([format!("arn:aws:s3:::{bucket}/exports/{name}/*")]);
        }
        s
    }

    fn add_bucket(s: &mut serde_json::Value, account: &str, name: &str, tags: serde_json::Value) {
        add(
            s,
            "resources",
            json!({"arn": format!("arn:aws:s3:::{name}"), "kind": "s3-bucket", "account": account, "tags": tags}),
        );
    }

    // An object ARN is `arn:aws:s3:::BUCKET/KEY`; tags and the bucket policy are the bucket's
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-arn-format.html).
    #[test]
    fn fires_on_an_untagged_bucket_referenced_only_through_its_objects() {
        let mut s = bucket_users("exports");
        add_bucket(&mut s, SHARED, "exports", json!({}));
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports");
        assert_eq!(f[0].status, crate::checks::Status::Violation);
        assert_eq!(f[0].applications, vec!["checkout", "invoice"]);
    }

    #[test]
    fn quiet_when_the_bucket_of_the_objects_carries_the_tag() {
        let mut s = bucket_users("exports");
        add_bucket(&mut s, SHARED, "exports", json!({"shared-with": "checkout+invoice"}));
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    #[test]
    fn fires_not_proven_on_an_unseen_bucket_whose_owner_the_crawl_found() {
        let mut s = bucket_users("exports");
        s["bucket_owners"] = json!({"exports": SHARED});
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports");
        assert_eq!(f[0].account.as_deref(), Some(SHARED));
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
    }

    #[test]
    fn near_miss_a_bucket_owned_outside_the_organization_is_not_reported() {
        // No crawled account owns it: an outside bucket, whose tags are not the organization's.
        let s = bucket_users("exports");
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    /// A function of the shared account, claimed by invoice through its tag, whose execution role
    /// names `resource` (only there).
    fn shared_function_naming(s: &mut serde_json::Value, resource: &str) {
        add_function(s, SHARED, "eu-west-1", "exporter", &[resource]);
        s["functions"][0]["tags"] = json!({"app": "invoice"});
    }

    #[test]
    fn fires_not_proven_on_a_bucket_named_only_in_a_shared_accounts_role_policy() {
        let mut s = org();
        shared_function_naming(&mut s, "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": SHARED});
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert!(f[0].message.contains("is not in the snapshot"), "{}", f[0].message);
        assert_eq!(f[0].applications, vec!["invoice"]);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.detail.contains("policy `use` statement `Use` allows it"))
        );
    }

    #[test]
    fn quiet_the_same_bucket_in_the_snapshot_with_its_consumer_tag_is_judged_by_it() {
        let mut s = org();
        shared_function_naming(&mut s, "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": SHARED});
        add(
            &mut s,
            "resources",
            json!({"arn": "arn:aws:s3:::exports", "kind": "s3-bucket", "account": SHARED, "tags": {"shared-with": "invoice"}}),
        );
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
        // Without the tag it is a plain finding, not "not proven".
        s["resources"][0]["tags"] = json!({});
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::checks::Status::Violation);
    }

    #[test]
    fn near_miss_a_bucket_named_only_by_a_deny_statement_is_nothing() {
        let mut s = org();
        shared_function_naming(&mut s, "arn:aws:s3:::other/*");
        s["roles"][0]["inline_policies"][0]["document"]["Statement"][0]["Effect"] = json!("Deny");
        s["bucket_owners"] = json!({"other": SHARED});
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    #[test]
    fn fires_not_proven_on_a_wildcard_matching_a_known_bucket_and_listed_unread_ones() {
        let mut s = org();
        shared_function_naming(&mut s, "arn:aws:s3:::exports-*/*");
        add(
            &mut s,
            "resources",
            json!({"arn": "arn:aws:s3:::exports-eu", "kind": "s3-bucket", "account": SHARED, "tags": {"shared-with": "invoice"}}),
        );
        // Complete listing, every match read: the tagged bucket is judged, nothing else.
        s["bucket_owners"] = json!({"exports-eu": SHARED});
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
        // A second match the crawl listed but did not read: not proven, naming it.
        s["bucket_owners"] = json!({"exports-eu": SHARED, "exports-us": SHARED});
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports-*");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert!(f[0].message.contains("`arn:aws:s3:::exports-us`"), "{}", f[0].message);
    }

    // docs/checks.md, "How each check judges these nodes": a pattern node whose account is
    // unknown (a wildcard account, or listed buckets of several owners) is not proven as soon as
    // any application uses it, even from an unshared account: it may name a shared resource.
    #[test]
    fn fires_not_proven_on_a_pattern_of_unknown_account_one_unshared_application_uses() {
        let mut s = org();
        // No `bucket_owners`: the snapshot lists no buckets, so the pattern's account is unknown.
        add_function(&mut s, INVOICE, "eu-west-1", "api", &["arn:aws:s3:::exports-*/*"]);
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports-*");
        assert_eq!(f[0].account, None);
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert_eq!(f[0].applications, vec!["invoice"]);
        assert!(f[0].message.contains("lists no S3 buckets"), "{}", f[0].message);
        // The same for an SQS pattern whose account is a wildcard.
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api",
            &["arn:aws:sqs:eu-west-1:*:orders-*"],
        );
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        // Near miss: a pattern of unknown account that only a Deny names has no user, no finding.
        s["roles"][0]["inline_policies"][0]["document"]["Statement"][0]["Effect"] = json!("Deny");
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }

    #[test]
    fn fires_not_proven_on_a_wildcard_in_an_account_not_read_fully() {
        let mut s = org();
        shared_function_naming(&mut s, "arn:aws:sqs:eu-west-1:999999999999:orders-*");
        let f = run(&SharedResourceUntagged, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::checks::Status::NotProven);
        assert!(f[0].message.contains("lists no `sqs` resources"), "{}", f[0].message);
        // Near miss: the same pattern in the function's own, unshared account is not shared.
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api",
            &["arn:aws:sqs:eu-west-1:111111111111:orders-*"],
        );
        assert_eq!(run(&SharedResourceUntagged, &s), vec![]);
    }
}
