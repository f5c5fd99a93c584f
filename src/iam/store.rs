//! Every policy of a snapshot, parsed once: roles' trust, inline, attached and boundary
//! policies, managed policy documents, and the SCPs and RCPs along each account's OU path.
//! [`PolicyStore::policy_set`] assembles what applies to one principal and resource.

use super::condition::RequestContext;
use super::eval::{NamedPolicy, PolicySet};
use super::policy::Policy;
use crate::model::{OrganizationPolicyKind, Role, Snapshot};
use std::collections::HashMap;

/// A parsed policy with the name evidence uses.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub policy: Policy,
}

impl Named {
    pub fn as_named(&self) -> NamedPolicy<'_> {
        NamedPolicy {
            name: &self.name,
            policy: &self.policy,
        }
    }
}

/// A role's parsed policies.
#[derive(Debug, Clone)]
pub struct RolePolicies<'s> {
    pub role: &'s Role,
    pub trust: Named,
    pub inline: Vec<Named>,
}

/// Parsed policies of a snapshot.
pub struct PolicyStore<'s> {
    pub roles: HashMap<&'s str, RolePolicies<'s>>,
    managed: HashMap<&'s str, Named>,
    /// Per account: SCPs per level of its path, root first.
    scp_path: HashMap<&'s str, Vec<Vec<Named>>>,
    rcp_path: HashMap<&'s str, Vec<Vec<Named>>>,
    management_account: Option<&'s str>,
    /// Resource policies of resources, buses and functions, by ARN.
    resource_policies: HashMap<&'s str, Named>,
}

impl<'s> PolicyStore<'s> {
    /// Parses every policy of the snapshot. Documents were validated on load; one that does not
    /// parse here is skipped.
    pub fn new(s: &'s Snapshot) -> Self {
        let managed: HashMap<&str, Named> = s
            .managed_policies
            .iter()
            .filter_map(|p| {
                Policy::from_value(&p.document).ok().map(|policy| {
                    (
                        p.arn.as_str(),
                        Named {
                            name: p.arn.clone(),
                            policy,
                        },
                    )
                })
            })
            .collect();
        let roles = s
            .roles
            .iter()
            .filter_map(|r| {
                let trust = Policy::from_value(&r.trust_policy).ok()?;
                let inline = r
                    .inline_policies
                    .iter()
                    .filter_map(|p| {
                        Policy::from_value(&p.document).ok().map(|policy| Named {
                            name: format!("inline policy `{}` of `{}`", p.name, r.arn),
                            policy,
                        })
                    })
                    .collect();
                Some((
                    r.arn.as_str(),
                    RolePolicies {
                        role: r,
                        trust: Named {
                            name: format!("trust policy of `{}`", r.arn),
                            policy: trust,
                        },
                        inline,
                    },
                ))
            })
            .collect();
        let (scp_path, rcp_path) = org_paths(s);
        let resource_policies = s
            .resources
            .iter()
            .filter_map(|r| r.policy.as_ref().map(|p| (r.arn.as_str(), p)))
            .chain(
                s.event_buses
                    .iter()
                    .filter_map(|b| b.policy.as_ref().map(|p| (b.arn.as_str(), p))),
            )
            .chain(
                s.functions
                    .iter()
                    .filter_map(|f| f.policy.as_ref().map(|p| (f.arn.as_str(), p))),
            )
            .filter_map(|(arn, doc)| {
                Policy::from_value(doc).ok().map(|policy| {
                    (
                        arn,
                        Named {
                            name: format!("resource policy of `{arn}`"),
                            policy,
                        },
                    )
                })
            })
            .collect();
        PolicyStore {
            roles,
            managed,
            scp_path,
            rcp_path,
            management_account: s.organization.management_account.as_deref(),
            resource_policies,
        }
    }

    /// A managed policy by ARN.
    pub fn managed(&self, arn: &str) -> Option<&Named> {
        self.managed.get(arn)
    }

    /// The resource policy of a resource, bus or function.
    pub fn resource_policy(&self, arn: &str) -> Option<&Named> {
        self.resource_policies.get(arn)
    }

    /// Resource policies by ARN.
    pub fn resource_policies(&self) -> impl Iterator<Item = (&'s str, &Named)> {
        self.resource_policies.iter().map(|(k, v)| (*k, v))
    }

    /// The policies that apply when `role` acts on a resource in `resource_account` that has
    /// `resource_policy`.
    /// What is known about a request made by `role`: its ARN, account, organization and tags.
    /// `None` when the role is not in the store.
    pub fn principal_context(&self, role: &str, org_id: Option<&str>) -> Option<RequestContext> {
        let rp = self.roles.get(role)?;
        let mut ctx = RequestContext::new();
        ctx.set("aws:PrincipalArn", role)
            .set("aws:PrincipalAccount", rp.role.account.clone());
        if let Some(org) = org_id {
            ctx.set("aws:PrincipalOrgID", org);
        }
        ctx.tags("aws:PrincipalTag", &rp.role.tags);
        Some(ctx)
    }

    pub fn policy_set<'a>(
        &'a self,
        role: &str,
        resource_account: Option<&str>,
        resource_policy: Option<NamedPolicy<'a>>,
    ) -> Option<PolicySet<'a>> {
        let rp = self.roles.get(role)?;
        let identity = rp
            .inline
            .iter()
            .map(Named::as_named)
            .chain(
                rp.role
                    .attached_policies
                    .iter()
                    .filter_map(|a| self.managed.get(a.as_str()).map(Named::as_named)),
            )
            .collect();
        let boundary = rp
            .role
            .permission_boundary
            .as_deref()
            .and_then(|b| self.managed.get(b))
            .map(Named::as_named);
        let account = rp.role.account.as_str();
        let scps = self
            .scp_path
            .get(account)
            .map(|levels| levels.iter().map(|l| l.iter().map(Named::as_named).collect()).collect())
            .unwrap_or_default();
        let rcps = resource_account
            .and_then(|a| self.rcp_path.get(a))
            .map(|levels| levels.iter().map(|l| l.iter().map(Named::as_named).collect()).collect())
            .unwrap_or_default();
        let service_linked = rp.role.arn.contains(":role/aws-service-role/");
        Some(PolicySet {
            identity,
            boundary,
            scps,
            rcps,
            resource_policy,
            scp_exempt: service_linked || self.management_account == Some(account),
        })
    }
}

type Paths<'s> = HashMap<&'s str, Vec<Vec<Named>>>;

/// SCPs and RCPs per level of each account's path (root, units…, the account itself). An
/// organization that records no policy of a kind gets no levels for it: nothing is assumed.
fn org_paths(s: &Snapshot) -> (Paths<'_>, Paths<'_>) {
    let org = &s.organization;
    let parent: HashMap<&str, Option<&str>> = org.units.iter().map(|u| (u.id.as_str(), u.parent.as_deref())).collect();
    let mut scp = HashMap::new();
    let mut rcp = HashMap::new();
    for kind in [
        OrganizationPolicyKind::ServiceControlPolicy,
        OrganizationPolicyKind::ResourceControlPolicy,
    ] {
        let policies: Vec<_> = org.policies.iter().filter(|p| p.kind == kind).collect();
        if policies.is_empty() {
            continue;
        }
        let attached = |target: &str| -> Vec<Named> {
            policies
                .iter()
                .filter(|p| p.targets.iter().any(|t| t == target))
                .filter_map(|p| {
                    Policy::from_value(&p.document).ok().map(|policy| Named {
                        name: format!("{} `{}`", kind_label(kind), p.name),
                        policy,
                    })
                })
                .collect()
        };
        for a in &org.accounts {
            let mut chain = vec![a.id.as_str()];
            let mut cursor = a.parent.as_deref();
            let mut guard = 0;
            while let Some(unit) = cursor {
                chain.push(unit);
                cursor = parent.get(unit).copied().flatten();
                guard += 1;
                if guard > 64 {
                    break;
                }
            }
            chain.reverse();
            let levels: Vec<Vec<Named>> = chain
                .into_iter()
                .map(|target| {
                    let mut level = attached(target);
                    // AWS requires an allowing policy at every level and attaches the AWS managed
                    // `FullAWSAccess` by default; snapshots often record only the custom
                    // (deny-style) ones. A level with no Allow is taken to have the default, which
                    // errs toward reporting access rather than hiding it.
                    if !level
                        .iter()
                        .any(|n| n.policy.statements.iter().any(|st| st.effect == super::Effect::Allow))
                    {
                        level.push(Named {
                            name: format!("{} `FullAWSAccess` (default, not recorded)", kind_label(kind)),
                            policy: allow_all(),
                        });
                    }
                    level
                })
                .collect();
            match kind {
                OrganizationPolicyKind::ServiceControlPolicy => scp.insert(a.id.as_str(), levels),
                OrganizationPolicyKind::ResourceControlPolicy => rcp.insert(a.id.as_str(), levels),
            };
        }
    }
    (scp, rcp)
}

fn allow_all() -> Policy {
    Policy {
        version: Some("2012-10-17".to_string()),
        id: None,
        statements: vec![super::Statement {
            sid: None,
            effect: super::Effect::Allow,
            principal: Some(super::policy::Matcher::Is(super::Principal::Any)),
            action: Some(super::policy::Matcher::Is(vec!["*".to_string()])),
            resource: Some(super::policy::Matcher::Is(vec!["*".to_string()])),
            conditions: Vec::new(),
        }],
    }
}

fn kind_label(kind: OrganizationPolicyKind) -> &'static str {
    match kind {
        OrganizationPolicyKind::ServiceControlPolicy => "SCP",
        OrganizationPolicyKind::ResourceControlPolicy => "RCP",
    }
}
