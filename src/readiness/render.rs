//! Renderers of readiness scores: human (terminal), JSON and Markdown. Every name from the
//! snapshot or config goes through the sink's escaper in [`crate::escape`]. The HTML report is
//! in [`crate::output::html`].

use super::{AppReadiness, State};
use crate::escape::{markdown_code, markdown_code_inline, markdown_text, terminal};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct JsonReport<'a> {
    applications: &'a [AppReadiness],
}

/// Pretty JSON with a trailing newline.
pub fn json(apps: &[AppReadiness], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonReport { applications: apps })?;
    writeln!(out)
}

fn mark(state: State) -> &'static str {
    match state {
        State::Met => "ok",
        State::Missing => "MISSING",
        State::NotProven => "NOT PROVEN",
    }
}

/// One block per application: score, then each component with its criteria and what is
/// outstanding.
pub fn human(apps: &[AppReadiness], out: &mut dyn Write) -> io::Result<()> {
    for (i, app) in apps.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let owner = app
            .owner
            .as_deref()
            .map(|o| format!(" (owner {})", terminal(o)))
            .unwrap_or_default();
        writeln!(
            out,
            "{}{owner}: readiness {}% ({}/{} points)",
            terminal(&app.application),
            app.score,
            app.points,
            app.possible
        )?;
        for c in &app.components {
            writeln!(out, "  {:<16} {:>3}/{:<3}", c.title, c.points, c.possible)?;
            if c.criteria.is_empty() {
                writeln!(out, "    (nothing to check: full points)")?;
            }
            for cr in &c.criteria {
                writeln!(out, "    [{}] {}", mark(cr.state), cr.title)?;
                for o in &cr.outstanding {
                    let check = o.check.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
                    writeln!(
                        out,
                        "        - {}: {}: {}{check}",
                        o.state.as_str(),
                        terminal(&o.subject),
                        terminal(&o.detail)
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// A summary table of every application, then a section per application.
pub fn markdown(apps: &[AppReadiness], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Readiness\n")?;
    let Some(first) = apps.first() else {
        return writeln!(out, "No application is configured.");
    };
    write!(out, "| Application | Score |")?;
    for c in &first.components {
        write!(out, " {} |", c.title)?;
    }
    writeln!(out)?;
    writeln!(out, "|---|---:|{}", "---:|".repeat(first.components.len()))?;
    for app in apps {
        write!(out, "| {} | {}% |", markdown_code(&app.application), app.score)?;
        for c in &app.components {
            write!(out, " {}/{} |", c.points, c.possible)?;
        }
        writeln!(out)?;
    }
    for app in apps {
        section(app, out)?;
    }
    Ok(())
}

fn section(app: &AppReadiness, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n## {}: {}%\n", markdown_text(&app.application), app.score)?;
    if let Some(owner) = &app.owner {
        writeln!(out, "Owner: {}\n", markdown_text(owner))?;
    }
    for c in &app.components {
        writeln!(out, "### {} ({}/{})\n", c.title, c.points, c.possible)?;
        if c.criteria.is_empty() {
            writeln!(out, "Nothing to check: full points.\n")?;
            continue;
        }
        for cr in &c.criteria {
            writeln!(out, "- **{}** — {}", mark(cr.state), cr.title)?;
            for o in &cr.outstanding {
                let check = o
                    .check
                    .as_deref()
                    .map(|c| format!(" ({})", markdown_code_inline(c)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  - {}: {}: {}{check}",
                    o.state.as_str(),
                    markdown_code_inline(&o.subject),
                    markdown_text(&o.detail)
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}
