//! `residency-cross-zone-flow`: data leaves its residency zone — an EventBridge rule delivers to
//! a target in another zone (an EU bus rule targeting a US bus), or a function depends on a
//! resource in another zone.

use super::{Check, Context, Finding, Input, Meta, Severity, Status, app_names};
use crate::arn::glob_match;
use crate::graph::{NodeKind, Topology, UseReason};
use std::collections::BTreeSet;

pub struct ResidencyCrossZoneFlow;

const META: Meta = Meta {
    id: "residency-cross-zone-flow",
    title: "Data flows out of its residency zone",
    description: "An EventBridge rule target (or its dead-letter queue), a cross-region bus hop, or a resource a Lambda function uses lies in a region outside the residency zone of the rule's or function's region. Events and the personal data in them then leave the zone they are bound to.",
    severity: Severity::High,
    inputs: &[Input::EventBridge, Input::Lambda, Input::Iam, Input::Tagging],
};

impl Check for ResidencyCrossZoneFlow {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        if !t.has_zones() {
            return out;
        }
        let known_regions = known_regions(t);
        for (ix, node) in t.nodes() {
            if !matches!(node.kind, NodeKind::Rule | NodeKind::Subscriber | NodeKind::Function) {
                continue;
            }
            let (Some(region), Some(zone)) = (node.region, t.zone_of(ix)) else {
                continue;
            };
            let apps = app_names(t, t.owner(ix));
            // A bucket reached through two dependencies (an environment reference and a role
            // statement) is one unknown, so one finding.
            let mut unknown = BTreeSet::new();
            for dep in t.dependencies_of(ix) {
                // A function's own resource policy naming something is no flow of its data.
                if matches!(dep.reason, UseReason::PolicyNames { .. }) {
                    continue;
                }
                let target = t.node(dep.to);
                let pattern_why = t.unseen_because(dep.to);
                let Some(target_region) = target.region else {
                    // S3 buckets and other regionless ARNs not in the snapshot, and wildcard
                    // patterns whose region is a wildcard: where is unknown.
                    let s3 = matches!(target.id.split(':').nth(2), Some("s3"));
                    let (message, remediation) = if s3 && (target.kind == NodeKind::External) {
                        let m = format!(
                            "`{}` depends on `{}`, whose region is not in the snapshot, so it cannot be shown to stay in zone `{zone}`",
                            node.id, target.id
                        );
                        (m, "Crawl the account that holds the resource so its region is known.")
                    } else if let Some(why) = pattern_why {
                        let outside = regions_outside(t, &known_regions, target.id, zone);
                        if outside.is_empty() {
                            continue;
                        }
                        let m = format!(
                            "`{}` in zone `{zone}` may use resources matching `{}` in regions outside it ({}), and {why}",
                            node.id,
                            target.id,
                            outside.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
                        );
                        (
                            m,
                            "Name the regions of the zone in the policy instead of a region wildcard.",
                        )
                    } else {
                        continue;
                    };
                    if unknown.insert(dep.to) {
                        let mut f = META.finding(node, message, remediation.to_string());
                        f.status = Status::NotProven;
                        f.applications = apps.clone();
                        f.evidence = dep.reason.evidence(target.id);
                        out.push(f);
                    }
                    continue;
                };
                let target_zone = t.zone_of_region(target_region);
                if target_zone == Some(zone) {
                    continue;
                }
                let there = target_zone.map_or_else(
                    || format!("region `{target_region}`, which is in no residency zone"),
                    |z| format!("zone `{z}` (`{target_region}`)"),
                );
                let verb = if matches!(node.kind, NodeKind::Rule | NodeKind::Subscriber) {
                    "delivers events to"
                } else {
                    "uses"
                };
                let mut f = META.finding(
                    node,
                    format!(
                        "{} `{}` in zone `{zone}` (`{region}`) {verb} {} `{}` in {there}",
                        node.kind.as_str(),
                        node.id,
                        target.kind.as_str(),
                        target.id
                    ),
                    format!(
                        "Keep the flow inside zone `{zone}`: point it at a resource in one of that zone's regions, or, if the data may legally leave, record that as an ignore with its legal basis as the reason."
                    ),
                );
                f.applications = apps.clone();
                f.evidence = dep.reason.evidence(target.id);
                if let Some(why) = pattern_why {
                    // A pattern: allowed, but whether anything there matches is not known.
                    f.status = Status::NotProven;
                    f.message = format!(
                        "not proven: {} (resources matching the pattern may exist: {why})",
                        f.message
                    );
                }
                out.push(f);
            }
        }
        out
    }
}

/// The regions topoguard knows of: those of the configured zones and those holding a node.
fn known_regions<'s>(t: &Topology<'s>) -> BTreeSet<&'s str> {
    let mut out: BTreeSet<&'s str> = t
        .config
        .zones
        .values()
        .flat_map(|z| z.regions.iter().map(|r| r.get_ref().as_str()))
        .collect();
    out.extend(t.nodes().filter_map(|(_, n)| n.region));
    out
}

/// The known regions outside `zone` that the region part of ARN pattern `pattern` matches
/// (`eu-*` stays inside a zone of every `eu-` region; `*` reaches every other zone).
fn regions_outside<'r>(t: &Topology<'_>, known: &BTreeSet<&'r str>, pattern: &str, zone: &str) -> Vec<&'r str> {
    let part = pattern.split(':').nth(3).unwrap_or("*");
    known
        .iter()
        .copied()
        .filter(|r| glob_match(part, r) && t.zone_of_region(r) != Some(zone))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ResidencyCrossZoneFlow;
    use crate::checks::Status;
    use crate::checks::testkit::*;
    use serde_json::json;

    #[test]
    fn fires_on_eu_rule_targeting_us_bus() {
        let mut s = org();
        let us_bus = "arn:aws:events:us-east-1:999999999999:event-bus/hub";
        add(
            &mut s,
            "event_buses",
            json!({"arn": us_bus, "account": SHARED, "region": "us-east-1", "name": "hub"}),
        );
        let rule = add_rule(&mut s, INVOICE, "eu-west-1", "forward", &[us_bus], json!({}));
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, rule);
        assert!(f[0].message.contains("zone `us`"), "{}", f[0].message);
        assert_eq!(f[0].applications, vec!["invoice"]);
    }

    #[test]
    fn fires_on_function_using_resource_in_region_outside_every_zone() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "sa-east-1", "latam", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("in no residency zone"));
    }

    #[test]
    fn near_miss_cross_region_inside_one_zone_is_quiet() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-central-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_rule(&mut s, INVOICE, "eu-west-1", "forward", &[&q], json!({}));
        assert_eq!(run(&ResidencyCrossZoneFlow, &s), vec![]);
    }

    #[test]
    fn quiet_when_every_flow_stays_in_its_region() {
        let mut s = org();
        let bus = "arn:aws:events:eu-west-1:999999999999:event-bus/hub";
        add(
            &mut s,
            "event_buses",
            json!({"arn": bus, "account": SHARED, "region": "eu-west-1", "name": "hub"}),
        );
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_rule(&mut s, INVOICE, "eu-west-1", "forward", &[bus, &q], json!({}));
        assert_eq!(run(&ResidencyCrossZoneFlow, &s), vec![]);
    }

    #[test]
    fn unknown_bucket_region_is_not_proven() {
        let mut s = org();
        add_rule(
            &mut s,
            INVOICE,
            "eu-west-1",
            "archive",
            &["arn:aws:s3:::somewhere"],
            json!({}),
        );
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotProven);
    }

    // EventBridge v2: a subscriber on an EU bus delivering to a US queue moves the events out
    // of the zone, like a rule target would.
    #[test]
    fn v2_subscriber_delivering_to_another_zone_fires_and_same_zone_is_quiet() {
        let mut s = org();
        let us = add_queue(&mut s, CHECKOUT, "us-east-1", "orders-us", json!({}));
        add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(CHECKOUT, &us)], true);
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.starts_with("eventbridge-subscriber"), "{}", f[0].message);
        assert!(f[0].message.contains("zone `us`"), "{}", f[0].message);
        assert_eq!(f[0].applications, vec!["checkout"]);
        // Near miss: the subscriber delivers to a queue in another region of the same zone.
        let mut s = org();
        let eu = add_queue(&mut s, CHECKOUT, "eu-central-1", "orders-eu", json!({}));
        add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(CHECKOUT, &eu)], true);
        assert_eq!(run(&ResidencyCrossZoneFlow, &s), vec![]);
    }

    #[test]
    fn fires_on_a_queue_in_another_zone_named_only_by_the_role_policy() {
        let mut s = org();
        let q = "arn:aws:sqs:us-east-1:999999999999:unseen";
        let func = add_function(&mut s, INVOICE, "eu-west-1", "api", &[q]);
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].resource.as_str(), f[0].status),
            (func.as_str(), Status::Violation)
        );
        assert!(f[0].message.contains(q), "{}", f[0].message);
    }

    #[test]
    fn fires_not_proven_on_a_pattern_in_another_zone_or_any_region() {
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api",
            &["arn:aws:sqs:us-east-1:999999999999:orders-*"],
        );
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("lists no `sqs` resources"), "{}", f[0].message);
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api",
            &["arn:aws:sqs:*:999999999999:orders"],
        );
        let f = run(&ResidencyCrossZoneFlow, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("(`us-east-1`, `us-west-2`)"), "{}", f[0].message);
    }

    #[test]
    fn near_miss_a_pattern_in_the_same_zone_is_quiet() {
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api",
            &["arn:aws:sqs:eu-central-1:999999999999:orders-*"],
        );
        // A region pattern matching only the zone's own known regions.
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "api2",
            &["arn:aws:sqs:eu-*:999999999999:orders"],
        );
        assert_eq!(run(&ResidencyCrossZoneFlow, &s), vec![]);
    }
}
