//! Decoding the catalog: the serialized forms written by `scripts/gen-iam-catalog.py` and
//! `policies/content-reads.toml`, turned into the indexed [`Catalog`], with the content-read
//! list checked against the catalog.

use super::{
    AccessLevel, ActionInfo, ActionResourceType, Catalog, CatalogError, ConditionKey, ContentRead, ResourceType,
    ServiceInfo, folded_order,
};
use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::sync::Arc;

impl Catalog {
    /// Decodes a catalog from gzip-compressed JSON in the format `scripts/gen-iam-catalog.py`
    /// writes, and a content-read list in the format of `policies/content-reads.toml`. Every
    /// content-read entry must name a catalog action at Read or List level, or at the level its
    /// `catalog_level` states.
    pub fn from_sources(catalog_gz: &[u8], content_reads_toml: &str) -> Result<Catalog, CatalogError> {
        let mut json = Vec::with_capacity(catalog_gz.len().saturating_mul(12));
        GzDecoder::new(catalog_gz)
            .read_to_end(&mut json)
            .map_err(|e| CatalogError::Decompress(e.to_string()))?;
        let raw: RawCatalog<'_> = serde_json::from_slice(&json).map_err(|e| CatalogError::Parse(e.to_string()))?;
        let mut catalog = Catalog::from_raw(raw)?;
        catalog.apply_content_reads(content_reads_toml)?;
        Ok(catalog)
    }

    /// Builds the catalog from the borrowed serialized form: every repeated string (service
    /// prefix, condition key, resource-type name, dependent action) is allocated once.
    /// Services are decoded one at a time, so only one service's serialized form is held
    /// beside the text and the finished catalog.
    fn from_raw(raw: RawCatalog<'_>) -> Result<Catalog, CatalogError> {
        let mut strings = Interner::default();
        let mut services = Vec::with_capacity(raw.services.len());
        for (prefix, svc) in raw.services {
            let svc: RawService<'_> =
                serde_json::from_str(svc.get()).map_err(|e| CatalogError::Parse(format!("service `{prefix}`: {e}")))?;
            let prefix = strings.get(&prefix);
            let actions = svc
                .actions
                .into_iter()
                .map(|(name, a)| ActionInfo {
                    service: Arc::clone(&prefix),
                    name: name.as_ref().into(),
                    access_level: a.access,
                    resource_types: a
                        .resource_types
                        .into_iter()
                        .map(|r| ActionResourceType {
                            name: strings.get(&r.name),
                            required: r.required,
                            condition_keys: strings.all(&r.condition_keys),
                            dependent_actions: strings.all(&r.dependent_actions),
                        })
                        .collect(),
                    condition_keys: strings.all(&a.condition_keys),
                    dependent_actions: strings.all(&a.dependent_actions),
                    content_read: false,
                    metadata_read: false,
                })
                .collect();
            services.push(ServiceInfo {
                name: svc.name.into_owned(),
                actions,
                by_folded_name: Box::default(),
                resource_types: svc
                    .resource_types
                    .into_iter()
                    .map(|(name, r)| ResourceType {
                        name: name.into_owned(),
                        arn: r.arn.into_owned(),
                        condition_keys: strings.all(&r.condition_keys),
                    })
                    .collect(),
                condition_keys: svc
                    .condition_keys
                    .into_iter()
                    .map(|(name, key_type)| ConditionKey {
                        name: name.into_owned(),
                        key_type: key_type.into_owned(),
                    })
                    .collect(),
                prefix,
            });
        }
        let mut catalog = Catalog {
            source: raw.source.into_owned(),
            services,
            by_folded_prefix: Box::default(),
            content_reads: Vec::new(),
            action_count: 0,
        };
        catalog.reindex();
        Ok(catalog)
    }

    /// The action named `name` (`service:Action`, any case), for the reviewed lists to mark.
    fn action_mut(&mut self, name: &str) -> Result<&mut ActionInfo, CatalogError> {
        let unknown = || CatalogError::ContentReadUnknown(name.to_string());
        let (service, action) = name.split_once(':').ok_or_else(unknown)?;
        let si = self.service_position(service).ok_or_else(unknown)?;
        let svc = self.services.get_mut(si).ok_or_else(unknown)?;
        let ai = svc.action_position(action).ok_or_else(unknown)?;
        svc.actions.get_mut(ai).ok_or_else(unknown)
    }

    fn apply_content_reads(&mut self, toml_text: &str) -> Result<(), CatalogError> {
        let raw: RawContentReads =
            toml::from_str(toml_text).map_err(|e| CatalogError::ContentReadsParse(e.to_string()))?;
        let mut content_reads = Vec::with_capacity(raw.action.len());
        for entry in raw.action {
            let invalid = |message: &str| CatalogError::ContentReadInvalid {
                name: entry.name.clone(),
                message: message.to_string(),
            };
            if !entry.name.contains(':') {
                return Err(invalid("expected `service:Action`"));
            }
            if entry.reason.trim().is_empty() {
                return Err(invalid("the reason is empty"));
            }
            let action = self.action_mut(&entry.name)?;
            if action.content_read {
                return Err(CatalogError::ContentReadDuplicate(entry.name));
            }
            let level_ok = match entry.catalog_level {
                Some(level) => action.access_level == level,
                None => matches!(action.access_level, AccessLevel::Read | AccessLevel::List),
            };
            if !level_ok {
                return Err(CatalogError::ContentReadLevel {
                    name: entry.name,
                    actual: action.access_level,
                    expected: match entry.catalog_level {
                        Some(level) => format!("`{level}` (its `catalog_level`)"),
                        None => "`Read` or `List` (or a `catalog_level` naming the level)".to_string(),
                    },
                });
            }
            action.content_read = true;
            content_reads.push(ContentRead {
                action: action.full_name(),
                reason: entry.reason,
                catalog_level: entry.catalog_level,
            });
        }
        self.content_reads = content_reads;
        Ok(())
    }

    /// Applies catalog additions (format of `policies/iam-catalog-additions.toml`): actions AWS
    /// documents that the generated catalog lacks, each with its access level and source page.
    /// An action the catalog already has keeps the catalog's facts; the addition is ignored.
    pub fn apply_additions(&mut self, toml_text: &str) -> Result<(), CatalogError> {
        let raw: RawAdditions = toml::from_str(toml_text).map_err(|e| CatalogError::AdditionInvalid {
            name: "policies/iam-catalog-additions.toml".to_string(),
            message: e.to_string(),
        })?;
        for entry in raw.action {
            let invalid = |message: &str| CatalogError::AdditionInvalid {
                name: entry.name.clone(),
                message: message.to_string(),
            };
            let Some((prefix, name)) = entry
                .name
                .split_once(':')
                .filter(|(p, n)| !p.is_empty() && !n.is_empty())
            else {
                return Err(invalid("expected `service:Action`"));
            };
            if !entry.source.starts_with("https://") {
                return Err(invalid("`source` must be the https page documenting the action"));
            }
            if self.action(&entry.name).is_some() {
                continue;
            }
            let si = match self.service_position(prefix) {
                Some(si) => si,
                None => {
                    self.services.push(ServiceInfo {
                        prefix: prefix.into(),
                        name: prefix.to_string(),
                        actions: Vec::new(),
                        by_folded_name: Box::default(),
                        resource_types: Vec::new(),
                        condition_keys: Vec::new(),
                    });
                    self.services.len() - 1
                }
            };
            let Some(service) = self.services.get_mut(si) else {
                return Err(invalid("service index out of range"));
            };
            service.actions.push(ActionInfo {
                service: Arc::clone(&service.prefix),
                name: name.into(),
                access_level: entry.access,
                resource_types: Box::default(),
                condition_keys: Box::default(),
                dependent_actions: Box::default(),
                content_read: false,
                metadata_read: false,
            });
            // Keep lookups right for the next entry, which may name the same new action.
            service.actions.sort_by(|a, b| a.name.cmp(&b.name));
            service.index_names();
            if self.service_index_stale() {
                self.reindex();
            }
        }
        self.reindex();
        Ok(())
    }

    /// Sorts services by prefix and actions by name (the order expansion relies on) and
    /// rebuilds the case-insensitive indexes and the action count.
    fn reindex(&mut self) {
        self.services.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        for svc in &mut self.services {
            svc.actions.sort_by(|a, b| a.name.cmp(&b.name));
            svc.index_names();
        }
        self.by_folded_prefix = folded_order(&self.services, |s| &s.prefix);
        self.action_count = self.services.iter().map(|s| s.actions.len()).sum();
    }

    /// True when a service was added since the prefix index was built.
    fn service_index_stale(&self) -> bool {
        self.by_folded_prefix.len() != self.services.len()
    }

    /// Applies a metadata-read list (format of `policies/metadata-reads.toml`): actions that only
    /// read configuration although the reference files them under Write or Permissions
    /// management. Every entry must name its `catalog_level`, which must match.
    pub fn apply_metadata_reads(&mut self, toml_text: &str) -> Result<(), CatalogError> {
        let raw: RawContentReads =
            toml::from_str(toml_text).map_err(|e| CatalogError::ContentReadsParse(e.to_string()))?;
        for entry in raw.action {
            let invalid = |message: &str| CatalogError::ContentReadInvalid {
                name: entry.name.clone(),
                message: message.to_string(),
            };
            if entry.reason.trim().is_empty() {
                return Err(invalid("the reason is empty"));
            }
            let Some(level) = entry.catalog_level else {
                return Err(invalid("a metadata-read entry must state its `catalog_level`"));
            };
            let action = self.action_mut(&entry.name)?;
            if action.content_read || action.metadata_read {
                return Err(CatalogError::ContentReadDuplicate(entry.name));
            }
            if action.access_level != level {
                return Err(CatalogError::ContentReadLevel {
                    name: entry.name,
                    actual: action.access_level,
                    expected: format!("`{level}` (its `catalog_level`)"),
                });
            }
            action.metadata_read = true;
        }
        Ok(())
    }
}

/// Allocates each distinct string of the catalog once.
#[derive(Default)]
struct Interner {
    seen: HashSet<Arc<str>>,
}

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        crate::intern::share_str(&mut self.seen, s)
    }

    fn all(&mut self, list: &[Cow<'_, str>]) -> Box<[Arc<str>]> {
        list.iter().map(|s| self.get(s)).collect()
    }
}

// The serialized form, borrowing its strings from the decompressed text where it can.

#[derive(Deserialize)]
struct RawCatalog<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow)]
    services: BTreeMap<Cow<'a, str>, &'a RawValue>,
}

#[derive(Deserialize)]
struct RawService<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    actions: BTreeMap<Cow<'a, str>, RawAction<'a>>,
    #[serde(default, borrow)]
    resource_types: BTreeMap<Cow<'a, str>, RawResourceType<'a>>,
    #[serde(default, borrow)]
    condition_keys: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawAction<'a> {
    access: AccessLevel,
    #[serde(default, borrow)]
    resource_types: Vec<RawActionResource<'a>>,
    #[serde(default, borrow)]
    condition_keys: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    dependent_actions: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawActionResource<'a> {
    #[serde(rename = "type", borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    required: bool,
    #[serde(default, borrow)]
    condition_keys: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    dependent_actions: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawResourceType<'a> {
    #[serde(borrow)]
    arn: Cow<'a, str>,
    #[serde(default, borrow)]
    condition_keys: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdditions {
    #[serde(default)]
    action: Vec<RawAddition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddition {
    name: String,
    access: AccessLevel,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContentReads {
    #[serde(default)]
    action: Vec<RawContentRead>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContentRead {
    name: String,
    reason: String,
    #[serde(default)]
    catalog_level: Option<AccessLevel>,
}
