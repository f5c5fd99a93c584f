//! AWS DevOps Agent Spaces in one account and region and their AWS account associations (the
//! primary account's `Aws` one and the `SourceAws` ones of the other accounts). Where
//! the API cannot be read (no service in the region, no permission, an emulator without it) the
//! gap is recorded and the crawl goes on.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use super::session::Connector;
use crate::arn::is_account_id;
use crate::model::{AgentSpace, AgentSpaceAssociation, Tags};
use aws_config::SdkConfig;
use aws_sdk_devopsagent::operation::{
    list_agent_spaces::ListAgentSpacesOutput, list_associations::ListAssociationsOutput,
};
use aws_sdk_devopsagent::types::ServiceConfiguration;
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
                    for a in out.associations() {
                        // The primary (monitor) account is `Aws`, the others (source accounts)
                        // `SourceAws`; other services (Slack, GitHub, …) are not accounts.
                        let account = match a.configuration() {
                            Some(ServiceConfiguration::Aws(c)) => Some((c.account_id(), c.assumable_role_arn())),
                            Some(ServiceConfiguration::SourceAws(c)) => Some((c.account_id(), c.assumable_role_arn())),
                            _ => None,
                        };
                        if let Some((id, role)) = account
                            && is_account_id(id)
                        {
                            found.push(AgentSpaceAssociation {
                                account: id.to_string(),
                                role: role.to_string(),
                            });
                        }
                    }
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
    spaces
}
