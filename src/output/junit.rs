//! The `junit` format: JUnit XML for CI test reporters.
//!
//! One test suite per check, one test case per application (plus `(no application)`): a case
//! fails (type: the severity of its first violation) when a violation of that check concerns the
//! application, fails with type `conditional` when only conditional findings (and perhaps
//! not-proven ones) do, errors (type `not-proven`) when only not-proven findings do — unknown is
//! not a pass — and passes otherwise. A final
//! `coverage` suite has one erroring case per coverage gap, or one passing `coverage complete`.
//! No timestamps, durations or ids, so the output is byte-stable. Every string from the snapshot
//! or config goes through [`xml_text`], so the document is well-formed XML 1.0 whatever the data.

use super::{NO_APPLICATION, Report, gap_line, plural};
use crate::escape::xml_text;
use crate::finding::{Finding, Status};
use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeSet;
use std::io::{self, Write};

/// Renders the JUnit XML document.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut junit = JunitReport::new("topoguard");
    for check in check_ids(report) {
        junit.add_test_suite(check_suite(report, &check));
    }
    junit.add_test_suite(coverage_suite(report));
    junit.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}

/// Ids of the checks that ran, plus any check that reported without being listed, sorted.
fn check_ids(report: &Report) -> BTreeSet<String> {
    report
        .checks
        .iter()
        .map(|c| c.id.clone())
        .chain(report.findings.iter().map(|f| f.check.clone()))
        .collect()
}

/// Whether `finding` belongs to the test case of `application` (`None`: no application).
fn concerns(finding: &Finding, application: Option<&str>) -> bool {
    match application {
        Some(app) => finding.applications.iter().any(|a| a == app),
        None => finding.applications.is_empty(),
    }
}

fn check_suite(report: &Report, check: &str) -> TestSuite {
    let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.check == check).collect();
    // Configured applications, plus any a finding names that the configuration does not list.
    let applications: BTreeSet<&str> = report
        .applications
        .iter()
        .map(String::as_str)
        .chain(findings.iter().flat_map(|f| f.applications.iter().map(String::as_str)))
        .collect();
    let mut suite = TestSuite::new(xml_text(check).into_owned());
    for application in applications.into_iter().map(Some).chain([None]) {
        let name = application.unwrap_or(NO_APPLICATION);
        let matching: Vec<&Finding> = findings.iter().copied().filter(|f| concerns(f, application)).collect();
        let mut case = TestCase::new(xml_text(name).into_owned(), case_status(&matching));
        case.set_classname(xml_text(check).into_owned());
        suite.add_test_case(case);
    }
    suite
}

fn case_status(findings: &[&Finding]) -> TestCaseStatus {
    let with = |status: Status| -> Vec<&Finding> { findings.iter().copied().filter(|f| f.status == status).collect() };
    let (violations, conditional) = (with(Status::Violation), with(Status::Conditional));
    let (kind, ty, counted, first) = if let Some(first) = violations.first() {
        let counted = plural(violations.len(), "violation", "violations");
        (NonSuccessKind::Failure, first.severity.as_str(), counted, *first)
    } else if let Some(first) = conditional.first() {
        let counted = format!("{} conditional", conditional.len());
        (NonSuccessKind::Failure, "conditional", counted, *first)
    } else if let Some(first) = findings.first() {
        let counted = format!("{} not proven", findings.len());
        (NonSuccessKind::Error, "not-proven", counted, *first)
    } else {
        return TestCaseStatus::success();
    };
    let mut status = TestCaseStatus::non_success(kind);
    status.set_type(ty);
    let message = format!("{counted}: {}", first.message.replace(['\r', '\n'], " "));
    status.set_message(xml_text(&message).into_owned());
    status.set_description(xml_text(&description(findings)).into_owned());
    status
}

/// One line per finding: severity, status, resource and message, then the template location
/// when an IaC change caused it.
fn description(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let status = match f.status {
                Status::Violation => "",
                Status::Conditional => " (conditional)",
                Status::NotProven => " (not proven)",
            };
            let at: String = f
                .evidence
                .iter()
                .filter(|e| e.relation == crate::iac::TEMPLATE_RELATION)
                .map(|e| format!(" (at {})", e.detail))
                .collect();
            format!("[{}]{status} {}: {}{at}", f.severity, f.resource, f.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn coverage_suite(report: &Report) -> TestSuite {
    let mut suite = TestSuite::new("coverage");
    if report.coverage.is_empty() {
        let mut case = TestCase::new("coverage complete", TestCaseStatus::success());
        case.set_classname("coverage");
        suite.add_test_case(case);
    }
    for n in &report.not_considered {
        let mut status = TestCaseStatus::skipped();
        status.set_type("not-considered");
        status.set_message(xml_text(&n.line()).into_owned());
        let name = format!("{} {}", n.location.resource, n.resource_type);
        let mut case = TestCase::new(xml_text(&name).into_owned(), status);
        case.set_classname("not-considered");
        suite.add_test_case(case);
    }
    for gap in &report.coverage {
        let account = gap.account.as_deref().unwrap_or("organization");
        let region = gap.region.as_deref().unwrap_or("global");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("coverage-gap");
        status.set_message(xml_text(&format!("{}: {}", gap.error_code, gap.message)).into_owned());
        status.set_description(xml_text(&gap_line(gap)).into_owned());
        let name = format!("{account} {region} {}", gap.api);
        let mut case = TestCase::new(xml_text(&name).into_owned(), status);
        case.set_classname("coverage");
        suite.add_test_case(case);
    }
    suite
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tests::{clean_report, sample_report};
    use quick_xml::Reader;
    use quick_xml::events::Event;

    /// Counts per element name, and the `tests`/`failures`/`errors` attributes of `testsuites`.
    #[derive(Debug, Default)]
    struct Counts {
        suites: usize,
        cases: usize,
        failures: usize,
        errors: usize,
        root: Vec<(String, String)>,
    }

    fn parse(report: &Report) -> Counts {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        let mut reader = Reader::from_str(&xml);
        let mut counts = Counts::default();
        loop {
            match reader.read_event().unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    "testsuites" => {
                        for attr in e.attributes() {
                            let attr = attr.unwrap();
                            let key = attr.key.as_ref().to_string();
                            let value = attr.value.to_string();
                            counts.root.push((key, value));
                        }
                    }
                    "testsuite" => counts.suites += 1,
                    "testcase" => counts.cases += 1,
                    "failure" => counts.failures += 1,
                    "error" => counts.errors += 1,
                    _ => {}
                },
                _ => {}
            }
        }
        counts
    }

    fn root_attr<'a>(counts: &'a Counts, key: &str) -> &'a str {
        &counts.root.iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn junit_parses_with_expected_counts() {
        let counts = parse(&sample_report());
        // Three checks plus coverage.
        assert_eq!(counts.suites, 4);
        // Three checks × (checkout, invoice, payments, (no application)) + one gap.
        assert_eq!(counts.cases, 13);
        // bus-target: checkout, invoice; wildcard-trust: (no application);
        // role-sharing: payments.
        assert_eq!(counts.failures, 4);
        // role-sharing not proven for checkout, plus the coverage gap.
        assert_eq!(counts.errors, 2);
        assert_eq!(root_attr(&counts, "tests"), "13");
        assert_eq!(root_attr(&counts, "failures"), "4");
        assert_eq!(root_attr(&counts, "errors"), "2");
    }

    #[test]
    fn junit_conditional_has_its_own_failure_type() {
        let mut report = sample_report();
        // payments' only finding of shared-execution-role becomes conditional.
        for f in &mut report.findings {
            if f.resource.ends_with("role/payments-exec") {
                f.status = Status::Conditional;
            }
        }
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(xml.matches("type=\"conditional\"").count(), 1, "{xml}");
        assert!(xml.contains("message=\"1 conditional: role payments-exec"), "{xml}");
        // Quiet: a violation alongside a conditional finding keeps the severity as type.
        let counts = parse(&report);
        assert_eq!(counts.failures, 4);
        assert_eq!(counts.errors, 2);
        // Near miss: the not-proven finding is still an error, not a conditional failure.
        assert!(xml.contains("type=\"not-proven\""), "{xml}");
    }

    #[test]
    fn junit_clean_report_passes() {
        let counts = parse(&clean_report());
        assert_eq!(counts.suites, 4);
        assert_eq!(counts.failures + counts.errors, 0);
        assert_eq!(counts.cases, 3 * 4 + 1);
    }
}
