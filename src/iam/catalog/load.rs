//! Decoding the catalog: the serialized forms written by `scripts/gen-iam-catalog.py` and
//! `policies/content-reads.toml`, turned into the indexed [`Catalog`], with the content-read
//! list checked against the catalog.

use super::{
    AccessLevel, ActionInfo, ActionResourceType, Catalog, CatalogError, ConditionKey, ContentRead, ResourceType,
    ServiceInfo,
};
use flate2::read::GzDecoder;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

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
        let raw: RawCatalog = serde_json::from_slice(&json).map_err(|e| CatalogError::Parse(e.to_string()))?;
        let mut catalog = Catalog::from_raw(raw);
        catalog.apply_content_reads(content_reads_toml)?;
        Ok(catalog)
    }

    fn from_raw(raw: RawCatalog) -> Catalog {
        let mut services = Vec::with_capacity(raw.services.len());
        let mut service_index = HashMap::with_capacity(raw.services.len());
        let mut action_index = HashMap::new();
        let mut action_count = 0;
        for (prefix, svc) in raw.services {
            let si = services.len();
            let mut actions = Vec::with_capacity(svc.actions.len());
            for (name, a) in svc.actions {
                let key = format!("{}:{}", prefix, name).to_ascii_lowercase();
                // Names differing only in case do not occur; should they, the first one wins.
                action_index.entry(key).or_insert((si, actions.len()));
                actions.push(ActionInfo {
                    service: prefix.clone(),
                    name,
                    access_level: a.access,
                    resource_types: a
                        .resource_types
                        .into_iter()
                        .map(|r| ActionResourceType {
                            name: r.name,
                            required: r.required,
                            condition_keys: r.condition_keys,
                            dependent_actions: r.dependent_actions,
                        })
                        .collect(),
                    condition_keys: a.condition_keys,
                    dependent_actions: a.dependent_actions,
                    content_read: false,
                    metadata_read: false,
                });
            }
            action_count += actions.len();
            service_index.entry(prefix.to_ascii_lowercase()).or_insert(si);
            services.push(ServiceInfo {
                name: svc.name,
                actions,
                resource_types: svc
                    .resource_types
                    .into_iter()
                    .map(|(name, r)| ResourceType {
                        name,
                        arn: r.arn,
                        condition_keys: r.condition_keys,
                    })
                    .collect(),
                condition_keys: svc
                    .condition_keys
                    .into_iter()
                    .map(|(name, key_type)| ConditionKey { name, key_type })
                    .collect(),
                prefix,
            });
        }
        Catalog {
            source: raw.source,
            services,
            service_index,
            action_index,
            content_reads: Vec::new(),
            action_count,
        }
    }

    /// The action named `name` (`service:Action`, any case), for the reviewed lists to mark.
    fn action_mut(&mut self, name: &str) -> Result<&mut ActionInfo, CatalogError> {
        let unknown = || CatalogError::ContentReadUnknown(name.to_string());
        let &(si, ai) = self.action_index.get(&name.to_ascii_lowercase()).ok_or_else(unknown)?;
        self.services
            .get_mut(si)
            .and_then(|s| s.actions.get_mut(ai))
            .ok_or_else(unknown)
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
            let key = entry.name.to_ascii_lowercase();
            if self.action_index.contains_key(&key) {
                continue;
            }
            let si = match self.service_index.get(&prefix.to_ascii_lowercase()) {
                Some(&si) => si,
                None => {
                    self.services.push(ServiceInfo {
                        prefix: prefix.to_string(),
                        name: prefix.to_string(),
                        actions: Vec::new(),
                        resource_types: Vec::new(),
                        condition_keys: Vec::new(),
                    });
                    let si = self.services.len() - 1;
                    self.service_index.insert(prefix.to_ascii_lowercase(), si);
                    si
                }
            };
            let Some(service) = self.services.get_mut(si) else {
                return Err(invalid("service index out of range"));
            };
            self.action_index.insert(key, (si, service.actions.len()));
            service.actions.push(ActionInfo {
                service: service.prefix.clone(),
                name: name.to_string(),
                access_level: entry.access,
                resource_types: Vec::new(),
                condition_keys: Vec::new(),
                dependent_actions: Vec::new(),
                content_read: false,
                metadata_read: false,
            });
            self.action_count += 1;
        }
        self.reindex();
        Ok(())
    }

    /// Sorts services by prefix and actions by name (the order expansion relies on) and
    /// rebuilds both indexes.
    fn reindex(&mut self) {
        self.services.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        self.service_index.clear();
        self.action_index.clear();
        for (si, svc) in self.services.iter_mut().enumerate() {
            svc.actions.sort_by(|a, b| a.name.cmp(&b.name));
            self.service_index.entry(svc.prefix.to_ascii_lowercase()).or_insert(si);
            for (ai, a) in svc.actions.iter().enumerate() {
                let key = format!("{}:{}", svc.prefix, a.name).to_ascii_lowercase();
                self.action_index.entry(key).or_insert((si, ai));
            }
        }
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

#[derive(Deserialize)]
struct RawCatalog {
    source: String,
    services: BTreeMap<String, RawService>,
}

#[derive(Deserialize)]
struct RawService {
    name: String,
    actions: BTreeMap<String, RawAction>,
    #[serde(default)]
    resource_types: BTreeMap<String, RawResourceType>,
    #[serde(default)]
    condition_keys: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawAction {
    access: AccessLevel,
    #[serde(default)]
    resource_types: Vec<RawActionResource>,
    #[serde(default)]
    condition_keys: Vec<String>,
    #[serde(default)]
    dependent_actions: Vec<String>,
}

#[derive(Deserialize)]
struct RawActionResource {
    #[serde(rename = "type")]
    name: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    condition_keys: Vec<String>,
    #[serde(default)]
    dependent_actions: Vec<String>,
}

#[derive(Deserialize)]
struct RawResourceType {
    arn: String,
    #[serde(default)]
    condition_keys: Vec<String>,
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
