//! Checks: one file per check, named after its id, all implementing [`Check`] and listed in
//! [`REGISTRY`]. A check declares its metadata once (`const META: Meta`, wired up by
//! `check_meta!()`), reads what its [`Context`] hands it (topology, own settings, IAM catalog)
//! and returns findings built from its [`Meta`]; it never prints. The [`engine`] runs them,
//! turns coverage gaps into "not proven" results, applies severity overrides and ignores, and
//! reports ignore and allow entries that matched nothing.

/// Implements [`Check::meta`] from the module's `const META: Meta`.
macro_rules! check_meta {
    () => {
        fn meta(&self) -> &'static $crate::checks::Meta {
            &META
        }
    };
}

mod agent_space_elevated_access;
mod agent_space_external_id;
mod agent_space_foreign_account;
mod agent_space_missing_account;
mod agent_space_outside_zone;
mod agent_space_reconfigurable;
mod agent_space_role_overbroad;
mod agent_space_role_unpinned;
mod application_resource_unattributed;
mod context;
mod cross_account_write_to_shared;
pub mod engine;
mod incident_access_not_read_only;
mod residency_cross_zone_flow;
mod role_writes;
mod shared_resource_tag_mismatch;
mod shared_resource_untagged;
pub mod unused_ignore;

pub use crate::finding::{Evidence, Finding, Severity, Status};
pub use context::Context;
pub use engine::{Outcome, run_checks};

use crate::graph::{AppId, Node, Topology};
use crate::model::CoverageGap;

/// The kinds of crawled data a check reads; a coverage gap in one of them makes the check's
/// result "not proven" for the account and region of the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Organization,
    Iam,
    EventBridge,
    Lambda,
    Tagging,
    ResourcePolicies,
    AgentSpaces,
}

impl Input {
    /// Which input an API (in IAM action form, `service:Operation`) feeds. `None` means the API
    /// gates everything in its account and region (`sts:AssumeRole`) or is unknown.
    pub fn of_api(api: &str) -> Option<Input> {
        let service = api.split(':').next().unwrap_or("").to_ascii_lowercase();
        Some(match service.as_str() {
            "organizations" => Input::Organization,
            "iam" => Input::Iam,
            "events" | "eventsv2" => Input::EventBridge,
            "lambda" => Input::Lambda,
            "tag" => Input::Tagging,
            "sqs" | "sns" | "dynamodb" | "s3" | "kms" | "secretsmanager" | "logs" | "kinesis" | "ssm" => {
                Input::ResourcePolicies
            }
            "aidevops" | "devops-agent" | "devopsagent" => Input::AgentSpaces,
            _ => return None,
        })
    }
}

/// What a check is: declared once per check as its module's `const META`.
#[derive(Debug)]
pub struct Meta {
    /// Stable kebab-case id; also the file name and the config key.
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// What it catches and why it matters.
    pub description: &'static str,
    /// Severity of its findings unless the check grades them or the config overrides it.
    pub severity: Severity,
    /// The crawled data it reads.
    pub inputs: &'static [Input],
}

impl Meta {
    /// The one finding builder: a violation of this check about `resource` (in `account` and
    /// `region`), with the check's title and default severity and no applications or evidence
    /// yet.
    pub fn finding_at(
        &self,
        resource: &str,
        account: Option<&str>,
        region: Option<&str>,
        message: String,
        remediation: String,
    ) -> Finding {
        Finding {
            check: self.id.to_string(),
            severity: self.severity,
            status: Status::Violation,
            title: self.title.to_string(),
            message,
            resource: resource.to_string(),
            account: account.map(str::to_string),
            region: region.map(str::to_string),
            applications: Vec::new(),
            evidence: Vec::new(),
            remediation,
            conditions: Vec::new(),
            location: None,
        }
    }

    /// A violation of this check about topology node `node` (see [`Meta::finding_at`]).
    pub fn finding(&self, node: &Node<'_>, message: String, remediation: String) -> Finding {
        self.finding_at(node.id, node.account, node.region, message, remediation)
    }
}

/// A guardrail check.
pub trait Check: Sync {
    /// The check's metadata (implemented by `check_meta!()`).
    fn meta(&self) -> &'static Meta;
    /// Stable kebab-case id; also the file name and the config key.
    fn id(&self) -> &'static str {
        self.meta().id
    }
    /// One line.
    fn title(&self) -> &'static str {
        self.meta().title
    }
    /// What it catches and why it matters.
    fn description(&self) -> &'static str {
        self.meta().description
    }
    fn default_severity(&self) -> Severity {
        self.meta().severity
    }
    /// The crawled data it reads.
    fn inputs(&self) -> &'static [Input] {
        self.meta().inputs
    }
    /// Runs the check. Findings use the default severity unless the check grades them.
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding>;
}

/// Every check, in id order.
pub static REGISTRY: &[&dyn Check] = &[
    &agent_space_elevated_access::AgentSpaceElevatedAccess,
    &agent_space_external_id::AgentSpaceExternalId,
    &agent_space_foreign_account::AgentSpaceForeignAccount,
    &agent_space_missing_account::AgentSpaceMissingAccount,
    &agent_space_outside_zone::AgentSpaceOutsideZone,
    &agent_space_reconfigurable::AgentSpaceReconfigurable,
    &agent_space_role_overbroad::AgentSpaceRoleOverbroad,
    &agent_space_role_unpinned::AgentSpaceRoleUnpinned,
    &application_resource_unattributed::ApplicationResourceUnattributed,
    &cross_account_write_to_shared::CrossAccountWriteToShared,
    &incident_access_not_read_only::IncidentAccessNotReadOnly,
    &residency_cross_zone_flow::ResidencyCrossZoneFlow,
    &shared_resource_tag_mismatch::SharedResourceTagMismatch,
    &shared_resource_untagged::SharedResourceUntagged,
];

/// Ids a config may name under `[checks]`.
pub fn known_ids() -> Vec<&'static str> {
    REGISTRY
        .iter()
        .map(|c| c.id())
        .chain(std::iter::once(unused_ignore::ID))
        .collect()
}

/// Where each check's documentation lives.
pub const DOCS_URL: &str = "https://github.com/topoguard/topoguard/blob/main/docs/checks.md";

/// How many actions a finding's message names before summarising the rest (IAM checks).
pub const SHOWN: usize = 8;

/// A finding saying the IAM checks could not run.
pub fn catalog_unavailable(meta: &Meta, error: &str) -> Finding {
    Finding {
        status: Status::NotProven,
        ..meta.finding_at(
            "organization",
            None,
            None,
            format!(
                "the embedded IAM action catalog could not be loaded ({error}), so `{}` could not run",
                meta.id
            ),
            "Reinstall topoguard; the catalog is part of the binary.".to_string(),
        )
    }
}

/// A finding about `node` with the check's default severity and no applications or evidence yet.
pub fn finding_for(check: &dyn Check, node: &Node<'_>, message: String, remediation: String) -> Finding {
    check.meta().finding(node, message, remediation)
}

/// The coverage gaps that could hide a fact about `accounts` (every account when empty) in
/// `region` (any region when `None`) read through one of `inputs`: gaps of those inputs, and gaps
/// of APIs that gate everything (`sts:AssumeRole`), in those accounts or organization-wide.
pub fn gaps_hiding<'s>(
    topology: &Topology<'s>,
    inputs: &[Input],
    accounts: &[&str],
    region: Option<&str>,
) -> Vec<&'s CoverageGap> {
    topology
        .snapshot
        .coverage
        .gaps
        .iter()
        .filter(|g| Input::of_api(&g.api).is_none_or(|i| inputs.contains(&i)))
        .filter(|g| {
            g.account
                .as_deref()
                .is_none_or(|a| accounts.is_empty() || accounts.contains(&a))
        })
        .filter(|g| g.region.as_deref().is_none_or(|r| region.is_none_or(|x| x == r)))
        .collect()
}

/// The coverage gaps that could hide a fact read through exactly the APIs `apis` (IAM action
/// form, e.g. `aidevops:ListAgentSpaces`) in `accounts` (every account when empty) and `region`
/// (any when `None`), plus gaps of APIs that gate everything. Narrower than [`gaps_hiding`]
/// where an input is read through several APIs and the fact depends on one of them (whether an
/// Agent Space exists is not hidden by a failure to list its associations).
pub fn gaps_hiding_apis<'s>(
    topology: &Topology<'s>,
    apis: &[&str],
    accounts: &[&str],
    region: Option<&str>,
) -> Vec<&'s CoverageGap> {
    let mut gaps = gaps_hiding(topology, &[], accounts, region);
    gaps.extend(topology.gaps().iter().filter(|g| {
        apis.contains(&g.api.as_str())
            && g.account
                .as_deref()
                .is_none_or(|a| accounts.is_empty() || accounts.contains(&a))
            && g.region.as_deref().is_none_or(|r| region.is_none_or(|x| x == r))
    }));
    gaps.sort();
    gaps.dedup();
    gaps
}

/// The accounts where an application's own data is read: its configured accounts and its
/// footprint (a gap there could hide one of its uses).
pub fn app_accounts<'s>(topology: &Topology<'s>, app: AppId) -> Vec<&'s str> {
    let name = topology.app_name(app);
    let mut out: Vec<&'s str> = topology
        .config
        .application(name)
        .map(|a| a.accounts.iter().map(|x| x.get_ref().as_str()).collect())
        .unwrap_or_default();
    out.extend(topology.footprint_accounts(app));
    out.sort_unstable();
    out.dedup();
    out
}

/// A short description of gaps for a message: "`api` in account `A` region `R` (code), …".
pub fn describe_gaps(gaps: &[&CoverageGap]) -> String {
    let mut parts: Vec<String> = gaps
        .iter()
        .map(|g| {
            let place = match (&g.account, &g.region) {
                (Some(a), Some(r)) => format!(" in account `{a}` region `{r}`"),
                (Some(a), None) => format!(" in account `{a}`"),
                (None, Some(r)) => format!(" in region `{r}`"),
                (None, None) => String::new(),
            };
            format!("`{}`{place} ({})", g.api, g.error_code)
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts.join(", ")
}

/// What one gap leaves unknown, as a clause for a message: "the crawl could not read `api`
/// {`here`} (code: message)" for what a crawl failed to read, "a value known only after apply at
/// `file:line:column (resource): `field``" for an IaC value known only after deployment, and
/// "the change names a managed policy whose document is not in the snapshot (…)" for a policy
/// an IaC change attaches that no snapshot holds. Every "not proven" message says its gaps
/// through this function or [`gaps_clause`].
pub fn gap_clause(g: &CoverageGap, here: &str) -> String {
    match g.error_code.as_str() {
        crate::iac::UNKNOWN_CODE => format!("a value known only after apply at {}", g.message),
        crate::iac::POLICY_NOT_IN_SNAPSHOT => format!(
            "the change names a managed policy whose document is not in the snapshot ({})",
            g.message
        ),
        code if g.message.is_empty() => format!("the crawl could not read `{}`{here} ({code})", g.api),
        code => format!("the crawl could not read `{}`{here} ({code}: {})", g.api, g.message),
    }
}

/// Whether a gap is a crawl failure (not an IaC value or policy the change leaves unknown).
pub fn is_crawl_gap(g: &CoverageGap) -> bool {
    g.error_code != crate::iac::UNKNOWN_CODE && g.error_code != crate::iac::POLICY_NOT_IN_SNAPSHOT
}

/// What `gaps` leave unknown, as one clause: the crawl failures grouped ("the crawl could not
/// read `a` in account `A` (code), `b` …"), then each IaC gap as [`gap_clause`] says it.
pub fn gaps_clause(gaps: &[&CoverageGap]) -> String {
    let crawl: Vec<&CoverageGap> = gaps.iter().copied().filter(|g| is_crawl_gap(g)).collect();
    let mut parts: Vec<String> = gaps
        .iter()
        .filter(|g| !is_crawl_gap(g))
        .map(|g| gap_clause(g, ""))
        .collect();
    parts.sort();
    parts.dedup();
    if !crawl.is_empty() {
        parts.insert(0, format!("the crawl could not read {}", describe_gaps(&crawl)));
    }
    parts.join("; ")
}

/// What to do about one gap, `place` being "account `A` region `R`" or similar.
pub fn gap_remediation(g: &CoverageGap, place: &str) -> String {
    match g.error_code.as_str() {
        crate::iac::UNKNOWN_CODE => format!(
            "Give the value in the template or plan (a fixed name or ARN), or run the check again once the change is applied and {place} re-crawled."
        ),
        crate::iac::POLICY_NOT_IN_SNAPSHOT => format!(
            "Crawl an account whose roles use that managed policy, or define the policy in the change; then run the check again for {place}."
        ),
        _ => format!(
            "Let the crawl role call `{}` in {place}, re-crawl, and run the check again.",
            g.api
        ),
    }
}

/// The evidence detail naming one gap: `api failed: code` for a crawl failure, `api known only
/// after apply: place` for an IaC value, `api not in the snapshot: place` for a policy.
pub fn gap_detail(g: &CoverageGap) -> String {
    match g.error_code.as_str() {
        crate::iac::UNKNOWN_CODE => format!("{} known only after apply: {}", g.api, g.message),
        crate::iac::POLICY_NOT_IN_SNAPSHOT => format!("{} not in the snapshot: {}", g.api, g.message),
        code => format!("{} failed: {code}", g.api),
    }
}

/// Evidence entries naming each gap.
pub fn gap_evidence(gaps: &[&CoverageGap]) -> Vec<Evidence> {
    gaps.iter()
        .map(|g| {
            Evidence::new(
                "coverage-gap",
                g.account.as_deref().unwrap_or("organization"),
                None,
                gap_detail(g),
            )
        })
        .collect()
}

/// Turns a finding built on "not found in the snapshot" into "not proven" when `gaps` could
/// explain the absence, naming them in the message and the evidence.
pub fn unproven_by(mut f: Finding, gaps: &[&CoverageGap]) -> Finding {
    if gaps.is_empty() {
        return f;
    }
    f.status = Status::NotProven;
    f.message = format!(
        "not proven: {}; {}, which could hide what is missing",
        f.message,
        gaps_clause(gaps)
    );
    f.evidence.extend(gap_evidence(gaps));
    f
}

/// Sorted, de-duplicated application names.
pub fn app_names(topology: &Topology<'_>, apps: impl IntoIterator<Item = AppId>) -> Vec<String> {
    let mut names: Vec<String> = apps.into_iter().map(|a| topology.app_name(a).to_string()).collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod boundaries;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
