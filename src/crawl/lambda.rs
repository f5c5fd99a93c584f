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
use futures::StreamExt;
use futures::channel::mpsc;
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
    // Each page's resource policies are read while the next page is requested, and the
    // event-source mappings alongside: the account and region's Lambda rate limit is then kept
    // busy from the first page on, instead of waiting for the whole listing.
    let (listed, policies_of) = mpsc::unbounded::<(usize, String)>();
    let listing = async {
        let functions = list_functions(ctx, &client, scope, account, region, &listed).await;
        drop(listed);
        functions
    };
    let policies = policies_of
        .map(|(i, arn)| {
            let client = &client;
            async move {
                let call = || client.get_policy().function_name(&arn).send();
                // ResourceNotFoundException: the function has no resource policy.
                let policy = ctx
                    .call_or_absent(Api::LambdaGetPolicy, scope, call, &["ResourceNotFoundException"], &[])
                    .await
                    .flatten()
                    .and_then(|out| {
                        out.policy()
                            .and_then(|p| parse_document(ctx, Api::LambdaGetPolicy, scope, &arn, p))
                    });
                (i, policy)
            }
        })
        .buffer_unordered(usize::MAX)
        .collect::<Vec<_>>();
    let (mut functions, policies, mappings) = futures::join!(listing, policies, list_mappings(ctx, &client, scope));
    for (i, policy) in policies {
        if let Some(f) = functions.get_mut(i) {
            f.policy = policy;
        }
    }
    (functions, mappings)
}

/// Every function of the account and region, in listing order; each is sent to `listed` with
/// its index as soon as its page arrives.
async fn list_functions(
    ctx: &Ctx,
    client: &aws_sdk_lambda::Client,
    scope: Scope<'_>,
    account: &str,
    region: &str,
    listed: &mpsc::UnboundedSender<(usize, String)>,
) -> Vec<Function> {
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
                // The receiving end lives as long as the listing.
                let _ = listed.unbounded_send((functions.len(), arn.to_string()));
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
    functions
}

/// The event-source mappings of the account and region.
async fn list_mappings(ctx: &Ctx, client: &aws_sdk_lambda::Client, scope: Scope<'_>) -> Vec<EventSourceMapping> {
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
    mappings
}
