//! AWS DevOps Agent Spaces in one account and region, their AWS account associations (the
//! primary account's `Aws` one and the `SourceAws` ones of the other accounts) and the role of
//! their operator web app (`GetOperatorApp`). Where
//! the API cannot be read (no service in the region, no permission, an emulator without it) the
//! gap is recorded and the crawl goes on.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use super::session::Connector;
use crate::arn::is_account_id;
use crate::model::{AgentSpace, AgentSpaceAssociation, AssociationKind, Tags, ValidationStatus};
use aws_config::SdkConfig;
use aws_sdk_devopsagent::operation::{
    list_agent_spaces::ListAgentSpacesOutput, list_associations::ListAssociationsOutput,
};
use aws_sdk_devopsagent::types::{AgentSpacePreferenceKey, Association, ServiceConfiguration};
use futures::future::join_all;

/// Records that the Agent Spaces of one account and region were not read on request.
pub fn skipped(ctx: &Ctx, account: &str, region: &str) {
    ctx.gap(
        Api::DevOpsListAgentSpaces,
        Scope::region(account, region),
        CallError {
            code: "Skipped".to_string(),
            message: "not read: `--skip-agent-spaces`".to_string(),
        },
    );
}

/// The Agent Spaces of one account and region.
pub async fn crawl_agent_spaces(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    partition: &str,
    account: &str,
    region: &str,
) -> Vec<AgentSpace> {
    let client = connector.devops(config, Some(account));
    let scope = Scope::region(account, region);
    let mut spaces = Vec::new();
    ctx.pages(
        Api::DevOpsListAgentSpaces,
        scope,
        |token| client.list_agent_spaces().set_next_token(token).send(),
        ListAgentSpacesOutput::next_token,
        |out| {
            for s in out.agent_spaces() {
                let id = s.agent_space_id();
                spaces.push(AgentSpace {
                    id: id.to_string(),
                    arn: format!("arn:{partition}:aidevops:{region}:{account}:agentspace/{id}"),
                    name: s.name().to_string(),
                    account: account.to_string(),
                    region: region.to_string(),
                    tags: Tags::new(),
                    associations: Vec::new(),
                    elevated_actions_enabled: s
                        .preferences()
                        .and_then(|p| p.get(&AgentSpacePreferenceKey::ElevatedActionsEnabled).copied()),
                    kms_key: s.kms_key_arn().map(str::to_string),
                    operator_app_role: None,
                });
            }
        },
    )
    .await;
    let associations = join_all(spaces.iter().map(|s| {
        let client = &client;
        async move {
            let mut found = Vec::new();
            ctx.pages(
                Api::DevOpsListAssociations,
                scope,
                |token| {
                    client
                        .list_associations()
                        .agent_space_id(&s.id)
                        .set_next_token(token)
                        .send()
                },
                ListAssociationsOutput::next_token,
                |out| {
                    found.extend(out.associations().iter().filter_map(association));
                },
            )
            .await;
            found.sort_by(|a, b| a.account.cmp(&b.account).then_with(|| a.role.cmp(&b.role)));
            found
        }
    }))
    .await;
    for (s, a) in spaces.iter_mut().zip(associations) {
        s.associations = a;
    }
    let apps = join_all(spaces.iter().map(|s| operator_app_role(ctx, &client, scope, &s.id))).await;
    for (s, role) in spaces.iter_mut().zip(apps) {
        s.operator_app_role = role;
    }
    spaces
}

/// The role the space's operator web app runs as (`GetOperatorApp`: the role of its IAM, IAM
/// Identity Center or external identity-provider authentication), `None` when the space has no
/// operator app (`ResourceNotFoundException`) or the call failed (a gap).
async fn operator_app_role(
    ctx: &Ctx,
    client: &aws_sdk_devopsagent::Client,
    scope: Scope<'_>,
    space: &str,
) -> Option<String> {
    let out = ctx
        .call_or_absent(
            Api::DevOpsGetOperatorApp,
            scope,
            || client.get_operator_app().agent_space_id(space).send(),
            &["ResourceNotFoundException"],
            &[],
        )
        .await
        .flatten()?;
    let role = out
        .iam()
        .map(|a| a.operator_app_role_arn())
        .or_else(|| out.idc().map(|a| a.operator_app_role_arn()))
        .or_else(|| out.idp().map(|a| a.operator_app_role_arn()))?;
    (!role.is_empty()).then(|| role.to_string())
}

/// The account association an API association describes, if it is one: the primary (monitor)
/// account is `Aws`, the others (source accounts) `SourceAws`; other services (Slack, GitHub, …)
/// are not accounts.
fn association(a: &Association) -> Option<AgentSpaceAssociation> {
    let (account, role, kind, external_id, elevated, elevated_status) = match a.configuration()? {
        ServiceConfiguration::Aws(c) => (
            c.account_id(),
            c.assumable_role_arn(),
            AssociationKind::Monitor,
            None,
            c.agent_elevated_role_arn(),
            c.agent_elevated_role_arn_status(),
        ),
        ServiceConfiguration::SourceAws(c) => (
            c.account_id(),
            c.assumable_role_arn(),
            AssociationKind::Source,
            c.external_id(),
            c.agent_elevated_role_arn(),
            c.agent_elevated_role_arn_status(),
        ),
        _ => return None,
    };
    is_account_id(account).then(|| AgentSpaceAssociation {
        account: account.to_string(),
        role: role.to_string(),
        kind: Some(kind),
        external_id: external_id.map(str::to_string),
        elevated_role: elevated.map(str::to_string),
        elevated_role_status: elevated_status.map(status),
        status: a.status().map(status),
    })
}

fn status(s: &aws_sdk_devopsagent::types::ValidationStatus) -> ValidationStatus {
    use aws_sdk_devopsagent::types::ValidationStatus as Api;
    match s {
        Api::Valid => ValidationStatus::Valid,
        Api::Invalid => ValidationStatus::Invalid,
        Api::PendingConfirmation => ValidationStatus::PendingConfirmation,
        _ => ValidationStatus::Unrecognized,
    }
}
