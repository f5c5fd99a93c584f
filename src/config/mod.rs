//! The guardrail config (`policies/topoguard.toml`): what the organization intends.
//!
//! Applications and how resources are attributed to them, shared-dependency accounts, the
//! consumer tag, residency zones, Agent Spaces, and per-check severity overrides and ignores.
//! Parsing rejects unknown keys; validation reports the file, line and key of every problem.

mod load;

pub use load::{ConfigError, config_file, load_config, parse_config};

use crate::finding::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The default tag key that names a resource's owning application.
pub const DEFAULT_APP_TAG: &str = "app";
/// The default tag key that lists the applications using a shared resource.
pub const DEFAULT_CONSUMER_TAG: &str = "shared-with";

/// The whole config as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub attribution: Attribution,
    /// Application name → how it is attributed.
    #[serde(default)]
    pub applications: BTreeMap<Spanned<String>, Application>,
    #[serde(default)]
    pub shared_dependencies: SharedDependencies,
    /// Zone name → regions.
    #[serde(default)]
    pub zones: BTreeMap<Spanned<String>, Zone>,
    /// Agent Space name → intent.
    #[serde(default)]
    pub agent_spaces: BTreeMap<Spanned<String>, AgentSpaceIntent>,
    /// Who responds to incidents.
    #[serde(default)]
    pub responders: Responders,
    /// Who runs the platform (may change Agent Spaces).
    #[serde(default)]
    pub platform: Platform,
    /// Check id → settings.
    #[serde(default)]
    pub checks: BTreeMap<Spanned<String>, CheckSettings>,
}

/// The principals incident responders use (roles they sign in as, e.g. SSO permission-set roles).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responders {
    /// Role ARNs responders start from; every role they can reach is checked.
    #[serde(default)]
    pub principals: Vec<Spanned<String>>,
}

/// The platform team's principals.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// IAM role or user ARNs (`*` and `?` wildcards allowed) that may change Agent Spaces and
    /// their associations; anyone else who can is reported by `agent-space-reconfigurable`.
    #[serde(default)]
    pub administrators: Vec<Spanned<String>>,
}

impl Platform {
    /// True when `principal` is a declared platform administrator.
    pub fn is_administrator(&self, principal: &str) -> bool {
        self.administrators
            .iter()
            .any(|p| crate::arn::glob_match(p.get_ref(), principal))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    /// Tag key whose value names the owning application.
    #[serde(default = "default_app_tag")]
    pub tag_key: String,
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            tag_key: default_app_tag(),
        }
    }
}

fn default_app_tag() -> String {
    DEFAULT_APP_TAG.to_string()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Accounts whose every resource belongs to this application (unless tagged otherwise).
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    /// The residency zone the application's data must stay in.
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// Owning team, shown in findings and runbooks.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedDependencies {
    /// Accounts that hold resources shared by several applications.
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    /// Tag key on shared resources listing the applications that use them.
    #[serde(default = "default_consumer_tag")]
    pub consumer_tag_key: String,
}

impl Default for SharedDependencies {
    fn default() -> Self {
        SharedDependencies {
            accounts: Vec::new(),
            consumer_tag_key: default_consumer_tag(),
        }
    }
}

fn default_consumer_tag() -> String {
    DEFAULT_CONSUMER_TAG.to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub regions: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpaceIntent {
    /// The one application this space serves.
    pub application: Spanned<String>,
    /// Accounts the space is meant to be associated with (primary included).
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// Every source association's role must require the association's `sts:ExternalId`
    /// (checked by `agent-space-external-id`).
    #[serde(default)]
    pub require_external_id: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Replaces the check's default severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// `false` turns the check off.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub ignore: Vec<Spanned<Ignore>>,
    /// Accepted write access (only `cross-account-write-to-shared`).
    #[serde(default)]
    pub allow: Vec<Spanned<WriteException>>,
}

/// Write access into a shared-dependency account that is accepted, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteException {
    /// The principal (role ARN or account id; `*` and `?` wildcards allowed).
    #[serde(default)]
    pub principal: Option<String>,
    /// The application whose principal it is.
    #[serde(default)]
    pub application: Option<String>,
    /// ARN of the shared resource; wildcards allowed.
    pub resource: String,
    /// Actions accepted (`service:Action`, wildcards allowed).
    pub actions: Vec<String>,
    /// Why this write is acceptable. Required.
    pub reason: String,
}

fn yes() -> bool {
    true
}

/// Suppresses matching findings of one check. Every field given must match.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// ARN of the finding's resource; `*` and `?` wildcards allowed.
    #[serde(default)]
    pub resource: Option<String>,
    /// An application the finding concerns.
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    /// Why this is acceptable. Required.
    pub reason: String,
}

impl Config {
    /// Application names, sorted.
    pub fn application_names(&self) -> impl Iterator<Item = &str> {
        self.applications.keys().map(|k| k.get_ref().as_str())
    }

    pub fn application(&self, name: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, v)| v)
    }

    pub fn is_shared_account(&self, account: &str) -> bool {
        self.shared_dependencies.accounts.iter().any(|a| a.get_ref() == account)
    }

    /// The zone a region belongs to, if any.
    pub fn zone_of_region(&self, region: &str) -> Option<&str> {
        self.zones
            .iter()
            .find(|(_, z)| z.regions.iter().any(|r| r.get_ref() == region))
            .map(|(name, _)| name.get_ref().as_str())
    }

    pub fn check_settings(&self, id: &str) -> Option<&CheckSettings> {
        self.checks.iter().find(|(k, _)| k.get_ref() == id).map(|(_, v)| v)
    }
}
