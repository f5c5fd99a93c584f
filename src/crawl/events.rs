//! EventBridge in one account and region: every bus with its policy, the rules on every bus (not
//! only the default one), and each rule's targets. Lists are read page by page through [`Ctx::pages`].

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::documents::parse_document;
use super::session::Connector;
use crate::model::{EventBus, Rule, RuleState, Tags, Target};
use aws_config::SdkConfig;
use aws_sdk_eventbridge::operation::{
    list_event_buses::ListEventBusesOutput, list_rules::ListRulesOutput, list_targets_by_rule::ListTargetsByRuleOutput,
};
use aws_sdk_eventbridge::types::RuleState as SdkRuleState;
use futures::future::join_all;

/// The buses and rules of one account and region.
pub async fn crawl_events(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    region: &str,
) -> (Vec<EventBus>, Vec<Rule>) {
    let client = connector.events(config, Some(account));
    let scope = Scope::region(account, region);
    let mut buses = Vec::new();
    ctx.pages(
        Api::EventsListEventBuses,
        scope,
        |token| client.list_event_buses().set_next_token(token).send(),
        ListEventBusesOutput::next_token,
        |out| {
            for b in out.event_buses() {
                let (Some(arn), Some(name)) = (b.arn(), b.name()) else {
                    continue;
                };
                buses.push(EventBus {
                    arn: arn.to_string(),
                    account: account.to_string(),
                    region: region.to_string(),
                    name: name.to_string(),
                    tags: Tags::new(),
                    policy: b
                        .policy()
                        .and_then(|p| parse_document(ctx, Api::EventsListEventBuses, scope, arn, p)),
                });
            }
        },
    )
    .await;
    let per_bus = join_all(buses.iter().map(|b| rules_of(ctx, &client, scope, b))).await;
    let mut rules: Vec<Rule> = per_bus.into_iter().flatten().collect();
    let targets = join_all(rules.iter().map(|r| targets_of(ctx, &client, scope, r))).await;
    for (rule, targets) in rules.iter_mut().zip(targets) {
        rule.targets = targets;
    }
    (buses, rules)
}

async fn rules_of(ctx: &Ctx, client: &aws_sdk_eventbridge::Client, scope: Scope<'_>, bus: &EventBus) -> Vec<Rule> {
    let mut rules = Vec::new();
    ctx.pages(
        Api::EventsListRules,
        scope,
        |token| {
            client
                .list_rules()
                .event_bus_name(&bus.name)
                .set_next_token(token)
                .send()
        },
        ListRulesOutput::next_token,
        |out| {
            for r in out.rules() {
                let (Some(arn), Some(name)) = (r.arn(), r.name()) else {
                    continue;
                };
                let state = match r.state() {
                    Some(SdkRuleState::Disabled) => RuleState::Disabled,
                    Some(SdkRuleState::EnabledWithAllCloudtrailManagementEvents) => {
                        RuleState::EnabledWithAllCloudtrailManagementEvents
                    }
                    _ => RuleState::Enabled,
                };
                rules.push(Rule {
                    arn: arn.to_string(),
                    account: bus.account.clone(),
                    region: bus.region.clone(),
                    name: name.to_string(),
                    bus: bus.arn.clone(),
                    state,
                    event_pattern: r.event_pattern().map(str::to_string),
                    schedule_expression: r.schedule_expression().map(str::to_string),
                    tags: Tags::new(),
                    targets: Vec::new(),
                });
            }
        },
    )
    .await;
    rules
}

async fn targets_of(ctx: &Ctx, client: &aws_sdk_eventbridge::Client, scope: Scope<'_>, rule: &Rule) -> Vec<Target> {
    let bus_name = rule.bus.rsplit('/').next().unwrap_or("default");
    let mut targets = Vec::new();
    ctx.pages(
        Api::EventsListTargetsByRule,
        scope,
        |token| {
            client
                .list_targets_by_rule()
                .rule(&rule.name)
                .event_bus_name(bus_name)
                .set_next_token(token)
                .send()
        },
        ListTargetsByRuleOutput::next_token,
        |out| {
            for t in out.targets() {
                targets.push(Target {
                    id: t.id().to_string(),
                    arn: t.arn().to_string(),
                    role: t.role_arn().map(str::to_string),
                    dead_letter_queue: t.dead_letter_config().and_then(|d| d.arn().map(str::to_string)),
                });
            }
        },
    )
    .await;
    targets.sort_by(|a, b| a.arn.cmp(&b.arn).then_with(|| a.id.cmp(&b.id)));
    targets
}
