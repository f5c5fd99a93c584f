//! The `human` format: a terminal report grouped by severity (critical first), then by
//! application, with evidence and remediation for every finding, a summary line and the coverage
//! gaps. Colour (ANSI, via `anstyle`) only when [`RenderOptions::color`] is set.
//!
//! Every string from the snapshot or config is printed through [`terminal`]: control and bidi
//! characters, line breaks included, are shown as `\u{…}`, so data can neither drive the
//! terminal nor start a line that looks like one of the report's own.

use super::{RenderOptions, Report, application_group, application_group_order, gap_line, plural, total_violations};
use crate::escape::terminal;
use crate::finding::{Finding, Severity, Status};
use anstyle::{AnsiColor, Style};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Applies styles only when colour is on.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => AnsiColor::Red.on_default().bold(),
        Severity::High => AnsiColor::Red.on_default(),
        Severity::Medium => AnsiColor::Yellow.on_default(),
        Severity::Low => AnsiColor::Cyan.on_default(),
        Severity::Info => AnsiColor::Blue.on_default(),
    }
}

fn bold() -> Style {
    Style::new().bold()
}

fn dim() -> Style {
    Style::new().dimmed()
}

fn not_proven_style() -> Style {
    AnsiColor::Magenta.on_default().bold()
}

fn ok_style() -> Style {
    AnsiColor::Green.on_default().bold()
}

/// Renders the human report.
pub(super) fn render(report: &Report, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color: options.color };
    write_headline(report, &p, out)?;
    for severity in Severity::ALL {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.severity == severity).collect();
        if findings.is_empty() {
            continue;
        }
        writeln!(out)?;
        let heading = format!(
            "{} ({})",
            severity.as_str().to_uppercase(),
            plural(findings.len(), "finding", "findings")
        );
        writeln!(out, "{}", p.paint(severity_style(severity).bold(), &heading))?;
        let mut groups: BTreeMap<(bool, String), Vec<&Finding>> = BTreeMap::new();
        for finding in findings {
            let group = application_group(&finding.applications);
            let (last, _) = application_group_order(&group);
            groups.entry((last, group)).or_default().push(finding);
        }
        for ((_, group), findings) in &groups {
            writeln!(out, "  {}", p.paint(bold(), &terminal(group)))?;
            for finding in findings {
                write_finding(finding, &p, out)?;
            }
        }
    }
    writeln!(out)?;
    write_summary(report, &p, out)?;
    write_coverage(report, &p, out)?;
    write_not_considered(report, &p, out)
}

fn write_headline(report: &Report, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    let violations = total_violations(report);
    let not_proven = report.summary.not_proven;
    let checks = plural(report.summary.checks_run, "check", "checks");
    if report.findings.is_empty() {
        let verdict = if report.coverage.is_empty() {
            format!("no findings: every guardrail holds ({checks} run)")
        } else {
            format!("no findings ({checks} run), but coverage is incomplete: see the gaps below")
        };
        return writeln!(
            out,
            "topoguard: {}: {}",
            terminal(&report.topology_path),
            p.paint(ok_style(), &verdict)
        );
    }
    let mut parts = vec![plural(violations, "violation", "violations")];
    if report.summary.conditional > 0 {
        parts.push(format!("{} conditional", report.summary.conditional));
    }
    if not_proven > 0 {
        parts.push(format!("{not_proven} not proven"));
    }
    writeln!(
        out,
        "topoguard: {}: {} ({checks} run)",
        terminal(&report.topology_path),
        p.paint(bold(), &parts.join(", "))
    )
}

fn write_finding(finding: &Finding, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    let severity = p.paint(severity_style(finding.severity), &format!("[{}]", finding.severity));
    let status = match finding.status {
        Status::Violation => p.paint(bold(), "violation"),
        Status::Conditional => p.paint(not_proven_style(), "CONDITIONAL"),
        Status::NotProven => p.paint(not_proven_style(), "NOT PROVEN"),
    };
    let check = p.paint(bold(), &terminal(&finding.check));
    writeln!(out, "    {severity} {status}  {check}: {}", terminal(&finding.title))?;
    writeln!(out, "      {}", terminal(&finding.message))?;
    let resource = terminal(&finding.resource);
    writeln!(out, "      {} {resource}", p.paint(dim(), "resource:"))?;
    if let Some(at) = &finding.location {
        writeln!(out, "      {} {}", p.paint(dim(), "at:"), terminal(&at.to_string()))?;
    }
    let mut place = Vec::new();
    if let Some(account) = &finding.account {
        place.push(format!("{} {}", p.paint(dim(), "account:"), terminal(account)));
    }
    if let Some(region) = &finding.region {
        place.push(format!("{} {}", p.paint(dim(), "region:"), terminal(region)));
    }
    if !place.is_empty() {
        writeln!(out, "      {}", place.join("  "))?;
    }
    if !finding.conditions.is_empty() {
        let keys: Vec<_> = finding.conditions.iter().map(|k| terminal(k)).collect();
        writeln!(out, "      {} {}", p.paint(dim(), "only if:"), keys.join(", "))?;
    }
    if !finding.evidence.is_empty() {
        writeln!(out, "      {}", p.paint(dim(), "evidence:"))?;
        for step in &finding.evidence {
            let to = step
                .to
                .as_deref()
                .map(|t| format!(" -> {}", terminal(t)))
                .unwrap_or_default();
            writeln!(
                out,
                "        {}: {}{to} ({})",
                terminal(&step.relation),
                terminal(&step.from),
                terminal(&step.detail)
            )?;
        }
    }
    let remediation = terminal(&finding.remediation);
    writeln!(out, "      {} {remediation}", p.paint(dim(), "remediation:"))
}

fn write_summary(report: &Report, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            let n = s.violations.get(sev).copied().unwrap_or(0);
            let text = format!("{n} {sev}");
            if n > 0 {
                p.paint(severity_style(*sev), &text)
            } else {
                text
            }
        })
        .collect();
    writeln!(
        out,
        "{} {}; {} conditional; {} not proven; {} ignored; {} run",
        p.paint(bold(), "summary:"),
        counts.join(", "),
        s.conditional,
        s.not_proven,
        s.ignored,
        plural(s.checks_run, "check", "checks")
    )
}

/// The IaC resources topoguard does not model (nothing without any).
fn write_not_considered(report: &Report, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    if report.not_considered.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{} {} of the change (no check saw them)",
        p.paint(bold(), "not considered:"),
        plural(report.not_considered.len(), "resource", "resources")
    )?;
    for n in &report.not_considered {
        writeln!(out, "  {}", terminal(&n.line()))?;
    }
    Ok(())
}

fn write_coverage(report: &Report, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    if report.coverage.is_empty() {
        return writeln!(out, "{} complete", p.paint(bold(), "coverage:"));
    }
    writeln!(
        out,
        "{} {} (checks that needed these APIs report not proven)",
        p.paint(bold(), "coverage:"),
        p.paint(
            AnsiColor::Yellow.on_default(),
            &plural(report.coverage.len(), "gap", "gaps")
        )
    )?;
    for gap in &report.coverage {
        writeln!(out, "  {}", terminal(&gap_line(gap)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::NO_APPLICATION;
    use crate::output::tests::sample_report;

    fn render_to_string(report: &Report, color: bool) -> String {
        let mut out = Vec::new();
        render(report, RenderOptions { color }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn human_plain_has_no_escape_codes() {
        let text = render_to_string(&sample_report(), false);
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("NOT PROVEN"));
        assert!(text.contains("checkout+invoice"));
        assert!(text.contains(NO_APPLICATION));
    }

    #[test]
    fn human_neutralises_control_characters() {
        let mut report = sample_report();
        for finding in &mut report.findings {
            finding.resource.push_str("\u{1b}[2J\u{202e}");
            finding.applications.push("app\u{7}\nx".to_string());
            finding.message.push_str("\r\u{9b}31m");
        }
        report.coverage[0].message.push_str("\n\u{1b}]0;pwned\u{7}");
        let text = render_to_string(&report, false);
        assert!(
            !text.chars().any(|c| crate::escape::is_hidden(c) && c != '\n'),
            "{text}"
        );
        assert!(text.contains("\\u{1b}[2J\\u{202e}"), "{text}");
        // The gap line stays one line.
        assert!(
            text.contains("lambda:ListFunctions\\u{a}\\u{1b}]0;pwned\\u{7}"),
            "{text}"
        );
    }

    #[test]
    fn human_color_uses_escape_codes() {
        let text = render_to_string(&sample_report(), true);
        assert!(text.contains("\u{1b}["));
    }
}
