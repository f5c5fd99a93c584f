//! `agent-space-role-overbroad`: an Agent Space role in a shared-dependency account can do more
//! than read the resources its application uses there. An investigation into one application
//! must not be able to change a dependency every other application relies on.
//!
//! The agent's sessions are capped by the DevOps Agent's guardrail (a session policy). When the
//! config names it, writes the guardrail allows too are reported as without it (high, "within
//! the guardrail"); a resource the role can write only outside the guardrail is reported low
//! ("allowed by the role but outside the guardrail"), and such writes next to writes within it
//! are `outside-guardrail` evidence.

use super::role_writes::{Writes, outside_evidence, role_writes};
use super::{Check, Context, Evidence, Finding, Input, Meta, SHOWN, Severity, app_names};
use crate::config::Guardrail;
use crate::graph::{NodeKind, Topology};
use crate::iam::capability::{RoleView, grant_labels, summarize_actions};
use crate::iam::catalog::ActionClass;
use std::collections::BTreeMap;

pub struct AgentSpaceRoleOverbroad;

const META: Meta = Meta {
    id: "agent-space-role-overbroad",
    title: "Agent Space role can change a shared dependency",
    description: "A role an Agent Space assumes in a shared-dependency account can perform Write, Permissions management or Tagging actions on a resource there that its application uses. Access into shared-dependency accounts must be read-only.",
    severity: Severity::High,
    inputs: &[
        Input::Iam,
        Input::Organization,
        Input::AgentSpaces,
        Input::ResourcePolicies,
        Input::EventBridge,
        Input::Lambda,
    ],
};

impl Check for AgentSpaceRoleOverbroad {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let catalog = match cx.catalog() {
            Ok(c) => c,
            Err(f) => return vec![*f],
        };
        let iam = t.iam();
        let org = t.organization_id();
        let mut out = Vec::new();
        // (role, application) → the space that reaches it, and whether the snapshot shows it.
        // A role the DevOps Agent service may assume for a space the snapshot does not show is
        // checked too; without an application, against what any application uses.
        let mut roles: BTreeMap<(String, Option<usize>), (String, bool)> = BTreeMap::new();
        for r in t.incident_roles() {
            let by_space = t
                .find(&r.reached_by)
                .is_some_and(|ix| t.node(ix).kind == NodeKind::AgentSpace);
            if by_space && r.application.is_some() {
                roles
                    .entry((r.role.clone(), r.application))
                    .or_insert((r.reached_by.clone(), true));
            } else if r.unknown_space.is_some() {
                roles
                    .entry((r.role.clone(), r.application))
                    .or_insert((r.reached_by.clone(), false));
            }
        }
        for ((role, app), (space, known)) in roles {
            let Some(account) = crate::arn::Arn::parse(&role)
                .ok()
                .and_then(|a| a.account())
                .filter(|a| t.is_shared_account(a))
            else {
                continue;
            };
            let Some(view) = RoleView::new(iam.store, catalog, org, &role).filter(|v| v.may_have(ActionClass::CHANGES))
            else {
                continue;
            };
            let guardrail = guardrail_of(t, &space, known);
            let used = |ix| {
                let kind = t.node(ix).kind;
                !matches!(kind, NodeKind::Role | NodeKind::AgentSpace)
                    && t.users(ix).iter().any(|(a, _)| app.is_none_or(|x| *a == x))
            };
            let reach = Reach {
                role: &role,
                app,
                space: &space,
                known,
                account,
                guardrail,
            };
            for w in role_writes(t, &view, guardrail, account, used) {
                out.push(reach.finding(t, w));
            }
        }
        out.extend(self.preview_policies(t));
        out
    }
}

/// The guardrail capping the sessions of `space` (an ARN): the space's own or the global one;
/// for a space not in the snapshot, the global one.
fn guardrail_of<'c>(t: &Topology<'c>, space: &str, known: bool) -> Option<&'c Guardrail> {
    let name = known
        .then(|| t.agent_space_record(space))
        .flatten()
        .map(|s| s.name.as_str());
    match name {
        Some(n) => t.guardrail_for(n),
        None => t.default_guardrail(),
    }
}

/// An Agent Space role in a shared-dependency account, as the findings describe it.
struct Reach<'r> {
    role: &'r str,
    app: Option<usize>,
    space: &'r str,
    known: bool,
    account: &'r str,
    guardrail: Option<&'r Guardrail>,
}

impl Reach<'_> {
    /// The finding for the writes `w` on one resource: from the writes the agent's sessions can
    /// make (high); when every write is outside the guardrail, from those (low).
    fn finding(&self, t: &Topology<'_>, w: Writes) -> Finding {
        let (role, space, account) = (self.role, self.space, self.account);
        let node = t.node(w.resource);
        let beyond = w.inside.is_empty();
        let all = if beyond { w.outside.clone() } else { w.inside };
        // Certain writes make a violation; writes that hold only under undecided conditions
        // make a conditional finding naming each key and statement.
        let certain: Vec<_> = all.iter().filter(|c| c.conditional_on.is_empty()).cloned().collect();
        let conditional = certain.is_empty();
        let caps = if conditional { all } else { certain };
        let mut conditions: Vec<String> = caps
            .iter()
            .flat_map(|c| {
                let labels = grant_labels([c]).join(", ");
                c.conditional_on.iter().map(move |k| format!("{k} ({labels})"))
            })
            .collect();
        conditions.sort();
        conditions.dedup();
        let names: Vec<&str> = caps.iter().map(|c| c.action.as_str()).collect();
        let shown = summarize_actions(&names, SHOWN);
        let whose = match (self.app, self.known) {
            (Some(a), true) => format!("of `{}`", t.app_name(a)),
            (Some(a), false) => format!(
                "of `{}` (its Agent Space `{space}` is not in the snapshot)",
                t.app_name(a)
            ),
            (None, _) => format!("(its Agent Space `{space}` is not in the snapshot)"),
        };
        let what = format!(
            "Agent Space role `{role}` {whose} can change shared {} `{}` in shared-dependency account `{account}`",
            node.kind.as_str(),
            node.id,
        );
        let message = match self.guardrail {
            None => format!("{what}: {shown}"),
            Some(g) if beyond => format!(
                "{what}, but only outside the {}: {shown}; the agent's sessions cannot make these writes while the guardrail stands, the role still allows them",
                g.name
            ),
            Some(g) if w.outside.is_empty() => format!("{what}, within the {}: {shown}", g.name),
            Some(g) => format!(
                "{what}, within the {}: {shown} (the role allows more that the guardrail does not: see the outside-guardrail evidence)",
                g.name
            ),
        };
        let mut f = META.finding(
            node,
            message,
            format!(
                "Give `{role}` read-only access to the shared account (metadata reads such as Describe/List/Get configuration), or deny the writes with a permission boundary."
            ),
        );
        if beyond {
            f.severity = Severity::Low;
        }
        f.applications = app_names(t, self.app);
        if conditional {
            f.status = crate::finding::Status::Conditional;
            f.conditions = conditions;
        }
        let how = if self.known {
            "Agent Space role"
        } else {
            "role the DevOps Agent service may assume for a space not in the snapshot"
        };
        if node.kind == NodeKind::External {
            // Not in the snapshot: its own policy (which could deny) and tags were not read.
            f.status = crate::finding::Status::NotProven;
            f.message = format!(
                "not proven: {}; {}",
                f.message,
                t.unseen_because(w.resource).map_or_else(
                    || format!(
                        "`{}` is not in the snapshot, so its resource policy and tags could not be read",
                        node.id
                    ),
                    |why| format!(
                        "the resources matching `{}` are not all in the snapshot: {why}",
                        node.id
                    )
                )
            );
        }
        f.evidence = vec![Evidence::new(
            "can-assume",
            space.to_string(),
            Some(role.to_string()),
            how,
        )];
        f.evidence.extend(
            grant_labels(&caps)
                .into_iter()
                .map(|g| Evidence::new("grants", role.to_string(), Some(node.id.to_string()), g)),
        );
        if let Some(g) = self.guardrail.filter(|_| !w.outside.is_empty()) {
            f.evidence.push(outside_evidence(role, node.id, &w.outside, g));
        }
        f
    }
}

/// The AWS managed policy of the DevOps Agent preview, still attached to some roles.
const PREVIEW_POLICY: &str = "AIOpsAssistantPolicy";

impl AgentSpaceRoleOverbroad {
    /// Roles still carrying the preview policy (an AWS managed policy of any path and partition).
    fn preview_policies(&self, t: &Topology<'_>) -> Vec<Finding> {
        let preview = |a: &str| {
            crate::arn::Arn::parse(a).is_ok_and(|p| {
                p.service == "iam" && p.account == "aws" && p.resource.rsplit('/').next() == Some(PREVIEW_POLICY)
            })
        };
        let mut out = Vec::new();
        for role in t.iam_roles() {
            let Some(policy) = role.attached_policies.iter().find(|a| preview(a)) else {
                continue;
            };
            let Some(ix) = t.find(&role.arn) else { continue };
            let mut f = META.finding(
                t.node(ix),
                format!(
                    "role `{}` still carries `{policy}`, the managed policy of the DevOps Agent preview: its permissions are not scoped to what the application uses",
                    role.arn
                ),
                format!(
                    "Detach `{policy}` from `{}` and grant the read-only access the space needs (`topoguard roles` generates it).",
                    role.name
                ),
            );
            f.severity = Severity::Medium;
            f.applications = t.owner(ix).map(|a| vec![t.app_name(a).to_string()]).unwrap_or_default();
            f.evidence = vec![Evidence::new(
                "grants",
                policy.clone(),
                Some(role.arn.clone()),
                "attached managed policy",
            )];
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceRoleOverbroad;
    use crate::checks::testkit::*;
    use serde_json::json;

    fn agent_trust() -> serde_json::Value {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice"}}}]})
    }

    #[test]
    fn fires_when_an_agent_role_can_write_a_used_shared_resource() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let role = add_role(&mut s, SHARED, "agent", agent_trust(), allow(&["sqs:*"], "*"));
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        let f = run(&AgentSpaceRoleOverbroad, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, q);
        assert!(f[0].message.contains("sqs:PurgeQueue") && f[0].message.contains("sqs:DeleteQueue"));
        assert_eq!(f[0].applications, vec!["invoice"]);
    }

    // A role the DevOps Agent service may assume is incident access whether or not its space is
    // in the snapshot (another region, another organization, not associated yet).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    #[test]
    fn near_miss_role_of_a_space_not_in_the_snapshot_is_checked_and_read_only_is_quiet() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let elsewhere = "arn:aws:aidevops:ap-southeast-2:111111111111:agentspace/invoice-apac";
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": elsewhere}}}]});
        add_role(&mut s, SHARED, "agent", trust, allow(&["sqs:PurgeQueue"], "*"));
        let f = run(&AgentSpaceRoleOverbroad, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains(&format!("its Agent Space `{elsewhere}` is not in the snapshot")),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].applications, vec!["invoice"]);
        // Near miss: the same role, read-only.
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": elsewhere}}}]});
        add_role(&mut s, SHARED, "agent", trust, allow(&["sqs:GetQueueAttributes"], "*"));
        assert_eq!(run(&AgentSpaceRoleOverbroad, &s), vec![]);
    }

    #[test]
    fn a_write_only_under_an_undecided_condition_is_conditional() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let policy = json!({"Statement": [{"Sid": "Mfa", "Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let role = add_role(&mut s, SHARED, "agent", agent_trust(), policy);
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        let f = run(&AgentSpaceRoleOverbroad, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::finding::Status::Conditional);
        assert_eq!(
            f[0].conditions,
            vec![
                "aws:MultiFactorAuthPresent (inline policy `p` of `arn:aws:iam::999999999999:role/agent` statement Mfa)"
            ]
        );
    }

    #[test]
    fn quiet_for_read_only_agent_roles_and_unused_resources() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        // Near miss: writes only on a queue invoice does not use.
        let other = add_queue(&mut s, SHARED, "eu-west-1", "other", json!({}));
        let role = add_role(
            &mut s,
            SHARED,
            "agent",
            agent_trust(),
            json!({"Statement": [
                {"Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:ListQueues"], "Resource": "*"},
                {"Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": other}
            ]}),
        );
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        assert_eq!(run(&AgentSpaceRoleOverbroad, &s), vec![]);
    }

    fn with_policy(arn: &str) -> serde_json::Value {
        let mut s = org();
        let role = add_role(
            &mut s,
            INVOICE,
            "agent",
            agent_trust(),
            allow(&["sqs:GetQueueAttributes"], "*"),
        );
        add(
            &mut s,
            "managed_policies",
            json!({"arn": arn, "name": "p", "document": {"Statement": []}}),
        );
        if let Some(r) = s["roles"].as_array_mut().and_then(|r| r.first_mut()) {
            r["attached_policies"] = json!([arn]);
        }
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        s
    }

    #[test]
    fn fires_for_a_role_still_carrying_the_preview_policy() {
        let f = run(
            &AgentSpaceRoleOverbroad,
            &with_policy("arn:aws:iam::aws:policy/AIOpsAssistantPolicy"),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::Medium);
        assert!(f[0].message.contains("DevOps Agent preview"), "{}", f[0].message);
    }

    #[test]
    fn near_miss_a_customer_policy_of_the_same_name_is_quiet() {
        let s = with_policy("arn:aws:iam::111111111111:policy/AIOpsAssistantPolicy");
        assert_eq!(run(&AgentSpaceRoleOverbroad, &s), vec![]);
    }

    /// The fired example with a DevOps Agent guardrail allowing `actions`.
    // A session can do only what both its role and its session policy allow.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
    // https://docs.aws.amazon.com/devopsagent/latest/userguide/aws-devops-agent-security.html
    fn guarded(actions: &[&str]) -> Vec<crate::finding::Finding> {
        guarded_with(actions, None)
    }

    /// [`guarded`], with the invoice space's own guardrail allowing `own` when given.
    fn guarded_with(actions: &[&str], own: Option<&[&str]>) -> Vec<crate::finding::Finding> {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let role = add_role(&mut s, SHARED, "agent", agent_trust(), allow(&["sqs:*"], "*"));
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        let (_dir, mut config) =
            config_with_guardrail("\n[devops_agent]\nguardrail = {guardrail}\n", &allow(actions, "*"));
        let own_dir = tempfile::tempdir().unwrap();
        if let Some(own) = own {
            let path = own_dir.path().join("own.json");
            std::fs::write(&path, allow(own, "*").to_string()).unwrap();
            config.push_str(&format!(
                "[agent_spaces.invoice]\napplication = \"invoice\"\nguardrail = {}\n",
                toml_string(&path.display().to_string())
            ));
        }
        run_with(&AgentSpaceRoleOverbroad, &s, &config)
    }

    // A space's own guardrail replaces the global one for its sessions (docs/checks.md, "The
    // DevOps Agent guardrail").
    #[test]
    fn fires_low_when_the_spaces_own_guardrail_leaves_every_write_outside() {
        let f = guarded_with(&["sqs:*"], Some(&["lambda:PutFunctionConcurrency"]));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::Low);
        assert!(f[0].message.contains("but only outside the"), "{}", f[0].message);
        // Near miss: the global guardrail alone keeps the writes inside (high).
        let f = guarded_with(&["sqs:*"], None);
        assert_eq!(f[0].severity, crate::checks::Severity::High, "{f:#?}");
    }

    #[test]
    fn near_miss_a_guardrail_allowing_every_write_stays_high_without_outside_evidence() {
        let f = guarded(&["sqs:*"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::High);
        assert!(
            f[0].message.contains("within the DevOps Agent guardrail") && !f[0].message.contains("allows more"),
            "{}",
            f[0].message
        );
        assert!(
            !f[0].evidence.iter().any(|e| e.relation == "outside-guardrail"),
            "{:#?}",
            f[0].evidence
        );
    }

    // The roles are those an Agent Space reaches (docs/checks.md): a role in the shared account
    // that only a responder reaches is incident-access-not-read-only's concern, even when it is
    // tagged for the application.
    #[test]
    fn near_miss_a_shared_role_only_a_responder_reaches_is_not_checked() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let oncall = format!("arn:aws:iam::{INVOICE}:role/oncall");
        let ops = add_role(&mut s, SHARED, "ops", trust(&oncall), allow(&["sqs:PurgeQueue"], "*"));
        if let Some(r) = s["roles"].as_array_mut().and_then(|r| r.last_mut()) {
            r["tags"] = json!({"app": "invoice"});
        }
        add_role(
            &mut s,
            INVOICE,
            "oncall",
            trust(&format!("arn:aws:iam::{INVOICE}:root")),
            allow(&["sts:AssumeRole"], &ops),
        );
        let config = format!("{CONFIG}\n[responders]\nprincipals = [\"{oncall}\"]\n");
        assert_eq!(run_with(&AgentSpaceRoleOverbroad, &s, &config), vec![]);
        // The same role associated with the invoice space is checked.
        add_invoice_space(&mut s, &[(SHARED, &ops)]);
        let f = run_with(&AgentSpaceRoleOverbroad, &s, &config);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, q);
    }

    #[test]
    fn fires_low_when_the_writes_are_all_outside_the_guardrail() {
        let f = guarded(&["sqs:GetQueueAttributes", "cloudwatch:Describe*"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::Low);
        assert!(
            f[0].message.contains("but only outside the DevOps Agent guardrail"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("sqs:PurgeQueue"), "{}", f[0].message);
    }

    #[test]
    fn near_miss_writes_inside_the_guardrail_stay_high_and_the_rest_is_evidence() {
        let f = guarded(&["sqs:SendMessage"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::High);
        assert!(
            f[0].message.contains("within the DevOps Agent guardrail")
                && f[0].message.ends_with("see the outside-guardrail evidence)"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains(": sqs:SendMessage ("), "{}", f[0].message);
        let outside = f[0]
            .evidence
            .iter()
            .find(|e| e.relation == "outside-guardrail")
            .unwrap();
        assert!(
            outside.detail.contains("sqs:PurgeQueue") && !outside.detail.contains("sqs:SendMessage"),
            "{}",
            outside.detail
        );
    }

    #[test]
    fn quiet_with_a_guardrail_for_a_read_only_role() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let role = add_role(
            &mut s,
            SHARED,
            "agent",
            agent_trust(),
            allow(&["sqs:GetQueueAttributes"], "*"),
        );
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        let (_dir, config) = config_with_guardrail("\n[devops_agent]\nguardrail = {guardrail}\n", &allow(&["*"], "*"));
        assert_eq!(run_with(&AgentSpaceRoleOverbroad, &s, &config), vec![]);
    }

    #[test]
    fn fires_not_proven_when_the_used_shared_queue_is_named_only_by_policies() {
        let mut s = org();
        let q = "arn:aws:sqs:eu-west-1:999999999999:unseen";
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[q]);
        let role = add_role(&mut s, SHARED, "agent", agent_trust(), allow(&["sqs:PurgeQueue"], q));
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        let f = run(&AgentSpaceRoleOverbroad, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].resource.as_str(), f[0].status),
            (q, crate::finding::Status::NotProven)
        );
        assert!(f[0].message.contains("could not be read"), "{}", f[0].message);
        // Near miss: a queue named only by the agent role, which invoice does not use.
        let mut s = org();
        let role = add_role(&mut s, SHARED, "agent", agent_trust(), allow(&["sqs:PurgeQueue"], q));
        add_invoice_space(&mut s, &[(SHARED, &role)]);
        assert_eq!(run(&AgentSpaceRoleOverbroad, &s), vec![]);
    }
}
