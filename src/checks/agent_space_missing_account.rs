//! `agent-space-missing-account`: an application's footprint reaches an account its Agent Space
//! cannot investigate — the investigation has a gap exactly where the root cause may be.

use super::{Check, Evidence, Finding, Input, Severity, Status};
use crate::graph::{SpaceView, Topology};

pub struct AgentSpaceMissingAccount;

impl Check for AgentSpaceMissingAccount {
    fn id(&self) -> &'static str {
        "agent-space-missing-account"
    }
    fn title(&self) -> &'static str {
        "Agent Space cannot see part of its application"
    }
    fn description(&self) -> &'static str {
        "The application's footprint (the accounts of its own resources and of every resource it uses) includes an account its Agent Space is not associated with in the snapshot, or not declared for in the config. An investigation started in that space cannot look there: an investigation gap."
    }
    fn default_severity(&self) -> Severity {
        Severity::High
    }
    fn inputs(&self) -> &'static [Input] {
        &[
            Input::AgentSpaces,
            Input::Tagging,
            Input::EventBridge,
            Input::Lambda,
            Input::Iam,
            Input::ResourcePolicies,
        ]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let agent_api_gap = t
            .snapshot
            .coverage
            .gaps
            .iter()
            .any(|g| Input::of_api(&g.api) == Some(Input::AgentSpaces));
        for space in t.agent_spaces() {
            let app = t.app_name(space.app);
            let footprint = t.footprint_accounts(space.app);
            if space.existing.is_none() && !agent_api_gap {
                out.push(self.finding(
                    &space,
                    app,
                    None,
                    format!(
                        "Agent Space `{}` is declared for `{app}` but does not exist in the snapshot: every account of the footprint ({}) is an investigation gap",
                        space.name,
                        footprint.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                    "Create the Agent Space and associate it with the footprint's accounts (`topoguard roles` will generate it), or correct its name in the config.".to_string(),
                    Vec::new(),
                ));
            }
            let associated = space.associated();
            let declared = space.declared();
            for account in &footprint {
                let not_associated = associated.as_ref().is_some_and(|a| !a.contains(account));
                let not_declared = declared.as_ref().is_some_and(|d| !d.contains(account));
                if !not_associated && !not_declared {
                    continue;
                }
                let sides = match (not_associated, not_declared) {
                    (true, true) => "neither associated in AWS nor declared in the config",
                    (true, false) => "declared in the config but not associated in AWS",
                    _ => "associated in AWS but not declared in the config",
                };
                let evidence = reach_evidence(t, space.app, account);
                out.push(self.finding(
                    &space,
                    app,
                    Some(account),
                    format!("`{app}` reaches account `{account}`, but its Agent Space `{}` cannot investigate it ({sides})", space.name),
                    format!(
                        "Associate account `{account}` with Agent Space `{}` (a secondary-account role trusting `aidevops.amazonaws.com` pinned to the space) and list it under `[agent_spaces.{}].accounts`.",
                        space.name, space.name
                    ),
                    evidence,
                ));
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
        Finding {
            check: self.id().to_string(),
            severity: self.default_severity(),
            status: Status::Violation,
            title: self.title().to_string(),
            message,
            resource: space.id(),
            account: account.map(str::to_string),
            region: space.existing.map(|s| s.region.clone()),
            applications: vec![app.to_string()],
            evidence,
            remediation,
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
