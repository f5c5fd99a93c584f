//! `agent-space-missing-account`: an application's footprint reaches an account its Agent Space
//! cannot investigate — the investigation has a gap exactly where the root cause may be.

use super::{
    Check, Context, Evidence, Finding, Input, Meta, Severity, gap_evidence, gaps_clause, gaps_hiding, gaps_hiding_apis,
    unproven_by,
};
use crate::graph::{SpaceView, Topology};

pub struct AgentSpaceMissingAccount;

const META: Meta = Meta {
    id: "agent-space-missing-account",
    title: "Agent Space cannot see part of its application",
    description: "The application's footprint (the accounts of its own resources and of every resource it uses) includes an account its Agent Space is not associated with in the snapshot, or not declared for in the config. An investigation started in that space cannot look there: an investigation gap.",
    severity: Severity::High,
    inputs: &[
        Input::AgentSpaces,
        Input::Tagging,
        Input::EventBridge,
        Input::Lambda,
        Input::Iam,
        Input::ResourcePolicies,
    ],
};

impl Check for AgentSpaceMissingAccount {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        for space in t.agent_spaces() {
            let app = t.app_name(space.app);
            let footprint = t.footprint_accounts(space.app);
            let Some(existing) = space.existing else {
                // Declared only: one finding, since no account is associated with a space that
                // does not exist. A gap listing Agent Spaces anywhere could hide it; a gap
                // listing some space's associations cannot.
                let gaps = gaps_hiding_apis(t, &["aidevops:ListAgentSpaces"], &[], None);
                let f = self.finding(
                    &space,
                    app,
                    None,
                    format!(
                        "Agent Space `{}` is declared for `{app}` but does not exist in AWS (no account and region the crawl read has it), so every account of the footprint ({}) is an investigation gap",
                        space.name,
                        footprint.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                    "Create the Agent Space and associate it with the footprint's accounts (`topoguard roles` will generate it), or correct its name in the config.".to_string(),
                    Vec::new(),
                );
                out.push(unproven_by(f, &gaps));
                continue;
            };
            // Associations that could not be listed are unknown, not absent.
            let association_gaps = gaps_hiding(
                t,
                &[Input::AgentSpaces],
                &[existing.account.as_str()],
                Some(existing.region.as_str()),
            );
            let associated = space.associated();
            let declared = space.declared();
            for account in &footprint {
                let not_associated = associated.as_ref().is_some_and(|a| !a.contains(account));
                let not_declared = declared.as_ref().is_some_and(|d| !d.contains(account));
                if !not_associated && !not_declared {
                    continue;
                }
                let unknown = not_associated && !association_gaps.is_empty();
                let name = space.name;
                let message = if unknown && not_declared {
                    format!(
                        "`{app}` reaches account `{account}`, which `[agent_spaces.{name}].accounts` does not list; whether Agent Space `{name}` is associated with it in AWS is unknown ({})",
                        gaps_clause(&association_gaps)
                    )
                } else {
                    let sides = match (not_associated, not_declared, declared.is_some()) {
                        // `unknown`: the associations were not read, so "not associated" is
                        // only "no association was read".
                        (true, false, true) if unknown => {
                            "declared in the config, but no association with it was read from AWS"
                        }
                        (true, true, _) => "neither associated in AWS nor declared in the config",
                        (true, false, true) => "declared in the config but not associated in AWS",
                        // The config lists no accounts for the space: only AWS speaks.
                        (true, false, false) => "not associated in AWS",
                        _ => "associated in AWS but not declared in the config",
                    };
                    let verb = if unknown { "may not be able to" } else { "cannot" };
                    format!(
                        "`{app}` reaches account `{account}`, but its Agent Space `{name}` {verb} investigate it ({sides})"
                    )
                };
                let evidence = reach_evidence(t, space.app, account);
                let f = self.finding(
                    &space,
                    app,
                    Some(account),
                    message,
                    format!(
                        "Associate account `{account}` with Agent Space `{}` (a secondary-account role trusting `aidevops.amazonaws.com` pinned to the space) and list it under `[agent_spaces.{}].accounts`.",
                        space.name, space.name
                    ),
                    evidence,
                );
                if unknown && !not_declared {
                    // The only claim left is the one the gap hides.
                    out.push(unproven_by(f, &association_gaps));
                } else if unknown {
                    let mut f = f;
                    f.evidence.extend(gap_evidence(&association_gaps));
                    out.push(f);
                } else {
                    out.push(f);
                }
            }
            out.extend(self.unvalidated(&space, app, existing, &footprint));
        }
        out
    }
}

impl AgentSpaceMissingAccount {
    /// Associations whose validation status (or whose elevated role's) is recorded and is not
    /// `valid`: the space cannot rely on them. High when the account is in the footprint.
    fn unvalidated(
        &self,
        space: &SpaceView<'_>,
        app: &str,
        existing: &crate::model::AgentSpace,
        footprint: &std::collections::BTreeSet<&str>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for a in &existing.associations {
            let statuses = [
                ("association", a.status, &a.role),
                ("elevated role", a.elevated_role_status, &a.role),
            ];
            for (what, status, role) in statuses {
                let Some(status) = status.filter(|s| *s != crate::model::ValidationStatus::Valid) else {
                    continue;
                };
                let target = if what == "elevated role" {
                    a.elevated_role.as_deref().unwrap_or(role)
                } else {
                    role
                };
                let mut f = self.finding(
                    space,
                    app,
                    Some(&a.account),
                    format!(
                        "the {what} of Agent Space `{}` for account `{}` has validation status `{}`, so the space cannot rely on `{target}` there",
                        space.name,
                        a.account,
                        status.as_str()
                    ),
                    format!("Fix the trust and permissions of `{target}` and validate the association again."),
                    vec![Evidence::new("can-assume", space.id(), Some(target.to_string()), format!("validation status `{}`", status.as_str()))],
                );
                if !footprint.contains(a.account.as_str()) {
                    f.severity = Severity::Low;
                }
                out.push(f);
            }
        }
        out
    }
}

impl AgentSpaceMissingAccount {
    fn finding(
        &self,
        space: &SpaceView<'_>,
        app: &str,
        account: Option<&str>,
        message: String,
        remediation: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        let region = space.existing.map(|s| s.region.as_str());
        Finding {
            applications: vec![app.to_string()],
            evidence,
            ..META.finding_at(&space.id(), account, region, message, remediation)
        }
    }
}

/// Why the application reaches an account: the first of its resources there, or the first
/// resource there it uses, with the evidence of that use.
fn reach_evidence(t: &Topology<'_>, app: usize, account: &str) -> Vec<Evidence> {
    for &ix in t.nodes_in_account(account) {
        let node = t.node(ix);
        if t.owner(ix) == Some(app) {
            return vec![Evidence::new(
                "contains",
                account,
                Some(node.id.to_string()),
                format!("owned by `{}`", t.app_name(app)),
            )];
        }
        if let Some((_, reason)) = t.users(ix).iter().find(|(a, _)| *a == app) {
            return reason.evidence(node.id);
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceMissingAccount;
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
            json!({"id": "invoice", "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice", "name": "invoice", "account": INVOICE, "region": "eu-west-1", "associations": associations}),
        );
    }

    fn config(accounts: &str) -> String {
        format!("{CONFIG}\n[agent_spaces.invoice]\napplication = \"invoice\"\naccounts = {accounts}\n")
    }

    #[test]
    fn fires_when_the_space_lacks_a_shared_account_the_application_uses() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account.as_deref(), Some(SHARED));
        assert!(
            f[0].message.contains("neither associated in AWS nor declared"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence.last().and_then(|e| e.to.clone()), Some(q));
    }

    #[test]
    fn config_and_snapshot_drift_is_named() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[]);
        let f = run_with(
            &AgentSpaceMissingAccount,
            &s,
            &config("[\"111111111111\", \"999999999999\"]"),
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("declared in the config but not associated in AWS")
        );
    }

    #[test]
    fn fires_when_a_declared_space_is_missing_from_the_snapshot() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("does not exist in AWS"));
    }

    fn gap(account: &str, api: &str) -> Value {
        json!({"account": account, "region": "eu-west-1", "api": api, "error_code": "AccessDeniedException"})
    }

    #[test]
    fn a_declared_space_missing_from_aws_is_one_finding_that_says_so() {
        // The footprint reaches the shared account, which the config does not declare: the
        // missing space alone is the finding; nothing claims an association it never had.
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(f[0].message.contains("does not exist in AWS"), "{}", f[0].message);
        assert!(f[0].message.contains("999999999999"), "{}", f[0].message);
        assert!(!f.iter().any(|f| f.message.contains("associated in AWS")), "{f:#?}");
    }

    #[test]
    fn near_miss_a_missing_space_is_not_proven_only_when_agent_spaces_could_not_be_listed() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "aidevops:ListAgentSpaces")]});
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("aidevops:ListAgentSpaces"), "{}", f[0].message);
        // Near miss: a gap of another input (Lambda) does not hide a space.
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "lambda:ListFunctions")]});
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f[0].status, Status::Violation);
        // Near miss: failing to list some space's associations (same input, another API) does
        // not hide whether a space exists; ListAgentSpaces succeeded everywhere.
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "aidevops:ListAssociations")]});
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation, "{}", f[0].message);
    }

    #[test]
    fn unlisted_associations_make_not_associated_not_proven() {
        // moto lacks ListAssociations: the crawl records a gap where the space lives.
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[]);
        s["coverage"] = json!({"gaps": [gap(INVOICE, "aidevops:ListAssociations")]});
        let declared = config("[\"111111111111\", \"999999999999\"]");
        let f = run_with(&AgentSpaceMissingAccount, &s, &declared);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(
            f[0].message.contains("aidevops:ListAssociations") && f[0].message.starts_with("not proven"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence.last().map(|e| e.relation.as_str()), Some("coverage-gap"));
        // Not declared either: the config side is a fact, the AWS side is named unknown.
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(
            f[0].message.contains("does not list") && f[0].message.contains("unknown"),
            "{}",
            f[0].message
        );
        // Near miss: a gap in another account's region says nothing about this space.
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "aidevops:ListAssociations")]});
        let f = run_with(&AgentSpaceMissingAccount, &s, &declared);
        assert_eq!(f[0].status, Status::Violation);
        assert!(
            f[0].message
                .contains("declared in the config but not associated in AWS")
        );
    }

    #[test]
    fn without_declared_accounts_only_the_association_is_named() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.ends_with("(not associated in AWS)"), "{}", f[0].message);
    }

    #[test]
    fn associated_but_undeclared_is_named_as_such() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[SHARED]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains("associated in AWS but not declared in the config")
        );
    }

    #[test]
    fn quiet_when_the_footprint_is_covered() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        // Near miss: checkout's resources elsewhere are not invoice's footprint.
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        space(&mut s, &[SHARED]);
        assert_eq!(
            run_with(
                &AgentSpaceMissingAccount,
                &s,
                &config("[\"111111111111\", \"999999999999\"]")
            ),
            vec![]
        );
    }

    /// The covered footprint of `covered_footprint_is_quiet`, with the shared association's
    /// validation status set (`None` leaves it unrecorded) and an elevated role status.
    fn with_status(status: Option<&str>, elevated: Option<&str>) -> Vec<crate::checks::Finding> {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[SHARED]);
        let assoc = &mut s["agent_spaces"][0]["associations"][0];
        if let Some(st) = status {
            assoc["status"] = json!(st);
        }
        if let Some(st) = elevated {
            assoc["elevated_role"] = json!("arn:aws:iam::999999999999:role/elevated");
            assoc["elevated_role_status"] = json!(st);
        }
        run_with(
            &AgentSpaceMissingAccount,
            &s,
            &config("[\"111111111111\", \"999999999999\"]"),
        )
    }

    #[test]
    fn fires_for_an_association_or_elevated_role_that_is_not_valid() {
        let f = with_status(Some("invalid"), None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("validation status `invalid`"), "{}", f[0].message);
        assert_eq!(f[0].severity, crate::checks::Severity::High);
        let f = with_status(Some("valid"), Some("pending-confirmation"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("elevated role") && f[0].message.contains("role/elevated"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn near_miss_valid_or_unrecorded_statuses_are_quiet() {
        assert_eq!(with_status(Some("valid"), Some("valid")), vec![]);
        assert_eq!(with_status(None, None), vec![]);
    }

    #[test]
    fn fires_low_for_an_invalid_association_outside_the_footprint() {
        // docs/checks.md: an association that is not `valid` is high when its account is in the
        // footprint, low otherwise. Checkout's account is not in invoice's footprint.
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        space(&mut s, &[CHECKOUT]);
        s["agent_spaces"][0]["associations"][0]["status"] = json!("invalid");
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account.as_deref(), Some(CHECKOUT));
        assert_eq!(f[0].severity, crate::checks::Severity::Low);
    }

    #[test]
    fn fires_naming_the_resource_that_puts_each_account_in_the_footprint() {
        // docs/checks.md: the finding names the resources that put the account into the
        // footprint: a resource the application owns there, or one it uses there.
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let api = add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[]);
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[]"));
        let of = |account: &str| {
            f.iter()
                .find(|f| f.account.as_deref() == Some(account))
                .unwrap_or_else(|| panic!("{account}: {f:#?}"))
        };
        // The finding concerns the application (docs/checks.md ignores it by `application`).
        assert_eq!(of(SHARED).applications, vec!["invoice"]);
        // The shared queue is used, not owned: the evidence is the use (the execution role).
        let used = &of(SHARED).evidence;
        assert!(!used.iter().any(|e| e.relation == "contains"), "{used:#?}");
        assert_eq!(used.last().and_then(|e| e.to.as_deref()), Some(q.as_str()));
        // Invoice's own account is in the footprint through what it owns there (here associated,
        // as the primary account, but not declared).
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"999999999999\"]"));
        let owned = f
            .iter()
            .find(|f| f.account.as_deref() == Some(INVOICE))
            .unwrap_or_else(|| panic!("{f:#?}"));
        let e = &owned.evidence[0];
        // The first of invoice's resources there: the function or its execution role.
        let role = crate::testkit::role_arn(INVOICE, "invoice-api-role");
        assert_eq!((e.relation.as_str(), e.from.as_str()), ("contains", INVOICE), "{e:#?}");
        assert!(
            [api.as_str(), role.as_str()].contains(&e.to.as_deref().unwrap_or("")),
            "{e:#?}"
        );
        assert!(e.detail.contains("owned by `invoice`"), "{}", e.detail);
    }

    #[test]
    fn near_miss_an_association_read_despite_a_listing_gap_is_a_fact() {
        // The shared association was read: a gap listing associations cannot make it unknown, so
        // the config drift is a plain violation without the gap.
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        space(&mut s, &[SHARED]);
        s["coverage"] = json!({"gaps": [gap(INVOICE, "aidevops:ListAssociations")]});
        let f = run_with(&AgentSpaceMissingAccount, &s, &config("[\"111111111111\"]"));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(
            f[0].message
                .contains("associated in AWS but not declared in the config"),
            "{}",
            f[0].message
        );
        assert!(!f[0].evidence.iter().any(|e| e.relation == "coverage-gap"), "{f:#?}");
        // The same gap where the shared account is declared but no association was read: the
        // message says only that none was read.
        space_associations(&mut s, &[]);
        let f = run_with(
            &AgentSpaceMissingAccount,
            &s,
            &config("[\"111111111111\", \"999999999999\"]"),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(
            f[0].message
                .contains("declared in the config, but no association with it was read from AWS"),
            "{}",
            f[0].message
        );
    }

    fn space_associations(s: &mut Value, associated: &[&str]) {
        let associations: Vec<Value> = associated
            .iter()
            .map(|a| json!({"account": a, "role": format!("arn:aws:iam::{a}:role/DevOpsAgentInvoice")}))
            .collect();
        s["agent_spaces"][0]["associations"] = json!(associations);
    }
}
