//! What the checks read of the configuration and the snapshot besides the graph: a narrow,
//! read-only view, so that no check reaches into `config` or `snapshot` internals (a test in
//! `src/checks/boundaries.rs` keeps it that way). The engine and the check context still read the
//! config for settings, ignores and allow entries.

use super::{AppId, Topology};
use crate::config::Guardrail;
use crate::model::{AgentSpace, CoverageGap, EventBusV2, Role, User};
use toml::Spanned;

impl<'a> Topology<'a> {
    /// The organization's id (`o-…`), when the snapshot records it.
    pub fn organization_id(&self) -> Option<&'a str> {
        self.snapshot.organization.id.as_deref()
    }

    /// Every IAM role of the snapshot.
    pub fn iam_roles(&self) -> &'a [Role] {
        &self.snapshot.roles
    }

    /// Every IAM user of the snapshot.
    pub fn iam_users(&self) -> &'a [User] {
        &self.snapshot.users
    }

    /// Every Agent Space the snapshot records.
    pub fn agent_space_records(&self) -> &'a [AgentSpace] {
        &self.snapshot.agent_spaces
    }

    /// The Agent Space with this ARN, as the snapshot records it.
    pub fn agent_space_record(&self, arn: &str) -> Option<&'a AgentSpace> {
        self.snapshot.agent_spaces.iter().find(|s| s.arn == arn)
    }

    /// The EventBridge (v2) bus with this ARN.
    pub fn event_bus_v2(&self, arn: &str) -> Option<&'a EventBusV2> {
        self.snapshot.event_buses_v2.iter().find(|b| b.arn == arn)
    }

    /// What the crawl could not see.
    pub fn gaps(&self) -> &'a [CoverageGap] {
        &self.snapshot.coverage.gaps
    }

    /// The residency zone a region belongs to, if any.
    pub fn zone_of_region(&self, region: &str) -> Option<&'a str> {
        self.config.zone_of_region(region)
    }

    /// True when the config declares residency zones.
    pub fn has_zones(&self) -> bool {
        !self.config.zones.is_empty()
    }

    /// The zone the config declares for an application.
    pub fn declared_zone(&self, app: AppId) -> Option<&'a Spanned<String>> {
        self.config
            .application(self.app_name(app))
            .and_then(|a| a.zone.as_ref())
    }

    /// True when the account is one of the shared-dependency accounts.
    pub fn is_shared_account(&self, account: &str) -> bool {
        self.config.is_shared_account(account)
    }

    /// True when the config names any shared-dependency account.
    pub fn has_shared_accounts(&self) -> bool {
        !self.config.shared_dependencies.accounts.is_empty()
    }

    /// The tag that names the applications using a shared resource.
    pub fn consumer_tag_key(&self) -> &'a str {
        self.config.shared_dependencies.consumer_tag_key.as_str()
    }

    /// The tag that attributes a resource to its application.
    pub fn attribution_tag_key(&self) -> &'a str {
        self.config.attribution.tag_key.as_str()
    }

    /// True when the principal matches one of the platform's administrator patterns.
    pub fn is_platform_administrator(&self, principal: &str) -> bool {
        self.config.platform.is_administrator(principal)
    }

    /// The DevOps Agent guardrail that caps the sessions of the Agent Space named `space`: its
    /// own, else the `[devops_agent]` one; `None` when the config names none.
    pub fn guardrail_for(&self, space: &str) -> Option<&'a Guardrail> {
        self.config.guardrail_for(space)
    }

    /// The DevOps Agent guardrail that applies to every Agent Space without one of its own.
    pub fn default_guardrail(&self) -> Option<&'a Guardrail> {
        self.config.devops_agent.guardrail.as_ref()
    }
}
