//! Renderers of `topoguard diff`: human, json, markdown (a pull-request comment) and sarif (the
//! new findings only, so code scanning annotates what the change introduces).

use super::{Format, RenderOptions, Report, render as render_report};
use crate::escape::{markdown_code, markdown_text, terminal};
use crate::finding::Finding;
use crate::iac::diff::{EdgeChange, FindingDiff, TopologyDiff};
use crate::iac::{NotConsidered, TEMPLATE_RELATION, Unknown, not_considered_lines};
use serde_json::json;
use std::io::{self, Write};

/// Output formats of `topoguard diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    Markdown,
    Sarif,
}

/// Everything `diff` reports.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub findings: FindingDiff,
    pub topology: TopologyDiff,
    pub not_considered: Vec<NotConsidered>,
    pub unknowns: Vec<Unknown>,
    /// The new findings as a check report (for SARIF).
    pub sarif: Report,
    /// Whether the change introduces a finding at or above `--fail-on`.
    pub failing: bool,
}

pub fn render(report: &DiffReport, format: DiffFormat, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match format {
        DiffFormat::Human => human(report, out),
        DiffFormat::Json => json_doc(report, out),
        DiffFormat::Markdown => markdown(report, out),
        DiffFormat::Sarif => render_report(&report.sarif, Format::Sarif, options, out),
    }
}

/// Where a finding's template location is, if an IaC change caused it.
fn template_of(f: &Finding) -> Option<&str> {
    f.evidence
        .iter()
        .find(|e| e.relation == TEMPLATE_RELATION)
        .map(|e| e.detail.as_str())
}

fn edge_note(e: &EdgeChange) -> String {
    let mut notes = Vec::new();
    if e.cross_account {
        notes.push("cross-account");
    }
    if e.cross_zone {
        notes.push("cross-zone");
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

fn summary_line(r: &DiffReport) -> String {
    let t = &r.topology;
    format!(
        "{} new, {} resolved, {} unchanged findings; nodes +{} -{} ~{}; edges +{} -{}",
        r.findings.new.len(),
        r.findings.resolved.len(),
        r.findings.unchanged.len(),
        t.added_nodes.len(),
        t.removed_nodes.len(),
        t.changed_nodes.len(),
        t.added_edges.len(),
        t.removed_edges.len()
    )
}

fn human(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "topoguard diff: {}", summary_line(r))?;
    for (title, list) in [
        ("New findings", &r.findings.new),
        ("Resolved findings", &r.findings.resolved),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:")?;
        for f in list {
            writeln!(
                out,
                "  {} [{}] {} {}: {}",
                f.severity,
                f.status,
                f.check,
                terminal(&f.resource),
                terminal(&f.message)
            )?;
            if let Some(src) = template_of(f) {
                writeln!(out, "      at {}", terminal(src))?;
            }
        }
    }
    let t = &r.topology;
    if !t.is_empty() {
        writeln!(out, "\nTopology changes:")?;
        for (sign, list) in [("+", &t.added_nodes), ("-", &t.removed_nodes), ("~", &t.changed_nodes)] {
            for n in list {
                writeln!(out, "  {sign} {} {}", n.kind, terminal(&n.id))?;
            }
        }
        for (sign, list) in [("+", &t.added_edges), ("-", &t.removed_edges)] {
            for e in list {
                writeln!(
                    out,
                    "  {sign} {} -[{}]-> {}{}",
                    terminal(&e.from),
                    e.relation,
                    terminal(&e.to),
                    edge_note(e)
                )?;
            }
        }
    }
    if !r.unknowns.is_empty() {
        writeln!(out, "\nKnown only after apply (affected checks are not proven):")?;
        for u in &r.unknowns {
            writeln!(out, "  {}: {}", terminal(&u.location.to_string()), terminal(&u.field))?;
        }
    }
    if !r.not_considered.is_empty() {
        writeln!(out, "\nNot considered:")?;
        for line in not_considered_lines(&r.not_considered) {
            writeln!(out, "  {}", terminal(&line))?;
        }
    }
    writeln!(
        out,
        "\n{}",
        if r.failing {
            "FAIL: the change introduces findings at or above --fail-on"
        } else {
            "OK: the change introduces no finding at or above --fail-on"
        }
    )
}

fn json_doc(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let with_fp = |list: &[Finding]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|f| {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("fingerprint".into(), json!(super::fingerprint(f)));
                }
                v
            })
            .collect()
    };
    let doc = json!({
        "summary": {
            "new": r.findings.new.len(),
            "resolved": r.findings.resolved.len(),
            "unchanged": r.findings.unchanged.len(),
            "failing": r.failing,
        },
        "new": with_fp(&r.findings.new),
        "resolved": with_fp(&r.findings.resolved),
        "unchanged": with_fp(&r.findings.unchanged),
        "topology": r.topology,
        "unknown": r.unknowns,
        "not_considered": r.not_considered,
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

fn markdown_findings(title: &str, list: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n### {title}\n")?;
    writeln!(out, "| Severity | Status | Check | Resource | Where | Message |")?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
    for f in list {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            f.severity,
            f.status,
            markdown_code(&f.check),
            markdown_code(&f.resource),
            template_of(f).map(markdown_code).unwrap_or_default(),
            markdown_text(&f.message)
        )?;
    }
    Ok(())
}

fn markdown(r: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let verdict = if r.failing {
        ":x: the change introduces findings at or above `--fail-on`"
    } else {
        ":white_check_mark: the change introduces no finding at or above `--fail-on`"
    };
    writeln!(
        out,
        "## topoguard diff\n\n{verdict}\n\n{}",
        markdown_text(&summary_line(r))
    )?;
    markdown_findings("New findings", &r.findings.new, out)?;
    markdown_findings("Resolved findings", &r.findings.resolved, out)?;
    let t = &r.topology;
    if !t.is_empty() {
        writeln!(out, "\n<details><summary>Topology changes</summary>\n")?;
        for (sign, list) in [
            ("added", &t.added_nodes),
            ("removed", &t.removed_nodes),
            ("changed", &t.changed_nodes),
        ] {
            for n in list {
                writeln!(out, "- {sign} {} {}", n.kind, markdown_code(&n.id))?;
            }
        }
        for (sign, list) in [("added", &t.added_edges), ("removed", &t.removed_edges)] {
            for e in list {
                writeln!(
                    out,
                    "- {sign} edge {} → {} ({}){}",
                    markdown_code(&e.from),
                    markdown_code(&e.to),
                    e.relation,
                    edge_note(e)
                )?;
            }
        }
        writeln!(out, "\n</details>")?;
    }
    if !r.unknowns.is_empty() {
        writeln!(out, "\n**Known only after apply** (affected checks are not proven):\n")?;
        for u in &r.unknowns {
            writeln!(
                out,
                "- {} {}",
                markdown_code(&u.location.to_string()),
                markdown_code(&u.field)
            )?;
        }
    }
    if !r.not_considered.is_empty() {
        writeln!(out, "\n<details><summary>Not considered</summary>\n")?;
        for line in not_considered_lines(&r.not_considered) {
            writeln!(out, "- {}", markdown_text(&line))?;
        }
        writeln!(out, "\n</details>")?;
    }
    Ok(())
}
