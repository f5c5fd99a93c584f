//! `incident-access-not-read-only`: a role an Agent Space or a responder can assume grants more
//! than metadata reads. Writes, permission changes and tagging are high (an investigation should
//! never be able to change what it investigates); content reads outside the application's own
//! log groups and traces are medium (they expose data the investigation does not need).

use super::{Check, Evidence, Finding, Input, Severity, Status, app_names};
use crate::graph::{IncidentRole, NodeKind, Topology};
use crate::iam::capability::{Capability, Target, capabilities};
use crate::iam::catalog::{ActionClass, Catalog};
use std::collections::BTreeMap;

pub struct IncidentAccessNotReadOnly;

/// How many actions a message names before summarising.
const SHOWN: usize = 8;

impl Check for IncidentAccessNotReadOnly {
    fn id(&self) -> &'static str {
        "incident-access-not-read-only"
    }
    fn title(&self) -> &'static str {
        "Incident access goes beyond metadata reads"
    }
    fn description(&self) -> &'static str {
        "A role that an Agent Space or a configured responder principal can assume (directly or through a chain) can do more than read metadata: Write, Permissions management or Tagging actions are high; content reads (object bodies, items, messages, secrets, log events) outside the application's own log groups and traces are medium. Evaluated with SCPs, permission boundaries and conditions."
    }
    fn default_severity(&self) -> Severity {
        Severity::High
    }
    fn inputs(&self) -> &'static [Input] {
        &[Input::Iam, Input::Organization, Input::AgentSpaces]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        let catalog = match Catalog::get() {
            Ok(c) => c,
            Err(e) => return vec![catalog_unavailable(self, &e.to_string())],
        };
        let iam = t.iam();
        let org = t.snapshot.organization.id.as_deref();
        let mut by_role: BTreeMap<&str, Vec<&IncidentRole>> = BTreeMap::new();
        let roles = t.incident_roles();
        for r in &roles {
            by_role.entry(r.role.as_str()).or_default().push(r);
        }
        let mut out = Vec::new();
        for (role, reached) in by_role {
            let caps = capabilities(
                iam.store,
                catalog,
                org,
                role,
                Target::OwnStatements,
                &[
                    ActionClass::Write,
                    ActionClass::PermissionsManagement,
                    ActionClass::Tagging,
                    ActionClass::ContentRead,
                ],
            );
            if caps.is_empty() {
                continue;
            }
            let apps: Vec<usize> = reached.iter().filter_map(|r| r.application).collect();
            let (writes, reads): (Vec<&Capability>, Vec<&Capability>) =
                caps.iter().partition(|c| c.class != ActionClass::ContentRead);
            let reads: Vec<&Capability> = reads
                .into_iter()
                .filter(|c| !own_logs_or_traces(t, c, &apps, role))
                .collect();
            let node = t.find(role).map(|ix| t.node(ix));
            for (list, severity, what) in [
                (
                    writes,
                    Severity::High,
                    "changes resources (Write, Permissions management or Tagging)",
                ),
                (
                    reads,
                    Severity::Medium,
                    "reads content beyond the application's own logs and traces",
                ),
            ] {
                if list.is_empty() {
                    continue;
                }
                let names: Vec<&str> = list.iter().map(|c| c.action.as_str()).collect();
                let shown = names.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
                let more = names.len().saturating_sub(SHOWN);
                let conditional = list.iter().filter(|c| !c.conditional_on.is_empty()).count();
                let mut message = format!("incident role `{role}` {what}: {} action(s), e.g. {shown}", names.len());
                if more > 0 {
                    message.push_str(&format!(" and {more} more"));
                }
                if conditional > 0 {
                    message.push_str(&format!(
                        "; {conditional} of them only under conditions whose values are unknown"
                    ));
                }
                let mut evidence: Vec<Evidence> = reached
                    .iter()
                    .map(|r| {
                        Evidence::new(
                            "can-assume",
                            r.reached_by.clone(),
                            Some(role.to_string()),
                            format!("chain: {}", r.path.join(" -> ")),
                        )
                    })
                    .collect();
                let mut grants: Vec<String> = list
                    .iter()
                    .flat_map(|c| {
                        c.grants
                            .iter()
                            .map(|g| format!("{} statement {}", g.policy, g.statement))
                    })
                    .collect();
                grants.sort();
                grants.dedup();
                evidence.extend(grants.into_iter().map(|g| Evidence::new("grants", role, None, g)));
                out.push(Finding {
                    check: self.id().to_string(),
                    severity,
                    status: Status::Violation,
                    title: self.title().to_string(),
                    message,
                    resource: role.to_string(),
                    account: node.and_then(|n| n.account).map(str::to_string),
                    region: None,
                    applications: app_names(t, apps.iter().copied()),
                    evidence,
                    remediation: "Limit the role to metadata reads (List and configuration Read actions) plus reads of the application's own log groups and traces; mitigation rights belong in a separate, explicitly assumed role. Or deny the rest with a permission boundary.".to_string(),
                });
            }
        }
        out
    }
}

/// Content reads of logs or traces confined to the applications' own: a logs read whose
/// resource pattern matches no log group of another application (their `logs-log-group`
/// resources and the `/aws/lambda/<name>` groups of their functions; `*` always does), or a
/// trace read in an account the application owns.
fn own_logs_or_traces(t: &Topology<'_>, c: &Capability, apps: &[usize], role: &str) -> bool {
    let service = c.action.split(':').next().unwrap_or("");
    let role_account = crate::arn::Arn::parse(role).ok().and_then(|a| a.account());
    match service {
        "xray" => role_account
            .and_then(|a| t.find(a))
            .and_then(|ix| t.owner(ix))
            .is_some_and(|o| apps.contains(&o)),
        "logs" if c.resource != "*" && !apps.is_empty() => {
            for (ix, node) in t.nodes() {
                let group = match node.kind {
                    NodeKind::Resource(crate::model::ResourceKind::LogsLogGroup) => node.id.to_string(),
                    NodeKind::Function => match (node.region, node.account, node.id.rsplit(':').next()) {
                        (Some(r), Some(a), Some(name)) => format!("arn:aws:logs:{r}:{a}:log-group:/aws/lambda/{name}"),
                        _ => continue,
                    },
                    _ => continue,
                };
                let hit = crate::arn::glob_match(&c.resource, &group)
                    || crate::arn::glob_match(&c.resource, &format!("{group}:*"));
                if hit && !t.owner(ix).is_some_and(|o| apps.contains(&o)) {
                    return false;
                }
            }
            true
        }
        _ => false,
    }
}

/// A finding saying the IAM checks could not run.
pub fn catalog_unavailable(check: &dyn Check, error: &str) -> Finding {
    Finding {
        check: check.id().to_string(),
        severity: check.default_severity(),
        status: Status::NotProven,
        title: check.title().to_string(),
        message: format!(
            "the embedded IAM action catalog could not be loaded ({error}), so `{}` could not run",
            check.id()
        ),
        resource: "organization".to_string(),
        account: None,
        region: None,
        applications: Vec::new(),
        evidence: Vec::new(),
        remediation: "Reinstall topoguard; the catalog is part of the binary.".to_string(),
    }
}
