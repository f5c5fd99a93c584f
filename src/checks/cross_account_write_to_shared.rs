//! `cross-account-write-to-shared`: a principal of another account can change a resource in a
//! shared-dependency account — through the resource's own policy, or by assuming a role in the
//! shared account that may write it. Shared dependencies are where one application's incident
//! becomes everyone's; from outside, they should be read-only unless an exception says why.

use super::{Check, Evidence, Finding, Input, SHOWN, Severity, Status, app_names, catalog_unavailable, unused_ignore};
use crate::arn::{Arn, glob_match};
use crate::config::WriteException;
use crate::graph::{NodeKind, Topology};
use crate::iam::capability::{RoleView, Target, grant_labels, summarize_actions};
use crate::iam::catalog::{ActionClass, Catalog};
use crate::iam::classify::allowed_actions;
use crate::iam::condition::Truth;
use crate::iam::eval::outsider_truth;
use crate::iam::{Effect, Policy};
use std::collections::{BTreeSet, HashMap};

pub struct CrossAccountWriteToShared;

impl Check for CrossAccountWriteToShared {
    fn id(&self) -> &'static str {
        "cross-account-write-to-shared"
    }
    fn title(&self) -> &'static str {
        "Another account can change a shared dependency"
    }
    fn description(&self) -> &'static str {
        "A principal of another account can perform Write, Permissions management or Tagging actions on a resource in a shared-dependency account, through the resource's policy or through a role in the shared account it can assume. Accepted cases are listed under `allow` with a reason."
    }
    fn default_severity(&self) -> Severity {
        Severity::High
    }
    fn inputs(&self) -> &'static [Input] {
        &[
            Input::Iam,
            Input::Organization,
            Input::ResourcePolicies,
            Input::EventBridge,
            Input::Lambda,
        ]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        if t.config.shared_dependencies.accounts.is_empty() {
            return Vec::new();
        }
        let catalog = match Catalog::get() {
            Ok(c) => c,
            Err(e) => return vec![catalog_unavailable(self, &e.to_string())],
        };
        let iam = t.iam();
        let org = t.snapshot.organization.id.as_deref();
        let exceptions: Vec<&WriteException> = t
            .config
            .check_settings(self.id())
            .map(|s| s.allow.iter().map(|a| a.get_ref()).collect())
            .unwrap_or_default();
        let mut used = vec![false; exceptions.len()];
        // Per shared account: its roles that principals of other accounts can assume and whose
        // policies name any write at all, prepared once.
        let mut exposed: HashMap<&str, Vec<(RoleView<'_>, Vec<&crate::iam::reach::Assumer>)>> = HashMap::new();
        let mut role_arns: Vec<&str> = iam.store.roles.keys().copied().collect();
        role_arns.sort_unstable();
        for arn in role_arns {
            let Some(rp) = iam.store.roles.get(arn) else { continue };
            let account = rp.role.account.as_str();
            if !t.config.is_shared_account(account) {
                continue;
            }
            let outsiders: Vec<_> = iam
                .reach
                .assumers(arn)
                .iter()
                .filter(|a| principal_account(&a.principal).is_some_and(|acc| acc != account))
                .collect();
            if outsiders.is_empty() {
                continue;
            }
            if let Some(view) = RoleView::new(iam.store, catalog, org, arn).filter(|v| v.may_have(ActionClass::CHANGES))
            {
                exposed.entry(account).or_default().push((view, outsiders));
            }
        }
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if matches!(node.kind, NodeKind::Account | NodeKind::External | NodeKind::AgentSpace) {
                continue;
            }
            let Some(account) = node.account.filter(|a| t.config.is_shared_account(a)) else {
                continue;
            };
            let parsed = iam.store.resource_policy(node.id).map(|n| &n.policy);
            // 1. The resource policy grants writes to principals of other accounts.
            if let Some(policy) = parsed {
                for (i, st) in policy
                    .statements
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.effect == Effect::Allow)
                {
                    let Some(principal) = st.principal.as_ref().filter(|p| !p.is_negated()) else {
                        continue;
                    };
                    let outsiders: Vec<String> = principal
                        .inner()
                        .values("AWS")
                        .into_iter()
                        .filter(|v| *v == "*" || principal_account(v) != Some(account))
                        .map(str::to_string)
                        .collect();
                    if outsiders.is_empty() {
                        continue;
                    }
                    let single = Policy {
                        version: None,
                        id: None,
                        statements: vec![st.clone()],
                    };
                    let service = Arn::parse(node.id).map(|a| a.service).unwrap_or("");
                    let actions: Vec<String> = allowed_actions(catalog, &[&single])
                        .actions
                        .iter()
                        .filter(|a| a.service() == service && ActionClass::CHANGES.contains(&a.class()))
                        .map(|a| a.full_name())
                        .collect();
                    for who in outsiders {
                        // The statement's conditions for a call from that account: AWS's
                        // defaults (e.g. SNS's `AWS:SourceOwner` = owner) let no outsider in.
                        let conditions = match outsider_truth(st, account, &who) {
                            Truth::False => continue,
                            Truth::True => Vec::new(),
                            Truth::Unknown(keys) => keys,
                        };
                        let apps = principal_apps(t, &who);
                        let remaining = not_excepted(t, &exceptions, &mut used, &who, &apps, node.id, &actions);
                        if remaining.is_empty() {
                            continue;
                        }
                        let label = st.sid.clone().unwrap_or_else(|| format!("#{i}"));
                        out.push(self.finding(
                            t,
                            ix,
                            &who,
                            &apps,
                            &remaining,
                            vec![Evidence::new(
                                "grants",
                                node.id,
                                Some(who.clone()),
                                format!("resource policy statement {label}"),
                            )],
                            conditions,
                        ));
                    }
                }
            }
            // 2. A role in the shared account that outsiders can assume may write it.
            let named = iam.store.resource_policy(node.id).map(|n| n.as_named());
            for (view, outsiders) in exposed.get(account).into_iter().flatten() {
                let target = Target::Resource {
                    arn: node.id,
                    account: Some(account),
                    region: node.region,
                    tags: node.tags,
                    policy: named,
                };
                let caps = view.capabilities(target, ActionClass::CHANGES);
                if caps.is_empty() {
                    continue;
                }
                let role_arn = view.role();
                let actions: Vec<String> = caps.iter().map(|c| c.action.clone()).collect();
                for who in outsiders {
                    let apps = principal_apps(t, &who.principal);
                    let remaining = not_excepted(t, &exceptions, &mut used, &who.principal, &apps, node.id, &actions);
                    if remaining.is_empty() {
                        continue;
                    }
                    let mut evidence = vec![Evidence::new(
                        "can-assume",
                        who.principal.clone(),
                        Some(role_arn.to_string()),
                        format!("trust policy statement {}", who.statement),
                    )];
                    let grants = grant_labels(&caps);
                    evidence.extend(
                        grants
                            .into_iter()
                            .map(|g| Evidence::new("grants", role_arn.to_string(), Some(node.id.to_string()), g)),
                    );
                    let conditional: Vec<String> = who
                        .conditional_on
                        .iter()
                        .chain(caps.iter().flat_map(|c| c.conditional_on.iter()))
                        .cloned()
                        .collect();
                    out.push(self.finding(t, ix, &who.principal, &apps, &remaining, evidence, conditional));
                }
            }
        }
        for (i, e) in exceptions.iter().enumerate() {
            if !used.get(i).copied().unwrap_or(true) {
                out.push(unused_ignore::unused_entry(self.id(), "allow", i, &e.reason));
            }
        }
        out
    }
}

impl CrossAccountWriteToShared {
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        t: &Topology<'_>,
        ix: petgraph::graph::NodeIndex,
        who: &str,
        apps: &[usize],
        actions: &[String],
        evidence: Vec<Evidence>,
        mut conditional_on: Vec<String>,
    ) -> Finding {
        let node = t.node(ix);
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        let mut message = format!(
            "`{who}` (another account) can change shared {} `{}`: {}",
            node.kind.as_str(),
            node.id,
            summarize_actions(&names, SHOWN)
        );
        conditional_on.sort();
        conditional_on.dedup();
        if !conditional_on.is_empty() {
            let keys: Vec<String> = conditional_on.iter().map(|k| format!("`{k}`")).collect();
            message.push_str(&format!(" (only if conditions on {} hold)", keys.join(", ")));
        }
        let mut f = super::finding_for(
            self,
            node,
            message,
            "Grant other accounts read access only (a read-only role or resource-policy statement); if the write is intended, record it under `[checks.cross-account-write-to-shared] allow` with the principal, resource, actions and reason.".to_string(),
        );
        f.status = Status::Violation;
        f.applications = app_names(t, apps.iter().copied());
        f.evidence = evidence;
        f
    }
}

/// The account of a principal (role ARN, account root ARN or bare account id).
fn principal_account(p: &str) -> Option<&str> {
    if crate::arn::is_account_id(p) {
        return Some(p);
    }
    Arn::parse(p).ok().and_then(|a| a.account())
}

/// Applications a principal belongs to: the owner of its role node, or of its account.
fn principal_apps(t: &Topology<'_>, principal: &str) -> Vec<usize> {
    let mut apps = BTreeSet::new();
    if let Some(o) = t.find(principal).and_then(|ix| t.owner(ix)) {
        apps.insert(o);
    }
    if let Some(o) = principal_account(principal)
        .and_then(|a| t.find(a))
        .and_then(|ix| t.owner(ix))
    {
        apps.insert(o);
    }
    apps.into_iter().collect()
}

/// The actions no exception accepts for this principal and resource; marks the exceptions used.
#[allow(clippy::too_many_arguments)]
fn not_excepted(
    t: &Topology<'_>,
    exceptions: &[&WriteException],
    used: &mut [bool],
    who: &str,
    apps: &[usize],
    resource: &str,
    actions: &[String],
) -> Vec<String> {
    let names: Vec<&str> = apps.iter().map(|a| t.app_name(*a)).collect();
    let applies: Vec<bool> = exceptions
        .iter()
        .map(|e| {
            e.principal.as_deref().is_none_or(|p| glob_match(p, who))
                && e.application.as_deref().is_none_or(|a| names.contains(&a))
                && glob_match(&e.resource, resource)
        })
        .collect();
    actions
        .iter()
        .filter(|action| {
            let mut accepted = false;
            for (i, e) in exceptions.iter().enumerate() {
                if applies.get(i).copied().unwrap_or(false)
                    && e.actions.iter().any(|x| crate::arn::glob_match_ignore_case(x, action))
                {
                    accepted = true;
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                }
            }
            !accepted
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::CrossAccountWriteToShared;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    fn queue_with_policy(s: &mut Value, statement: Value) -> String {
        let arn = add_queue(s, SHARED, "eu-west-1", "orders", json!({"shared-with": "checkout"}));
        if let Some(q) = s["resources"].as_array_mut().and_then(|r| r.last_mut()) {
            q["policy"] = json!({"Statement": [statement]});
        }
        arn
    }

    #[test]
    fn resource_policy_granting_another_account_writes_fires() {
        let mut s = org();
        let q = queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": ["sqs:SendMessage", "sqs:DeleteQueue", "sqs:GetQueueAttributes"], "Resource": "*"}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, q);
        assert!(f[0].message.contains("sqs:DeleteQueue") && f[0].message.contains("sqs:SendMessage"));
        assert!(!f[0].message.contains("GetQueueAttributes"), "reads are not reported");
        assert_eq!(f[0].applications, vec!["checkout"]);
    }

    #[test]
    fn allow_entries_accept_named_actions_and_unused_ones_are_reported() {
        let mut s = org();
        queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": "sqs:SendMessage", "Resource": "*"}),
        );
        let config = format!(
            "{CONFIG}\n[checks.cross-account-write-to-shared]\nallow = [\n  {{ application = \"checkout\", resource = \"arn:aws:sqs:*:{SHARED}:orders\", actions = [\"sqs:SendMessage\"], reason = \"checkout enqueues orders\" }},\n  {{ principal = \"arn:aws:iam::{INVOICE}:root\", resource = \"*\", actions = [\"sqs:*\"], reason = \"stale\" }},\n]\n"
        );
        let f = run_with(&CrossAccountWriteToShared, &s, &config);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, "unused-ignore");
        assert_eq!(f[0].resource, "checks.cross-account-write-to-shared.allow[1]");
        // Through the engine the finding names the config file.
        let all = run_engine(&s, &config, "guardrails/topoguard.toml");
        let unused: Vec<_> = all.iter().filter(|f| f.check == "unused-ignore").collect();
        assert_eq!(unused.len(), 1, "{unused:#?}");
        assert!(
            unused[0]
                .message
                .starts_with("`checks.cross-account-write-to-shared.allow[1]` in `guardrails/topoguard.toml` matched"),
            "{}",
            unused[0].message
        );
        assert_eq!(unused[0].evidence[0].from, "guardrails/topoguard.toml");
    }

    #[test]
    fn assumable_role_in_the_shared_account_that_can_write_fires() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let maint = add_role(
            &mut s,
            SHARED,
            "maintenance",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sqs:PurgeQueue"], &q),
        );
        add_role(
            &mut s,
            CHECKOUT,
            "ops",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sts:AssumeRole"], &maint),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("arn:aws:iam::222222222222:role/ops") && f[0].message.contains("sqs:PurgeQueue"));
        assert_eq!(f[0].evidence[0].relation, "can-assume");
    }

    #[test]
    fn same_account_writes_and_unassumable_roles_are_fine() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        // Near miss: trusted by another account, but no principal there may call AssumeRole.
        add_role(
            &mut s,
            SHARED,
            "maintenance",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sqs:PurgeQueue"], &q),
        );
        add_role(
            &mut s,
            CHECKOUT,
            "app",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sqs:SendMessage"], &q),
        );
        // A writer in the shared account itself is not cross-account.
        add_role(
            &mut s,
            SHARED,
            "local",
            trust(&format!("arn:aws:iam::{SHARED}:root")),
            allow(&["sqs:PurgeQueue"], &q),
        );
        add_role(
            &mut s,
            SHARED,
            "local-caller",
            trust(&format!("arn:aws:iam::{SHARED}:root")),
            allow(&["sts:AssumeRole"], "*"),
        );
        assert_eq!(run(&CrossAccountWriteToShared, &s), vec![]);
    }
}
