//! Renderers: every output goes through an injected writer, and every list is sorted so that the
//! same input gives byte-identical output.
//!
//! One file per format ([`Format`]); this module dispatches and holds the few labels that several
//! formats share, so that they all name applications and coverage gaps the same way.

pub mod diff;
pub mod html;
mod human;
mod json;
mod junit;
pub mod locations;
mod markdown;
mod report;
mod sarif;
#[cfg(test)]
mod tests;

pub use report::{CheckInfo, Report, Summary};
pub use sarif::fingerprint;

use crate::finding::Status;
use crate::model::CoverageGap;
use std::io::Write;

/// Output formats of `topoguard check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Markdown,
    /// One self-contained HTML page (needs the topology: see [`html::check`]).
    Html,
}

/// Options that only some renderers use.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Colour (human format only).
    pub color: bool,
}

/// Renders a report in `format` to `out`.
pub fn render(report: &Report, format: Format, options: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Human => human::render(report, options, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Markdown => markdown::render(report, out),
        // The page draws the applications' graphs, so `check` renders it with the topology.
        Format::Html => Err(std::io::Error::other(
            "the HTML report needs the topology; render it with `output::html::check`",
        )),
    }
}

/// The group name of findings that concern no application.
pub(crate) const NO_APPLICATION: &str = "(no application)";

/// The name findings are grouped under: the applications joined with `+`, or
/// [`NO_APPLICATION`].
pub(crate) fn application_group(applications: &[String]) -> String {
    if applications.is_empty() {
        NO_APPLICATION.to_string()
    } else {
        applications.join("+")
    }
}

/// Orders application groups by name, with [`NO_APPLICATION`] last.
pub(crate) fn application_group_order(group: &str) -> (bool, &str) {
    (group == NO_APPLICATION, group)
}

/// The kebab-case status as it appears in JSON and SARIF properties.
pub(crate) fn status_str(status: Status) -> &'static str {
    status.as_str()
}

/// Where a coverage gap applies, e.g. `account 111122223333, region eu-west-1`.
pub(crate) fn gap_scope(gap: &CoverageGap) -> String {
    let account = gap
        .account
        .as_deref()
        .map_or_else(|| "organization-wide".to_string(), |a| format!("account {a}"));
    let region = gap
        .region
        .as_deref()
        .map_or_else(|| "all regions".to_string(), |r| format!("region {r}"));
    format!("{account}, {region}")
}

/// One line describing a coverage gap: scope, API, error code and message.
pub(crate) fn gap_line(gap: &CoverageGap) -> String {
    let mut line = format!("{}: {} failed with {}", gap_scope(gap), gap.api, gap.error_code);
    if !gap.message.is_empty() {
        line.push_str(": ");
        line.push_str(&gap.message);
    }
    line
}

/// Total number of violations over every severity.
pub(crate) fn total_violations(report: &Report) -> usize {
    report.summary.violations.values().sum()
}

/// `1 finding` / `2 findings`.
pub(crate) fn plural(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("{count} {singular}")
    } else {
        format!("{count} {plural}")
    }
}
