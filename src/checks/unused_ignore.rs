//! `unused-ignore`: an `ignore` entry in the config that matched no finding. Stale ignores hide
//! nothing today but will silently hide a real finding tomorrow, so they are reported.

use super::{Evidence, Finding, Severity, Status};
use crate::finding::FileLocation;

pub const ID: &str = crate::finding::UNUSED_IGNORE_ID;
pub const TITLE: &str = "Config ignore matches nothing";
pub const DESCRIPTION: &str = "An `ignore` entry under `[checks.<id>]` matched no finding of that check. Remove it, or correct its `resource`/`application`/`account` so it matches what it was meant to suppress.";

/// The finding for the `index`-th entry of list `list` (`ignore`, `allow`) under
/// `[checks.<check>]` that matched nothing, at `location` (the entry in the config file, from
/// [`crate::config::Config::locate`]). Checks that own such a list (`allow`) make it; the
/// engine names the config file in it with [`locate`].
pub fn unused_entry(check: &str, list: &str, index: usize, reason: &str, location: Option<FileLocation>) -> Finding {
    let at = format!("checks.{check}.{list}[{index}]");
    Finding {
        check: ID.to_string(),
        severity: Severity::Low,
        status: Status::Violation,
        title: TITLE.to_string(),
        message: format!("`{at}` matched no finding of `{check}` (reason given: {reason})"),
        resource: at.clone(),
        account: None,
        region: None,
        applications: Vec::new(),
        evidence: vec![Evidence::new("config", "", None, at)],
        remediation: "Delete the ignore entry, or fix its matchers.".to_string(),
        conditions: Vec::new(),
        location,
    }
}

/// Names the config file in an unused-entry finding: in its message, after the entry, and as the
/// source of its `config` evidence.
pub fn locate(f: &mut Finding, config_path: &str) {
    let entry = format!("`{}`", f.resource);
    if let Some(rest) = f.message.strip_prefix(&entry) {
        f.message = format!("{entry} in `{config_path}`{rest}");
    }
    for e in f.evidence.iter_mut().filter(|e| e.relation == "config") {
        e.from = config_path.to_string();
    }
}
