//! The `json` format: one pretty-printed JSON document (with a trailing newline) for scripts.
//!
//! The shape is stable; keys are never removed within a major version, and optional values are
//! `null` rather than absent:
//!
//! ```text
//! {
//!   "tool": {"name": "topoguard", "version": "<crate version>"},
//!   "topology": "<snapshot path as given>",
//!   "summary": {
//!     "violations": {"info": 0, "low": 0, "medium": 0, "high": 0, "critical": 0},
//!     "total_violations": 0, "conditional": 0, "not_proven": 0, "ignored": 0, "checks_run": 0,
//!     "coverage_gaps": 0
//!   },
//!   "findings": [{
//!     "check": "<check id>", "severity": "critical|high|medium|low|info",
//!     "status": "violation|conditional|not-proven", "title": "…", "message": "…",
//!     "resource": "<ARN or account id>", "account": "…"|null, "region": "…"|null,
//!     "applications": ["…"],
//!     "evidence": [{"relation": "…", "from": "…", "to": "…"|null, "detail": "…"}],
//!     "remediation": "…",
//!     "conditions": ["<undecided condition key> (<statement>)"]
//!   }],
//!   "coverage": {"gaps": [{"account": "…"|null, "region": "…"|null, "api": "…",
//!                          "error_code": "…", "message": "…"}]}
//! }
//! ```
//!
//! Findings are sorted most severe first, then by check, resource and message; gaps are sorted.
//!
//! `status` says how sure the finding is:
//! - `violation` — proven from the snapshot; counted in `summary.violations` and
//!   `summary.total_violations`;
//! - `conditional` — the access or exposure exists only if condition keys hold whose values the
//!   snapshot cannot know (the source IP of a request, a tag on the calling principal, …);
//!   `conditions` names each undecided key (`key`, or `key (policy statement)` when the statement
//!   is known), sorted. Counted in `summary.conditional`, not in the
//!   violations; `topoguard check` still fails on it at `--fail-on` unless `--allow-conditional`;
//! - `not-proven` — the crawl did not see what the check needed (see `coverage.gaps`); counted in
//!   `summary.not_proven`; fails the run unless `--allow-not-proven`.
//!
//! `conditions` is an empty list for the other statuses. Strings are data as found in the snapshot
//! (JSON escaping makes any character safe); consumers that print them must escape them for their
//! own sink, as topoguard's other formats do (`crate::escape`).

use super::{Report, total_violations};
use crate::finding::{Evidence, Finding, Severity, Status};
use crate::model::CoverageGap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: JsonTool,
    topology: &'a str,
    summary: JsonSummary<'a>,
    findings: Vec<JsonFinding<'a>>,
    coverage: JsonCoverage<'a>,
}

#[derive(Serialize)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    violations: &'a BTreeMap<Severity, usize>,
    total_violations: usize,
    conditional: usize,
    not_proven: usize,
    ignored: usize,
    checks_run: usize,
    coverage_gaps: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    check: &'a str,
    severity: Severity,
    status: Status,
    title: &'a str,
    message: &'a str,
    resource: &'a str,
    account: Option<&'a str>,
    region: Option<&'a str>,
    applications: &'a [String],
    evidence: Vec<JsonEvidence<'a>>,
    remediation: &'a str,
    /// Undecided condition keys of a `conditional` finding (empty otherwise).
    conditions: &'a [String],
}

#[derive(Serialize)]
struct JsonEvidence<'a> {
    relation: &'a str,
    from: &'a str,
    to: Option<&'a str>,
    detail: &'a str,
}

#[derive(Serialize)]
struct JsonCoverage<'a> {
    gaps: Vec<JsonGap<'a>>,
    /// Resources of an IaC change topoguard does not model; absent without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_considered: Vec<JsonNotConsidered<'a>>,
}

#[derive(Serialize)]
struct JsonNotConsidered<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    /// CloudFormation logical id or Terraform address.
    resource: &'a str,
    #[serde(rename = "type")]
    resource_type: &'a str,
    reason: &'a str,
}

impl<'a> From<&'a crate::iac::NotConsidered> for JsonNotConsidered<'a> {
    fn from(n: &'a crate::iac::NotConsidered) -> Self {
        JsonNotConsidered {
            file: &n.location.file,
            line: n.location.line,
            column: n.location.column,
            resource: &n.location.resource,
            resource_type: &n.resource_type,
            reason: &n.reason,
        }
    }
}

#[derive(Serialize)]
struct JsonGap<'a> {
    account: Option<&'a str>,
    region: Option<&'a str>,
    api: &'a str,
    error_code: &'a str,
    message: &'a str,
}

impl<'a> From<&'a Evidence> for JsonEvidence<'a> {
    fn from(e: &'a Evidence) -> Self {
        JsonEvidence {
            relation: &e.relation,
            from: &e.from,
            to: e.to.as_deref(),
            detail: &e.detail,
        }
    }
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            check: &f.check,
            severity: f.severity,
            status: f.status,
            title: &f.title,
            message: &f.message,
            resource: &f.resource,
            account: f.account.as_deref(),
            region: f.region.as_deref(),
            applications: &f.applications,
            evidence: f.evidence.iter().map(JsonEvidence::from).collect(),
            remediation: &f.remediation,
            conditions: &f.conditions,
        }
    }
}

impl<'a> From<&'a CoverageGap> for JsonGap<'a> {
    fn from(g: &'a CoverageGap) -> Self {
        JsonGap {
            account: g.account.as_deref(),
            region: g.region.as_deref(),
            api: &g.api,
            error_code: &g.error_code,
            message: &g.message,
        }
    }
}

/// Renders the JSON document.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let doc = JsonReport {
        tool: JsonTool {
            name: "topoguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        topology: &report.topology_path,
        summary: JsonSummary {
            violations: &s.violations,
            total_violations: total_violations(report),
            conditional: s.conditional,
            not_proven: s.not_proven,
            ignored: s.ignored,
            checks_run: s.checks_run,
            coverage_gaps: s.coverage_gaps,
        },
        findings: report.findings.iter().map(JsonFinding::from).collect(),
        coverage: JsonCoverage {
            gaps: report.coverage.iter().map(JsonGap::from).collect(),
            not_considered: report.not_considered.iter().map(JsonNotConsidered::from).collect(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tests::{clean_report, sample_report};
    use serde_json::Value;

    fn render_value(report: &Report) -> (String, Value) {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let value = serde_json::from_str(&text).unwrap();
        (text, value)
    }

    #[test]
    fn json_has_documented_shape() {
        let (text, v) = render_value(&sample_report());
        assert!(text.ends_with("}\n"));
        assert_eq!(v["tool"]["name"], "topoguard");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(v["topology"].is_string());
        let summary = &v["summary"];
        for key in [
            "total_violations",
            "not_proven",
            "ignored",
            "checks_run",
            "coverage_gaps",
        ] {
            assert!(summary[key].is_u64(), "summary.{key}");
        }
        for sev in ["critical", "high", "medium", "low", "info"] {
            assert!(summary["violations"][sev].is_u64(), "summary.violations.{sev}");
        }
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 5);
        for f in findings {
            for key in [
                "check",
                "severity",
                "status",
                "title",
                "message",
                "resource",
                "remediation",
            ] {
                assert!(f[key].is_string(), "finding.{key}");
            }
            for key in ["account", "region"] {
                assert!(f[key].is_string() || f[key].is_null(), "finding.{key}");
            }
            assert!(f["applications"].is_array());
            for step in f["evidence"].as_array().unwrap() {
                assert!(step["relation"].is_string() && step["from"].is_string());
                assert!(step["to"].is_string() || step["to"].is_null());
                assert!(step["detail"].is_string());
            }
        }
        assert_eq!(findings[0]["severity"], "critical");
        assert!(findings.iter().any(|f| f["status"] == "not-proven"));
        let gaps = v["coverage"]["gaps"].as_array().unwrap();
        assert_eq!(gaps.len(), 1);
        for key in ["api", "error_code", "message"] {
            assert!(gaps[0][key].is_string(), "gap.{key}");
        }
    }

    #[test]
    fn json_clean_report_has_empty_lists() {
        let (_, v) = render_value(&clean_report());
        assert_eq!(v["findings"].as_array().unwrap().len(), 0);
        assert_eq!(v["coverage"]["gaps"].as_array().unwrap().len(), 0);
        assert_eq!(v["summary"]["total_violations"], 0);
    }
}
