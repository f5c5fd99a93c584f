//! EventBridge Custom Event Buses ("EventBridge v2", endpoint `eventsv2`) in one account and
//! region: the buses the account owns, with their KMS key, resource policies and AWS RAM shares,
//! and the subscribers the account owns on any bus (its own, or one another account shares with
//! it). Subscribers are attached to their bus when the snapshot is assembled, so a consumer
//! account's subscriber ends up on the owner's bus.
//!
//! Calls, by the API reference (<https://docs.aws.amazon.com/eventbridgev2/latest/APIReference/>):
//! `ListEventBuses` (paged; the caller's own buses), `DescribeEventBus` (the KMS key),
//! `ListResourcePolicies` + `GetResourcePolicy` per named policy (`default` and the `AWS_RAM`
//! one RAM writes; every named policy applies, so their statements are merged into one
//! document), `ListSubscribers` without a bus (paged; "by default the list spans the subscribers
//! the caller account owns across all buses") and `DescribeSubscriber` for the filters, the
//! role and the failure destination. RAM (`ListResources`, `GetResourceShares`,
//! `ListPrincipals`, all with `resourceOwner = SELF`) is only called where the account owns a
//! v2 bus.
//!
//! Every failure is a coverage gap named `eventsv2:<Op>` (or `ram:<Op>`), so the EventBridge
//! checks say "not proven" there: a region or emulator without the v2 API, an SCP deny, a
//! throttled call that ran out of retries. When the bus listing itself fails, nothing else of
//! the v2 API is called in that account and region (one gap, not one per call).
//!
//! Nothing secret is kept: of a subscriber's invoke configuration only the target ARN and the
//! role are read; HTTP parameters (headers, query strings, path values) and input transformers
//! are never looked at. A target that is not an ARN (the API allows a service-neutral grammar)
//! is reduced by [`references`] to an ARN it names, or else the subscriber is left out with an
//! `UnrecognizedTarget` gap.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use super::documents::{decode_document, references};
use super::session::Connector;
use crate::arn::Arn;
use crate::model::{EventBusV2, PolicyDocument, ResourceShare, Subscriber, SubscriberState, Tags};
use aws_config::SdkConfig;
use aws_sdk_eventbridgev2::operation::describe_subscriber::DescribeSubscriberOutput;
use aws_sdk_eventbridgev2::operation::{
    list_event_buses::ListEventBusesOutput, list_resource_policies::ListResourcePoliciesOutput,
    list_subscribers::ListSubscribersOutput,
};
use aws_sdk_eventbridgev2::types::{SubscriberState as SdkState, SubscriberSummary};
use aws_sdk_ram::operation::{
    get_resource_shares::GetResourceSharesOutput, list_principals::ListPrincipalsOutput,
    list_resources::ListResourcesOutput,
};
use aws_sdk_ram::types::{ResourceOwner, ResourceShareStatus, ResourceStatus};
use futures::future::join_all;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// What one account and region yielded: the buses it owns, and the subscribers it owns with
/// the ARN of the bus each is on.
#[derive(Debug, Default)]
pub struct RegionV2 {
    pub buses: Vec<EventBusV2>,
    pub subscribers: Vec<(String, Subscriber)>,
}

/// The v2 buses and subscribers of one account and region.
pub async fn crawl_eventsv2(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    region: &str,
) -> RegionV2 {
    let client = connector.eventsv2(config, Some(account));
    let scope = Scope::region(account, region);
    let mut owned: Vec<(String, String)> = Vec::new();
    let mut pages = 0;
    let complete = ctx
        .pages(
            Api::EventsV2ListEventBuses,
            scope,
            |token| client.list_event_buses().set_next_token(token).send(),
            ListEventBusesOutput::next_token,
            |out| {
                pages += 1;
                for b in out.event_buses() {
                    let (Some(arn), Some(name)) = (b.event_bus_arn(), b.name()) else {
                        continue;
                    };
                    let owner = b.event_bus_account_id().or_else(|| arn_account(arn));
                    if owner.is_none_or(|o| o == account) {
                        owned.push((arn.to_string(), name.to_string()));
                    }
                }
            },
        )
        .await;
    if !complete && pages == 0 {
        return RegionV2::default();
    }
    let buses = join_all(owned.iter().map(|(arn, name)| bus(ctx, &client, scope, arn, name)));
    let (mut buses, subscribers) = futures::join!(buses, subscribers(ctx, &client, scope));
    let shares = shares_of(ctx, connector, config, scope, &buses).await;
    for b in &mut buses {
        b.shares = shares.get(&b.arn).cloned().unwrap_or_default();
    }
    RegionV2 { buses, subscribers }
}

/// The account in an ARN.
fn arn_account(arn: &str) -> Option<&str> {
    Arn::parse(arn).ok().and_then(|a| a.account())
}

/// One owned bus: its KMS key and its merged resource policies.
async fn bus(ctx: &Ctx, client: &aws_sdk_eventbridgev2::Client, scope: Scope<'_>, arn: &str, name: &str) -> EventBusV2 {
    let describe = ctx.call(Api::EventsV2DescribeEventBus, scope, || {
        client.describe_event_bus().event_bus_arn(arn).send()
    });
    let (described, policy) = futures::join!(describe, policy_of(ctx, client, scope, arn));
    EventBusV2 {
        arn: arn.to_string(),
        account: scope.account.unwrap_or_default().to_string(),
        region: scope.region.unwrap_or_default().to_string(),
        name: name.to_string(),
        tags: Tags::new(),
        policy,
        kms_key: described
            .as_ref()
            .and_then(|d| d.encryption_configuration())
            .and_then(|e| e.kms_key_identifier())
            .map(str::to_string),
        shares: Vec::new(),
        subscribers: Vec::new(),
    }
}

/// The bus's named resource policies merged into one document (`None` when it has none).
async fn policy_of(
    ctx: &Ctx,
    client: &aws_sdk_eventbridgev2::Client,
    scope: Scope<'_>,
    arn: &str,
) -> Option<PolicyDocument> {
    let mut names = BTreeSet::new();
    ctx.pages(
        Api::EventsV2ListResourcePolicies,
        scope,
        |token| {
            client
                .list_resource_policies()
                .resource_arn(arn)
                .set_next_token(token)
                .send()
        },
        ListResourcePoliciesOutput::next_token,
        |out| names.extend(out.policy_summaries().iter().map(|p| p.policy_name().to_string())),
    )
    .await;
    let texts = join_all(names.iter().map(|name| {
        ctx.call_or_absent(
            Api::EventsV2GetResourcePolicy,
            scope,
            move || client.get_resource_policy().resource_arn(arn).policy_name(name).send(),
            &["ResourceNotFoundException"],
            &[],
        )
    }))
    .await;
    let mut statements = Vec::new();
    for out in texts.into_iter().flatten().flatten() {
        match decode_document(out.policy_document()) {
            Ok(doc) => statements.extend(statements_of(doc)),
            Err(message) => ctx.gap(
                Api::EventsV2GetResourcePolicy,
                scope,
                CallError {
                    code: "InvalidPolicyDocument".to_string(),
                    message: format!("policy `{}` of `{arn}`: {message}", out.policy_name()),
                },
            ),
        }
    }
    (!statements.is_empty()).then(|| PolicyDocument::from(json!({"Version": "2012-10-17", "Statement": statements})))
}

/// The statements of one policy document (`Statement` is an object or a list).
fn statements_of(doc: Value) -> Vec<Value> {
    match doc {
        Value::Object(mut o) => match o.remove("Statement") {
            Some(Value::Array(a)) => a,
            Some(s @ Value::Object(_)) => vec![s],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The subscribers the account owns in this region, each with its bus's ARN.
async fn subscribers(ctx: &Ctx, client: &aws_sdk_eventbridgev2::Client, scope: Scope<'_>) -> Vec<(String, Subscriber)> {
    let mut summaries: Vec<SubscriberSummary> = Vec::new();
    ctx.pages(
        Api::EventsV2ListSubscribers,
        scope,
        |token| client.list_subscribers().set_next_token(token).send(),
        ListSubscribersOutput::next_token,
        |out| summaries.extend(out.subscribers().iter().cloned()),
    )
    .await;
    let described = join_all(summaries.iter().map(|s| async move {
        let arn = s.subscriber_arn()?;
        let full = ctx
            .call(Api::EventsV2DescribeSubscriber, scope, || {
                client.describe_subscriber().subscriber_arn(arn).send()
            })
            .await;
        subscriber(ctx, scope, s, full.as_ref())
    }))
    .await;
    let mut found: Vec<(String, Subscriber)> = described.into_iter().flatten().collect();
    found.sort_by(|a, b| a.1.arn.cmp(&b.1.arn));
    found.dedup_by(|a, b| a.1.arn == b.1.arn);
    found
}

/// The record of one subscriber: from its description, or from its summary alone when the
/// description could not be read (that failure is already a gap).
fn subscriber(
    ctx: &Ctx,
    scope: Scope<'_>,
    summary: &SubscriberSummary,
    full: Option<&DescribeSubscriberOutput>,
) -> Option<(String, Subscriber)> {
    let arn = summary.subscriber_arn()?;
    let bus = full.and_then(|f| f.event_bus_arn()).or(summary.event_bus_arn())?;
    let invoke = full.and_then(|f| f.invoke_configuration());
    let raw_target = invoke.map(|i| i.target_arn()).or(summary.target_arn())?;
    let Some(target) = target_arn(raw_target) else {
        ctx.gap(
            Api::EventsV2DescribeSubscriber,
            scope,
            CallError {
                code: "UnrecognizedTarget".to_string(),
                message: format!("the target of subscriber `{arn}` is not an ARN; the subscriber is left out"),
            },
        );
        return None;
    };
    let revoked = full.and_then(|f| f.revoked()).or(summary.revoked()) == Some(true);
    let state = full.and_then(|f| f.state()).or(summary.state());
    let account = summary
        .subscriber_account_id()
        .or_else(|| arn_account(arn))
        .or(scope.account)?;
    Some((
        bus.to_string(),
        Subscriber {
            arn: arn.to_string(),
            name: full
                .and_then(|f| f.name())
                .or(summary.name())
                .unwrap_or(arn)
                .to_string(),
            account: account.to_string(),
            // "Delivery requires State RUNNING on a subscriber that is not revoked."
            state: match state {
                _ if revoked => Some(SubscriberState::Stopped),
                Some(SdkState::Running) => Some(SubscriberState::Running),
                Some(SdkState::Stopped) => Some(SubscriberState::Stopped),
                _ => None,
            },
            filters: full
                .and_then(|f| f.filter_configuration())
                .map(|c| c.filters().iter().map(|f| f.pattern().to_string()).collect())
                .unwrap_or_default(),
            target,
            role: invoke
                .map(|i| i.role_arn())
                .filter(|r| Arn::parse(r).is_ok())
                .map(str::to_string),
            failure_destination: full
                .and_then(|f| f.on_failure_configuration())
                .and_then(|o| o.arn())
                .and_then(target_arn),
            tags: Tags::new(),
        },
    ))
}

/// The ARN a target names: itself when it is one, else the one ARN [`references`] finds in it
/// (never the raw value, which for an HTTP target may carry credentials).
fn target_arn(raw: &str) -> Option<String> {
    if Arn::parse(raw).is_ok() {
        return Some(raw.to_string());
    }
    references(raw).into_iter().find(|r| Arn::parse(r).is_ok())
}

/// The RAM shares of the owned buses, by bus ARN. A share whose status could not be read is
/// kept (it may well be active); deleted or failed shares are not.
async fn shares_of(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    scope: Scope<'_>,
    buses: &[EventBusV2],
) -> BTreeMap<String, Vec<ResourceShare>> {
    if buses.is_empty() {
        return BTreeMap::new();
    }
    let client = connector.ram(config, scope.account);
    let owned: BTreeSet<&str> = buses.iter().map(|b| b.arn.as_str()).collect();
    // Share ARN → buses in it.
    let mut by_share: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    ctx.pages(
        Api::RamListResources,
        scope,
        |token| {
            client
                .list_resources()
                .resource_owner(ResourceOwner::SelfValue)
                .set_next_token(token)
                .send()
        },
        ListResourcesOutput::next_token,
        |out| {
            for r in out.resources() {
                let (Some(arn), Some(share)) = (r.arn(), r.resource_share_arn()) else {
                    continue;
                };
                let associated = r.status().is_none_or(|s| *s == ResourceStatus::Available);
                if associated && owned.contains(arn) {
                    by_share.entry(share.to_string()).or_default().insert(arn.to_string());
                }
            }
        },
    )
    .await;
    if by_share.is_empty() {
        return BTreeMap::new();
    }
    let arns: Vec<String> = by_share.keys().cloned().collect();
    let mut inactive = BTreeSet::new();
    ctx.pages(
        Api::RamGetResourceShares,
        scope,
        |token| {
            client
                .get_resource_shares()
                .resource_owner(ResourceOwner::SelfValue)
                .set_resource_share_arns(Some(arns.clone()))
                .set_next_token(token)
                .send()
        },
        GetResourceSharesOutput::next_token,
        |out| {
            for s in out.resource_shares() {
                let active = s
                    .status()
                    .is_none_or(|st| matches!(st, ResourceShareStatus::Active | ResourceShareStatus::Pending));
                if let (Some(arn), false) = (s.resource_share_arn(), active) {
                    inactive.insert(arn.to_string());
                }
            }
        },
    )
    .await;
    by_share.retain(|share, _| !inactive.contains(share));
    let principals = principals_of(ctx, &client, scope, by_share.keys().cloned().collect()).await;
    let mut shares: BTreeMap<String, Vec<ResourceShare>> = BTreeMap::new();
    for (share, bus_arns) in &by_share {
        for bus in bus_arns {
            shares.entry(bus.clone()).or_default().push(ResourceShare {
                arn: share.clone(),
                principals: principals.get(share).cloned().unwrap_or_default().into_iter().collect(),
            });
        }
    }
    shares
}

/// The principals of each share.
async fn principals_of(
    ctx: &Ctx,
    client: &aws_sdk_ram::Client,
    scope: Scope<'_>,
    shares: Vec<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut principals: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if shares.is_empty() {
        return principals;
    }
    ctx.pages(
        Api::RamListPrincipals,
        scope,
        |token| {
            client
                .list_principals()
                .resource_owner(ResourceOwner::SelfValue)
                .set_resource_share_arns(Some(shares.clone()))
                .set_next_token(token)
                .send()
        },
        ListPrincipalsOutput::next_token,
        |out| {
            for p in out.principals() {
                if let (Some(id), Some(share)) = (p.id(), p.resource_share_arn()) {
                    principals.entry(share.to_string()).or_default().insert(id.to_string());
                }
            }
        },
    )
    .await;
    principals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_of_accepts_one_statement_or_a_list() {
        let one = json!({"Statement": {"Effect": "Allow"}});
        let many = json!({"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]});
        assert_eq!(statements_of(one).len(), 1);
        assert_eq!(statements_of(many).len(), 2);
        assert!(statements_of(json!({"Version": "2012-10-17"})).is_empty());
    }

    #[test]
    fn a_target_keeps_only_an_arn() {
        let lambda = "arn:aws:lambda:eu-west-1:111111111111:function:f";
        assert_eq!(target_arn(lambda).as_deref(), Some(lambda));
        // A URL with credentials in it is never kept as it is.
        assert_eq!(target_arn("https://user:secret@hooks.example.com/T0/abc?token=x"), None);
        assert_eq!(
            target_arn("https://sqs.eu-west-1.amazonaws.com/111111111111/q").as_deref(),
            Some("arn:aws:sqs:eu-west-1:111111111111:q")
        );
    }
}
