//! IAM of one account through `GetAccountAuthorizationDetails` (roles with trust, inline,
//! attached and boundary policies; users with their groups, inline, attached and boundary
//! policies; groups with inline and attached policies; managed policies with their default
//! version's document) — one paged call per account, never one call per role.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use super::documents::parse_document;
use crate::model::{Group, InlinePolicy, ManagedPolicy, Role, Tags, User};
use aws_config::SdkConfig;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::EntityType;
use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail};
use std::collections::{BTreeMap, BTreeSet};

use super::session::Connector;

/// What IAM of one account yielded.
#[derive(Debug, Default)]
pub struct IamData {
    pub roles: Vec<Role>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub managed_policies: Vec<ManagedPolicy>,
}

/// Inline policies of a user, group or role, parsed (one that does not parse is reported and
/// left out).
fn inline_of(ctx: &Ctx, api: Api, scope: Scope<'_>, arn: &str, list: &[PolicyDetail]) -> Vec<InlinePolicy> {
    let mut out: Vec<InlinePolicy> = list
        .iter()
        .filter_map(|p| {
            let name = p.policy_name()?;
            let document = parse_document(ctx, api, scope, &format!("{arn} ({name})"), p.policy_document()?)?;
            Some(InlinePolicy {
                name: name.to_string(),
                document,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn attached_of(list: &[AttachedPolicy]) -> Vec<String> {
    list.iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
}

/// The roles, users and groups of `account` and the managed policies they (or the account) hold.
pub async fn crawl_iam(ctx: &Ctx, connector: &Connector, config: &SdkConfig, account: &str) -> IamData {
    let client = connector.iam(config, Some(account));
    let scope = Scope::account(account);
    let api = Api::IamGetAccountAuthorizationDetails;
    let mut roles = Vec::new();
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut policies: BTreeMap<String, ManagedPolicy> = BTreeMap::new();
    ctx.pages(
        api,
        scope,
        |marker| {
            client
                .get_account_authorization_details()
                .filter(EntityType::Role)
                .filter(EntityType::User)
                .filter(EntityType::Group)
                .filter(EntityType::LocalManagedPolicy)
                .filter(EntityType::AwsManagedPolicy)
                .set_marker(marker)
                .send()
        },
        next_marker,
        |out| {
            for r in out.role_detail_list() {
                let (Some(arn), Some(name)) = (r.arn(), r.role_name()) else {
                    continue;
                };
                let Some(trust) = r
                    .assume_role_policy_document()
                    .and_then(|d| parse_document(ctx, api, scope, arn, d))
                else {
                    continue;
                };
                let inline_policies = r
                    .role_policy_list()
                    .iter()
                    .filter_map(|p| {
                        let name = p.policy_name()?;
                        let document =
                            parse_document(ctx, api, scope, &format!("{arn} ({name})"), p.policy_document()?)?;
                        Some(InlinePolicy {
                            name: name.to_string(),
                            document,
                        })
                    })
                    .collect();
                roles.push(Role {
                    arn: arn.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                    tags: r
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect::<Tags>(),
                    trust_policy: trust,
                    inline_policies,
                    attached_policies: r
                        .attached_managed_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string))
                        .collect(),
                    permission_boundary: r
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn().map(str::to_string)),
                });
            }
            for u in out.user_detail_list() {
                let (Some(arn), Some(name)) = (u.arn(), u.user_name()) else {
                    continue;
                };
                let mut member_of: Vec<String> = u.group_list().to_vec();
                member_of.sort();
                users.push(User {
                    arn: arn.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                    tags: u
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect::<Tags>(),
                    inline_policies: inline_of(ctx, api, scope, arn, u.user_policy_list()),
                    attached_policies: attached_of(u.attached_managed_policies()),
                    permission_boundary: u
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn().map(str::to_string)),
                    groups: member_of,
                });
            }
            for g in out.group_detail_list() {
                let (Some(arn), Some(name)) = (g.arn(), g.group_name()) else {
                    continue;
                };
                groups.push(Group {
                    arn: arn.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                    inline_policies: inline_of(ctx, api, scope, arn, g.group_policy_list()),
                    attached_policies: attached_of(g.attached_managed_policies()),
                });
            }
            for p in out.policies() {
                let Some(arn) = p.arn() else { continue };
                // Some emulators leave the name out; it is the ARN's last path segment.
                let name = p.policy_name().unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn));
                let default = p.default_version_id();
                let Some(version) = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version() || (default.is_some() && v.version_id() == default))
                else {
                    continue;
                };
                let Some(document) = version.document().and_then(|d| parse_document(ctx, api, scope, arn, d)) else {
                    continue;
                };
                policies.insert(
                    arn.to_string(),
                    ManagedPolicy {
                        arn: arn.to_string(),
                        name: name.to_string(),
                        document,
                    },
                );
            }
        },
    )
    .await;
    // Keep the account's own policies and the AWS managed ones some role uses; a reference to a
    // policy whose document is missing is dropped and reported, so the snapshot still loads.
    let used: BTreeSet<String> = roles
        .iter()
        .flat_map(|r| r.attached_policies.iter().chain(r.permission_boundary.iter()))
        .chain(
            users
                .iter()
                .flat_map(|u| u.attached_policies.iter().chain(u.permission_boundary.iter())),
        )
        .chain(groups.iter().flat_map(|g| g.attached_policies.iter()))
        .cloned()
        .collect();
    let missing: BTreeSet<String> = used.iter().filter(|u| !policies.contains_key(*u)).cloned().collect();
    for m in &missing {
        ctx.gap(
            api,
            scope,
            CallError {
                code: "MissingPolicyDocument".to_string(),
                message: format!("managed policy `{m}` is attached but its document was not returned"),
            },
        );
    }
    for r in &mut roles {
        r.attached_policies.retain(|a| !missing.contains(a));
        if r.permission_boundary.as_ref().is_some_and(|b| missing.contains(b)) {
            r.permission_boundary = None;
        }
        r.attached_policies.sort();
        r.inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
    }
    for u in &mut users {
        u.attached_policies.retain(|a| !missing.contains(a));
        u.attached_policies.sort();
        if u.permission_boundary.as_ref().is_some_and(|b| missing.contains(b)) {
            u.permission_boundary = None;
        }
    }
    // A membership in a group the answer did not include would not load: keep known groups only.
    let known: BTreeSet<String> = groups.iter().map(|g| g.name.clone()).collect();
    for u in &mut users {
        u.groups.retain(|g| known.contains(g));
    }
    for g in &mut groups {
        g.attached_policies.retain(|a| !missing.contains(a));
        g.attached_policies.sort();
    }
    let managed_policies = policies
        .into_values()
        .filter(|p| !p.arn.contains(":iam::aws:policy/") || used.contains(&p.arn))
        .collect();
    IamData {
        roles,
        users,
        groups,
        managed_policies,
    }
}

/// The marker of the next page: IAM sends one only while the answer is truncated.
fn next_marker(out: &GetAccountAuthorizationDetailsOutput) -> Option<&str> {
    if out.is_truncated() { out.marker() } else { None }
}
