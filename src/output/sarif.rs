//! The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One rule per check that ran; one result per finding, located at the JSON object of the
//! snapshot that defines the finding's resource (a region with start and end line and column,
//! columns in Unicode code points, plus its byte offset and length, from one
//! [`LocationIndex`] built in a single pass over the snapshot text); a `codeFlows` entry that walks
//! the evidence chain, each step located the same way; a `partialFingerprints` entry that depends
//! on the check, the resource, the applications and the evidence endpoints, never on wording, so
//! it survives re-crawls and message edits; and the coverage gaps as tool execution notifications.
//!
//! Level follows the severity (critical and high `error`, medium `warning`, low and info `note`)
//! for violations and conditional findings alike; `properties.status` says which, and
//! `properties.conditional` is `true` for a conditional finding, whose `properties.conditions`
//! lists the undecided condition keys. Not-proven findings are reported at level `warning` with
//! `properties.status = "not-proven"`; they keep the default `kind` (`fail`) because SARIF
//! requires level `none` for any other kind, and code scanning would then hide them.

use super::locations::{LocationIndex, Span};
use super::{Report, gap_line, status_str};
use crate::finding::{Evidence, FileLocation, Finding, Severity, Status};
use crate::model::CoverageGap;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, CodeFlow, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
    Result as SarifResult, ResultLevel, Run, Sarif, ThreadFlow, ThreadFlowLocation, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// `$schema` of the log.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// `tool.driver.informationUri`.
const INFORMATION_URI: &str = "https://github.com/topoguard/topoguard";
/// Key of the stable fingerprint in `partialFingerprints`; bump the version if its input changes.
const FINGERPRINT_KEY: &str = "topoguard/v2";
/// Id of the notification descriptor that coverage gaps refer to.
const COVERAGE_GAP_ID: &str = "coverage-gap";

/// Id of the notification descriptor that not-considered IaC resources refer to (index 1).
const NOT_CONSIDERED_ID: &str = "not-considered";

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

/// What every result needs: the artifact URI, the location index and each check's rule index.
struct Context<'a> {
    uri: String,
    index: LocationIndex<'a>,
    rules: HashMap<&'a str, i64>,
    /// Resources an IaC change defines → their template location.
    sources: &'a BTreeMap<String, crate::iac::SourceLocation>,
}

fn build(report: &Report) -> Sarif {
    let rules: Vec<ReportingDescriptor> = report.checks.iter().map(rule).collect();
    let driver = ToolComponent::builder()
        .name("topoguard")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .notifications(descriptors(report))
        .build();
    let context = Context {
        uri: artifact_uri(&report.topology_path),
        index: LocationIndex::build(&report.topology_text),
        rules: report
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((c.id.as_str(), i64::try_from(i).ok()?)))
            .collect(),
        sources: &report.sources,
    };
    let results: Vec<SarifResult> = report.findings.iter().map(|f| result(&context, f)).collect();
    let mut notifications: Vec<Notification> = report.coverage.iter().map(notification).collect();
    notifications.extend(report.not_considered.iter().map(not_considered_notification));
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
        .column_kind(json!("unicodeCodePoints"))
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

/// The notification descriptors: coverage gaps, and not-considered IaC resources when there are.
fn descriptors(report: &Report) -> Vec<ReportingDescriptor> {
    let mut out = vec![coverage_gap_descriptor()];
    if !report.not_considered.is_empty() {
        out.push(
            ReportingDescriptor::builder()
                .id(NOT_CONSIDERED_ID)
                .name("NotConsidered")
                .short_description(text("A resource of the change topoguard does not model"))
                .full_description(text(
                    "The template or plan holds a resource of a type topoguard does not model; \
                     no check saw it.",
                ))
                .build(),
        );
    }
    out
}

/// A not-considered IaC resource, located at its template or plan line.
fn not_considered_notification(n: &crate::iac::NotConsidered) -> Notification {
    let int = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(artifact_uri(&n.location.file)).build())
        .region(
            Region::builder()
                .start_line(int(n.location.line))
                .start_column(int(n.location.column))
                .build(),
        )
        .build();
    let logical = LogicalLocation::builder()
        .fully_qualified_name(&n.location.resource)
        .kind("resource")
        .build();
    let mut values = BTreeMap::new();
    values.insert("resource_type".to_string(), json!(n.resource_type));
    Notification::builder()
        .level(json!("note"))
        .message(Message::builder().text(n.line()).build())
        .locations(vec![
            Location::builder()
                .physical_location(physical)
                .logical_locations(vec![logical])
                .build(),
        ])
        .descriptor(
            ReportingDescriptorReference::builder()
                .id(NOT_CONSIDERED_ID)
                .index(1)
                .build(),
        )
        .properties(properties(None, values))
        .build()
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

/// FNV-1a, 64 bits.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Hex fingerprint of the facts of a finding: check, resource, sorted applications and the
/// sorted evidence endpoints (relation, from, to). Messages, titles, remediation and evidence
/// details are wording and stay out, so editing them keeps every alert. Template-location
/// evidence (`template` steps) stays out too: a line moving in a template is not a new finding,
/// and `topoguard diff` matches findings with and without a template by this fingerprint. Parts
/// are separated by 0xff and steps by 0xfe, bytes that never occur in UTF-8.
pub fn fingerprint(finding: &Finding) -> String {
    let mut applications: Vec<&str> = finding.applications.iter().map(String::as_str).collect();
    applications.sort_unstable();
    let mut steps: Vec<(&str, &str, &str)> = finding
        .evidence
        .iter()
        .filter(|e| e.relation != crate::iac::TEMPLATE_RELATION)
        .map(|e| (e.relation.as_str(), e.from.as_str(), e.to.as_deref().unwrap_or("")))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let mut input = Vec::new();
    for part in [finding.check.as_str(), finding.resource.as_str()]
        .into_iter()
        .chain(applications)
    {
        input.extend_from_slice(part.as_bytes());
        input.push(0xff);
    }
    for (relation, from, to) in steps {
        for part in [relation, from, to] {
            input.extend_from_slice(part.as_bytes());
            input.push(0xff);
        }
        input.push(0xfe);
    }
    format!("{:016x}", fnv1a64(&input))
}

/// A SARIF integer from a position or length in the snapshot text.
#[expect(
    clippy::expect_used,
    reason = "positions index a `String`, whose length is at most `isize::MAX`, which fits in an `i64`"
)]
fn sarif_int(n: usize) -> i64 {
    i64::try_from(n).expect("a text position fits in an i64")
}

fn region(span: Option<Span>) -> Region {
    let int = sarif_int;
    match span {
        Some(s) => Region::builder()
            .start_line(int(s.start_line))
            .start_column(int(s.start_column))
            .end_line(int(s.end_line))
            .end_column(int(s.end_column))
            .byte_offset(int(s.byte_offset))
            .byte_length(int(s.byte_length))
            .build(),
        // Not defined in the snapshot (a wildcard principal, a config entry): the file's start.
        None => Region::builder().start_line(1).build(),
    }
}

/// A location in the snapshot: the object that defines `id` (or the file's start) and `id` as
/// the logical location.
/// A resource that an IaC change defines is located at its logical id / address in the template.
fn location(context: &Context<'_>, id: &str, message: Option<String>) -> Location {
    let physical = match context.sources.get(id) {
        Some(src) => {
            let int = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(artifact_uri(&src.file)).build())
                .region(
                    Region::builder()
                        .start_line(int(src.line))
                        .start_column(int(src.column))
                        .build(),
                )
                .build()
        }
        None => PhysicalLocation::builder()
            .artifact_location(ArtifactLocation::builder().uri(&context.uri).build())
            .region(region(context.index.get(id)))
            .build(),
    };
    let logical = LogicalLocation::builder()
        .fully_qualified_name(id)
        .kind("resource")
        .build();
    let builder = Location::builder()
        .physical_location(physical)
        .logical_locations(vec![logical]);
    match message {
        Some(text) => builder.message(Message::builder().text(text).build()).build(),
        None => builder.build(),
    }
}

/// The evidence chain as one thread flow: each step at the object of its `from` end, with the
/// relation and detail as its message, and a last step at the `to` end of the last relation.
fn code_flow(context: &Context<'_>, evidence: &[Evidence]) -> Option<CodeFlow> {
    let mut steps: Vec<ThreadFlowLocation> = evidence
        .iter()
        .map(|e| {
            let to = e.to.as_deref().map(|t| format!(" -> {t}")).unwrap_or_default();
            let text = format!("{}: {}{to} ({})", e.relation, e.from, e.detail);
            let located = location(context, &e.from, Some(text));
            ThreadFlowLocation::builder().location(located).build()
        })
        .collect();
    let last = evidence.last()?;
    if let Some(to) = &last.to {
        let located = location(context, to, Some(format!("{}: {to}", last.relation)));
        steps.push(ThreadFlowLocation::builder().location(located).build());
    }
    let thread = ThreadFlow::builder().locations(steps).build();
    Some(CodeFlow::builder().thread_flows(vec![thread]).build())
}

/// A finding's place in a file other than the snapshot (a config entry): that file, the
/// entry's region, and the finding's resource as the logical location.
fn file_location(at: &FileLocation, id: &str) -> Location {
    let physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(artifact_uri(&at.file)).build())
        .region(region(Some(at.span)))
        .build();
    let logical = LogicalLocation::builder()
        .fully_qualified_name(id)
        .kind("member")
        .build();
    Location::builder()
        .physical_location(physical)
        .logical_locations(vec![logical])
        .build()
}

/// The finding's primary location: a config entry when it has one; else its resource, or (when
/// the resource is not in the change) the first evidence endpoint that an IaC change defines, so
/// the pull request annotates the line that causes it.
fn result(context: &Context<'_>, finding: &Finding) -> SarifResult {
    let location = match &finding.location {
        Some(at) => file_location(at, &finding.resource),
        None => {
            let primary = std::iter::once(finding.resource.as_str())
                .chain(
                    finding
                        .evidence
                        .iter()
                        .flat_map(|e| std::iter::once(e.from.as_str()).chain(e.to.as_deref())),
                )
                .find(|id| context.sources.contains_key(*id))
                .unwrap_or(&finding.resource);
            location(context, primary, None)
        }
    };
    let prefix = match finding.status {
        Status::Violation => "",
        Status::Conditional => "Conditional: ",
        Status::NotProven => "Not proven: ",
    };
    let message = format!("{prefix}{}\nRemediation: {}", finding.message, finding.remediation);
    let mut values = BTreeMap::new();
    values.insert("status".to_string(), json!(status_str(finding.status)));
    values.insert("conditional".to_string(), json!(finding.status == Status::Conditional));
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
    let flows: Vec<CodeFlow> = code_flow(context, &finding.evidence).into_iter().collect();
    match (context.rules.get(finding.check.as_str()), flows.is_empty()) {
        (Some(index), false) => builder.rule_index(*index).code_flows(flows).build(),
        (Some(index), true) => builder.rule_index(*index).build(),
        (None, false) => builder.code_flows(flows).build(),
        (None, true) => builder.build(),
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
