//! Shared fixtures and cross-format tests of the renderers: snapshots of every format, byte
//! determinism, and clean reports. Format-specific structural checks live next to each renderer.

use super::{CheckInfo, Format, RenderOptions, Report, render};
use crate::finding::{Evidence, Finding, Severity, Status};
use crate::model::CoverageGap;

pub(crate) const BUS_RULE: &str = "arn:aws:events:eu-west-1:111111111111:rule/orders/forward-invoices";

/// A snapshot excerpt where [`BUS_RULE`] is first named, quoted, on line 5 (line 4 names a longer
/// ARN that merely starts with it).
const TOPOLOGY_TEXT: &str = r#"{
  "schema_version": 1,
  "rules": [
    {"arn": "arn:aws:events:eu-west-1:111111111111:rule/orders/forward-invoices-v2", "bus": "orders"},
    {"arn": "arn:aws:events:eu-west-1:111111111111:rule/orders/forward-invoices", "bus": "orders"}
  ],
  "roles": [
    {"arn": "arn:aws:iam::111111111111:role/legacy-admin"}
  ],
  "relations": [
    {"from": "arn:aws:events:eu-west-1:111111111111:rule/orders/forward-invoices", "to": "arn:aws:lambda:eu-west-1:222222222222:function:invoice-ingest", "kind": "targets", "evidence": "ListTargetsByRule"}
  ]
}
"#;

fn checks() -> Vec<CheckInfo> {
    let check = |id: &str, title: &str, description: &str, default_severity| CheckInfo {
        id: id.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        default_severity,
        help_uri: format!("https://github.com/topoguard/topoguard/blob/main/docs/checks.md#{id}"),
    };
    // Deliberately unsorted: Report::new sorts.
    vec![
        check(
            "wildcard-trust",
            "Role trust policy allows any principal",
            "A role whose trust policy names `*` can be assumed from any AWS account.",
            Severity::Critical,
        ),
        check(
            "cross-app-bus-target",
            "Event rule delivers to another application",
            "An EventBridge rule owned by one application targets a resource of another, so one \
             application's events drive another's code without an agreed contract.",
            Severity::High,
        ),
        check(
            "shared-execution-role",
            "Execution role shared across applications",
            "Functions of different applications run as the same role, so a compromise of one \
             reaches the other's data.",
            Severity::Medium,
        ),
    ]
}

fn applications() -> Vec<String> {
    vec!["checkout".to_string(), "invoice".to_string(), "payments".to_string()]
}

#[allow(clippy::too_many_arguments)]
fn finding(
    check: &str,
    severity: Severity,
    status: Status,
    resource: &str,
    account: Option<&str>,
    applications: &[&str],
    message: &str,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        check: check.to_string(),
        severity,
        status,
        title: checks().into_iter().find(|c| c.id == check).map(|c| c.title).unwrap(),
        message: message.to_string(),
        resource: resource.to_string(),
        account: account.map(str::to_string),
        region: resource.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_string),
        applications: applications.iter().map(|a| a.to_string()).collect(),
        evidence,
        remediation: format!("Fix {check} on {resource}."),
        conditions: Vec::new(),
        location: None,
    }
}

fn findings() -> Vec<Finding> {
    let invoice_fn = "arn:aws:lambda:eu-west-1:222222222222:function:invoice-ingest".to_string();
    vec![
        finding(
            "shared-execution-role",
            Severity::Low,
            Status::NotProven,
            "arn:aws:iam::333333333333:role/checkout-exec",
            Some("333333333333"),
            &["checkout"],
            "could not list the functions of 333333333333 in eu-west-1",
            vec![Evidence::new(
                "coverage-gap",
                "333333333333",
                None,
                "lambda:ListFunctions: AccessDeniedException",
            )],
        ),
        finding(
            "cross-app-bus-target",
            Severity::High,
            Status::Violation,
            BUS_RULE,
            Some("111111111111"),
            &["checkout", "invoice"],
            "rule forward-invoices of checkout delivers to invoice-ingest of invoice",
            vec![
                Evidence::new(
                    "routes",
                    "arn:aws:events:eu-west-1:111111111111:event-bus/orders",
                    Some(BUS_RULE.to_string()),
                    "rule on bus orders",
                ),
                Evidence::new("targets", BUS_RULE, Some(invoice_fn), "target id invoice-1"),
            ],
        ),
        finding(
            "wildcard-trust",
            Severity::Critical,
            Status::Violation,
            "arn:aws:iam::111111111111:role/legacy-admin",
            Some("111111111111"),
            &[],
            "role legacy-admin can be assumed by any principal",
            vec![Evidence::new(
                "trust-policy",
                "*",
                Some("arn:aws:iam::111111111111:role/legacy-admin".to_string()),
                "Statement[0]: Allow sts:AssumeRole to Principal {\"AWS\": \"*\"}",
            )],
        ),
        finding(
            "shared-execution-role",
            Severity::Medium,
            Status::Violation,
            "arn:aws:iam::222222222222:role/payments-exec",
            Some("222222222222"),
            &["payments"],
            "role payments-exec runs functions tagged app=payments|legacy\nand one untagged function",
            vec![Evidence::new(
                "executes-as",
                "arn:aws:lambda:eu-west-1:222222222222:function:refund",
                Some("arn:aws:iam::222222222222:role/payments-exec".to_string()),
                "tag app=payments|legacy",
            )],
        ),
        finding(
            "cross-app-bus-target",
            Severity::Low,
            Status::Violation,
            "arn:aws:events:eu-west-1:111111111111:rule/default/invoice-audit",
            None,
            &["invoice"],
            "rule invoice-audit forwards to a bus outside the organization",
            vec![Evidence::new(
                "config",
                "arn:aws:events:eu-west-1:111111111111:rule/default/invoice-audit",
                None,
                "no application owns the target",
            )],
        ),
    ]
}

fn gap() -> CoverageGap {
    CoverageGap {
        account: Some("333333333333".to_string()),
        region: Some("eu-west-1".to_string()),
        api: "lambda:ListFunctions".to_string(),
        error_code: "AccessDeniedException".to_string(),
        message: "User: arn:aws:sts::333333333333:assumed-role/topoguard-read/crawl is not \
                  authorized to perform: lambda:ListFunctions"
            .to_string(),
    }
}

/// Three checks, five findings (every severity but info, one not proven, one with two
/// applications, one with none), one coverage gap, two ignored findings.
pub(crate) fn sample_report() -> Report {
    Report::new(
        "snapshots/topology.json".to_string(),
        TOPOLOGY_TEXT.to_string(),
        checks(),
        applications(),
        findings(),
        vec![gap()],
        2,
    )
}

/// The same checks and applications, nothing found, full coverage.
pub(crate) fn clean_report() -> Report {
    Report::new(
        "snapshots/topology.json".to_string(),
        TOPOLOGY_TEXT.to_string(),
        checks(),
        applications(),
        Vec::new(),
        Vec::new(),
        0,
    )
}

pub(crate) fn render_string(report: &Report, format: Format, color: bool) -> String {
    let mut out = Vec::new();
    render(report, format, RenderOptions { color }, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

const ALL_FORMATS: [Format; 5] = [
    Format::Human,
    Format::Json,
    Format::Sarif,
    Format::Junit,
    Format::Markdown,
];

#[test]
fn snapshot_human() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Human, false));
}

#[test]
fn snapshot_human_color() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Human, true));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Json, false));
}

#[test]
fn snapshot_sarif() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Sarif, false));
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Junit, false));
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!(render_string(&sample_report(), Format::Markdown, false));
}

#[test]
fn snapshot_clean_reports() {
    for format in ALL_FORMATS {
        let name = format!("clean_{format:?}").to_lowercase();
        insta::assert_snapshot!(name, render_string(&clean_report(), format, false));
    }
}

#[test]
fn rendering_is_deterministic() {
    for format in ALL_FORMATS {
        for color in [false, true] {
            let first = render_string(&sample_report(), format, color);
            let second = render_string(&sample_report(), format, color);
            assert_eq!(first, second, "{format:?} differs between two renders");
            let reordered = {
                let mut findings = findings();
                findings.reverse();
                let mut checks = checks();
                checks.reverse();
                Report::new(
                    "snapshots/topology.json".to_string(),
                    TOPOLOGY_TEXT.to_string(),
                    checks,
                    applications(),
                    findings,
                    vec![gap()],
                    2,
                )
            };
            let third = render_string(&reordered, format, color);
            assert_eq!(first, third, "{format:?} depends on input order");
        }
    }
}

#[test]
fn every_format_ends_with_newline() {
    for format in ALL_FORMATS {
        for report in [sample_report(), clean_report()] {
            assert!(render_string(&report, format, false).ends_with('\n'), "{format:?}");
        }
    }
}

#[test]
fn clean_reports_say_so() {
    let human = render_string(&clean_report(), Format::Human, false);
    assert!(human.contains("no findings"), "{human}");
    assert!(human.contains("coverage: complete"), "{human}");
    let markdown = render_string(&clean_report(), Format::Markdown, false);
    assert!(markdown.contains("No guardrail violations"), "{markdown}");
}

#[test]
fn gaps_without_findings_are_not_a_clean_pass() {
    let report = Report::new(
        "topology.json".to_string(),
        String::new(),
        checks(),
        applications(),
        Vec::new(),
        vec![gap()],
        0,
    );
    let human = render_string(&report, Format::Human, false);
    assert!(human.contains("coverage is incomplete"), "{human}");
    let markdown = render_string(&report, Format::Markdown, false);
    assert!(markdown.contains("⚠️"), "{markdown}");
    let junit = render_string(&report, Format::Junit, false);
    assert!(junit.contains("type=\"coverage-gap\""), "{junit}");
}
