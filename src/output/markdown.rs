//! The `markdown` format: GitHub-flavoured Markdown for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: a verdict, a count table, the violations by severity with evidence
//! and remediation folded into `<details>`, the not-proven findings, and the coverage gaps.
//!
//! Every value that comes from the snapshot or the config goes through the Markdown sink functions
//! of [`crate::escape`]: a `|` or a newline cannot break a table, a blank line cannot end the
//! `<details>` block, no HTML, link, image or `@mention` comes from data.

use super::{Report, application_group, gap_scope, plural, total_violations};
use crate::escape::{
    markdown_code as cell_code, markdown_code_inline as code, markdown_html as html, markdown_text as escape,
};
use crate::finding::{Finding, Severity, Status};
use std::io::{self, Write};

/// Renders the Markdown document.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## topoguard guardrail report")?;
    writeln!(out)?;
    writeln!(out, "{}", verdict(report))?;
    writeln!(out)?;
    write_summary_table(report, out)?;
    for severity in Severity::ALL {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.status == Status::Violation && f.severity == severity)
            .collect();
        if !findings.is_empty() {
            let title = capitalize(severity.as_str());
            write_findings(&format!("{title} ({})", findings.len()), &findings, out)?;
        }
    }
    let conditional: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Conditional)
        .collect();
    if !conditional.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Conditional ({})", conditional.len())?;
        writeln!(out)?;
        writeln!(
            out,
            "Access that exists only if condition keys hold whose values the snapshot cannot know; each names the keys."
        )?;
        write_findings_body(&conditional, out)?;
    }
    let not_proven: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::NotProven)
        .collect();
    if !not_proven.is_empty() {
        let title = format!("Not proven ({})", not_proven.len());
        writeln!(out)?;
        writeln!(out, "### {title}")?;
        writeln!(out)?;
        writeln!(
            out,
            "The crawl did not see enough to decide these; they are neither violations nor passes."
        )?;
        write_findings_body(&not_proven, out)?;
    }
    write_coverage(report, out)?;
    write_not_considered(report, out)
}

fn verdict(report: &Report) -> String {
    let violations = total_violations(report);
    let s = &report.summary;
    let checks = plural(s.checks_run, "check", "checks");
    let path = code(&report.topology_path);
    let coverage = if report.coverage.is_empty() {
        "coverage complete".to_string()
    } else {
        plural(report.coverage.len(), "coverage gap", "coverage gaps")
    };
    let mut undecided = Vec::new();
    if s.conditional > 0 {
        undecided.push(format!("{} conditional", s.conditional));
    }
    if s.not_proven > 0 {
        undecided.push(format!("{} not proven", s.not_proven));
    }
    let undecided = undecided.join(", ");
    if violations > 0 {
        let mut text = format!(
            "❌ **{}** in {path}",
            plural(violations, "guardrail violation", "guardrail violations")
        );
        if !undecided.is_empty() {
            text.push_str(&format!(", {undecided}"));
        }
        format!("{text} ({checks} run, {coverage}).")
    } else if !undecided.is_empty() {
        format!("⚠️ No guardrail violations in {path}, but {undecided} ({checks} run, {coverage}).")
    } else if !report.coverage.is_empty() {
        format!("⚠️ No guardrail violations in {path}, but coverage is incomplete ({checks} run, {coverage}).")
    } else {
        format!("✅ No guardrail violations in {path} ({checks} run, {coverage}).")
    }
}

fn write_summary_table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "| Severity | Count |")?;
    writeln!(out, "| --- | ---: |")?;
    for severity in Severity::ALL {
        let count = s.violations.get(&severity).copied().unwrap_or(0);
        writeln!(out, "| {severity} | {count} |")?;
    }
    writeln!(out, "| conditional | {} |", s.conditional)?;
    writeln!(out, "| not proven | {} |", s.not_proven)?;
    writeln!(out, "| ignored | {} |", s.ignored)?;
    writeln!(out, "| coverage gaps | {} |", s.coverage_gaps)
}

fn write_findings(title: &str, findings: &[&Finding], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "### {title}")?;
    write_findings_body(findings, out)
}

fn write_findings_body(findings: &[&Finding], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "| Check | Resource | Applications | Message |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in findings {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell_code(&f.check),
            cell_code(&f.resource),
            escape(&application_group(&f.applications)),
            escape(&f.message)
        )?;
    }
    for f in findings {
        writeln!(out)?;
        writeln!(
            out,
            "<details><summary>{} on {}: evidence and remediation</summary>",
            html(&f.check),
            html(&f.resource)
        )?;
        writeln!(out)?;
        let mut place = Vec::new();
        if let Some(account) = &f.account {
            place.push(format!("account {}", code(account)));
        }
        if let Some(region) = &f.region {
            place.push(format!("region {}", code(region)));
        }
        if !place.is_empty() {
            writeln!(out, "Location: {}", place.join(", "))?;
            writeln!(out)?;
        }
        if !f.conditions.is_empty() {
            let keys: Vec<String> = f.conditions.iter().map(|k| code(k)).collect();
            writeln!(out, "Only if these conditions hold: {}", keys.join(", "))?;
            writeln!(out)?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "Evidence:")?;
            writeln!(out)?;
            for step in &f.evidence {
                let to = step
                    .to
                    .as_deref()
                    .map(|t| format!(" → {}", code(t)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "- {}: {}{to} ({})",
                    escape(&step.relation),
                    code(&step.from),
                    escape(&step.detail)
                )?;
            }
            writeln!(out)?;
        }
        writeln!(out, "**Remediation:** {}", escape(&f.remediation))?;
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// The IaC resources topoguard does not model, one bullet each (nothing without any).
fn write_not_considered(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.not_considered.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "### Not considered")?;
    writeln!(out)?;
    writeln!(
        out,
        "The change holds resources topoguard does not model; no check saw them."
    )?;
    writeln!(out)?;
    for n in &report.not_considered {
        let at = &n.location;
        writeln!(
            out,
            "- {}:{}:{} {} ({}): {}",
            escape(&at.file),
            at.line,
            at.column,
            code(&at.resource),
            code(&n.resource_type),
            escape(&n.reason)
        )?;
    }
    Ok(())
}

fn write_coverage(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "### Coverage")?;
    writeln!(out)?;
    if report.coverage.is_empty() {
        return writeln!(out, "Coverage complete: the crawl read every API it needed.");
    }
    writeln!(
        out,
        "The crawl could not read the following; checks that needed them report not proven."
    )?;
    writeln!(out)?;
    for gap in &report.coverage {
        let mut line = format!(
            "- {}: {} failed with {}",
            escape(&gap_scope(gap)),
            code(&gap.api),
            code(&gap.error_code)
        );
        if !gap.message.is_empty() {
            line.push_str(&format!(": {}", escape(&gap.message)));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tests::sample_report;

    #[test]
    fn markdown_escapes_table_cells() {
        assert_eq!(escape("a|b\nc"), "a\\|b<br>c");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(html("<b>&"), "&#60;b&#62;&#38;");
    }

    #[test]
    fn markdown_tables_keep_their_columns() {
        let mut out = Vec::new();
        render(&sample_report(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let unescaped = line.replace("\\|", "");
            assert_eq!(unescaped.matches('|').count(), 5, "{line}");
        }
        assert!(text.contains("### Not proven (1)"));
        assert!(text.contains("### Coverage"));
    }
}
