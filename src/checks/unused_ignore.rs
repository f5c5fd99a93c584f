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

#[cfg(test)]
mod tests {
    use super::{locate, unused_entry};
    use crate::checks::testkit::*;
    use crate::checks::{Evidence, Severity, Status};
    use serde_json::json;

    /// A shared queue invoice uses, untagged: one `shared-resource-untagged` finding.
    fn untagged_shared_queue() -> serde_json::Value {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        s
    }

    // docs/checks.md, unused-ignore: the finding names the entry as `checks.<id>.ignore[<n>]`,
    // repeats its reason, is located in the config file, and takes its own severity override.
    #[test]
    fn fires_an_ignore_matching_nothing_names_the_entry_in_the_config_file() {
        let config = format!(
            "{CONFIG}\n[checks.shared-resource-untagged]\nignore = [{{ application = \"checkout\", reason = \"stale since Q2\" }}]\n[checks.unused-ignore]\nseverity = \"info\"\n"
        );
        let f = run_engine(&untagged_shared_queue(), &config, "guard.toml");
        let unused: Vec<_> = f.iter().filter(|f| f.check == "unused-ignore").collect();
        assert_eq!(unused.len(), 1, "{f:#?}");
        let u = unused[0];
        assert_eq!(u.resource, "checks.shared-resource-untagged.ignore[0]");
        assert!(
            u.message
                .starts_with("`checks.shared-resource-untagged.ignore[0]` in `guard.toml` matched no finding"),
            "{}",
            u.message
        );
        assert!(u.message.contains("stale since Q2"), "{}", u.message);
        assert_eq!(u.evidence[0].from, "guard.toml");
        assert_eq!(u.severity, Severity::Info);
        // The override is the unused-ignore check's: the untagged queue keeps its medium.
        let untagged: Vec<_> = f.iter().filter(|f| f.check == "shared-resource-untagged").collect();
        assert_eq!(untagged.len(), 1, "{f:#?}");
        assert_eq!(untagged[0].severity, Severity::Medium);
        assert!(!untagged[0].message.contains("guard.toml"), "{}", untagged[0].message);
    }

    #[test]
    fn quiet_an_ignore_that_matched_is_not_reported() {
        let config = format!(
            "{CONFIG}\n[checks.shared-resource-untagged]\nignore = [{{ application = \"invoice\", reason = \"tagging next sprint\" }}]\n"
        );
        let f = run_engine(&untagged_shared_queue(), &config, "guard.toml");
        assert!(!f.iter().any(|f| f.check == "unused-ignore"), "{f:#?}");
        assert!(!f.iter().any(|f| f.check == "shared-resource-untagged"), "{f:#?}");
    }

    #[test]
    fn near_miss_locate_names_the_file_only_in_the_config_evidence() {
        let mut f = unused_entry("c", "ignore", 2, "why", None);
        f.evidence.push(Evidence::new("tag", "arn:x", None, "k=v"));
        locate(&mut f, "t.toml");
        assert_eq!(
            f.message,
            "`checks.c.ignore[2]` in `t.toml` matched no finding of `c` (reason given: why)"
        );
        assert_eq!(f.evidence[0].from, "t.toml");
        assert_eq!(f.evidence[1].from, "arn:x");
        assert_eq!((f.status, f.severity), (Status::Violation, Severity::Low));
    }
}
