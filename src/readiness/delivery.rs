//! Delivery safety: an event the application handles is not lost silently. Every target of its
//! rules has a dead-letter queue and a retry policy; every subscriber of an EventBridge v2 bus it
//! created has a failure destination; every function invoked asynchronously has a
//! dead-letter queue or an on-failure destination; every event-source mapping has failure
//! handling; every topic's subscriptions have a redrive policy.
//!
//! The snapshot records target dead-letter queues and function dead-letter configs only: retry
//! policies, on-failure destinations, mapping failure handling and SNS subscriptions are not in
//! it, so those criteria are "not proven" (named as such), never met.

use super::{Criterion, Ctx, Outstanding, State, item};
use crate::graph::NodeKind;
use crate::model::ResourceKind;

/// The delivery-safety criteria of the application; a criterion with nothing to look at (no
/// rules, no asynchronously invoked functions, …) is left out.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    let mut out = Vec::new();
    let rules = owned_rules(ctx);
    if rules.iter().any(|r| !r.targets.is_empty()) {
        out.push(Criterion::new(
            "rule-targets-dlq",
            "Every target of the application's rules has a dead-letter queue",
            target_dlq(&rules),
        ));
        out.push(Criterion::new(
            "rule-targets-retry",
            "Every target of the application's rules has a retry policy",
            target_retry(&rules),
        ));
    }
    let subscribers = owned_subscribers(ctx);
    if !subscribers.is_empty() {
        out.push(Criterion::new(
            "subscribers-failure-destination",
            "Every subscriber the application created on an EventBridge v2 bus has a failure destination",
            subscriber_failure(&subscribers),
        ));
    }
    if let Some(async_fns) = async_functions(ctx) {
        out.push(Criterion::new(
            "async-functions-failure-handling",
            "Every function invoked asynchronously has a dead-letter queue or on-failure destination",
            async_fns,
        ));
    }
    for (id, title, items) in [
        (
            "event-source-mappings-failure-handling",
            "Every event-source mapping has failure handling",
            mappings(ctx),
        ),
        (
            "topic-subscriptions-redrive",
            "Every subscription of the application's topics has a redrive policy",
            topics(ctx),
        ),
    ] {
        if !items.is_empty() {
            out.push(Criterion::new(id, title, items));
        }
    }
    out
}

fn owned_rules<'s>(ctx: &Ctx<'_, 's>) -> Vec<&'s crate::model::Rule> {
    let t = ctx.topology;
    t.snapshot
        .rules
        .iter()
        .filter(|r| t.find(&r.arn).and_then(|ix| t.owner(ix)) == Some(ctx.app))
        .collect()
}

/// Subscribers of v2 buses (the application's own buses, or buses shared with it) that the
/// application owns.
fn owned_subscribers<'s>(ctx: &Ctx<'_, 's>) -> Vec<&'s crate::model::Subscriber> {
    let t = ctx.topology;
    t.snapshot
        .event_buses_v2
        .iter()
        .flat_map(|b| &b.subscribers)
        .filter(|sub| t.find(&sub.arn).and_then(|ix| t.owner(ix)) == Some(ctx.app))
        .collect()
}

/// A v2 subscriber keeps events it could not deliver only with an `OnFailureConfiguration`.
fn subscriber_failure(subscribers: &[&crate::model::Subscriber]) -> Vec<Outstanding> {
    subscribers
        .iter()
        .filter(|sub| sub.failure_destination.is_none())
        .map(|sub| {
            item(
                State::Missing,
                sub.arn.clone(),
                format!(
                    "subscriber `{}` (target `{}`) has no failure destination",
                    sub.name, sub.target
                ),
            )
        })
        .collect()
}

fn target_dlq(rules: &[&crate::model::Rule]) -> Vec<Outstanding> {
    rules
        .iter()
        .flat_map(|r| r.targets.iter().map(move |tg| (r, tg)))
        .filter(|(_, tg)| tg.dead_letter_queue.is_none())
        .map(|(r, tg)| {
            item(
                State::Missing,
                r.arn.clone(),
                format!("target `{}` (`{}`) has no dead-letter queue", tg.id, tg.arn),
            )
        })
        .collect()
}

/// EventBridge retries for 24 hours and 185 times by default, but a target may set its own
/// `RetryPolicy` (down to no retry), which the snapshot does not record.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>
fn target_retry(rules: &[&crate::model::Rule]) -> Vec<Outstanding> {
    rules
        .iter()
        .filter(|r| !r.targets.is_empty())
        .map(|r| {
            item(
                State::NotProven,
                r.arn.clone(),
                "the snapshot does not record the targets' RetryPolicy (a target may lower EventBridge's default of 24 hours and 185 attempts, even to none)",
            )
        })
        .collect()
}

/// The application's functions that a rule targets (EventBridge invokes Lambda asynchronously)
/// and that have no dead-letter config; on-failure destinations are not in the snapshot. `None`
/// when no function of the application is invoked asynchronously.
fn async_functions(ctx: &Ctx<'_, '_>) -> Option<Vec<Outstanding>> {
    let t = ctx.topology;
    let names =
        |target: &str, arn: &str| target == arn || target.strip_prefix(arn).is_some_and(|rest| rest.starts_with(':'));
    let targeted = |arn: &str| {
        let by_rule = t
            .snapshot
            .rules
            .iter()
            .flat_map(|r| &r.targets)
            .any(|tg| names(&tg.arn, arn));
        let by_subscriber = t
            .snapshot
            .event_buses_v2
            .iter()
            .flat_map(|b| &b.subscribers)
            .any(|sub| names(&sub.target, arn));
        by_rule || by_subscriber
    };
    let mut out = Vec::new();
    let mut any = false;
    for f in &t.snapshot.functions {
        if t.find(&f.arn).and_then(|ix| t.owner(ix)) != Some(ctx.app) || !targeted(&f.arn) {
            continue;
        }
        any = true;
        if f.dead_letter_target.is_none() {
            out.push(item(
                State::NotProven,
                f.arn.clone(),
                "no dead-letter queue, and the snapshot does not record on-failure destinations (EventInvokeConfig)",
            ));
        }
    }
    any.then_some(out)
}

fn mappings(ctx: &Ctx<'_, '_>) -> Vec<Outstanding> {
    let t = ctx.topology;
    t.snapshot
        .event_source_mappings
        .iter()
        .filter(|m| t.find(&m.function).and_then(|ix| t.owner(ix)) == Some(ctx.app))
        .map(|m| {
            item(
                State::NotProven,
                m.source.clone(),
                format!(
                    "the snapshot does not record the failure handling of mapping `{}` (on-failure destination, bisect on error, or the source queue's redrive policy)",
                    m.uuid
                ),
            )
        })
        .collect()
}

fn topics(ctx: &Ctx<'_, '_>) -> Vec<Outstanding> {
    let t = ctx.topology;
    t.owned_by(ctx.app)
        .filter(|ix| t.node(*ix).kind == NodeKind::Resource(ResourceKind::SnsTopic))
        .map(|ix| {
            item(
                State::NotProven,
                t.node(ix).id,
                "SNS subscriptions and their redrive policies are not in the snapshot",
            )
        })
        .collect()
}
