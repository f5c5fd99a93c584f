//! Lambda in one account and region: functions (execution role, runtime, environment variable
//! names and what the graph needs from the values — ARNs, and for URLs only the scheme and host
//! or the ARN of the queue or bucket they name; never the values, never code), event-source
//! mappings, and each function's resource policy.

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::documents::{parse_document, references};
use super::session::Connector;
use crate::model::{EventSourceMapping, Function, Tags};
use aws_config::SdkConfig;
use aws_sdk_lambda::operation::{
    list_event_source_mappings::ListEventSourceMappingsOutput, list_functions::ListFunctionsOutput,
};
use futures::future::join_all;
use std::collections::BTreeSet;

/// The functions and event-source mappings of one account and region.
pub async fn crawl_lambda(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    region: &str,
) -> (Vec<Function>, Vec<EventSourceMapping>) {
    let client = connector.lambda(config, Some(account));
    let scope = Scope::region(account, region);
    let mut functions = Vec::new();
    ctx.pages(
        Api::LambdaListFunctions,
        scope,
        |marker| client.list_functions().set_marker(marker).send(),
        ListFunctionsOutput::next_marker,
        |out| {
            for f in out.functions() {
                let (Some(arn), Some(name), Some(role)) = (f.function_arn(), f.function_name(), f.role()) else {
                    continue;
                };
                let mut keys = Vec::new();
                let mut refs = BTreeSet::new();
                if let Some(vars) = f.environment().and_then(|e| e.variables()) {
                    for (k, v) in vars {
                        keys.push(k.clone());
                        refs.extend(references(v));
                    }
                }
                keys.sort();
                functions.push(Function {
                    arn: arn.to_string(),
                    account: account.to_string(),
                    region: region.to_string(),
                    name: name.to_string(),
                    runtime: f.runtime().map(|r| r.as_str().to_string()),
                    role: role.to_string(),
                    tags: Tags::new(),
                    environment_keys: keys,
                    environment_references: refs.into_iter().collect(),
                    policy: None,
                    dead_letter_target: f.dead_letter_config().and_then(|d| d.target_arn().map(str::to_string)),
                });
            }
        },
    )
    .await;
    let policies = join_all(functions.iter().map(|f| {
        let client = &client;
        async move {
            let call = || client.get_policy().function_name(&f.arn).send();
            // ResourceNotFoundException: the function has no resource policy.
            ctx.call_or_absent(Api::LambdaGetPolicy, scope, call, &["ResourceNotFoundException"], &[])
                .await
                .flatten()
                .and_then(|out| {
                    out.policy()
                        .and_then(|p| parse_document(ctx, Api::LambdaGetPolicy, scope, &f.arn, p))
                })
        }
    }))
    .await;
    for (f, p) in functions.iter_mut().zip(policies) {
        f.policy = p;
    }

    let mut mappings = Vec::new();
    ctx.pages(
        Api::LambdaListEventSourceMappings,
        scope,
        |marker| client.list_event_source_mappings().set_marker(marker).send(),
        ListEventSourceMappingsOutput::next_marker,
        |out| {
            for m in out.event_source_mappings() {
                let (Some(uuid), Some(function), Some(source)) = (m.uuid(), m.function_arn(), m.event_source_arn())
                else {
                    continue;
                };
                mappings.push(EventSourceMapping {
                    uuid: uuid.to_string(),
                    function: function.to_string(),
                    source: source.to_string(),
                    state: m.state().map(str::to_string),
                });
            }
        },
    )
    .await;
    (functions, mappings)
}
