//! `application-resource-unattributed`: a bus, rule or function that no application claims. It
//! cannot be placed in any Agent Space or responder boundary, so in an incident nobody owns it.

use super::{Check, Context, Finding, Input, Meta, Severity, Status, gaps_hiding, unproven_by};
use crate::graph::{EdgeKind, NodeKind, Topology};
use petgraph::Direction;
use petgraph::graph::NodeIndex;

pub struct ApplicationResourceUnattributed;

const META: Meta = Meta {
    id: "application-resource-unattributed",
    title: "Bus, rule or function belongs to no application",
    description: "An EventBridge bus, rule or Lambda function is neither tagged with a configured application nor in an account attributed to one. It falls outside every Agent Space and responder role, so no one is responsible for it during an incident. The default bus is exempt while no rule uses it.",
    severity: Severity::Low,
    inputs: &[Input::Tagging, Input::EventBridge, Input::Lambda],
};

impl Check for ApplicationResourceUnattributed {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let key = t.attribution_tag_key();
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if node.kind == NodeKind::External {
                out.extend(unseen(t, ix));
                continue;
            }
            if !matches!(
                node.kind,
                NodeKind::EventBus | NodeKind::Rule | NodeKind::Subscriber | NodeKind::Function
            ) || t.owner(ix).is_some()
            {
                continue;
            }
            if node.kind == NodeKind::EventBus
                && node.id.ends_with(":event-bus/default")
                && !t
                    .graph
                    .edges_directed(ix, Direction::Outgoing)
                    .any(|e| *e.weight() == EdgeKind::Routes)
            {
                continue;
            }
            let message = match t.owner_tag(ix) {
                Some(tag) => format!(
                    "{} `{}` is tagged `{key}={tag}`, but `{tag}` is not a configured application",
                    node.kind.as_str(),
                    node.id
                ),
                None => format!(
                    "{} `{}` has no `{key}` tag and its account `{}` is attributed to no application",
                    node.kind.as_str(),
                    node.id,
                    node.account.unwrap_or("?")
                ),
            };
            let names: Vec<&str> = t.applications.clone();
            let f = META.finding(
                node,
                message,
                format!(
                    "Tag it with `{key}=<application>` (one of: {}), or attribute its account to an application in the config.",
                    names.join(", ")
                ),
            );
            // "No tag" is an absence; a tag that says something was read.
            let gaps = if t.owner_tag(ix).is_none() {
                gaps_hiding(
                    t,
                    &[Input::Tagging],
                    &node.account.into_iter().collect::<Vec<_>>(),
                    node.region,
                )
            } else {
                Vec::new()
            };
            out.push(unproven_by(f, &gaps));
        }
        out
    }
}

/// Whether an ARN names a bus, a rule or a function (the kinds this check judges).
fn judged_kind(arn: &str) -> bool {
    let Ok(a) = crate::arn::Arn::parse(arn) else {
        return false;
    };
    match a.service {
        "events" => ["event-bus/", "event-busv2/", "rule/"]
            .iter()
            .any(|p| a.resource.starts_with(p)),
        "lambda" => a.resource.starts_with("function:"),
        _ => false,
    }
}

/// An external bus, rule or function (named by a target, a reference or a policy, not in the
/// snapshot) in an account of the organization that no application is attributed: whether a tag
/// claims it cannot be read, so "not proven".
fn unseen(t: &Topology<'_>, ix: NodeIndex) -> Option<Finding> {
    let node = t.node(ix);
    let account = node.account.filter(|a| t.find(a).is_some())?;
    if t.owner(ix).is_some() || t.unseen_because(ix).is_some() || !judged_kind(node.id) {
        return None;
    }
    let key = t.attribution_tag_key();
    let mut f = META.finding(
        node,
        format!(
            "not proven: `{}` is named in the organization but not in the snapshot, so whether its `{key}` tag claims it cannot be read (account `{account}` is attributed to no application)",
            node.id
        ),
        "Make sure the crawl reads this account and region (or remove the stale reference), then re-crawl.".to_string(),
    );
    f.status = Status::NotProven;
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::ApplicationResourceUnattributed;
    use crate::checks::testkit::*;
    use serde_json::json;

    #[test]
    fn fires_on_untagged_function_in_unattributed_account_and_unknown_tag() {
        let mut s = org();
        let f1 = add_function(&mut s, SHARED, "eu-west-1", "orphan", &[]);
        add_rule(&mut s, SHARED, "eu-west-1", "legacy", &[], json!({"app": "ledger"}));
        let f = run(&ApplicationResourceUnattributed, &s);
        let resources: Vec<&str> = f.iter().map(|x| x.resource.as_str()).collect();
        // the rule, its bus, and the function
        assert_eq!(f.len(), 3, "{resources:?}");
        assert!(resources.contains(&f1.as_str()));
        assert!(
            f.iter()
                .any(|x| x.message.contains("`ledger` is not a configured application"))
        );
    }

    #[test]
    fn near_miss_no_tag_is_not_proven_only_where_tags_could_not_be_read() {
        let mut s = org();
        add_function(&mut s, SHARED, "eu-west-1", "orphan", &[]);
        add_rule(&mut s, SHARED, "eu-west-1", "legacy", &[], json!({"app": "ledger"}));
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "eu-west-1", "api": "tag:GetResources", "error_code": "AccessDeniedException"}]});
        let f = run(&ApplicationResourceUnattributed, &s);
        let status = |suffix: &str| f.iter().find(|x| x.resource.ends_with(suffix)).map(|x| x.status);
        // The untagged function and bus: unknown. The rule's tag was read and names no
        // configured application: still a violation.
        assert_eq!(
            status("function:orphan"),
            Some(crate::checks::Status::NotProven),
            "{f:#?}"
        );
        assert_eq!(status("event-bus/legacy-bus"), Some(crate::checks::Status::NotProven));
        assert_eq!(status("rule/legacy-bus/legacy"), Some(crate::checks::Status::Violation));
        // Near miss: a Lambda gap does not hide tags.
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "eu-west-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException"}]});
        let f = run(&ApplicationResourceUnattributed, &s);
        assert!(f.iter().all(|x| x.status == crate::checks::Status::Violation), "{f:#?}");
    }

    #[test]
    fn quiet_for_attributed_resources_and_an_unused_default_bus() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, SHARED, "eu-west-1", "tagged", &[]);
        if let Some(f) = s["functions"].as_array_mut().and_then(|a| a.last_mut()) {
            f["tags"] = json!({"app": "checkout"});
        }
        add(
            &mut s,
            "event_buses",
            json!({"arn": "arn:aws:events:eu-west-1:999999999999:event-bus/default", "account": SHARED, "region": "eu-west-1", "name": "default"}),
        );
        assert_eq!(run(&ApplicationResourceUnattributed, &s), vec![]);
    }

    // The default bus is exempt only while no rule uses it (docs/checks.md): with a rule on it,
    // it needs an owner like any other bus.
    #[test]
    fn fires_on_an_unattributed_default_bus_once_a_rule_uses_it() {
        let mut s = org();
        let bus = "arn:aws:events:eu-west-1:999999999999:event-bus/default";
        add(
            &mut s,
            "event_buses",
            json!({"arn": bus, "account": SHARED, "region": "eu-west-1", "name": "default"}),
        );
        add(
            &mut s,
            "rules",
            json!({"arn": "arn:aws:events:eu-west-1:999999999999:rule/nightly", "account": SHARED, "region": "eu-west-1", "name": "nightly",
                "bus": bus, "state": "ENABLED", "tags": {"app": "invoice"}, "targets": []}),
        );
        let f = run(&ApplicationResourceUnattributed, &s);
        let resources: Vec<&str> = f.iter().map(|x| x.resource.as_str()).collect();
        assert_eq!(resources, vec![bus], "{f:#?}");
    }

    #[test]
    fn fires_not_proven_on_a_bus_named_only_by_a_policy_in_an_unattributed_account() {
        let mut s = org();
        let bus = "arn:aws:events:eu-west-1:999999999999:event-bus/hub";
        add_role(
            &mut s,
            INVOICE,
            "sender",
            trust(INVOICE),
            allow(&["events:PutEvents"], bus),
        );
        let f = run(&ApplicationResourceUnattributed, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].resource.as_str(), f[0].status),
            (bus, crate::checks::Status::NotProven)
        );
    }

    // Functions are judged as buses and rules are (docs/checks.md): one named only by a policy
    // in an unattributed account of the organization is not proven.
    #[test]
    fn fires_not_proven_on_a_function_named_only_by_a_policy_in_an_unattributed_account() {
        let mut s = org();
        let function = "arn:aws:lambda:eu-west-1:999999999999:function:replay-orders";
        add_role(
            &mut s,
            INVOICE,
            "invoker",
            trust(INVOICE),
            allow(&["lambda:InvokeFunction"], function),
        );
        let f = run(&ApplicationResourceUnattributed, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].resource.as_str(), f[0].status),
            (function, crate::checks::Status::NotProven)
        );
        assert!(
            f[0].message
                .contains("account `999999999999` is attributed to no application"),
            "{}",
            f[0].message
        );
    }

    // A wildcard pattern names no one bus: whether resources matching it exist is not this
    // check's question.
    #[test]
    fn near_miss_a_wildcard_bus_pattern_in_an_unattributed_account_is_quiet() {
        let mut s = org();
        add_role(
            &mut s,
            INVOICE,
            "sender",
            trust(INVOICE),
            allow(
                &["events:PutEvents"],
                "arn:aws:events:eu-west-1:999999999999:event-bus/hub-*",
            ),
        );
        assert_eq!(run(&ApplicationResourceUnattributed, &s), vec![]);
    }

    #[test]
    fn near_miss_an_unseen_bus_of_an_attributed_account_or_outside_the_organization_is_quiet() {
        let mut s = org();
        for (name, bus) in [
            ("a", "arn:aws:events:eu-west-1:222222222222:event-bus/hub"),
            ("b", "arn:aws:events:eu-west-1:123456789012:event-bus/hub"),
        ] {
            add_role(&mut s, INVOICE, name, trust(INVOICE), allow(&["events:PutEvents"], bus));
        }
        // A queue is not a kind this check judges.
        add_role(
            &mut s,
            INVOICE,
            "q",
            trust(INVOICE),
            allow(&["sqs:SendMessage"], "arn:aws:sqs:eu-west-1:999999999999:q"),
        );
        assert_eq!(run(&ApplicationResourceUnattributed, &s), vec![]);
    }
}
