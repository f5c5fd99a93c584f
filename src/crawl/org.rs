//! The organization: accounts with their tags, the tree of organizational units, and the service
//! and resource control policies with their attachments. Read once with the caller's
//! credentials; every list is read page by page through [`Ctx::pages`].
//!
//! Two steps, so that accounts can be crawled while the rest is read: [`list_accounts`] hands
//! each account over as soon as its page of `ListAccounts` arrives, then [`read_structure`] reads
//! the unit tree (breadth first, once: `ListChildren`-style calls per unit rather than
//! `ListParents` per account), the accounts' tags and the policies, the three in parallel (they
//! share the organization's rate limit, so running them together only keeps it busy).

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::documents::parse_document;
use super::session::Connector;
use crate::model::{Account, Organization, OrganizationPolicy, OrganizationPolicyKind, OrganizationalUnit, Tags};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::operation::{
    list_accounts::ListAccountsOutput, list_accounts_for_parent::ListAccountsForParentOutput,
    list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput, list_policies::ListPoliciesOutput,
    list_roots::ListRootsOutput, list_tags_for_resource::ListTagsForResourceOutput,
    list_targets_for_policy::ListTargetsForPolicyOutput,
};
use aws_sdk_organizations::types::PolicyType;
use futures::future::join_all;
use std::collections::BTreeMap;

/// The Organizations client of the caller's credentials.
pub fn client(connector: &Connector) -> Client {
    connector.organizations(connector.base(), None)
}

/// Describes the organization and lists its accounts, calling `listed` with each account as its
/// page arrives. `None` when the account list could not be read whole (the gap is recorded):
/// without it the organization is not known.
pub async fn list_accounts(ctx: &Ctx, client: &Client, mut listed: impl FnMut(&Account)) -> Option<Organization> {
    let scope = Scope::org();
    let describe = async {
        ctx.call(Api::OrgDescribeOrganization, scope, || {
            client.describe_organization().send()
        })
        .await
    };
    let list = async {
        let mut accounts = Vec::new();
        let complete = ctx
            .pages(
                Api::OrgListAccounts,
                scope,
                |token| client.list_accounts().set_next_token(token).send(),
                ListAccountsOutput::next_token,
                |out| {
                    for a in out.accounts() {
                        let Some(id) = a.id() else { continue };
                        let account = Account {
                            id: id.to_string(),
                            name: a.name().unwrap_or(id).to_string(),
                            status: a
                                .state()
                                .map(|s| s.as_str().to_string())
                                .or_else(|| a.status().map(|s| s.as_str().to_string()))
                                .unwrap_or_else(|| "ACTIVE".to_string()),
                            parent: None,
                            tags: Tags::new(),
                        };
                        listed(&account);
                        accounts.push(account);
                    }
                },
            )
            .await;
        complete.then_some(accounts)
    };
    let (described, accounts) = futures::join!(describe, list);
    let mut org = Organization {
        accounts: accounts?,
        ..Organization::default()
    };
    if let Some(o) = described.as_ref().and_then(|d| d.organization()) {
        org.id = o.id().map(str::to_string);
        org.management_account = o.master_account_id().map(str::to_string);
    }
    Some(org)
}

/// Reads the unit tree with each account's parent, the accounts' tags, and the service and
/// resource control policies into `org`, the three in parallel.
pub async fn read_structure(ctx: &Ctx, client: &Client, org: &mut Organization) {
    let tags = join_all(org.accounts.iter().map(|a| account_tags(ctx, client, &a.id)));
    let policies = async {
        let (scps, rcps) = futures::join!(
            crawl_policies(ctx, client, OrganizationPolicyKind::ServiceControlPolicy),
            crawl_policies(ctx, client, OrganizationPolicyKind::ResourceControlPolicy),
        );
        scps.into_iter().chain(rcps).collect::<Vec<_>>()
    };
    let ((units, parents), tags, policies) = futures::join!(crawl_units(ctx, client), tags, policies);
    org.units.extend(units);
    for (account, tags) in org.accounts.iter_mut().zip(tags) {
        account.tags = tags;
        if let Some(parent) = parents.get(&account.id) {
            account.parent = Some(parent.clone());
        }
    }
    org.policies.extend(policies);
}

/// The root, every unit below it, and the parent of every account (account id → unit id).
async fn crawl_units(ctx: &Ctx, client: &Client) -> (Vec<OrganizationalUnit>, BTreeMap<String, String>) {
    let scope = Scope::org();
    let mut units = Vec::new();
    let mut parents = BTreeMap::new();
    let mut pending = Vec::new();
    let complete = ctx
        .pages(
            Api::OrgListRoots,
            scope,
            |token| client.list_roots().set_next_token(token).send(),
            ListRootsOutput::next_token,
            |out| {
                for r in out.roots() {
                    if let Some(id) = r.id() {
                        units.push(OrganizationalUnit {
                            id: id.to_string(),
                            name: r.name().unwrap_or("Root").to_string(),
                            parent: None,
                        });
                        pending.push(id.to_string());
                    }
                }
            },
        )
        .await;
    if !complete {
        return (units, parents);
    }
    // Breadth first, one level at a time, the units of a level in parallel.
    while !pending.is_empty() {
        let level = std::mem::take(&mut pending);
        let results = join_all(level.iter().map(|parent| children(ctx, client, parent))).await;
        for (parent, (children, accounts)) in level.iter().zip(results) {
            for (id, name) in children {
                units.push(OrganizationalUnit {
                    id: id.clone(),
                    name,
                    parent: Some(parent.clone()),
                });
                pending.push(id);
            }
            for id in accounts {
                parents.insert(id, parent.clone());
            }
        }
    }
    (units, parents)
}

/// The units (id, name) and account ids directly under `parent`.
async fn children(ctx: &Ctx, client: &Client, parent: &str) -> (Vec<(String, String)>, Vec<String>) {
    let scope = Scope::org();
    let mut units = Vec::new();
    ctx.pages(
        Api::OrgListOrganizationalUnitsForParent,
        scope,
        |token| {
            client
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .set_next_token(token)
                .send()
        },
        ListOrganizationalUnitsForParentOutput::next_token,
        |out| {
            for u in out.organizational_units() {
                if let Some(id) = u.id() {
                    units.push((id.to_string(), u.name().unwrap_or(id).to_string()));
                }
            }
        },
    )
    .await;
    let mut accounts = Vec::new();
    ctx.pages(
        Api::OrgListAccountsForParent,
        scope,
        |token| {
            client
                .list_accounts_for_parent()
                .parent_id(parent)
                .set_next_token(token)
                .send()
        },
        ListAccountsForParentOutput::next_token,
        |out| accounts.extend(out.accounts().iter().filter_map(|a| a.id().map(str::to_string))),
    )
    .await;
    (units, accounts)
}

async fn account_tags(ctx: &Ctx, client: &Client, account: &str) -> Tags {
    let mut tags = Tags::new();
    ctx.pages(
        Api::OrgListTagsForResource,
        Scope::org(),
        |token| {
            client
                .list_tags_for_resource()
                .resource_id(account)
                .set_next_token(token)
                .send()
        },
        ListTagsForResourceOutput::next_token,
        |out| {
            for t in out.tags() {
                tags.insert(t.key().to_string(), t.value().to_string());
            }
        },
    )
    .await;
    tags
}

async fn crawl_policies(ctx: &Ctx, client: &Client, kind: OrganizationPolicyKind) -> Vec<OrganizationPolicy> {
    let scope = Scope::org();
    let filter = match kind {
        OrganizationPolicyKind::ServiceControlPolicy => PolicyType::ServiceControlPolicy,
        OrganizationPolicyKind::ResourceControlPolicy => PolicyType::ResourceControlPolicy,
    };
    let mut ids = Vec::new();
    ctx.pages(
        Api::OrgListPolicies,
        scope,
        |token| {
            client
                .list_policies()
                .filter(filter.clone())
                .set_next_token(token)
                .send()
        },
        ListPoliciesOutput::next_token,
        |out| ids.extend(out.policies().iter().filter_map(|p| p.id().map(str::to_string))),
    )
    .await;
    let policies = join_all(ids.iter().map(|id| crawl_policy(ctx, client, id, kind))).await;
    policies.into_iter().flatten().collect()
}

async fn crawl_policy(
    ctx: &Ctx,
    client: &Client,
    id: &str,
    kind: OrganizationPolicyKind,
) -> Option<OrganizationPolicy> {
    let scope = Scope::org();
    let out = ctx
        .call(Api::OrgDescribePolicy, scope, || {
            client.describe_policy().policy_id(id).send()
        })
        .await?;
    let policy = out.policy()?;
    let summary = policy.policy_summary()?;
    let arn = summary.arn()?.to_string();
    let document = parse_document(ctx, Api::OrgDescribePolicy, scope, &arn, policy.content()?)?;
    let mut targets = Vec::new();
    ctx.pages(
        Api::OrgListTargetsForPolicy,
        scope,
        |token| {
            client
                .list_targets_for_policy()
                .policy_id(id)
                .set_next_token(token)
                .send()
        },
        ListTargetsForPolicyOutput::next_token,
        |out| targets.extend(out.targets().iter().filter_map(|t| t.target_id().map(str::to_string))),
    )
    .await;
    Some(OrganizationPolicy {
        id: id.to_string(),
        arn,
        name: summary.name().unwrap_or(id).to_string(),
        kind,
        document,
        targets,
    })
}
