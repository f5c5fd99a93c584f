//! `agent-space-reconfigurable`: a principal other than the declared platform administrators can
//! change what an Agent Space reaches. With `aidevops:AssociateService`, `UpdateAssociation` or
//! `UpdateAgentSpace` on the space and `iam:PassRole` of a role to `aidevops.amazonaws.com`, it
//! can point the space at that role, and every investigation (and every approved elevated
//! action) then runs with that role's permissions: an escalation edge into incident access.
//!
//! Both halves are decided by the IAM engine ([`evaluate`]) with the principal's identity
//! policies, boundary and SCPs; `iam:PassRole` is evaluated with `iam:PassedToService` set to the
//! DevOps Agent service.
//!
//! A role or user that holds both halves (a *holder*) is reported itself, and so is every
//! principal that reaches a holder role through a chain of `sts:AssumeRole` (the reachability of
//! [`crate::iam::reach`], at most [`MAX_CHAIN`] roles, each hop confirmed with the caller's own
//! policies and the trust policy), with the chain in the evidence. A trust that names an
//! account, the organization or anyone is a synthetic caller ("any principal that account X's
//! administrators allow"): when it may be outside the trusting role's account it is reported
//! too, since the snapshot cannot prove that nobody there holds the permission, unless the role
//! it trusts is itself a platform administrator (who may assume an administrator role is the
//! administrators' decision). The administrators of the role's own account are not reported:
//! they can grant themselves anything in that account already. The concrete principals of the
//! snapshot behind a synthetic caller are followed either way. Administrators are never reported, but chains
//! through them are followed: whoever can assume an administrator role is not one.

use super::{Check, Context, Evidence, Finding, Input, Meta, Severity, Status};
use crate::graph::{AGENT_SERVICE, Topology};
use crate::iam::eval::{Decision, Request, StatementRef, evaluate};
use crate::iam::policy::Effect;
use crate::iam::reach::{Caller, MAX_CHAIN};
use crate::iam::store::PolicyStore;
use crate::model::AgentSpace;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

pub struct AgentSpaceReconfigurable;

/// The actions that change what a space reaches.
const CHANGES: &[&str] = &[
    "aidevops:AssociateService",
    "aidevops:UpdateAssociation",
    "aidevops:UpdateAgentSpace",
];

/// One allowed step of the chain: the action, the resource, the granting statements and the
/// condition keys it depends on.
#[derive(Clone)]
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

/// Roles a principal could hand to the service, by account: every role that trusts
/// `aidevops.amazonaws.com` (a role that does not trust it cannot be assumed by the space), sorted.
/// Computed once for all principals and spaces.
fn agent_roles<'s>(store: &PolicyStore<'s>) -> HashMap<&'s str, Vec<&'s str>> {
    let mut out: HashMap<&'s str, Vec<&'s str>> = HashMap::new();
    for (arn, rp) in &store.roles {
        let trusts_agent = rp.trust.policy.statements.iter().any(|st| {
            st.principal
                .as_ref()
                .is_some_and(|p| p.inner().values("Service").contains(&AGENT_SERVICE))
        });
        if trusts_agent {
            out.entry(rp.role.account.as_str()).or_default().push(*arn);
        }
    }
    for roles in out.values_mut() {
        roles.sort_unstable();
    }
    out
}

/// The role a principal can pass to the service (the second half of the chain), whatever the
/// space: the allowed `iam:PassRole` with the fewest unknown condition keys.
fn pass_role(
    t: &Topology<'_>,
    agent_roles: &HashMap<&str, Vec<&str>>,
    (principal, account): (&str, &str),
) -> Option<Step> {
    let org = t.organization_id();
    agent_roles
        .get(account)
        .into_iter()
        .flatten()
        .filter_map(|role| {
            allowed(
                &t.policies,
                org,
                principal,
                account,
                ("iam:PassRole", role, account),
                &[("iam:PassedToService", AGENT_SERVICE)],
            )
        })
        .min_by_key(|s| s.keys.len())
}

/// The change a principal can make to a space (the first half of the chain), with the fewest
/// unknown condition keys.
fn change(t: &Topology<'_>, (principal, account): (&str, &str), space: &AgentSpace) -> Option<Step> {
    let org = t.organization_id();
    CHANGES
        .iter()
        .filter_map(|a| {
            allowed(
                &t.policies,
                org,
                principal,
                account,
                (a, &space.arn, &space.account),
                &[],
            )
        })
        .min_by_key(|s| s.keys.len())
}

fn label(s: &Step) -> String {
    let by: Vec<String> = s
        .grants
        .iter()
        .map(|g| format!("{} {}", g.policy, g.statement))
        .collect();
    format!("{} on {} ({})", s.action, s.resource, by.join(", "))
}

/// True when an Allow statement of the principal's identity policies names one of `actions`.
/// Neither the space nor a passed role has a resource policy in [`allowed`]'s requests, so only
/// an identity policy can allow them: a principal without such a statement is denied both
/// halves whatever the resource, and is not evaluated further.
fn may_allow(store: &PolicyStore<'_>, principal: &str, actions: &[&str]) -> bool {
    store.identity_policies(principal).is_some_and(|policies| {
        policies.iter().any(|np| {
            np.policy
                .statements
                .iter()
                .any(|st| st.effect == Effect::Allow && actions.iter().any(|a| st.allows_action(a)))
        })
    })
}

/// Every principal of the snapshot that may hold both halves (see [`may_allow`]): roles and
/// users, sorted by ARN, with their account.
fn principals<'s>(t: &Topology<'s>) -> Vec<(&'s str, &'s str)> {
    let roles = t.iam_roles().iter().map(|r| (r.arn.as_str(), r.account.as_str()));
    let users = t.iam_users().iter().map(|u| (u.arn.as_str(), u.account.as_str()));
    let store = &t.policies;
    let mut out: Vec<_> = roles
        .chain(users)
        .filter(|(p, _)| may_allow(store, p, CHANGES) && may_allow(store, p, &["iam:PassRole"]))
        .collect();
    out.sort_unstable();
    out
}

/// How a principal reaches a holder: the chain (principal first, holder last), each hop's
/// trust statement, and the unknown condition keys the hops depend on.
#[derive(Clone)]
struct Route {
    caller: Caller,
    path: Vec<String>,
    statements: Vec<String>,
    keys: Vec<String>,
}

/// Every principal that reaches one of `holders` (roles) through assumptions, with its shortest
/// chain: a breadth-first walk backwards from the holders over the trust edges (confirmed like
/// [`crate::iam::reach::Reach::reachable_from`] confirms them forwards). Holders themselves are
/// not in the result.
fn routes(t: &Topology<'_>, holders: &BTreeSet<&str>) -> Vec<Route> {
    let iam = t.iam();
    let admin = |p: &str| t.is_platform_administrator(p);
    let mut seen: BTreeSet<String> = holders.iter().map(|h| h.to_string()).collect();
    let mut queue: VecDeque<Route> = holders
        .iter()
        .filter(|h| iam.store.roles.contains_key(**h))
        .map(|h| Route {
            caller: Caller::Principal(h.to_string()),
            path: vec![h.to_string()],
            statements: Vec::new(),
            keys: Vec::new(),
        })
        .collect();
    let mut out = Vec::new();
    while let Some(route) = queue.pop_front() {
        let Some(role) = route.path.first().cloned() else {
            continue;
        };
        if route.path.len() > MAX_CHAIN {
            continue;
        }
        for a in iam.reach.assumers(&role) {
            let behind = match &a.caller {
                Caller::Service(_) => continue,
                Caller::Principal(_) => vec![a.clone()],
                _ => {
                    let outside = iam
                        .store
                        .role(&role)
                        .is_some_and(|rp| a.caller.is_outside(&rp.role.account));
                    if outside && !admin(&role) && seen.insert(a.principal.clone()) {
                        out.push(route.extended(a.caller.clone(), a));
                    }
                    iam.reach.concrete_behind(iam.store, a, &role)
                }
            };
            for b in behind {
                if !seen.insert(b.principal.clone()) {
                    continue;
                }
                let next = route.extended(b.caller.clone(), &b);
                if iam.store.roles.contains_key(b.principal.as_str()) {
                    queue.push_back(next.clone());
                }
                if !admin(&b.principal) {
                    out.push(next);
                }
            }
        }
    }
    out
}

impl Route {
    /// This route with one more hop in front: `caller` assumes the route's first role.
    fn extended(&self, caller: Caller, a: &crate::iam::reach::Assumer) -> Route {
        let mut path = vec![a.principal.clone()];
        path.extend(self.path.iter().cloned());
        let mut statements = vec![a.statement.clone()];
        statements.extend(self.statements.iter().cloned());
        let mut keys = self.keys.clone();
        keys.extend(a.conditional_on.iter().cloned());
        keys.sort();
        keys.dedup();
        Route {
            caller,
            path,
            statements,
            keys,
        }
    }

    /// `can-assume` evidence for each hop.
    fn evidence(&self) -> Vec<Evidence> {
        self.path
            .windows(2)
            .zip(&self.statements)
            .filter_map(|(pair, st)| match pair {
                [from, to] => Some(Evidence::new(
                    "can-assume",
                    from.clone(),
                    Some(to.clone()),
                    format!("trust policy statement {st} of `{to}`"),
                )),
                _ => None,
            })
            .collect()
    }

    fn shown(&self) -> String {
        self.path
            .iter()
            .skip(1)
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

impl AgentSpaceReconfigurable {
    fn finding(
        &self,
        t: &Topology<'_>,
        view: &crate::graph::SpaceView<'_>,
        space: &AgentSpace,
        route: &Route,
        (change, pass): &(Step, Step),
    ) -> Option<Finding> {
        let ix = t.find(&space.arn)?;
        let app = t.app_name(view.app);
        let who = match (&route.caller, route.path.len()) {
            (Caller::Principal(p), 1) => format!("`{p}` is not a platform administrator but"),
            (Caller::Principal(p), _) => format!(
                "`{p}` is not a platform administrator but, by assuming {},",
                route.shown()
            ),
            (c, _) => format!(
                "{}, by assuming {} (its trust names them; no principal in the snapshot needs to hold the permission today),",
                c.describe(),
                route.shown()
            ),
        };
        let holder = route.path.last().cloned().unwrap_or_default();
        let principal = route.caller.id();
        let mut f = META.finding(
            t.node(ix),
            format!(
                "{who} can reconfigure Agent Space `{}` of `{app}`: `{}` on the space, then `iam:PassRole` of `{}` to `{AGENT_SERVICE}`; the space would then investigate with that role",
                space.arn, change.action, pass.resource
            ),
            if route.path.len() == 1 {
                format!(
                    "Remove `{}` and `iam:PassRole` to `{AGENT_SERVICE}` from `{principal}` (or deny them with a permission boundary or SCP), or list it under `[platform] administrators` if it runs the platform.",
                    change.action
                )
            } else {
                format!(
                    "Remove `{}` and `iam:PassRole` to `{AGENT_SERVICE}` from `{holder}`, or stop `{principal}` from assuming {} (trust policy or its own permissions), or list it under `[platform] administrators` if it runs the platform.",
                    change.action,
                    route.path.get(1).map_or_else(String::new, |r| format!("`{r}`"))
                )
            },
        );
        let mut keys: Vec<String> = change
            .keys
            .iter()
            .chain(&pass.keys)
            .chain(&route.keys)
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            f.status = Status::Conditional;
            f.conditions = keys;
        }
        f.applications = vec![app.to_string()];
        f.evidence = route.evidence();
        f.evidence.extend([
            Evidence::new("grants", holder.clone(), Some(space.arn.clone()), label(change)),
            Evidence::new("grants", holder, Some(pass.resource.clone()), label(pass)),
            Evidence::new(
                "can-assume",
                space.arn.clone(),
                Some(pass.resource.clone()),
                "after the change, the space assumes the passed role",
            ),
        ]);
        Some(f)
    }
}

const META: Meta = Meta {
    id: "agent-space-reconfigurable",
    title: "Agent Space reconfigurable by a non-administrator",
    description: "A role or user not listed under `[platform] administrators` can run `aidevops:AssociateService`, `aidevops:UpdateAssociation` or `aidevops:UpdateAgentSpace` on an Agent Space and `iam:PassRole` (with `iam:PassedToService` = `aidevops.amazonaws.com`) on a role the service may assume, itself or through a chain of role assumptions (synthetic callers such as an account's administrators included). It can then point the space at that role: an escalation path into incident access, shown as a chain.",
    severity: Severity::High,
    inputs: &[Input::Iam, Input::Organization, Input::AgentSpaces],
};

impl Check for AgentSpaceReconfigurable {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        let agent_roles = agent_roles(&t.policies);
        // The passable role does not depend on the space: decided once per principal.
        let passes: Vec<(&str, &str, Step)> = principals(t)
            .into_iter()
            .filter_map(|(p, account)| Some((p, account, pass_role(t, &agent_roles, (p, account))?)))
            .collect();
        for view in t.agent_spaces() {
            let Some(space) = view.existing else { continue };
            let holders: BTreeMap<&str, (Step, Step)> = passes
                .iter()
                .filter_map(|(p, account, pass)| Some((*p, (change(t, (p, account), space)?, pass.clone()))))
                .collect();
            for (principal, steps) in &holders {
                if t.is_platform_administrator(principal) {
                    continue;
                }
                let direct = Route {
                    caller: Caller::Principal(principal.to_string()),
                    path: vec![principal.to_string()],
                    statements: Vec::new(),
                    keys: Vec::new(),
                };
                out.extend(self.finding(t, &view, space, &direct, steps));
            }
            let names: BTreeSet<&str> = holders.keys().copied().collect();
            for route in routes(t, &names) {
                let steps = route.path.last().and_then(|h| holders.get(h.as_str()));
                if let Some(steps) = steps {
                    out.extend(self.finding(t, &view, space, &route, steps));
                }
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

    /// A platform administrator holding both halves, trusted by `trusted`, and `developer`
    /// allowed `developer_policy`.
    fn admin_chain(trusted: &str, developer_policy: Value) -> Value {
        let mut s = org();
        add_role(
            &mut s,
            INVOICE,
            "agent-target",
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            allow(&["lambda:UpdateFunctionConfiguration"], "*"),
        );
        add_role(&mut s, INVOICE, "platform-admin", trust(trusted), both(json!({})));
        add_role(
            &mut s,
            INVOICE,
            "developer",
            trust("arn:aws:iam::111111111111:root"),
            developer_policy,
        );
        add_invoice_space(&mut s, &[]);
        s
    }

    // A principal with sts:AssumeRole on a role whose trust names it gets that role's
    // permissions: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
    #[test]
    fn fires_through_a_chain_of_assumptions_into_an_administrator_role() {
        let s = admin_chain(
            "arn:aws:iam::111111111111:role/developer",
            allow(&["sts:AssumeRole"], "arn:aws:iam::111111111111:role/platform-admin"),
        );
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(f[0].message.contains("role/developer` is not a platform administrator but, by assuming `arn:aws:iam::111111111111:role/platform-admin`"), "{}", f[0].message);
        let hop = &f[0].evidence[0];
        assert_eq!(
            (hop.relation.as_str(), hop.from.as_str(), hop.to.as_deref()),
            (
                "can-assume",
                "arn:aws:iam::111111111111:role/developer",
                Some("arn:aws:iam::111111111111:role/platform-admin")
            )
        );
        assert_eq!(f[0].evidence[1].from, "arn:aws:iam::111111111111:role/platform-admin");
    }

    #[test]
    fn fires_through_two_hops_with_the_whole_chain() {
        let mut s = admin_chain(
            "arn:aws:iam::111111111111:role/developer",
            allow(&["sts:AssumeRole"], "arn:aws:iam::111111111111:role/platform-admin"),
        );
        add_role(
            &mut s,
            INVOICE,
            "ci",
            trust("arn:aws:iam::111111111111:role/developer"),
            allow(&["s3:ListAllMyBuckets"], "*"),
        );
        // developer trusts its account: ci reaches it with its own `sts:AssumeRole` (the
        // concrete principal behind the account trust).
        let ci = s["roles"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["name"] == "ci")
            .unwrap();
        ci["inline_policies"] = json!([{"name": "hop", "document": allow(&["sts:AssumeRole"], "arn:aws:iam::111111111111:role/developer")}]);
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        let ci = f
            .iter()
            .find(|f| f.message.starts_with("`arn:aws:iam::111111111111:role/ci`"))
            .unwrap_or_else(|| panic!("{f:#?}"));
        let hops: Vec<(&str, Option<&str>)> = ci
            .evidence
            .iter()
            .filter(|e| e.relation == "can-assume")
            .map(|e| (e.from.as_str(), e.to.as_deref()))
            .collect();
        assert_eq!(
            hops,
            vec![
                (
                    "arn:aws:iam::111111111111:role/ci",
                    Some("arn:aws:iam::111111111111:role/developer")
                ),
                (
                    "arn:aws:iam::111111111111:role/developer",
                    Some("arn:aws:iam::111111111111:role/platform-admin")
                ),
                (SPACE, Some("arn:aws:iam::111111111111:role/agent-target")),
            ]
        );
        assert_eq!(f.len(), 2, "developer and ci: {f:#?}");
    }

    // A trust naming another account's root lets in whatever principal that account's
    // administrators allow (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
    #[test]
    fn fires_for_the_administrators_of_another_account_trusted_by_a_holder() {
        let mut s = setup(
            "deployer",
            both(json!({"StringEquals": {"iam:PassedToService": "aidevops.amazonaws.com"}})),
        );
        let deployer = s["roles"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["name"] == "deployer")
            .unwrap();
        deployer["trust_policy"] = trust("arn:aws:iam::222222222222:root");
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 2, "{f:#?}");
        let synthetic = f
            .iter()
            .find(|f| f.message.starts_with("any principal that account `222222222222`"))
            .unwrap_or_else(|| panic!("{f:#?}"));
        assert_eq!(synthetic.evidence[0].from, "arn:aws:iam::222222222222:root");
        assert_eq!(
            synthetic.evidence[0].to.as_deref(),
            Some("arn:aws:iam::111111111111:role/deployer")
        );
    }

    #[test]
    fn quiet_when_only_administrators_reach_the_holder() {
        // The administrator role trusts its own account and another's: who may assume an
        // administrator role is the administrators' decision, and no role of the snapshot can.
        let s = admin_chain("arn:aws:iam::222222222222:root", allow(&["s3:ListAllMyBuckets"], "*"));
        assert_eq!(run_with(&AgentSpaceReconfigurable, &s, CONFIG), vec![]);
    }

    #[test]
    fn near_miss_trusted_from_another_account_without_permission_to_assume_is_quiet() {
        // The administrator role trusts a role of another account, which may not call
        // `sts:AssumeRole`: across accounts both the trust and the caller's own policy must
        // allow it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
        // The invoice developer may call it but is not trusted.
        let mut s = admin_chain(
            "arn:aws:iam::222222222222:role/developer",
            allow(&["sts:AssumeRole"], "arn:aws:iam::111111111111:role/platform-admin"),
        );
        add_role(
            &mut s,
            CHECKOUT,
            "developer",
            trust("arn:aws:iam::222222222222:root"),
            allow(&["s3:ListAllMyBuckets"], "*"),
        );
        assert_eq!(run_with(&AgentSpaceReconfigurable, &s, CONFIG), vec![]);
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

    /// The role ARN of `name` in invoice's account.
    fn role(name: &str) -> String {
        format!("arn:aws:iam::111111111111:role/{name}")
    }

    // docs/checks.md: the finding shows the chain: principal, change on the space (the
    // statement granting it), role passed (the statement granting it), the space assuming it.
    #[test]
    fn fires_with_evidence_naming_each_granted_step_and_its_statement() {
        let s = setup("developer", both(json!({})));
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 1, "{f:#?}");
        let grants: Vec<_> = f[0].evidence.iter().filter(|e| e.relation == "grants").collect();
        assert_eq!(grants.len(), 2, "{f:#?}");
        assert_eq!(grants[0].to.as_deref(), Some(SPACE));
        assert!(
            grants[0].detail.contains("aidevops:UpdateAssociation") && grants[0].detail.contains(SPACE),
            "{}",
            grants[0].detail
        );
        assert_eq!(grants[1].to.as_deref(), Some(role("agent-target").as_str()));
        assert!(
            grants[1].detail.contains("iam:PassRole") && grants[1].detail.contains(&role("agent-target")),
            "{}",
            grants[1].detail
        );
        // The granting policy of the holder (`p`, see `add_role`) is named in both.
        assert!(grants.iter().all(|g| g.detail.contains("policy `p`")), "{grants:#?}");
        // A direct holder is told to lose the permissions, not to stop assuming anything.
        assert!(
            f[0].remediation.contains(&format!("from `{}`", role("developer"))),
            "{}",
            f[0].remediation
        );
        assert!(!f[0].remediation.contains("assuming"), "{}", f[0].remediation);
    }

    #[test]
    fn near_miss_a_chain_is_fixed_at_its_first_hop_or_at_the_holder() {
        let s = admin_chain(&role("developer"), allow(&["sts:AssumeRole"], &role("platform-admin")));
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 1, "{f:#?}");
        let r = &f[0].remediation;
        assert!(r.contains(&format!("from `{}`", role("platform-admin"))), "{r}");
        assert!(
            r.contains(&format!(
                "stop `{}` from assuming `{}`",
                role("developer"),
                role("platform-admin")
            )),
            "{r}"
        );
    }

    // docs/checks.md: chains of at most five roles (`MAX_CHAIN`). Role `hop-1` may assume the
    // holder, `hop-2` may assume `hop-1`, and so on: `hop-5` reaches the holder by assuming five
    // roles and is reported; `hop-6` would need six and is not.
    #[test]
    fn near_miss_a_chain_longer_than_five_roles_is_not_followed() {
        use crate::iam::reach::MAX_CHAIN;
        let mut s = setup("holder", both(json!({})));
        let holder = s["roles"].as_array_mut().unwrap().last_mut().unwrap();
        holder["trust_policy"] = trust(&role("hop-1"));
        for i in 1..=MAX_CHAIN + 1 {
            let next = role(&format!("hop-{}", i + 1));
            let target = if i == 1 {
                role("holder")
            } else {
                role(&format!("hop-{}", i - 1))
            };
            add_role(
                &mut s,
                INVOICE,
                &format!("hop-{i}"),
                trust(&next),
                allow(&["sts:AssumeRole"], &target),
            );
        }
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        let reported = |name: &str| f.iter().any(|f| f.message.starts_with(&format!("`{}`", role(name))));
        assert!(reported("holder"), "{f:#?}");
        assert!(reported(&format!("hop-{MAX_CHAIN}")), "{f:#?}");
        assert!(!reported(&format!("hop-{}", MAX_CHAIN + 1)), "{f:#?}");
        assert_eq!(f.len(), MAX_CHAIN + 1, "{f:#?}");
    }

    // A service principal in a trust policy is the service itself, not a principal of any
    // account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services):
    // it reconfigures nothing.
    #[test]
    fn quiet_for_a_service_the_holder_trusts() {
        let mut s = setup("developer", both(json!({})));
        let dev = s["roles"].as_array_mut().unwrap().last_mut().unwrap();
        dev["trust_policy"] = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let f = run_with(&AgentSpaceReconfigurable, &s, CONFIG);
        assert_eq!(f.len(), 1, "only the holder itself: {f:#?}");
        assert!(
            f[0].message.starts_with(&format!("`{}`", role("developer"))),
            "{}",
            f[0].message
        );
    }
}
