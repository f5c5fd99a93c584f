//! The reviewed table of condition keys (`policies/condition-keys.toml`): for each key, whether
//! its value is known from the topology, depends on the individual request, or is never known.
//! Keys the table marks `topology` are the ones the evaluator fills (see
//! [`super::eval::DERIVED_KEYS`] and [`super::store::PolicyStore::principal_context`]); a
//! condition on any other key leaves access conditional, naming the key.

use serde::Deserialize;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../policies/condition-keys.toml");

/// AWS global condition context keys, which the action catalog does not list, as the page
/// "AWS global condition context keys" names them:
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
pub const GLOBAL_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalOrgID",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:userid",
    "aws:username",
    "aws:AssumedRoot",
    "aws:FederatedProvider",
    "aws:TokenIssueTime",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}",
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ViaAWSService",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}",
    "aws:TagKeys",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:UserAgent",
];

/// Where a key's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Known from the snapshot and the request asked about.
    Topology,
    /// Depends on the individual call: conditional.
    Request,
    /// Never known: conditional.
    Unknown,
}

/// One reviewed key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    pub name: String,
    pub source: Source,
    /// An AWS global condition context key (not in the catalog).
    #[serde(default)]
    pub global: bool,
    /// A service key AWS documents outside the catalog.
    #[serde(default)]
    pub legacy: bool,
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct Table {
    key: Vec<KeyInfo>,
}

/// The table could not be read (a build defect: the file is embedded).
#[derive(Debug, thiserror::Error)]
#[error("policies/condition-keys.toml: {0}")]
pub struct KeyTableError(String);

/// Every reviewed key, in file order.
pub fn table() -> Result<&'static [KeyInfo], KeyTableError> {
    static CELL: OnceLock<Result<Vec<KeyInfo>, String>> = OnceLock::new();
    CELL.get_or_init(|| toml::from_str::<Table>(TABLE).map(|t| t.key).map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| KeyTableError(e.clone()))
}

/// The reviewed entry for a key (case-insensitive; a tag key matches its `${TagKey}` template).
pub fn lookup(key: &str) -> Option<&'static KeyInfo> {
    let table = table().ok()?;
    let templated = match key.split_once('/') {
        Some((prefix, _)) => format!("{prefix}/${{TagKey}}"),
        None => key.to_string(),
    };
    table
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(key) || k.name.eq_ignore_ascii_case(&templated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::catalog::Catalog;

    #[test]
    fn table_parses_without_repeats() {
        let t = table().unwrap();
        assert!(t.len() >= 20);
        let mut names: Vec<String> = t.iter().map(|k| k.name.to_ascii_lowercase()).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a key is listed twice");
    }

    /// Every key the table names exists: service keys in the catalog's condition keys, global
    /// keys on AWS's global list, legacy keys only with their documentation in the file header.
    #[test]
    fn every_key_exists_in_the_catalog_or_the_global_list() {
        let catalog = Catalog::get().unwrap();
        for k in table().unwrap() {
            if k.global {
                assert!(
                    GLOBAL_KEYS.iter().any(|g| g.eq_ignore_ascii_case(&k.name)),
                    "{} is not a global key",
                    k.name
                );
                continue;
            }
            if k.legacy {
                assert!(TABLE.contains("sns-access-policy-use-cases"), "{}", k.name);
                continue;
            }
            let (service, _) = k.name.split_once(':').unwrap();
            let svc = catalog
                .service(service)
                .unwrap_or_else(|| panic!("no service for {}", k.name));
            assert!(svc.condition_key(&k.name).is_some(), "{} is not in the catalog", k.name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_tag_templates() {
        assert_eq!(lookup("AWS:SourceOwner").unwrap().source, Source::Topology);
        assert_eq!(lookup("aws:ResourceTag/team").unwrap().source, Source::Topology);
        assert_eq!(lookup("aws:CalledVia").unwrap().source, Source::Request);
        // Near miss: a key nobody reviewed.
        assert!(lookup("aws:SourceOwnerX").is_none());
    }

    /// The keys the evaluator fills from the request are all reviewed as known from the topology.
    #[test]
    fn derived_keys_are_reviewed_as_topology() {
        for key in crate::iam::eval::DERIVED_KEYS {
            assert_eq!(lookup(key).map(|k| k.source), Some(Source::Topology), "{key}");
        }
    }
}
