//! `agent-space-foreign-account`: an Agent Space reaches into an account that holds only other
//! applications' resources — the space is wider than its application and can read their data.

use super::{
    Check, Context, Evidence, Finding, Input, Meta, Severity, app_accounts, app_names, gaps_hiding, unproven_by,
};
use crate::graph::NodeKind;
use std::collections::BTreeSet;

pub struct AgentSpaceForeignAccount;

const META: Meta = Meta {
    id: "agent-space-foreign-account",
    title: "Agent Space reaches another application's account",
    description: "An Agent Space is associated with (or declared for) an account whose resources all belong to other applications and none of which its own application uses. The space is broader than one application: it can read other teams' data and mixes their signals into investigations.",
    severity: Severity::Medium,
    inputs: &[
        Input::AgentSpaces,
        Input::Tagging,
        Input::EventBridge,
        Input::Lambda,
        Input::Iam,
        Input::ResourcePolicies,
    ],
};

impl Check for AgentSpaceForeignAccount {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        for space in t.agent_spaces() {
            let primary = space.existing.map(|s| s.account.as_str());
            let associated = space.associated().unwrap_or_default();
            let declared = space.declared().unwrap_or_default();
            let accounts: BTreeSet<&str> = associated
                .union(&declared)
                .copied()
                .filter(|a| Some(*a) != primary)
                .collect();
            for account in accounts {
                let mut others = BTreeSet::new();
                let mut own = false;
                // The roles the space itself assumes there say nothing about the application.
                let space_roles: Vec<&str> = space
                    .existing
                    .map(|s| s.associations.iter().map(|a| a.role.as_str()).collect())
                    .unwrap_or_default();
                for &ix in t.nodes_in_account(account) {
                    if space_roles.contains(&t.node(ix).id) {
                        continue;
                    }
                    // An external node (named, not in the snapshot) has no owner of its own, but
                    // the application's use of it is a use.
                    let external = t.node(ix).kind == NodeKind::External;
                    match t.owner(ix).filter(|_| !external) {
                        Some(a) if a == space.app => own = true,
                        Some(a) => {
                            others.insert(a);
                        }
                        None => {}
                    }
                    if t.users(ix).iter().any(|(a, _)| *a == space.app) {
                        own = true;
                    }
                    if own {
                        break;
                    }
                }
                if own || others.is_empty() {
                    continue;
                }
                let app = t.app_name(space.app);
                let other_names = app_names(t, others);
                // "Nothing the application uses there" is an absence: a gap in that account, or
                // in the application's own accounts (where its rules and functions are read),
                // could hide the use.
                let mut where_ = app_accounts(t, space.app);
                where_.push(account);
                let gaps = gaps_hiding(t, self.inputs(), &where_, None);
                let how = match (associated.contains(account), declared.contains(account)) {
                    (true, true) => "associated and declared",
                    (true, false) => "associated in AWS",
                    _ => "declared in the config",
                };
                let message = format!(
                    "Agent Space `{}` of `{app}` is {how} with account `{account}`, which holds only resources of {} and nothing `{app}` uses",
                    space.name,
                    other_names.join(", ")
                );
                let remediation = format!(
                    "Remove the association of account `{account}` from Agent Space `{}` and from `[agent_spaces.{}].accounts`; the owning team's own space covers it.",
                    space.name, space.name
                );
                let region = space.existing.map(|s| s.region.as_str());
                let f = Finding {
                    applications: std::iter::once(app.to_string())
                        .chain(other_names.iter().cloned())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    evidence: vec![Evidence::new(
                        "can-assume",
                        space.id(),
                        Some(account.to_string()),
                        format!("account {how}"),
                    )],
                    ..META.finding_at(&space.id(), Some(account), region, message, remediation)
                };
                out.push(unproven_by(f, &gaps));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceForeignAccount;
    use crate::checks::Status;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    fn space(s: &mut Value, associated: &[&str]) {
        let associations: Vec<Value> = associated
            .iter()
            .map(|a| json!({"account": a, "role": format!("arn:aws:iam::{a}:role/DevOpsAgentInvoice")}))
            .collect();
        add(
            s,
            "agent_spaces",
            json!({"id": "invoice", "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice", "name": "invoice", "account": INVOICE, "region": "eu-west-1", "tags": {"app": "invoice"}, "associations": associations}),
        );
    }

    #[test]
    fn fires_on_association_with_only_another_applications_account() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        space(&mut s, &[CHECKOUT]);
        let f = run(&AgentSpaceForeignAccount, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account.as_deref(), Some(CHECKOUT));
        assert_eq!(f[0].applications, vec!["checkout", "invoice"]);
    }

    // How the account came into the space (associated in AWS, declared in the config, or both)
    // is named in the message and in the `can-assume` evidence from the space to the account.
    #[test]
    fn fires_naming_whether_the_account_is_associated_declared_or_both() {
        let declared = format!(
            "{CONFIG}\n[agent_spaces.invoice]\napplication = \"invoice\"\naccounts = [\"{INVOICE}\", \"{CHECKOUT}\"]\n"
        );
        let cases: [(&[&str], &str, &str); 3] = [
            (&[CHECKOUT], CONFIG, "associated in AWS"),
            (&[CHECKOUT], &declared, "associated and declared"),
            (&[], &declared, "declared in the config"),
        ];
        for (associated, config, how) in cases {
            let mut s = org();
            add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
            add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
            space(&mut s, associated);
            let f = run_with(&AgentSpaceForeignAccount, &s, config);
            assert_eq!(f.len(), 1, "{how}: {f:#?}");
            assert!(
                f[0].message.contains(&format!("is {how} with account `{CHECKOUT}`")),
                "{how}: {}",
                f[0].message
            );
            let e = &f[0].evidence;
            assert_eq!(e.len(), 1, "{e:#?}");
            assert_eq!(
                (e[0].relation.as_str(), e[0].from.as_str(), e[0].to.as_deref()),
                (
                    "can-assume",
                    "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice",
                    Some(CHECKOUT)
                )
            );
            assert_eq!(e[0].detail, format!("account {how}"));
        }
    }

    #[test]
    fn near_miss_a_gap_that_could_hide_the_use_makes_it_not_proven() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        space(&mut s, &[CHECKOUT]);
        // Invoice's functions in us-east-1 could not be listed: one of them may use checkout's
        // account.
        s["coverage"] = json!({"gaps": [{"account": INVOICE, "region": "us-east-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException"}]});
        let f = run(&AgentSpaceForeignAccount, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("lambda:ListFunctions"), "{}", f[0].message);
        // Near miss: a gap in the shared account, which neither side involves.
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "us-east-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException"}]});
        let f = run(&AgentSpaceForeignAccount, &s);
        assert_eq!(f[0].status, Status::Violation);
    }

    #[test]
    fn quiet_for_association_with_an_account_holding_something_the_application_uses() {
        let mut s = org();
        let q = add_queue(&mut s, CHECKOUT, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        // Near miss: the empty shared account holds nothing of anyone.
        space(&mut s, &[CHECKOUT, SHARED]);
        assert_eq!(run(&AgentSpaceForeignAccount, &s), vec![]);
    }

    // Foreign means every resource there belongs to other applications (docs/checks.md): one
    // resource of the space's own application (by tag) makes the account its own too.
    #[test]
    fn quiet_when_the_account_also_holds_a_resource_of_the_spaces_application() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        add_queue(
            &mut s,
            CHECKOUT,
            "eu-west-1",
            "invoice-archive",
            json!({"app": "invoice"}),
        );
        space(&mut s, &[CHECKOUT]);
        assert_eq!(run(&AgentSpaceForeignAccount, &s), vec![]);
    }

    #[test]
    fn quiet_when_the_application_uses_a_resource_there_named_only_by_its_policy() {
        let mut s = org();
        add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "invoice-api",
            &["arn:aws:sqs:eu-west-1:222222222222:unseen"],
        );
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        space(&mut s, &[CHECKOUT]);
        assert_eq!(run(&AgentSpaceForeignAccount, &s), vec![]);
    }
}
