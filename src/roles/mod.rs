//! Responder role synthesis: from the topology and the guardrail config, the IAM roles that each
//! application's Agent Space and its incident responders should have, validated with the IAM
//! engine before anything is rendered.
//!
//! Per application and per account of its footprint:
//!
//! - an **Agent Space role** per space of the application (`DevOpsAgentRole-<space>`), trusting
//!   `aidevops.amazonaws.com` pinned by `aws:SourceAccount` and `aws:SourceArn` to that space;
//! - an **observe** role (`topoguard-<app>-observe`) with the same permissions, assumable by the
//!   configured responder principals with MFA and a source identity, for one hour at most;
//! - a **mitigate** role (`topoguard-<app>-mitigate`) in accounts where the application owns
//!   resources that a narrow, reversible write applies to. It is trusted only by its own
//!   account's principals tagged `topoguard-mitigate = <app>` (never by Agent Spaces or the
//!   responder principals), so reaching it is a deliberate, separate grant;
//! - with [`Options::elevated`] (`roles --elevated`), an **Agent Space elevated role** per space
//!   (`DevOpsAgentElevatedRole-<space>`) in the accounts that get a mitigate role: the same
//!   trust as the space's agent role, and only the mitigate tier's reversible writes on the
//!   application's own functions and rules (the agent reads through its agent role).
//!
//! Permissions are metadata reads picked from the action catalog for the services and resource
//! types the application uses, scoped to its resources' ARNs; content reads only on its own log
//! groups and X-Ray traces; every statement limited by `aws:RequestedRegion` to its residency
//! zone. See `docs/roles.md`.

mod actions;
mod compress;
mod pack;
pub mod render;
mod scope;
mod validate;

pub use render::{Format, render};

use crate::graph::Topology;
use crate::iam::catalog::Catalog;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// IAM quotas the generated roles must respect (defaults of an AWS account).
pub mod limits {
    /// Characters of a managed policy document, whitespace excluded.
    pub const MANAGED_POLICY: usize = 6_144;
    /// Characters of a role trust policy.
    pub const TRUST_POLICY: usize = 2_048;
    /// Characters of all inline policies of one role together (topoguard writes none).
    pub const INLINE_PER_ROLE: usize = 10_240;
    /// Managed policies attached to one role.
    pub const ATTACHED_PER_ROLE: usize = 10;
    /// Characters of a role name.
    pub const ROLE_NAME: usize = 64;
    /// Characters of a managed policy name.
    pub const POLICY_NAME: usize = 128;
}

/// Longest session of the responder roles, in seconds.
pub const MAX_SESSION_SECONDS: u32 = 3_600;

/// The tag a principal needs (with the application's name as value) to assume a mitigate role.
pub const MITIGATE_TAG: &str = "topoguard-mitigate";

/// What a generated role is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    /// The Agent Space role in the space's own account.
    AgentPrimary,
    /// The Agent Space role in another account of the footprint.
    AgentSecondary,
    /// Responder role, reads only.
    Observe,
    /// Responder role, reads plus narrow reversible writes on the application's own resources.
    Mitigate,
    /// The Agent Space's elevated role (the association's `AgentElevatedRoleArn`): the mitigate
    /// tier's writes only, trusted by the one space.
    AgentElevated,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::AgentPrimary => "agent-primary",
            RoleKind::AgentSecondary => "agent-secondary",
            RoleKind::Observe => "observe",
            RoleKind::Mitigate => "mitigate",
            RoleKind::AgentElevated => "agent-elevated",
        }
    }

    /// Whether the kind may grant writes (the mitigate allowlist, on own resources).
    pub fn writes(self) -> bool {
        matches!(self, RoleKind::Mitigate | RoleKind::AgentElevated)
    }
}

/// One generated role with its documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedRole {
    pub application: String,
    pub account: String,
    pub name: String,
    pub kind: RoleKind,
    pub description: String,
    pub max_session_seconds: u32,
    /// Tags to put on the role.
    pub tags: BTreeMap<String, String>,
    /// The trust policy; may contain `${Parameter}` placeholders (see [`RoleSet::parameters`]).
    pub trust: Value,
    /// Managed policy documents, each within [`limits::MANAGED_POLICY`].
    pub policies: Vec<Value>,
    /// The Agent Space the role serves (agent roles).
    pub space: Option<String>,
}

impl GeneratedRole {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.name)
    }

    /// The name of the `index`th (0-based) managed policy.
    pub fn policy_name(&self, index: usize) -> String {
        format!("{}-{}", self.name, index + 1)
    }
}

/// A value the deployer provides, with the default known from the snapshot if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    pub description: String,
    pub default: Option<String>,
}

/// Something the user must know about the generated set (also printed as a warning).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    pub application: String,
    /// `zone-crossing`, `no-zone`, `no-responders`, `no-resources`, `placeholder`.
    pub kind: String,
    pub message: String,
}

/// Every generated role, sorted by application, account, name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoleSet {
    pub roles: Vec<GeneratedRole>,
    /// Placeholder name (as used in `${Name}`) → parameter.
    pub parameters: BTreeMap<String, Parameter>,
    pub notes: Vec<Note>,
}

/// Why no role set could be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    /// An `--app` that the config does not define.
    #[error("unknown application `{name}`; known applications: {known}")]
    UnknownApp { name: String, known: String },
    /// An application asked for explicitly has nothing to scope a role to.
    #[error("application `{0}` has no resources in the snapshot, so no role can be scoped to it")]
    NoResources(String),
    /// Nothing at all to generate.
    #[error("no application has resources in the snapshot; nothing to generate")]
    Empty,
    /// A role needs more managed policies than a role may have attached.
    #[error(
        "role `{role}` needs {needed} managed policies, more than the {max} a role may have attached; generate fewer applications per role or raise the quota and split the application"
    )]
    TooManyPolicies { role: String, needed: usize, max: usize },
    /// A single statement cannot fit a managed policy even alone.
    #[error("role `{role}`: statement `{sid}` does not fit a managed policy ({size} characters) even split by action")]
    StatementTooLarge { role: String, sid: String, size: usize },
    /// The config names so many principals for a role's trust that the policy exceeds IAM's
    /// size limit (a config problem, not a bug).
    #[error(
        "application `{application}`: the trust policy of role `{role}` in account `{account}` would have {size} characters, more than IAM's limit of {limit} (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html); trust fewer principals, for example one SSO permission-set role per account instead of each responder's role"
    )]
    TrustTooLarge {
        application: String,
        role: String,
        account: String,
        size: usize,
        limit: usize,
    },
    /// The generated set broke one of its own guarantees: a bug, not bad input.
    #[error("internal error: generated role `{role}` failed validation: {problem}")]
    Invalid { role: String, problem: String },
    /// A configured name makes a generated IAM name that IAM would refuse (a config problem).
    #[error(
        "application `{application}`: generated {what} `{name}` {problem}; use a shorter or plainer application or Agent Space name"
    )]
    Name {
        application: String,
        what: &'static str,
        name: String,
        problem: String,
    },
    /// The action catalog could not be loaded.
    #[error("cannot load the IAM action catalog: {0}")]
    Catalog(String),
}

impl RolesError {
    /// True for errors that are topoguard's fault rather than the input's.
    pub fn is_internal(&self) -> bool {
        matches!(self, RolesError::Invalid { .. } | RolesError::Catalog(_))
    }
}

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Applications to generate for; empty means every configured one.
    pub apps: Vec<String>,
    /// Also generate each Agent Space's elevated role (`DevOpsAgentElevatedRole-<space>`).
    pub elevated: bool,
}

/// Generates and validates the role set.
pub fn generate(t: &Topology<'_>, options: &Options) -> Result<RoleSet, RolesError> {
    let catalog = Catalog::get().map_err(|e| RolesError::Catalog(e.to_string()))?;
    let explicit = !options.apps.is_empty();
    let mut names: Vec<&str> = Vec::new();
    for name in &options.apps {
        if t.app_id(name).is_none() {
            return Err(RolesError::UnknownApp {
                name: name.clone(),
                known: t
                    .applications
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        names.push(name);
    }
    if !explicit {
        names = t.applications.clone();
    }
    names.sort_unstable();
    names.dedup();
    let mut set = RoleSet::default();
    for name in names {
        let Some(app) = t.app_id(name) else { continue };
        let Some(scope) = scope::AppScope::compute(t, app, &mut set.notes) else {
            if explicit {
                return Err(RolesError::NoResources(name.to_string()));
            }
            set.notes.push(Note {
                application: name.to_string(),
                kind: "no-resources".to_string(),
                message: format!("application `{name}` has no resources in the snapshot; no roles generated"),
            });
            continue;
        };
        actions::roles_for(t, catalog, &scope, options.elevated, &mut set)?;
    }
    if set.roles.is_empty() {
        return Err(RolesError::Empty);
    }
    set.roles
        .sort_by(|a, b| (&a.application, &a.account, &a.name).cmp(&(&b.application, &b.account, &b.name)));
    set.notes.sort();
    set.notes.dedup();
    for role in &set.roles {
        check_names(role)?;
        validate::validate(t, catalog, role)?;
    }
    Ok(set)
}

/// IAM's rule for role and policy names: `[\w+=,.@-]+`, at most 64 (role) or 128 (policy)
/// characters (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>).
fn check_names(role: &GeneratedRole) -> Result<(), RolesError> {
    let policy = role.policy_name(role.policies.len().saturating_sub(1));
    for (what, name, max) in [
        ("role name", role.name.as_str(), limits::ROLE_NAME),
        ("policy name", policy.as_str(), limits::POLICY_NAME),
    ] {
        let problem = if name.chars().count() > max {
            format!("is longer than the {max} characters IAM allows")
        } else if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
        {
            format!("contains `{}`, which IAM does not allow in names", c.escape_debug())
        } else {
            continue;
        };
        return Err(RolesError::Name {
            application: role.application.clone(),
            what,
            name: name.escape_debug().to_string(),
            problem,
        });
    }
    Ok(())
}

/// The name of the Agent Space role of `space` in each account — of its first part when it is
/// split (`-2`, `-3`, … follow); the one role an account association names.
pub fn agent_role_name(space: &str) -> String {
    format!("DevOpsAgentRole-{space}")
}

/// The name of the elevated role of `space` in each account (of its first part when split).
pub fn agent_elevated_role_name(space: &str) -> String {
    format!("DevOpsAgentElevatedRole-{space}")
}

/// The name of the parameter (template parameter, Terraform variable, `${…}` placeholder) that
/// holds the ARN of Agent Space `space`.
pub fn space_parameter(space: &str) -> String {
    format!("AgentSpaceArn{}", render::identifier(space))
}

/// Replaces `${Name}` placeholders in every string of `doc` by `value(Name)` when it returns one.
pub fn substitute(doc: &Value, value: &dyn Fn(&str) -> Option<String>) -> Value {
    match doc {
        Value::String(s) => Value::String(substitute_str(s, value)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, value)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, value))).collect()),
        other => other.clone(),
    }
}

fn substitute_str(s: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let body = after.get(2..).unwrap_or("");
        match body.find('}') {
            Some(end) => {
                let name = body.get(..end).unwrap_or("");
                match value(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = body.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The documents with every placeholder that has a default replaced by it.
pub fn with_defaults(set: &RoleSet, doc: &Value) -> Value {
    substitute(doc, &|name| set.parameters.get(name).and_then(|p| p.default.clone()))
}

/// Compact JSON length, as IAM counts a policy's size.
pub fn compact_len(doc: &Value) -> usize {
    serde_json::to_string(doc).map_or(usize::MAX, |s| s.len())
}

#[cfg(test)]
mod tests;
