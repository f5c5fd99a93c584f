//! Findings: what a check reports, with the evidence that led to it.
//!
//! These types depend on nothing else in the crate, so that `graph`, `config`, `checks`,
//! `output` (and later `iac` and `query`) all import them from below.

pub mod location;

pub use location::{FileLocation, Lines, Span, json_string_end};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of the findings about config entries that matched nothing. It lives here, not in
/// `checks`, because the config loader (below `checks`) refuses `ignore` entries for it.
pub const UNUSED_IGNORE_ID: &str = "unused-ignore";

/// How bad a finding is; ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the finding is a proven violation, access that depends on conditions topoguard cannot
/// decide from the snapshot, or a check that could not be completed because the crawl did not
/// see what it needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Violation,
    /// The access exists only if condition keys whose values the snapshot cannot know hold
    /// (named in [`Finding::conditions`]).
    Conditional,
    NotProven,
}

impl Status {
    /// The kebab-case name as it appears in JSON, SARIF properties and the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Violation => "violation",
            Status::Conditional => "conditional",
            Status::NotProven => "not-proven",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of the evidence: how the graph got from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// A relation kind (`targets`, `uses`, `executes-as`, …) or a fact kind (`tag`,
    /// `trust-policy`, `coverage-gap`, `config`).
    pub relation: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What showed it: a rule target id, a policy statement, a tag value, an API error.
    pub detail: String,
}

impl Evidence {
    pub fn new(
        relation: impl Into<String>,
        from: impl Into<String>,
        to: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        Evidence {
            relation: relation.into(),
            from: from.into(),
            to,
            detail: detail.into(),
        }
    }
}

/// A finding as every renderer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable kebab-case check id.
    pub check: String,
    pub severity: Severity,
    pub status: Status,
    /// The check's title.
    pub title: String,
    pub message: String,
    /// ARN of the primary resource (or an account id).
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Applications concerned, sorted.
    pub applications: Vec<String>,
    /// The path through the graph that led here.
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    /// For a `conditional` finding: the undecided condition keys, each with the statement that
    /// carries it (`key` or `key (policy statement)`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Where the finding is in a file other than the snapshot (a config entry, for
    /// `unused-ignore`); renderers show it instead of the resource's place in the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FileLocation>,
}

impl Finding {
    /// The key findings are sorted by: most severe first, then check, resource, message.
    pub fn sort_key(&self) -> (std::cmp::Reverse<Severity>, &str, &str, &str) {
        (
            std::cmp::Reverse(self.severity),
            &self.check,
            &self.resource,
            &self.message,
        )
    }
}

#[cfg(test)]
mod layering {
    //! DESIGN.md: data flows one way, and nothing below `checks` imports from it. This test reads
    //! the sources of the lower modules (without their test code) and fails on an import.

    use std::path::{Path, PathBuf};

    const BELOW_CHECKS: &[&str] = &[
        "src/arn.rs",
        "src/escape.rs",
        "src/finding",
        "src/model",
        "src/graph",
        "src/iam",
        "src/config",
        "src/diagnostic",
    ];

    fn sources(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            entries.sort();
            for e in entries {
                sources(&e, out);
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// Test files (`tests.rs`, `*_tests.rs`) and code after `#[cfg(test)]` may use the checks.
    fn production_code(path: &Path) -> Option<String> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        if name == "tests.rs" || name.ends_with("_tests.rs") {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        text.split("#[cfg(test)]").next().map(str::to_string)
    }

    #[test]
    fn nothing_below_checks_imports_from_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in BELOW_CHECKS {
            sources(&root.join(dir), &mut files);
        }
        assert!(files.len() > 20, "the layering test found too few sources: {files:?}");
        let offenders: Vec<String> = files
            .iter()
            .filter(|f| {
                production_code(f).is_some_and(|code| {
                    ["crate::checks", "crate::output", "crate::cli", "crate::roles"]
                        .iter()
                        .any(|m| code.contains(m))
                })
            })
            .map(|f| f.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "modules below `checks` import from above: {offenders:?}"
        );
    }
}
