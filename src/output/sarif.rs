//! The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One rule per check that ran, one result per finding located at the line of the snapshot file
//! that names the finding's resource, a `partialFingerprints` entry that survives re-crawls, and
//! the coverage gaps as tool execution notifications. Not-proven findings are reported at level
//! `warning` with `properties.status = "not-proven"`; they keep the default `kind` (`fail`)
//! because SARIF requires level `none` for any other kind, and code scanning would then hide them.

use super::{Report, gap_line, status_str};
use crate::finding::{Finding, Severity, Status};
use crate::model::CoverageGap;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// `$schema` of the log.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// `tool.driver.informationUri`.
const INFORMATION_URI: &str = "https://github.com/topoguard/topoguard";
/// Key of the stable fingerprint in `partialFingerprints`; bump the version if its input changes.
const FINGERPRINT_KEY: &str = "topoguard/v1";
/// Id of the notification descriptor that coverage gaps refer to.
const COVERAGE_GAP_ID: &str = "coverage-gap";

/// Characters that may not appear literally in a URI reference path.
const URI_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Renders the SARIF log.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let sarif = build(report);
    serde_json::to_writer_pretty(&mut *out, &sarif).map_err(io::Error::other)?;
    writeln!(out)
}

fn build(report: &Report) -> Sarif {
    let rules: Vec<ReportingDescriptor> = report.checks.iter().map(rule).collect();
    let driver = ToolComponent::builder()
        .name("topoguard")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .notifications(vec![coverage_gap_descriptor()])
        .build();
    let uri = artifact_uri(&report.topology_path);
    let results: Vec<SarifResult> = report.findings.iter().map(|f| result(report, f, &uri)).collect();
    let notifications: Vec<Notification> = report.coverage.iter().map(notification).collect();
    let invocation = if notifications.is_empty() {
        Invocation::builder().execution_successful(true).build()
    } else {
        Invocation::builder()
            .execution_successful(true)
            .tool_execution_notifications(notifications)
            .build()
    };
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .results(results)
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// SARIF level of a severity: critical and high are errors, medium a warning, the rest notes.
fn level_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn result_level(finding: &Finding) -> ResultLevel {
    match (finding.status, finding.severity) {
        (Status::NotProven, _) | (Status::Violation | Status::Conditional, Severity::Medium) => ResultLevel::Warning,
        (Status::Violation | Status::Conditional, Severity::Critical | Severity::High) => ResultLevel::Error,
        (Status::Violation | Status::Conditional, Severity::Low | Severity::Info) => ResultLevel::Note,
    }
}

/// GitHub's `security-severity` score (critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0, low > 0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.0",
        Severity::High => "7.0",
        Severity::Medium => "5.0",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// `cross-account-bus` → `CrossAccountBus`.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
}

fn properties(tags: Option<Vec<String>>, values: BTreeMap<String, Value>) -> PropertyBag {
    match tags {
        Some(tags) => PropertyBag::builder().tags(tags).additional_properties(values).build(),
        None => PropertyBag::builder().additional_properties(values).build(),
    }
}

fn rule(check: &super::CheckInfo) -> ReportingDescriptor {
    let config = ReportingConfiguration::builder()
        .level(json!(level_str(check.default_severity)))
        .build();
    let mut values = BTreeMap::new();
    values.insert(
        "security-severity".to_string(),
        json!(security_severity(check.default_severity)),
    );
    values.insert("precision".to_string(), json!("high"));
    let props = properties(Some(vec!["security".to_string(), "aws".to_string()]), values);
    let help = format!("{}\n\nSee {}", check.description, check.help_uri);
    let builder = ReportingDescriptor::builder()
        .id(&check.id)
        .name(pascal_case(&check.id))
        .short_description(text(&check.title))
        .full_description(text(&check.description))
        .help(text(&help))
        .default_configuration(config)
        .properties(props);
    // `helpUri` must be an absolute URI; a relative docs path only goes into the help text.
    if check.help_uri.contains("://") {
        builder.help_uri(&check.help_uri).build()
    } else {
        builder.build()
    }
}

fn coverage_gap_descriptor() -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(COVERAGE_GAP_ID)
        .name("CoverageGap")
        .short_description(text("The crawl could not read an API"))
        .full_description(text(
            "The crawl could not read an API in some account or region; checks that needed it \
             report not proven instead of pass.",
        ))
        .build()
}

/// The artifact URI of the snapshot: forward slashes, relative paths kept relative, reserved
/// characters percent-encoded, Windows drive paths as `file:///C:/…`.
fn artifact_uri(path: &str) -> String {
    let slashed = path.replace('\\', "/");
    let encoded = utf8_percent_encode(&slashed, URI_ESCAPES).to_string();
    let bytes = slashed.as_bytes();
    let drive = bytes.len() >= 2 && bytes.first().is_some_and(u8::is_ascii_alphabetic) && bytes.get(1) == Some(&b':');
    if drive { format!("file:///{encoded}") } else { encoded }
}

/// 1-based line of the first line of the snapshot containing `"<resource>"`, or 1.
fn resource_line(topology_text: &str, resource: &str) -> i64 {
    let needle = format!("\"{resource}\"");
    topology_text
        .lines()
        .position(|line| line.contains(&needle))
        .and_then(|i| i64::try_from(i).ok())
        .map_or(1, |i| i + 1)
}

/// FNV-1a, 64 bits.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Hex fingerprint of check, resource, sorted applications and message (0xff separates parts,
/// a byte that never occurs in UTF-8).
fn fingerprint(finding: &Finding) -> String {
    let mut applications = finding.applications.clone();
    applications.sort();
    let mut input = Vec::new();
    for part in [&finding.check, &finding.resource]
        .into_iter()
        .chain(applications.iter())
        .chain([&finding.message])
    {
        input.extend_from_slice(part.as_bytes());
        input.push(0xff);
    }
    format!("{:016x}", fnv1a64(&input))
}

fn result(report: &Report, finding: &Finding, uri: &str) -> SarifResult {
    let physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).build())
        .region(
            Region::builder()
                .start_line(resource_line(&report.topology_text, &finding.resource))
                .build(),
        )
        .build();
    let logical = LogicalLocation::builder()
        .fully_qualified_name(&finding.resource)
        .kind("resource")
        .build();
    let location = Location::builder()
        .physical_location(physical)
        .logical_locations(vec![logical])
        .build();
    let prefix = match finding.status {
        Status::Violation => "",
        Status::Conditional => "Conditional: ",
        Status::NotProven => "Not proven: ",
    };
    let message = format!("{prefix}{}\nRemediation: {}", finding.message, finding.remediation);
    let mut values = BTreeMap::new();
    values.insert("status".to_string(), json!(status_str(finding.status)));
    if !finding.conditions.is_empty() {
        values.insert("conditions".to_string(), json!(finding.conditions));
    }
    values.insert("severity".to_string(), json!(finding.severity.as_str()));
    values.insert("applications".to_string(), json!(finding.applications));
    values.insert("evidence".to_string(), json!(finding.evidence));
    if let Some(account) = &finding.account {
        values.insert("account".to_string(), json!(account));
    }
    if let Some(region) = &finding.region {
        values.insert("region".to_string(), json!(region));
    }
    let fingerprints = BTreeMap::from([(FINGERPRINT_KEY.to_string(), fingerprint(finding))]);
    let builder = SarifResult::builder()
        .rule_id(&finding.check)
        .level(result_level(finding))
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(properties(None, values));
    let index = report
        .checks
        .iter()
        .position(|c| c.id == finding.check)
        .and_then(|i| i64::try_from(i).ok());
    match index {
        Some(index) => builder.rule_index(index).build(),
        None => builder.build(),
    }
}

fn notification(gap: &CoverageGap) -> Notification {
    let mut values = BTreeMap::new();
    values.insert("account".to_string(), json!(gap.account));
    values.insert("region".to_string(), json!(gap.region));
    values.insert("api".to_string(), json!(gap.api));
    values.insert("error_code".to_string(), json!(gap.error_code));
    Notification::builder()
        .level(json!("warning"))
        .message(Message::builder().text(gap_line(gap)).build())
        .descriptor(
            ReportingDescriptorReference::builder()
                .id(COVERAGE_GAP_ID)
                .index(0)
                .build(),
        )
        .properties(properties(None, values))
        .build()
}

#[cfg(test)]
mod tests;
