//! The guardrail config (`policies/topoguard.toml`): what the organization intends.
//!
//! Applications and how resources are attributed to them, shared-dependency accounts, the
//! consumer tag, residency zones, Agent Spaces, and per-check settings: the generic part
//! (`severity`, `enabled`, `ignore`) and, for checks that have them, their own typed options
//! ([`CheckOptions`]). Loading rejects unknown keys and reports every problem at once, each
//! with its place in the file ([`crate::diagnostic`]).

mod checks;
mod guardrail;
mod load;
mod validate;

pub use checks::{CheckOptions, CheckSettings, Ignore, WriteException, WriteOptions};
pub use guardrail::Guardrail;
pub use load::{ConfigError, config_file, load_config, parse_config};

use crate::finding::{FileLocation, Lines};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// The default tag key that names a resource's owning application.
pub const DEFAULT_APP_TAG: &str = "app";
/// The default tag key that lists the applications using a shared resource.
pub const DEFAULT_CONSUMER_TAG: &str = "shared-with";

/// The whole config, validated. Each section is read on its own, so that one bad section does
/// not hide the problems of the others.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub attribution: Attribution,
    /// Application name → how it is attributed.
    pub applications: BTreeMap<Spanned<String>, Application>,
    pub shared_dependencies: SharedDependencies,
    /// Zone name → regions.
    pub zones: BTreeMap<Spanned<String>, Zone>,
    /// Agent Space name → intent.
    pub agent_spaces: BTreeMap<Spanned<String>, AgentSpaceIntent>,
    /// Who responds to incidents.
    pub responders: Responders,
    /// Who runs the platform (may change Agent Spaces).
    pub platform: Platform,
    /// Settings of the AWS DevOps Agent service (its guardrail).
    pub devops_agent: DevopsAgent,
    /// Check id → settings.
    pub checks: BTreeMap<Spanned<String>, CheckSettings>,
    /// How the readiness score weighs its components.
    pub readiness: ReadinessSettings,
    /// The file it was read from, to locate entries in findings (none for a built config).
    pub source: Option<Source>,
}

/// The config file as the user named it, and its text (the spans in [`Config`] index it).
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// `[readiness]`: settings of `topoguard readiness` (see `docs/readiness.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSettings {
    /// Component → weight (points possible); a component left out keeps its default weight.
    #[serde(default)]
    pub weights: ReadinessWeights,
}

/// Weights of the readiness components; `None` keeps the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessWeights {
    #[serde(default)]
    pub visibility: Option<u32>,
    #[serde(default)]
    pub access: Option<u32>,
    #[serde(default)]
    pub attribution: Option<u32>,
    #[serde(default)]
    pub residency: Option<u32>,
    #[serde(default)]
    pub delivery_safety: Option<u32>,
    #[serde(default)]
    pub coverage: Option<u32>,
}

/// The principals incident responders use (roles they sign in as, e.g. SSO permission-set roles).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responders {
    /// Role ARNs responders start from; every role they can reach is checked.
    #[serde(default)]
    pub principals: Vec<Spanned<String>>,
}

/// `[devops_agent]`: what the organization knows about the AWS DevOps Agent service itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevopsAgent {
    /// The guardrail file as written (relative to the config file).
    #[serde(default, rename = "guardrail")]
    pub guardrail_file: Option<Spanned<String>>,
    /// The guardrail read from it at load: the session policy that caps every agent session.
    #[serde(skip)]
    pub guardrail: Option<Guardrail>,
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
    /// This space's own guardrail file (relative to the config file), replacing
    /// `[devops_agent] guardrail` for it.
    #[serde(default, rename = "guardrail")]
    pub guardrail_file: Option<Spanned<String>>,
    /// The guardrail read from it at load.
    #[serde(skip)]
    pub guardrail: Option<Guardrail>,
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

    /// The DevOps Agent guardrail that caps the sessions of Agent Space `space`: its own, else
    /// the `[devops_agent]` one; `None` when the config names none (the guardrail is unknown).
    pub fn guardrail_for(&self, space: &str) -> Option<&Guardrail> {
        self.agent_spaces
            .iter()
            .find(|(k, _)| k.get_ref() == space)
            .and_then(|(_, i)| i.guardrail.as_ref())
            .or(self.devops_agent.guardrail.as_ref())
    }

    pub fn check_settings(&self, id: &str) -> Option<&CheckSettings> {
        self.checks.iter().find(|(k, _)| k.get_ref() == id).map(|(_, v)| v)
    }

    /// The accepted writes of `cross-account-write-to-shared` (its `allow` entries).
    pub fn write_exceptions(&self) -> &[Spanned<WriteException>] {
        match self.check_settings(checks::CROSS_ACCOUNT_WRITE).map(|s| &s.options) {
            Some(CheckOptions::CrossAccountWriteToShared(o)) => &o.allow,
            _ => &[],
        }
    }

    /// Where the config entry at byte range `span` is (file, line, column), when the config
    /// was read from a file.
    pub fn locate(&self, span: Range<usize>) -> Option<FileLocation> {
        let source = self.source.as_ref()?;
        Some(FileLocation {
            file: source.path.clone(),
            span: Lines::new(&source.text).span(span),
        })
    }
}
