//! Every policy of a snapshot, parsed once: roles' trust, inline, attached and boundary
//! policies, managed policy documents, and the SCPs and RCPs along each account's OU path.
//! [`PolicyStore::policy_set`] assembles what applies to one principal and resource.

use super::condition::RequestContext;
use super::eval::{NamedPolicy, PolicySet};
use super::policy::{Policy, Statement};
use crate::model::{OrganizationPolicyKind, PolicyDocument, Role, Snapshot, User};
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed policy with the name evidence uses.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    /// Shared with the snapshot's document (parsed once when the snapshot was read).
    pub policy: Arc<Policy>,
}

/// The parsed policy of `doc` under `name`; `None` when the document does not parse (which a
/// loaded snapshot never holds: loading rejects it; [`PolicyStore::unparsed`] lists such
/// documents of snapshots built in memory).
fn named(doc: &PolicyDocument, name: impl FnOnce() -> String) -> Option<Named> {
    match doc.policy() {
        Ok(policy) => Some(Named {
            name: name(),
            policy: Arc::clone(policy),
        }),
        Err(_) => None,
    }
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

/// A user's parsed policies: its own inline policies and its groups' (attached managed policies
/// are looked up in the store).
#[derive(Debug, Clone)]
pub struct UserPolicies<'s> {
    pub user: &'s User,
    pub inline: Vec<Named>,
    /// ARNs of the managed policies attached to the user or to one of its groups.
    pub attached: Vec<&'s str>,
}

/// Parsed policies of a snapshot.
pub struct PolicyStore<'s> {
    pub roles: HashMap<&'s str, RolePolicies<'s>>,
    pub users: HashMap<&'s str, UserPolicies<'s>>,
    managed: HashMap<&'s str, Named>,
    /// Per account: SCPs per level of its path, root first.
    scp_path: HashMap<&'s str, Vec<Vec<Named>>>,
    rcp_path: HashMap<&'s str, Vec<Vec<Named>>>,
    management_account: Option<&'s str>,
    /// Resource policies of resources, buses and functions, by ARN.
    resource_policies: HashMap<&'s str, Named>,
    /// `(account, role name)` → role ARN, to map session ARNs to their role.
    role_names: HashMap<(&'s str, &'s str), &'s str>,
    /// Per account in the organization: its `aws:PrincipalOrgPaths` value, `o-…/r-…/ou-…/`.
    org_paths: HashMap<&'s str, String>,
    org_id: Option<&'s str>,
    /// Per account: the SCP levels whose attachments the snapshot lacks, where `FullAWSAccess`
    /// was assumed.
    scp_assumed: HashMap<&'s str, Vec<String>>,
    /// Where the snapshot holds a document that does not parse (none in a loaded snapshot).
    unparsed: Vec<String>,
}

impl<'s> PolicyStore<'s> {
    /// Indexes every policy of the snapshot. Documents were parsed (once, interned) when the
    /// snapshot was read; one that does not parse is left out and listed in [`Self::unparsed`].
    pub fn new(s: &'s Snapshot) -> Self {
        let managed: HashMap<&str, Named> = s
            .managed_policies
            .iter()
            .filter_map(|p| Some((p.arn.as_str(), named(&p.document, || p.arn.clone())?)))
            .collect();
        let roles = s
            .roles
            .iter()
            .filter_map(|r| {
                let trust = named(&r.trust_policy, || format!("trust policy of `{}`", r.arn))?;
                let inline = r
                    .inline_policies
                    .iter()
                    .filter_map(|p| named(&p.document, || format!("inline policy `{}` of `{}`", p.name, r.arn)))
                    .collect();
                Some((r.arn.as_str(), RolePolicies { role: r, trust, inline }))
            })
            .collect();
        let gaps = policy_gaps(s);
        let (scp_path, rcp_path, scp_assumed) = org_policy_paths(s, gaps);
        let role_names = s
            .roles
            .iter()
            .map(|r| ((r.account.as_str(), r.name.as_str()), r.arn.as_str()))
            .collect();
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
            .chain(
                s.event_buses_v2
                    .iter()
                    .filter_map(|b| b.policy.as_ref().map(|p| (b.arn.as_str(), p))),
            )
            .filter_map(|(arn, doc)| Some((arn, named(doc, || format!("resource policy of `{arn}`"))?)))
            .collect();
        PolicyStore {
            roles,
            users: users(s),
            managed,
            scp_path,
            rcp_path,
            management_account: s.organization.management_account.as_deref(),
            resource_policies,
            role_names,
            org_paths: path_strings(s),
            org_id: s.organization.id.as_deref(),
            scp_assumed,
            unparsed: unparsed(s),
        }
    }

    /// The documents left out because they do not parse, by owner: empty for every snapshot
    /// that went through loading (which rejects them), possibly not for one built in memory.
    pub fn unparsed(&self) -> &[String] {
        &self.unparsed
    }

    /// A role's policies by its ARN or by the ARN of one of its sessions
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, whose identity policies are the role's).
    pub fn role(&self, arn: &str) -> Option<&RolePolicies<'s>> {
        if let Some(rp) = self.roles.get(arn) {
            return Some(rp);
        }
        let role = super::eval::session_role(arn)?;
        let (account, name) = role
            .split_once(":role/")
            .map(|(a, n)| (a.rsplit(':').next().unwrap_or(""), n))?;
        let arn = self.role_names.get(&(account, name))?;
        self.roles.get(arn)
    }

    /// What is known about the resource's account: `aws:ResourceOrgID` and `aws:ResourceOrgPaths`
    /// when the account is in the snapshot's organization.
    pub fn resource_context(&self, ctx: &mut RequestContext, resource_account: &str) {
        if let (Some(path), Some(org)) = (self.org_paths.get(resource_account), self.org_id) {
            ctx.set("aws:ResourceOrgID", org)
                .set_many("aws:ResourceOrgPaths", [path.clone()]);
        }
    }

    /// The SCP levels of `account`'s path where the snapshot records no attachment and
    /// `FullAWSAccess` is assumed, for explanations; empty when every level is recorded.
    pub fn scp_assumptions(&self, account: &str) -> &[String] {
        self.scp_assumed.get(account).map_or(&[], Vec::as_slice)
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
        if let Some(up) = self.users.get(role) {
            let mut ctx = RequestContext::new();
            ctx.set("aws:PrincipalArn", up.user.arn.clone())
                .set("aws:PrincipalAccount", up.user.account.clone())
                .set("aws:username", up.user.name.clone());
            if let Some(org) = org_id {
                ctx.set("aws:PrincipalOrgID", org);
            }
            if let Some(path) = self.org_paths.get(up.user.account.as_str()) {
                ctx.set_many("aws:PrincipalOrgPaths", [path.clone()]);
            }
            ctx.tags("aws:PrincipalTag", &up.user.tags);
            return Some(ctx);
        }
        let rp = self.role(role)?;
        let mut ctx = RequestContext::new();
        ctx.set("aws:PrincipalArn", rp.role.arn.clone())
            .set("aws:PrincipalAccount", rp.role.account.clone());
        if let Some(org) = org_id {
            ctx.set("aws:PrincipalOrgID", org);
        }
        if let Some(path) = self.org_paths.get(rp.role.account.as_str()) {
            ctx.set_many("aws:PrincipalOrgPaths", [path.clone()]);
        }
        ctx.tags("aws:PrincipalTag", &rp.role.tags);
        Some(ctx)
    }

    /// The statements of the resource control policies that apply to resources of `account`
    /// (every level from the root down; empty when the organization has none or the account
    /// is unknown).
    pub fn rcp_statements(&self, account: &str) -> Vec<&Statement> {
        self.rcp_path
            .get(account)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|n| n.policy.statements.iter().map(|st| &**st))
            .collect()
    }

    /// The identity policies of `principal` (a role, role session or user): its inline
    /// policies (a user's groups' included) and the managed policies attached to it (or to its
    /// groups). `None` when the store does not hold the principal.
    pub fn identity_policies(&self, principal: &str) -> Option<Vec<NamedPolicy<'_>>> {
        let managed = |arn: &str| self.managed.get(arn).map(Named::as_named);
        if let Some(up) = self.users.get(principal) {
            let attached = up.attached.iter().filter_map(|a| managed(a));
            return Some(up.inline.iter().map(Named::as_named).chain(attached).collect());
        }
        let rp = self.role(principal)?;
        let attached = rp.role.attached_policies.iter().filter_map(|a| managed(a));
        Some(rp.inline.iter().map(Named::as_named).chain(attached).collect())
    }

    pub fn policy_set<'a>(
        &'a self,
        role: &str,
        resource_account: Option<&str>,
        resource_policy: Option<NamedPolicy<'a>>,
    ) -> Option<PolicySet<'a>> {
        let identity = self.identity_policies(role)?;
        if let Some(up) = self.users.get(role) {
            let boundary = up.user.permission_boundary.as_deref();
            return Some(self.assemble(
                identity,
                boundary,
                &up.user.account,
                false,
                resource_account,
                resource_policy,
            ));
        }
        let rp = self.role(role)?;
        let service_linked = rp.role.arn.contains(":role/aws-service-role/");
        let boundary = rp.role.permission_boundary.as_deref();
        Some(self.assemble(
            identity,
            boundary,
            &rp.role.account,
            service_linked,
            resource_account,
            resource_policy,
        ))
    }

    /// A policy set from a principal's identity policies, boundary and account.
    fn assemble<'a>(
        &'a self,
        identity: Vec<NamedPolicy<'a>>,
        boundary: Option<&str>,
        account: &str,
        service_linked: bool,
        resource_account: Option<&str>,
        resource_policy: Option<NamedPolicy<'a>>,
    ) -> PolicySet<'a> {
        let boundary = boundary.and_then(|b| self.managed.get(b)).map(Named::as_named);
        let scps = self
            .scp_path
            .get(account)
            .map(|levels| levels.iter().map(|l| l.iter().map(Named::as_named).collect()).collect())
            .unwrap_or_default();
        let rcps = resource_account
            .and_then(|a| self.rcp_path.get(a))
            .map(|levels| levels.iter().map(|l| l.iter().map(Named::as_named).collect()).collect())
            .unwrap_or_default();
        PolicySet {
            identity,
            boundary,
            scps,
            rcps,
            resource_policy,
            session: Vec::new(),
            scp_exempt: service_linked || self.management_account == Some(account),
            assumed: self.scp_assumptions(account).to_vec(),
        }
    }
}

/// Every user's policies: its inline policies and its groups' inline policies, and the managed
/// policies attached to it or its groups.
fn users(s: &Snapshot) -> HashMap<&str, UserPolicies<'_>> {
    let parse = |owner: &str, p: &crate::model::InlinePolicy| {
        named(&p.document, || format!("inline policy `{}` of `{owner}`", p.name))
    };
    s.users
        .iter()
        .map(|u| {
            let groups: Vec<_> = s
                .groups
                .iter()
                .filter(|g| g.account == u.account && u.groups.contains(&g.name))
                .collect();
            let inline = u
                .inline_policies
                .iter()
                .filter_map(|p| parse(&u.arn, p))
                .chain(
                    groups
                        .iter()
                        .flat_map(|g| g.inline_policies.iter().filter_map(|p| parse(&g.arn, p))),
                )
                .collect();
            let mut attached: Vec<&str> = u
                .attached_policies
                .iter()
                .chain(groups.iter().flat_map(|g| g.attached_policies.iter()))
                .map(String::as_str)
                .collect();
            attached.sort_unstable();
            attached.dedup();
            (
                u.arn.as_str(),
                UserPolicies {
                    user: u,
                    inline,
                    attached,
                },
            )
        })
        .collect()
}

type Paths<'s> = HashMap<&'s str, Vec<Vec<Named>>>;

/// The account path of every account in the organization, root first.
fn chains(s: &Snapshot) -> HashMap<&str, Vec<&str>> {
    let org = &s.organization;
    let parent: HashMap<&str, Option<&str>> = org.units.iter().map(|u| (u.id.as_str(), u.parent.as_deref())).collect();
    org.accounts
        .iter()
        .map(|a| {
            let mut chain = vec![a.id.as_str()];
            let mut cursor = a.parent.as_deref();
            while let Some(unit) = cursor {
                // AWS's units form a tree; a snapshot whose parents form a cycle ends the path at
                // the first unit seen twice.
                if chain.contains(&unit) {
                    break;
                }
                chain.push(unit);
                cursor = parent.get(unit).copied().flatten();
            }
            chain.reverse();
            (a.id.as_str(), chain)
        })
        .collect()
}

/// `aws:PrincipalOrgPaths` per account: `o-id/r-root/ou-…/` (the account itself not included).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths>
fn path_strings(s: &Snapshot) -> HashMap<&str, String> {
    let Some(org) = s.organization.id.as_deref() else {
        return HashMap::new();
    };
    chains(s)
        .into_iter()
        .map(|(account, chain)| {
            let units: String = chain
                .iter()
                .filter(|c| **c != account)
                .map(|c| format!("{c}/"))
                .collect();
            (account, format!("{org}/{units}"))
        })
        .collect()
}

/// True when a coverage gap may hide attachments of organization policies.
fn policy_gaps(s: &Snapshot) -> bool {
    s.coverage.gaps.iter().any(|g| {
        matches!(
            g.api.as_str(),
            "organizations:ListPolicies" | "organizations:DescribePolicy" | "organizations:ListTargetsForPolicy"
        )
    })
}

/// SCPs and RCPs per level of each account's path (root, units…, the account itself), and the
/// SCP levels where `FullAWSAccess` was assumed. An organization that records no policy of a
/// kind gets no levels for it: nothing is assumed.
fn org_policy_paths(s: &Snapshot, gaps: bool) -> (Paths<'_>, Paths<'_>, HashMap<&str, Vec<String>>) {
    let org = &s.organization;
    let chains = chains(s);
    let mut scp = HashMap::new();
    let mut rcp = HashMap::new();
    let mut assumed: HashMap<&str, Vec<String>> = HashMap::new();
    let full_access = Arc::new(allow_all());
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
                .filter_map(|p| named(&p.document, || format!("{} `{}`", kind_label(kind), p.name)))
                .collect()
        };
        for (account, chain) in &chains {
            let mut levels = Vec::with_capacity(chain.len());
            for target in chain {
                let mut level = attached(target);
                if needs_default(&level, gaps) {
                    level.push(Named {
                        name: format!("{} `FullAWSAccess` (default, not recorded)", kind_label(kind)),
                        policy: Arc::clone(&full_access),
                    });
                    if kind == OrganizationPolicyKind::ServiceControlPolicy {
                        assumed.entry(account).or_default().push(format!(
                            "SCP `FullAWSAccess` assumed at `{target}`: the snapshot records no policy attached there"
                        ));
                    }
                }
                levels.push(level);
            }
            match kind {
                OrganizationPolicyKind::ServiceControlPolicy => scp.insert(*account, levels),
                OrganizationPolicyKind::ResourceControlPolicy => rcp.insert(*account, levels),
            };
        }
    }
    (scp, rcp, assumed)
}

/// AWS requires an allowing policy at every level and attaches the AWS managed `FullAWSAccess`
/// to every root, unit and account by default. A level where the snapshot records attachments
/// is taken as recorded: if none of them allows an action, the action is denied there. Only a
/// level with no recorded attachment (or any level when a coverage gap may hide attachments)
/// is taken to have the default, which errs toward reporting access rather than hiding it.
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>
fn needs_default(level: &[Named], gaps: bool) -> bool {
    let allows = level
        .iter()
        .any(|n| n.policy.statements.iter().any(|st| st.effect == super::Effect::Allow));
    level.is_empty() || (gaps && !allows)
}

fn allow_all() -> Policy {
    Policy {
        version: Some("2012-10-17".to_string()),
        id: None,
        statements: vec![Arc::new(super::Statement {
            sid: None,
            effect: super::Effect::Allow,
            principal: Some(super::policy::Matcher::Is(super::Principal::Any)),
            action: Some(super::policy::Matcher::Is(vec!["*".to_string()])),
            resource: Some(super::policy::Matcher::Is(vec!["*".to_string()])),
            conditions: Vec::new(),
        })],
    }
}

fn kind_label(kind: OrganizationPolicyKind) -> &'static str {
    match kind {
        OrganizationPolicyKind::ServiceControlPolicy => "SCP",
        OrganizationPolicyKind::ResourceControlPolicy => "RCP",
    }
}

/// Every document of the snapshot that does not parse, named by its owner.
fn unparsed(s: &Snapshot) -> Vec<String> {
    let inline = |owner: &str, list: &[crate::model::InlinePolicy]| -> Vec<String> {
        list.iter()
            .filter(|p| p.document.policy().is_err())
            .map(|p| format!("inline policy `{}` of `{owner}`", p.name))
            .collect()
    };
    let mut out = Vec::new();
    for r in &s.roles {
        if r.trust_policy.policy().is_err() {
            out.push(format!("trust policy of `{}`", r.arn));
        }
        out.extend(inline(&r.arn, &r.inline_policies));
    }
    for u in &s.users {
        out.extend(inline(&u.arn, &u.inline_policies));
    }
    for g in &s.groups {
        out.extend(inline(&g.arn, &g.inline_policies));
    }
    let documents = s
        .managed_policies
        .iter()
        .map(|p| (p.arn.as_str(), Some(&p.document)))
        .chain(
            s.organization
                .policies
                .iter()
                .map(|p| (p.arn.as_str(), Some(&p.document))),
        )
        .chain(s.resources.iter().map(|r| (r.arn.as_str(), r.policy.as_ref())))
        .chain(s.event_buses.iter().map(|b| (b.arn.as_str(), b.policy.as_ref())))
        .chain(s.functions.iter().map(|f| (f.arn.as_str(), f.policy.as_ref())));
    for (owner, doc) in documents {
        if doc.is_some_and(|d| d.policy().is_err()) {
            out.push(format!("policy of `{owner}`"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! The store's assembly of what applies to a principal: SCP exemptions, organization policy
    //! levels and their defaults, evidence names, documents left out. The evaluation itself is
    //! tested in `src/iam/eval/`.

    use super::*;
    use crate::iam::eval::{Decision, DenyReason, Request, StatementRef, evaluate};
    use serde_json::{Value, json};

    const OWN: &str = "111111111111";
    const MGMT: &str = "999999999999";
    const ROLE: &str = "arn:aws:iam::111111111111:role/worker";
    const LINKED: &str = "arn:aws:iam::111111111111:role/aws-service-role/sqs.amazonaws.com/AWSServiceRoleForSQS";
    const MGMT_ROLE: &str = "arn:aws:iam::999999999999:role/admin";
    const QUEUE: &str = "arn:aws:sqs:us-east-2:111111111111:q";

    fn doc(effect: &str, action: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]})
    }

    fn role(arn: &str, account: &str) -> Value {
        let name = arn.rsplit('/').next().unwrap_or("");
        json!({"arn": arn, "account": account, "name": name, "trust_policy": {"Version": "2012-10-17", "Statement": []},
               "inline_policies": [{"name": "admin", "document": doc("Allow", "*")}]})
    }

    /// An organization `o-abc` (root `r-1`, unit `ou-x` holding `OWN`, `MGMT` under the root as
    /// its management account) with these organization policies, roles and coverage gaps.
    fn snapshot(policies: Value, gaps: &[&str]) -> Snapshot {
        let gaps: Vec<Value> = gaps
            .iter()
            .map(|api| json!({"api": api, "error_code": "AccessDeniedException", "message": "denied"}))
            .collect();
        serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {
                "id": "o-abc", "management_account": MGMT,
                "units": [{"id": "r-1", "name": "Root"}, {"id": "ou-x", "name": "x", "parent": "r-1"}],
                "accounts": [{"id": OWN, "name": "a", "parent": "ou-x"}, {"id": MGMT, "name": "m", "parent": "r-1"}],
                "policies": policies
            },
            "roles": [role(ROLE, OWN), role(LINKED, OWN), role(MGMT_ROLE, MGMT)],
            "coverage": {"gaps": gaps}
        }))
        .unwrap()
    }

    fn org_policy(id: &str, name: &str, kind: &str, document: Value, targets: &[&str]) -> Value {
        json!({"id": id, "arn": format!("arn:aws:organizations::{MGMT}:policy/o-abc/{id}"), "name": name,
               "kind": kind, "document": document, "targets": targets})
    }

    fn full_access(targets: &[&str]) -> Value {
        org_policy(
            "p-full",
            "FullAWSAccess",
            "SERVICE_CONTROL_POLICY",
            doc("Allow", "*"),
            targets,
        )
    }

    /// `principal` calls `action` on a queue of its own account (no queue policy).
    fn decides(s: &Snapshot, principal: &str, action: &str) -> (Decision, Vec<String>) {
        let store = PolicyStore::new(s);
        let account = principal.split(':').nth(4).unwrap_or("");
        let set = store.policy_set(principal, Some(account), None).unwrap();
        let ctx = store.principal_context(principal, Some("o-abc")).unwrap();
        let queue = format!("arn:aws:sqs:us-east-2:{account}:q");
        let req = Request {
            principal,
            principal_account: account,
            action,
            resource: &queue,
            resource_account: Some(account),
            context: &ctx,
        };
        (evaluate(&req, &set), set.assumed.clone())
    }

    fn allowed(d: &Decision) -> bool {
        matches!(d, Decision::Allowed { .. })
    }

    /// SCPs do not affect service-linked roles, nor users and roles of the management account
    /// (their Deny statements included).
    /// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
    /// ("Tasks and entities not restricted by SCPs")
    #[test]
    fn quiet_scps_do_not_limit_service_linked_roles_or_the_management_account() {
        let s = snapshot(
            json!([
                full_access(&["r-1", "ou-x", OWN, MGMT]),
                org_policy(
                    "p-deny",
                    "deny-sqs",
                    "SERVICE_CONTROL_POLICY",
                    doc("Deny", "sqs:*"),
                    &["r-1"]
                )
            ]),
            &[],
        );
        // Fires: an ordinary role of a member account.
        assert!(matches!(
            decides(&s, ROLE, "sqs:SendMessage").0,
            Decision::Denied(DenyReason::Explicit(_))
        ));
        // Quiet: the service-linked role, and a role of the management account.
        assert!(allowed(&decides(&s, LINKED, "sqs:SendMessage").0));
        assert!(allowed(&decides(&s, MGMT_ROLE, "sqs:SendMessage").0));
    }

    /// Every level of the path needs an allowing SCP. Where a coverage gap on the organization's
    /// policy APIs may hide attachments, a level whose recorded SCPs allow nothing is taken to
    /// hold `FullAWSAccess` (attached by AWS to every root, unit and account by default), and
    /// this is said; a level with a recorded Allow is taken as recorded. Without such a gap the
    /// recorded attachments decide.
    /// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    #[test]
    fn near_miss_a_policy_coverage_gap_assumes_full_access_only_where_no_allow_is_recorded() {
        let policies = json!([
            full_access(&["r-1", OWN]),
            org_policy(
                "p-deny",
                "deny-sqs",
                "SERVICE_CONTROL_POLICY",
                doc("Deny", "sqs:*"),
                &["ou-x"]
            )
        ]);
        // Without a gap: ou-x records only a Deny, so it allows nothing.
        let (d, assumed) = decides(&snapshot(policies.clone(), &[]), ROLE, "logs:GetLogEvents");
        assert_eq!(d, Decision::Denied(DenyReason::Scp(1)));
        assert!(assumed.is_empty(), "{assumed:?}");
        // A gap on an API that does not list organization policies changes nothing.
        let (d, _) = decides(
            &snapshot(policies.clone(), &["lambda:ListFunctions"]),
            ROLE,
            "logs:GetLogEvents",
        );
        assert_eq!(d, Decision::Denied(DenyReason::Scp(1)));
        for api in [
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ] {
            let (d, assumed) = decides(&snapshot(policies.clone(), &[api]), ROLE, "logs:GetLogEvents");
            assert!(allowed(&d), "{api}: {d:?}");
            assert_eq!(assumed.len(), 1, "{api}: {assumed:?}");
            assert!(assumed.iter().all(|a| a.contains("`ou-x`")), "{api}: {assumed:?}");
            // The recorded Deny still applies.
            assert!(
                decides(&snapshot(policies.clone(), &[api]), ROLE, "sqs:SendMessage")
                    .0
                    .is_denied()
            );
        }
    }

    /// RCPs apply at every level of the resource account's path; AWS attaches
    /// `RCPFullAWSAccess` to every root, unit and account, so a level without a recorded RCP
    /// is taken to allow everything (and is not an SCP assumption). Evidence names the kind.
    /// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
    #[test]
    fn fires_an_rcp_deny_is_named_as_an_rcp_and_unrecorded_rcp_levels_allow() {
        let policies = json!([
            full_access(&["r-1", "ou-x", OWN, MGMT]),
            org_policy(
                "p-rcp-full",
                "RCPFullAWSAccess",
                "RESOURCE_CONTROL_POLICY",
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
                &["ou-x"]
            ),
            org_policy(
                "p-rcp",
                "no-delete",
                "RESOURCE_CONTROL_POLICY",
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "sqs:DeleteQueue", "Resource": "*"}]}),
                &["ou-x"]
            )
        ]);
        let s = snapshot(policies, &[]);
        let (d, assumed) = decides(&s, ROLE, "sqs:DeleteQueue");
        assert_eq!(
            d,
            Decision::Denied(DenyReason::Explicit(StatementRef {
                policy: "RCP `no-delete`".into(),
                statement: "NoDelete".into()
            }))
        );
        // Every SCP level is recorded: nothing assumed, though the RCP levels r-1 and OWN are not.
        assert!(assumed.is_empty(), "{assumed:?}");
        assert!(allowed(&decides(&s, ROLE, "sqs:SendMessage").0));
        let store = PolicyStore::new(&s);
        let set = store.policy_set(ROLE, Some(OWN), None).unwrap();
        let names: Vec<Vec<&str>> = set.rcps.iter().map(|l| l.iter().map(|n| n.name).collect()).collect();
        assert_eq!(
            names,
            [
                vec!["RCP `FullAWSAccess` (default, not recorded)"],
                vec!["RCP `RCPFullAWSAccess`", "RCP `no-delete`"],
                vec!["RCP `FullAWSAccess` (default, not recorded)"]
            ]
        );
        let scps: Vec<Vec<&str>> = set.scps.iter().map(|l| l.iter().map(|n| n.name).collect()).collect();
        assert_eq!(scps, vec![vec!["SCP `FullAWSAccess`"]; 3]);
        assert_eq!(store.rcp_statements(OWN).len(), 4);
        // A resource account outside the organization has no RCP levels.
        assert!(
            store
                .policy_set(ROLE, Some("333333333333"), None)
                .unwrap()
                .rcps
                .is_empty()
        );
    }

    /// Units whose parents form a cycle (no AWS organization can: its units form a tree) end the
    /// path at the first unit seen twice instead of repeating it.
    #[test]
    fn near_miss_cyclic_units_end_the_path() {
        let s: Snapshot = serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {
                "id": "o-abc",
                "units": [{"id": "ou-a", "name": "a", "parent": "ou-b"}, {"id": "ou-b", "name": "b", "parent": "ou-a"}],
                "accounts": [{"id": OWN, "name": "a", "parent": "ou-a"}],
                "policies": [full_access(&["ou-a"])]
            },
            "roles": [role(ROLE, OWN)]
        }))
        .unwrap();
        let store = PolicyStore::new(&s);
        assert_eq!(store.org_paths.get(OWN).map(String::as_str), Some("o-abc/ou-b/ou-a/"));
        let set = store.policy_set(ROLE, Some(OWN), None).unwrap();
        assert_eq!(set.scps.len(), 3);
    }

    /// Managed policies and resource policies are found by ARN and named for evidence.
    #[test]
    fn managed_and_resource_policies_are_found_by_arn() {
        let fun = "arn:aws:lambda:us-east-2:111111111111:function:f";
        let s: Snapshot = serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {"accounts": []},
            "managed_policies": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "name": "ReadOnlyAccess", "document": doc("Allow", "s3:Get*")}],
            "resources": [
                {"arn": QUEUE, "kind": "sqs-queue", "account": OWN, "region": "us-east-2", "policy": doc("Allow", "sqs:*")},
                {"arn": "arn:aws:sqs:us-east-2:111111111111:no-policy", "kind": "sqs-queue", "account": OWN, "region": "us-east-2"}
            ],
            "functions": [{"arn": fun, "account": OWN, "region": "us-east-2", "name": "f", "role": ROLE, "policy": doc("Allow", "lambda:InvokeFunction")}]
        }))
        .unwrap();
        let store = PolicyStore::new(&s);
        let managed = store.managed("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
        assert_eq!(managed.name, "arn:aws:iam::aws:policy/ReadOnlyAccess");
        assert_eq!(managed.policy.statements.len(), 1);
        assert!(store.managed("arn:aws:iam::aws:policy/Other").is_none());
        let queue = store.resource_policy(QUEUE).unwrap();
        assert_eq!(queue.name, format!("resource policy of `{QUEUE}`"));
        assert_eq!(queue.policy.statements.len(), 1);
        assert!(
            store
                .resource_policy("arn:aws:sqs:us-east-2:111111111111:no-policy")
                .is_none()
        );
        let mut arns: Vec<&str> = store.resource_policies().map(|(arn, _)| arn).collect();
        arns.sort_unstable();
        assert_eq!(arns, [fun, QUEUE]);
        assert!(store.unparsed().is_empty());
    }

    /// A snapshot built in memory may hold documents that do not parse: each is left out of the
    /// policies and listed by owner.
    #[test]
    fn unparsed_documents_are_left_out_and_listed_by_owner() {
        let bad =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]});
        let s: Snapshot = serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {"accounts": []},
            "roles": [{"arn": ROLE, "account": OWN, "name": "worker", "trust_policy": doc("Allow", "sts:AssumeRole"),
                       "inline_policies": [{"name": "good", "document": doc("Allow", "sqs:*")}, {"name": "broken", "document": bad}]}],
            "managed_policies": [{"arn": "arn:aws:iam::111111111111:policy/broken", "name": "broken", "document": bad}],
            "resources": [{"arn": QUEUE, "kind": "sqs-queue", "account": OWN, "region": "us-east-2", "policy": bad}]
        }))
        .unwrap();
        let store = PolicyStore::new(&s);
        assert_eq!(
            store.unparsed(),
            [
                format!("inline policy `broken` of `{ROLE}`"),
                "policy of `arn:aws:iam::111111111111:policy/broken`".to_string(),
                format!("policy of `{QUEUE}`"),
            ]
        );
        let identity = store.identity_policies(ROLE).unwrap();
        let names: Vec<&str> = identity.iter().map(|n| n.name).collect();
        assert_eq!(names, [format!("inline policy `good` of `{ROLE}`")]);
        assert!(store.managed("arn:aws:iam::111111111111:policy/broken").is_none());
        assert!(store.resource_policy(QUEUE).is_none());
    }
}
