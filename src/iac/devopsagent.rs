//! AWS DevOps Agent in an overlay: Agent Spaces (`AWS::DevOpsAgent::AgentSpace`, Terraform
//! `aws_devopsagent_agent_space`) and their AWS account associations
//! (`AWS::DevOpsAgent::Association` with an `Aws` or `SourceAws` configuration), read into the
//! snapshot's `agent_spaces` records and laid over them.
//!
//! Every property read here is named by the resource schema cfn-lint 1.58.0 bundles
//! (`cfnlint/data/schemas/resources/*.json`) and by the CloudFormation template reference:
//! - <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-devopsagent-agentspace.html>:
//!   `Name`, `Tags`, `KmsKeyArn`, `Preferences.ElevatedActionsEnabled` ("Defaults to false when
//!   not set"; "omitting the Preferences container reverts all preferences to their service
//!   defaults"), `OperatorApp.Iam|Idc|Idp.OperatorAppRoleArn`; `Ref` returns the generated
//!   `AgentSpaceId`, `Fn::GetAtt … Arn` its ARN.
//! - <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-devopsagent-association.html>:
//!   `AgentSpaceId`, `Configuration.Aws` (the monitor account, `AccountType` `monitor`) or
//!   `Configuration.SourceAws` (a source account, `AccountType` `source`), each with
//!   `AccountId`, `AssumableRoleArn` and `AgentElevatedRoleArn`. The schema has no external id
//!   and no validation status: both stay "not recorded" (the checks that need them say "not
//!   proven"). The other configurations (GitHub, Slack, MCP servers, …) connect no AWS account
//!   and are listed as not considered.
//! - Terraform: `aws_devopsagent_agent_space` (hashicorp/terraform-provider-aws
//!   `internal/service/devopsagent/agent_space.go`) has `name`, `kms_key_arn`, `tags`,
//!   `agent_space_id` and `arn` (`arn:…:aidevops:REGION:ACCOUNT:agentspace/ID`), and no
//!   preferences or operator app; the provider has no association resource.

use super::cfn_types::{Place, tags};
use super::draft::Draft;
use crate::model::{AgentSpace, AgentSpaceAssociation, AssociationKind, Snapshot};
use serde_json::Value;

fn s(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

/// The stand-in for the `AgentSpaceId` the service generates.
pub fn space_id(id: &str, p: &Place) -> String {
    super::eventsv2::generated(id, p)
}

/// `arn:…:aidevops:REGION:ACCOUNT:agentspace/ID`.
pub fn space_arn(space_id: &str, p: &Place) -> String {
    format!(
        "arn:{}:aidevops:{}:{}:agentspace/{space_id}",
        super::partition_of(&p.region).0,
        p.region,
        p.account
    )
}

/// `AWS::DevOpsAgent::AgentSpace`.
pub fn space(id: &str, name: &str, props: &Value, p: &Place) -> Draft {
    let space_id = space_id(id, p);
    let operator = ["Iam", "Idc", "Idp"]
        .iter()
        .find_map(|k| s(props, &format!("/OperatorApp/{k}/OperatorAppRoleArn")));
    Draft::AgentSpace(AgentSpace {
        arn: space_arn(&space_id, p),
        id: space_id,
        name: name.to_string(),
        account: p.account.clone(),
        region: p.region.clone(),
        tags: tags(props.get("Tags")),
        associations: Vec::new(),
        // The template owns every preference: absent means the service default, false.
        elevated_actions_enabled: Some(
            props
                .pointer("/Preferences/ElevatedActionsEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        kms_key: s(props, "/KmsKeyArn"),
        operator_app_role: operator,
    })
}

/// `AWS::DevOpsAgent::Association`: an account association, or nothing for a configuration that
/// connects no AWS account (the reader lists it as not considered).
pub fn association(props: &Value, p: &Place) -> Result<Vec<Draft>, String> {
    let space = s(props, "/AgentSpaceId").ok_or("`AgentSpaceId` is required")?;
    let (config, kind) = match props.get("Configuration") {
        Some(c) if c.get("SourceAws").is_some() => (c.get("SourceAws"), AssociationKind::Source),
        Some(c) if c.get("Aws").is_some() => (c.get("Aws"), AssociationKind::Monitor),
        Some(_) => return Ok(Vec::new()),
        None => return Err("`Configuration` is required".to_string()),
    };
    let config = config.unwrap_or(&Value::Null);
    let account = s(config, "/AccountId").ok_or("`Configuration.*.AccountId` is required")?;
    let role = s(config, "/AssumableRoleArn").ok_or("`Configuration.*.AssumableRoleArn` is required")?;
    Ok(vec![Draft::Association {
        account: p.account.clone(),
        space,
        association: AgentSpaceAssociation {
            account,
            role,
            kind: Some(kind),
            external_id: None,
            elevated_role: s(config, "/AgentElevatedRoleArn"),
            elevated_role_status: None,
            status: None,
        },
    }])
}

/// Why an association is not considered.
pub const NOT_AN_ACCOUNT: &str = "an association with a service other than an AWS account (GitHub, Slack, an MCP server, …): topoguard models account associations (`Aws`, `SourceAws`) only";

/// Applies an Agent Space or association change; returns the ARNs it created or changed.
pub(super) fn apply(s: &mut Snapshot, d: &Draft, delete: bool) -> Result<Vec<String>, String> {
    Ok(match d {
        Draft::AgentSpace(a) if delete => {
            s.agent_spaces.retain(|x| x.arn != a.arn);
            vec![a.arn.clone()]
        }
        Draft::AgentSpace(a) => {
            let mut a = a.clone();
            match s.agent_spaces.iter_mut().find(|x| x.arn == a.arn) {
                Some(old) => {
                    // Associations are resources of their own; what the change does not say
                    // (Terraform has no preferences or operator app) keeps the snapshot's.
                    a.associations = std::mem::take(&mut old.associations);
                    a.elevated_actions_enabled = a.elevated_actions_enabled.or(old.elevated_actions_enabled);
                    a.operator_app_role = a.operator_app_role.or_else(|| old.operator_app_role.clone());
                    *old = a;
                }
                None => s.agent_spaces.push(a),
            }
            vec![d.arn().unwrap_or_default().to_string()]
        }
        Draft::Association { space, association, .. } => {
            let sp = s
                .agent_spaces
                .iter_mut()
                .find(|x| &x.id == space || &x.arn == space)
                .ok_or_else(|| {
                    format!("names Agent Space `{space}`, which is neither in the change nor in the snapshot")
                })?;
            let at = sp.associations.iter().position(|x| x.account == association.account);
            match (at, delete) {
                (Some(i), true) => {
                    sp.associations.remove(i);
                }
                (Some(i), false) => {
                    if let Some(slot) = sp.associations.get_mut(i) {
                        *slot = association.clone();
                    }
                }
                (None, false) => sp.associations.push(association.clone()),
                (None, true) => {}
            }
            vec![sp.arn.clone()]
        }
        _ => Vec::new(),
    })
}
