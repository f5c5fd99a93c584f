//! The report every renderer reads: findings, the checks that ran, and coverage.

use crate::finding::{Finding, Severity, Status};
use crate::model::CoverageGap;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a renderer needs to know about a check (SARIF rules, JUnit suites, docs links).
#[derive(Debug, Clone, Serialize)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    /// One paragraph: what it catches and why it matters.
    pub description: String,
    pub default_severity: Severity,
    /// Link to the check's section in docs/checks.md.
    pub help_uri: String,
}

/// Counts for the summary line and the JSON `summary` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Violations per severity (every severity present, zero included).
    pub violations: BTreeMap<Severity, usize>,
    /// Findings with status `conditional`.
    pub conditional: usize,
    /// Findings with status `not-proven`.
    pub not_proven: usize,
    /// Findings suppressed by config ignores.
    pub ignored: usize,
    pub checks_run: usize,
    pub coverage_gaps: usize,
}

/// Everything a renderer prints. Built once by `topoguard check`; lists are already sorted.
#[derive(Debug, Clone)]
pub struct Report {
    /// The snapshot file as the user named it (for SARIF artifact locations).
    pub topology_path: String,
    /// The snapshot text, to find the line where a resource is defined (SARIF regions).
    pub topology_text: String,
    /// The checks that ran, sorted by id.
    pub checks: Vec<CheckInfo>,
    /// Configured application names, sorted.
    pub applications: Vec<String>,
    /// Findings, sorted by [`Finding::sort_key`].
    pub findings: Vec<Finding>,
    /// Coverage gaps of the snapshot, sorted.
    pub coverage: Vec<CoverageGap>,
    pub summary: Summary,
    /// Resources an IaC change created or changed → the template location (empty without
    /// `--cfn` / `--terraform-plan`); SARIF locates their findings in the template.
    pub sources: BTreeMap<String, crate::iac::SourceLocation>,
    /// Resources of the IaC change that topoguard does not model, sorted (empty without
    /// `--cfn` / `--terraform-plan`); every format lists them.
    pub not_considered: Vec<crate::iac::NotConsidered>,
}

impl Report {
    /// Builds a report, sorting findings and gaps and computing the summary.
    pub fn new(
        topology_path: String,
        topology_text: String,
        mut checks: Vec<CheckInfo>,
        applications: Vec<String>,
        mut findings: Vec<Finding>,
        mut coverage: Vec<CoverageGap>,
        ignored: usize,
    ) -> Self {
        checks.sort_by(|a, b| a.id.cmp(&b.id));
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        coverage.sort();
        let mut violations: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        let (mut conditional, mut not_proven) = (0, 0);
        for f in &findings {
            match f.status {
                Status::Violation => *violations.entry(f.severity).or_default() += 1,
                Status::Conditional => conditional += 1,
                Status::NotProven => not_proven += 1,
            }
        }
        let summary = Summary {
            violations,
            conditional,
            not_proven,
            ignored,
            checks_run: checks.len(),
            coverage_gaps: coverage.len(),
        };
        Report {
            topology_path,
            topology_text,
            checks,
            applications,
            findings,
            coverage,
            summary,
            sources: BTreeMap::new(),
            not_considered: Vec::new(),
        }
    }

    /// The report with IaC source locations.
    pub fn with_sources(mut self, sources: BTreeMap<String, crate::iac::SourceLocation>) -> Self {
        self.sources = sources;
        self
    }

    /// The report with the IaC resources that were not considered.
    pub fn with_not_considered(mut self, mut items: Vec<crate::iac::NotConsidered>) -> Self {
        items.sort();
        self.not_considered = items;
        self
    }
}
