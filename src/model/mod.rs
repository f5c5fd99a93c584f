//! The topology snapshot: plain serde types, versioned by `schema_version`.
//!
//! A snapshot is the only thing a crawl writes and the only thing the offline commands read.
//! Every resource is keyed by its ARN and carries its account, region (absent for global
//! resources) and tags. Relations between resources are either implied by typed fields (a rule
//! names its bus, a function its execution role) or recorded explicitly in [`Snapshot::relations`]
//! with the evidence that showed them. [`Coverage`] records what the crawl could not read, so that
//! checks can say "not proven" instead of "pass".

mod agent;
mod document;
mod eventsv2;
mod load;
mod names;
mod principals;
mod resources;
mod strict;

pub use agent::{AssociationKind, ValidationStatus};
pub use document::{PolicyDocument, interning};
pub use eventsv2::{EventBusV2, ResourceShare, Subscriber, SubscriberState};
pub use load::{LoadError, load_snapshot, parse_snapshot};
pub use names::{agent_space_name_problem, file_name};
pub use principals::{Group, User, validate_principals};
pub use resources::*;
pub use strict::{Strict, strip_bom};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The snapshot format version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema of the snapshot format, pretty-printed with a trailing newline. The committed
/// copy is `topology/schema.json`; a test fails when it is stale.
#[expect(
    clippy::expect_used,
    reason = "a schemars schema is a JSON value with string keys: serializing it cannot fail"
)]
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Snapshot);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// Tags as AWS returns them: key → value, ordered for byte-stable output.
pub type Tags = BTreeMap<String, String>;

/// A recorded topology of one AWS Organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Format version; must equal the version this build understands.
    pub schema_version: u32,
    /// When the crawl ran (RFC 3339). The only field allowed to differ between two crawls of the
    /// same organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawled_at: Option<String>,
    /// The organization: accounts, organizational units and organization policies.
    pub organization: Organization,
    /// IAM roles of every crawled account.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// IAM users of every crawled account (optional; absent in snapshots that record none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    /// IAM groups of every crawled account (optional; absent in snapshots that record none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    /// Managed policies (customer managed and the AWS managed ones attached to some role).
    #[serde(default)]
    pub managed_policies: Vec<ManagedPolicy>,
    /// EventBridge event buses, the default bus included.
    #[serde(default)]
    pub event_buses: Vec<EventBus>,
    /// EventBridge rules on every bus, with their targets.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// EventBridge Custom Event Buses (v2) with their subscribers (optional; absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_buses_v2: Vec<EventBusV2>,
    /// Lambda functions.
    #[serde(default)]
    pub functions: Vec<Function>,
    /// Lambda event-source mappings (a queue, stream or table feeding a function).
    #[serde(default)]
    pub event_source_mappings: Vec<EventSourceMapping>,
    /// Other resources: queues, topics, tables, keys, buckets, secrets, log groups and the like.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// AWS DevOps Agent Spaces and their account associations.
    #[serde(default)]
    pub agent_spaces: Vec<AgentSpace>,
    /// Relations that no typed field expresses, each with the evidence that showed it.
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// S3 bucket name → the crawled account that owns it (from `ListBuckets` in each account),
    /// including buckets that are not in `resources` (untagged, or unreadable). A bucket ARN
    /// carries no account, so this is how a referenced bucket is placed in its owner's account.
    /// Optional; absent in snapshots that record none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bucket_owners: BTreeMap<String, String>,
    /// What the crawl could not read.
    #[serde(default)]
    pub coverage: Coverage,
}

/// The organization's structure.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Organization id (`o-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Account id of the management account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_account: Option<String>,
    /// The root and every organizational unit.
    #[serde(default)]
    pub units: Vec<OrganizationalUnit>,
    /// Member accounts.
    pub accounts: Vec<Account>,
    /// Service control policies and resource control policies with their attachments.
    #[serde(default)]
    pub policies: Vec<OrganizationPolicy>,
}

/// The root (`r-…`) or an organizational unit (`ou-…`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    pub id: String,
    pub name: String,
    /// Parent unit id; absent for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A member account.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Twelve-digit account id.
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`…
    #[serde(default = "default_status")]
    pub status: String,
    /// Id of the unit the account sits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

fn default_status() -> String {
    "ACTIVE".to_string()
}

/// Which kind of organization policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrganizationPolicyKind {
    ServiceControlPolicy,
    ResourceControlPolicy,
}

/// A service control policy or resource control policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPolicy {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub kind: OrganizationPolicyKind,
    /// The policy document (a JSON object, or the JSON text as the API returns it).
    pub document: PolicyDocument,
    /// Ids of the root, units and accounts the policy is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// Kinds of relation between two nodes of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// An account holds a resource.
    Contains,
    /// A rule routes events from its bus.
    Routes,
    /// A rule delivers to a target.
    Targets,
    /// Something invokes a function (event-source mapping, resource-policy grant).
    Invokes,
    /// A function runs as its execution role.
    ExecutesAs,
    /// A principal may assume a role.
    CanAssume,
    /// A function or role uses a resource (permissions, environment, mapping).
    Uses,
    /// A resource policy grants a principal access.
    Grants,
}

impl RelationKind {
    /// The kebab-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Contains => "contains",
            RelationKind::Routes => "routes",
            RelationKind::Targets => "targets",
            RelationKind::Invokes => "invokes",
            RelationKind::ExecutesAs => "executes-as",
            RelationKind::CanAssume => "can-assume",
            RelationKind::Uses => "uses",
            RelationKind::Grants => "grants",
        }
    }
}

/// An explicit relation with the evidence that showed it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    /// ARN (or account id) of the source node.
    pub from: String,
    /// ARN (or account id) of the destination node.
    pub to: String,
    pub kind: RelationKind,
    /// What showed the relation: an API call, a policy statement.
    pub evidence: String,
}

/// Everything the crawl could not read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    #[serde(default)]
    pub gaps: Vec<CoverageGap>,
}

/// One account / region / API that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageGap {
    /// Account id; absent when the gap is organization-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Region; absent for global APIs or when every region is affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The API in IAM action form, e.g. `lambda:ListFunctions` or `sts:AssumeRole`.
    pub api: String,
    /// Error code as AWS returned it, e.g. `AccessDeniedException`.
    pub error_code: String,
    /// Error message as AWS returned it.
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
