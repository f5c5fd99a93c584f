//! The `[checks.<id>]` sections: the generic settings every check has (`severity`, `enabled`,
//! `ignore`), and the typed options of the checks that have their own ([`CheckOptions`]: today
//! only `allow` of `cross-account-write-to-shared`). Each section, and each `ignore`/`allow`
//! entry, is read on its own so that every bad entry is reported.

use super::load::{Reader, key_string};
use crate::diagnostic::Diagnostic;
use crate::finding::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;
use toml::de::DeValue;

/// The id of the only check with options of its own today.
pub const CROSS_ACCOUNT_WRITE: &str = "cross-account-write-to-shared";

/// The keys every check takes.
const GENERIC_KEYS: &[&str] = &["severity", "enabled", "ignore"];

/// A check's settings: the generic part, and its own options.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// Replaces the check's default severity.
    pub severity: Option<Severity>,
    /// `false` turns the check off.
    pub enabled: bool,
    pub ignore: Vec<Spanned<Ignore>>,
    pub options: CheckOptions,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            severity: None,
            enabled: true,
            ignore: Vec::new(),
            options: CheckOptions::None,
        }
    }
}

/// The options of the checks that have their own, one variant per such check.
#[derive(Debug, Clone, Default)]
pub enum CheckOptions {
    /// The check takes only the generic settings.
    #[default]
    None,
    CrossAccountWriteToShared(WriteOptions),
}

/// `cross-account-write-to-shared`'s options.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Accepted write access.
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

/// The option keys of check `id` beyond the generic ones.
fn option_keys(id: &str) -> &'static [&'static str] {
    if id == CROSS_ACCOUNT_WRITE { &["allow"] } else { &[] }
}

/// Reads `[checks]`: each known check's section; unknown ids are reported.
pub(super) fn read_checks(
    r: &mut Reader,
    value: Spanned<DeValue<'_>>,
    known: &[&str],
) -> BTreeMap<Spanned<String>, CheckSettings> {
    let mut out = BTreeMap::new();
    for (id, section) in r.table_entries(value, "checks") {
        let key = key_string(&id);
        if !known.contains(&key.get_ref().as_str()) {
            let mut names = known.to_vec();
            names.sort_unstable();
            let message = format!(
                "checks.{0}: unknown check id `{0}`; known checks: {1}",
                key.get_ref(),
                names.join(", ")
            );
            r.push(Diagnostic::new(message, Some(key.span()), "no check has this id"));
            continue;
        }
        let settings = read_settings(r, key.get_ref(), section);
        out.insert(key, settings);
    }
    out
}

/// One `[checks.<id>]` section.
fn read_settings(r: &mut Reader, id: &str, section: Spanned<DeValue<'_>>) -> CheckSettings {
    let mut settings = CheckSettings::default();
    let span = section.span();
    let DeValue::Table(table) = section.into_inner() else {
        r.push(Diagnostic::new(
            format!("checks.{id}: invalid type: expected a table of settings"),
            Some(span),
            "expected a table",
        ));
        return settings;
    };
    let mut allow = None;
    for (k, v) in table {
        match k.get_ref().as_ref() {
            "severity" => settings.severity = r.value::<Severity>(v, &format!("checks.{id}.severity")),
            "enabled" => settings.enabled = r.value::<bool>(v, &format!("checks.{id}.enabled")).unwrap_or(true),
            "ignore" => settings.ignore = r.entries::<Ignore>(v, &format!("checks.{id}.ignore")),
            "allow" if id == CROSS_ACCOUNT_WRITE => allow = Some(v),
            other => r.push(unknown_key(id, other, k.span())),
        }
    }
    if id == CROSS_ACCOUNT_WRITE {
        let allow = allow
            .map(|v| r.entries::<WriteException>(v, &format!("checks.{id}.allow")))
            .unwrap_or_default();
        settings.options = CheckOptions::CrossAccountWriteToShared(WriteOptions { allow });
    }
    settings
}

/// A key `[checks.<id>]` does not take.
fn unknown_key(id: &str, key: &str, span: std::ops::Range<usize>) -> Diagnostic {
    let shown = key.escape_debug();
    if key == "allow" {
        return Diagnostic::new(
            format!("checks.{id}.allow: only `{CROSS_ACCOUNT_WRITE}` takes `allow` entries"),
            Some(span),
            "not an option of this check",
        );
    }
    let expected: Vec<String> = GENERIC_KEYS
        .iter()
        .chain(option_keys(id))
        .map(|k| format!("`{k}`"))
        .collect();
    Diagnostic::new(
        format!(
            "checks.{id}: unknown field `{shown}`, expected one of {}",
            expected.join(", ")
        ),
        Some(span),
        "unknown field",
    )
}
