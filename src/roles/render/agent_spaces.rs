//! `roles --agent-spaces` (CloudFormation only): one template per Agent Space,
//! `agent-spaces/<space>.template.json`, to deploy in the space's primary account and region. It
//! creates the `AWS::DevOpsAgent::AgentSpace` (unless the snapshot already has it) and one
//! `AWS::DevOpsAgent::Association` per footprint account not yet associated: `Aws` (monitor) for
//! the primary account, `SourceAws` (source) for the others, each naming the generated
//! `DevOpsAgentRole-<space>` of that account. An association names one role per account, so
//! the further parts of a split Agent Space role (`DevOpsAgentRole-<space>-2`, …) are not
//! associated; the template lists them under `Metadata` (`topoguard:UnassociatedParts`) and
//! its description says so (see `docs/roles.md`).
//!
//! With `roles --elevated`, each association of an account that has the space's elevated role
//! (`DevOpsAgentElevatedRole-<space>`) names it as `AgentElevatedRoleArn`, and a space the
//! template creates gets `Preferences.ElevatedActionsEnabled` (AWS needs both for elevated
//! actions). Existing spaces and existing associations are not in the template; the CLI warns
//! about those instead.
//!
//! The roles trust only this one space (`aws:SourceArn`), so the space must exist before them
//! and the associations after them. The template therefore deploys in two steps: first with
//! `AssociateAccounts=false` (the space only; its ARN is the `AgentSpaceArn` output, the value of
//! the account templates' `AgentSpaceArn<Space>` parameter), then, once the roles are deployed,
//! updated with `AssociateAccounts=true`.

use super::{Files, file_name, pretty};
use crate::roles::{GeneratedRole, RoleKind, RoleSet, agent_elevated_role_name, agent_role_name, space_parameter};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Space name → accounts the existing space is already associated with (primary included).
/// A space that exists and is associated with its whole footprint gets no template.
pub type Associated = BTreeMap<String, BTreeSet<String>>;

/// Spaces that exist but whose associations the crawl could not read (a coverage gap): which
/// accounts are associated is unknown, so no association template is written for them (an
/// association AWS already has would make the stack fail); the caller warns instead.
pub type Unread = BTreeSet<String>;

/// The agent roles of one space.
#[derive(Default)]
struct Space<'a> {
    application: &'a str,
    primary: Option<&'a GeneratedRole>,
    secondaries: Vec<&'a GeneratedRole>,
    /// Further parts of split roles, which no association names.
    parts: Vec<&'a GeneratedRole>,
    /// The elevated role (first part) of each account that has one (`--elevated`).
    elevated: BTreeMap<&'a str, &'a GeneratedRole>,
}

pub fn render(set: &RoleSet, associated: &Associated, unread: &Unread) -> Files {
    let mut spaces: BTreeMap<&str, Space<'_>> = BTreeMap::new();
    for r in &set.roles {
        let Some(name) = r.space.as_deref() else { continue };
        let space = spaces.entry(name).or_default();
        space.application = &r.application;
        if r.kind == RoleKind::AgentElevated && r.name == agent_elevated_role_name(name) {
            space.elevated.insert(&r.account, r);
            continue;
        }
        if r.name != agent_role_name(name) {
            space.parts.push(r);
            continue;
        }
        match r.kind {
            RoleKind::AgentPrimary => space.primary = Some(r),
            RoleKind::AgentSecondary => space.secondaries.push(r),
            RoleKind::Observe | RoleKind::Mitigate | RoleKind::AgentElevated => {}
        }
    }
    let mut files = Files::new();
    for (name, space) in spaces {
        let Some(primary) = space.primary else { continue };
        if unread.contains(name) {
            continue;
        }
        let existing_arn = set
            .parameters
            .get(&space_parameter(name))
            .and_then(|p| p.default.as_deref())
            // The default is written for IAM (`${*}` …); the template needs the ARN itself.
            .map(crate::iam::pattern::literal);
        let done = associated.get(name).cloned().unwrap_or_default();
        if let Some(mut t) = template(&space, name, primary, existing_arn.as_deref(), &done) {
            unassociated_parts(&mut t, &space.parts);
            files.insert(format!("agent-spaces/{}.template.json", file_name(name)), pretty(&t));
        }
    }
    files
}

fn template(
    space: &Space<'_>,
    name: &str,
    primary: &GeneratedRole,
    existing_arn: Option<&str>,
    done: &BTreeSet<String>,
) -> Option<Value> {
    let application = space.application;
    let mut parameters = Map::new();
    parameters.insert(
        "AssociateAccounts".to_string(),
        json!({
            "Type": "String",
            "AllowedValues": ["false", "true"],
            "Default": "false",
            "Description": format!("true once the DevOpsAgentRole-{name} roles are deployed in every account (they trust only this space, so they come after it)"),
        }),
    );
    let mut resources = Map::new();
    let mut outputs = Map::new();
    let space_id = match existing_arn {
        Some(arn) => {
            let id = arn.rsplit('/').next().unwrap_or(arn);
            parameters.insert(
                "AgentSpaceId".to_string(),
                json!({"Type": "String", "Default": id, "Description": format!("Id of the existing Agent Space `{name}` ({arn})")}),
            );
            json!({"Ref": "AgentSpaceId"})
        }
        None => {
            let mut properties = json!({
                "Name": name,
                "Description": format!("Incident investigations of application {application}. Generated by topoguard."),
                "Tags": [
                    {"Key": "app", "Value": application},
                    {"Key": "managed-by", "Value": "topoguard"},
                ],
            });
            if let (false, Some(p)) = (space.elevated.is_empty(), properties.as_object_mut()) {
                p.insert("Preferences".to_string(), json!({"ElevatedActionsEnabled": true}));
            }
            resources.insert(
                "AgentSpace".to_string(),
                json!({"Type": "AWS::DevOpsAgent::AgentSpace", "Properties": properties}),
            );
            outputs.insert(
                "AgentSpaceArn".to_string(),
                json!({
                    "Description": format!("Value of the {} parameter of the account templates", space_parameter(name)),
                    "Value": {"Fn::GetAtt": ["AgentSpace", "Arn"]},
                }),
            );
            outputs.insert(
                "AgentSpaceId".to_string(),
                json!({"Value": {"Fn::GetAtt": ["AgentSpace", "AgentSpaceId"]}}),
            );
            json!({"Fn::GetAtt": ["AgentSpace", "AgentSpaceId"]})
        }
    };
    let mut skipped = Vec::new();
    for (role, key, kind) in std::iter::once((primary, "Aws", "monitor"))
        .chain(space.secondaries.iter().map(|r| (*r, "SourceAws", "source")))
    {
        if done.contains(&role.account) {
            skipped.push(role.account.as_str());
            continue;
        }
        let mut configuration = json!({
            "AccountId": role.account,
            "AccountType": kind,
            "AssumableRoleArn": role.arn(),
        });
        if let (Some(e), Some(c)) = (space.elevated.get(role.account.as_str()), configuration.as_object_mut()) {
            c.insert("AgentElevatedRoleArn".to_string(), json!(e.arn()));
        }
        resources.insert(
            format!("Association{}", role.account),
            json!({
                "Type": "AWS::DevOpsAgent::Association",
                "Condition": "Associate",
                "Properties": {
                    "AgentSpaceId": space_id,
                    "ServiceId": "aws",
                    "Configuration": {key: configuration},
                },
            }),
        );
    }
    let mut description = format!(
        "AWS DevOps Agent Space {name} (application {application}) and its account associations; deploy in account {}. Generated by topoguard.",
        primary.account
    );
    if resources.is_empty() {
        return None;
    }
    match skipped.len() {
        0 => {}
        // CloudFormation caps a template's description at 1,024 characters.
        1..=10 => description.push_str(&format!(" Already associated, left out: {}.", skipped.join(", "))),
        n => description.push_str(&format!(" {n} accounts already associated are left out.")),
    }
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": parameters,
        "Conditions": {"Associate": {"Fn::Equals": [{"Ref": "AssociateAccounts"}, "true"]}},
        "Resources": resources,
    });
    if let (false, Some(m)) = (outputs.is_empty(), template.as_object_mut()) {
        m.insert("Outputs".to_string(), Value::Object(outputs));
    }
    Some(template)
}

/// Records the parts of split roles that no association names: in `Metadata`, by account, and
/// in the description.
fn unassociated_parts(template: &mut Value, parts: &[&GeneratedRole]) {
    if parts.is_empty() {
        return;
    }
    let mut by_account: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in parts {
        by_account.entry(&r.account).or_default().push(r.arn());
    }
    let Some(m) = template.as_object_mut() else { return };
    let described = m.get("Description").and_then(Value::as_str).map(|d| {
        format!(
            "{d} {} further part(s) of split roles are not associated (one role per account; see Metadata).",
            parts.len()
        )
    });
    if let Some(d) = described {
        m.insert("Description".to_string(), json!(d));
    }
    m.insert(
        "Metadata".to_string(),
        json!({"topoguard:UnassociatedParts": by_account}),
    );
}
