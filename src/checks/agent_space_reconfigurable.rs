//! `agent-space-reconfigurable`: a principal other than the declared platform administrators can
//! change what an Agent Space reaches. With `aidevops:AssociateService`, `UpdateAssociation` or
//! `UpdateAgentSpace` on the space and `iam:PassRole` of a role to `aidevops.amazonaws.com`, it
//! can point the space at that role, and every investigation (and every approved elevated
//! action) then runs with that role's permissions: an escalation edge into incident access.
//!
//! Both halves are decided by the IAM engine ([`evaluate`]) with the principal's identity
//! policies, boundary and SCPs; `iam:PassRole` is evaluated with `iam:PassedToService` set to the
//! DevOps Agent service.

use super::{Check, Context, Evidence, Finding, Input, Meta, Severity, Status};
use crate::graph::{AGENT_SERVICE, Topology};
use crate::iam::eval::{Decision, Request, StatementRef, evaluate};
use crate::iam::store::PolicyStore;
use crate::model::AgentSpace;

pub struct AgentSpaceReconfigurable;

/// The actions that change what a space reaches.
const CHANGES: &[&str] = &[
    "aidevops:AssociateService",
    "aidevops:UpdateAssociation",
    "aidevops:UpdateAgentSpace",
];

/// One allowed step of the chain: the action, the resource, the granting statements and the
/// condition keys it depends on.
struct Step {
    action: String,
    resource: String,
    grants: Vec<StatementRef>,
    keys: Vec<String>,
}

/// Decides `action` on `resource` (in `resource_account`) for `principal`, with the extra
/// context `extra` (key, value) pairs; `None` when denied.
fn allowed(
    store: &PolicyStore<'_>,
    org: Option<&str>,
    principal: &str,
    account: &str,
    (action, resource, resource_account): (&str, &str, &str),
    extra: &[(&str, &str)],
) -> Option<Step> {
    let mut ctx = store.principal_context(principal, org)?;
    ctx.set("aws:ResourceAccount", resource_account);
    store.resource_context(&mut ctx, resource_account);
    for (k, v) in extra {
        ctx.set(k, *v);
    }
    let set = store.policy_set(principal, Some(resource_account), None)?;
    let req = Request {
        principal,
        principal_account: account,
        action,
        resource,
        resource_account: Some(resource_account),
        context: &ctx,
    };
    let (grants, keys) = match evaluate(&req, &set) {
        Decision::Denied(_) => return None,
        Decision::Allowed { grants } => (grants, Vec::new()),
        Decision::Conditional { grants, keys } => (grants, keys),
    };
    Some(Step {
        action: action.to_string(),
        resource: resource.to_string(),
        grants,
        keys,
    })
}

/// Roles the principal could hand to the service: every role of its account that trusts
/// `aidevops.amazonaws.com` (a role that does not trust it cannot be assumed by the space).
fn agent_roles<'s>(store: &PolicyStore<'s>, account: &str) -> Vec<&'s str> {
    let mut out: Vec<&'s str> = store
        .roles
        .iter()
        .filter(|(_, rp)| rp.role.account == account)
        .filter(|(_, rp)| {
            rp.trust.policy.statements.iter().any(|st| {
                st.principal
                    .as_ref()
                    .is_some_and(|p| p.inner().values("Service").contains(&AGENT_SERVICE))
            })
        })
        .map(|(arn, _)| *arn)
        .collect();
    out.sort_unstable();
    out
}

/// The chain for one principal and space: the change it can make and a role it can pass.
fn chain(t: &Topology<'_>, principal: &str, account: &str, space: &AgentSpace) -> Option<(Step, Step)> {
    let store = &t.policies;
    let org = t.snapshot.organization.id.as_deref();
    let change = CHANGES
        .iter()
        .filter_map(|a| allowed(store, org, principal, account, (a, &space.arn, &space.account), &[]))
        .min_by_key(|s| s.keys.len())?;
    let pass = agent_roles(store, account)
        .into_iter()
        .filter_map(|role| {
            allowed(
                store,
                org,
                principal,
                account,
                ("iam:PassRole", role, account),
                &[("iam:PassedToService", AGENT_SERVICE)],
            )
        })
        .min_by_key(|s| s.keys.len())?;
    Some((change, pass))
}

fn label(s: &Step) -> String {
    let by: Vec<String> = s
        .grants
        .iter()
        .map(|g| format!("{} {}", g.policy, g.statement))
        .collect();
    format!("{} on {} ({})", s.action, s.resource, by.join(", "))
}

/// Every principal of the snapshot: roles and users, sorted by ARN, with their account.
fn principals<'s>(t: &Topology<'s>) -> Vec<(&'s str, &'s str)> {
    let roles = t.snapshot.roles.iter().map(|r| (r.arn.as_str(), r.account.as_str()));
    let users = t.snapshot.users.iter().map(|u| (u.arn.as_str(), u.account.as_str()));
    let mut out: Vec<_> = roles.chain(users).collect();
    out.sort_unstable();
    out
}

const META: Meta = Meta {
    id: "agent-space-reconfigurable",
    title: "Agent Space reconfigurable by a non-administrator",
    description: "A role or user not listed under `[platform] administrators` can run `aidevops:AssociateService`, `aidevops:UpdateAssociation` or `aidevops:UpdateAgentSpace` on an Agent Space and `iam:PassRole` (with `iam:PassedToService` = `aidevops.amazonaws.com`) on a role the service may assume. It can then point the space at that role: an escalation path into incident access, shown as a chain.",
    severity: Severity::High,
    inputs: &[Input::Iam, Input::Organization, Input::AgentSpaces],
};

impl Check for AgentSpaceReconfigurable {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        let principals = principals(t);
        for view in t.agent_spaces() {
            let Some(space) = view.existing else { continue };
            let Some(ix) = t.find(&space.arn) else { continue };
            for &(principal, account) in &principals {
                if t.config.platform.is_administrator(principal) {
                    continue;
                }
                let Some((change, pass)) = chain(t, principal, account, space) else {
                    continue;
                };
                let mut f = META.finding(
                    t.node(ix),
                    format!(
                        "`{principal}` is not a platform administrator but can reconfigure Agent Space `{}` of `{}`: `{}` on the space, then `iam:PassRole` of `{}` to `{AGENT_SERVICE}`; the space would then investigate with that role",
                        space.arn,
                        t.app_name(view.app),
                        change.action,
                        pass.resource
                    ),
                    format!(
                        "Remove `{}` and `iam:PassRole` to `{AGENT_SERVICE}` from `{principal}` (or deny them with a permission boundary or SCP), or list it under `[platform] administrators` if it runs the platform.",
                        change.action
                    ),
                );
                let mut keys: Vec<String> = change.keys.iter().chain(&pass.keys).cloned().collect();
                keys.sort();
                keys.dedup();
                if !keys.is_empty() {
                    f.status = Status::Conditional;
                    f.conditions = keys;
                }
                f.applications = vec![t.app_name(view.app).to_string()];
                f.evidence = vec![
                    Evidence::new("grants", principal, Some(space.arn.clone()), label(&change)),
                    Evidence::new("grants", principal, Some(pass.resource.clone()), label(&pass)),
                    Evidence::new(
                        "can-assume",
                        space.arn.clone(),
                        Some(pass.resource.clone()),
                        "after the change, the space assumes the passed role",
                    ),
                ];
                out.push(f);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceReconfigurable;
    use crate::checks::Status;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    const SPACE: &str = "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice";
    const CONFIG: &str = "[applications.invoice]\naccounts = [\"111111111111\"]\n[platform]\nadministrators = [\"arn:aws:iam::111111111111:role/platform-*\"]\n";

    /// The invoice space, a role the service may assume, and a principal `name` with `policy`.
    fn setup(name: &str, policy: Value) -> Value {
        let mut s = org();
        add_role(
            &mut s,
            INVOICE,
            "agent-target",
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            allow(&["lambda:UpdateFunctionConfiguration"], "*"),
        );
        add_role(&mut s, INVOICE, name, trust("arn:aws:iam::111111111111:root"), policy);
        add_invoice_space(&mut s, &[]);
        s
    }

    fn both(pass_condition: Value) -> Value {
        json!({"Statement": [
            {"Effect": "Allow", "Action": "aidevops:UpdateAssociation", "Resource": SPACE},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": pass_condition}
        ]})
    }

    // iam:PassRole is how a principal hands a role to a service; iam:PassedToService names the
    // service. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
    #[test]
    fn fires_with_update_and_pass_role_to_the_agent_service() {
        let s = setup(
            "developer",
            both(json!({"StringEquals": {"iam:PassedToService": "aidevops.amazonaws.com"}})),
        );
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(f[0].message.contains("role/developer"), "{}", f[0].message);
        assert!(f[0].message.contains("role/agent-target"), "{}", f[0].message);
        assert_eq!(f[0].evidence.len(), 3);
        // Unconditioned PassRole also counts.
        let f = run_with(&AgentSpaceReconfigurable, &setup("developer", both(json!({}))), CONFIG);
        assert_eq!(f.len(), 1, "{f:#?}");
    }

    #[test]
    fn quiet_for_platform_administrators() {
        let s = setup("platform-admin", both(json!({})));
        assert_eq!(run_with(&AgentSpaceReconfigurable, &s, CONFIG), vec![]);
    }

    #[test]
    fn near_miss_pass_role_only_to_another_service_is_quiet() {
        let s = setup(
            "developer",
            both(json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})),
        );
        assert_eq!(run_with(&AgentSpaceReconfigurable, &s, CONFIG), vec![]);
    }

    #[test]
    fn near_miss_update_without_pass_role_is_quiet() {
        let s = setup(
            "developer",
            allow(&["aidevops:UpdateAssociation", "aidevops:GetAgentSpace"], SPACE),
        );
        assert_eq!(run_with(&AgentSpaceReconfigurable, &s, CONFIG), vec![]);
    }
}
