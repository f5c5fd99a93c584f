//! `unused-ignore`: an `ignore` entry in the config that matched no finding. Stale ignores hide
//! nothing today but will silently hide a real finding tomorrow, so they are reported.

use super::{Evidence, Finding, Severity, Status};

pub const ID: &str = "unused-ignore";
pub const TITLE: &str = "Config ignore matches nothing";
pub const DESCRIPTION: &str = "An `ignore` entry under `[checks.<id>]` matched no finding of that check. Remove it, or correct its `resource`/`application`/`account` so it matches what it was meant to suppress.";

/// The finding for the `index`-th ignore of `check` that matched nothing.
pub fn finding(config_path: &str, check: &str, index: usize, reason: &str) -> Finding {
    let mut f = unused_entry(check, "ignore", index, reason);
    f.message = format!(
        "`{}` in `{config_path}` matched no finding of `{check}` (reason given: {reason})",
        f.resource
    );
    f.evidence = vec![Evidence::new("config", config_path, None, f.resource.clone())];
    f
}

/// The finding for the `index`-th entry of list `list` (`ignore`, `allow`) under
/// `[checks.<check>]` that matched nothing.
pub fn unused_entry(check: &str, list: &str, index: usize, reason: &str) -> Finding {
    let config_path = "the config";
    let at = format!("checks.{check}.{list}[{index}]");
    Finding {
        check: ID.to_string(),
        severity: Severity::Low,
        status: Status::Violation,
        title: TITLE.to_string(),
        message: format!("`{at}` in `{config_path}` matched no finding of `{check}` (reason given: {reason})"),
        resource: at.clone(),
        account: None,
        region: None,
        applications: Vec::new(),
        evidence: vec![Evidence::new("config", config_path, None, at)],
        remediation: "Delete the ignore entry, or fix its matchers.".to_string(),
    }
}
