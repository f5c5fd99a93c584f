//! The self-contained HTML report of `check` and `readiness`: one file with inline CSS, inline
//! SVG and a small inline script for the filters (severity, application, check) — no network
//! fetch, no server. The page is an `askama` template (`templates/report.html`), checked at
//! compile time; askama HTML-escapes every value, in text and in attributes, so snapshot names
//! stay inert. Each application's dependency graph is the shared drawing layout
//! ([`crate::graph::export::layout`], placed by [`crate::graph::export::svg`]) drawn as SVG by
//! the same template.

use crate::finding::{Finding, Severity};
use crate::graph::{AppId, Topology};
use crate::readiness::{AppReadiness, State};
use askama::Template;
use std::collections::BTreeSet;
use std::io::{self, Write};

pub use crate::graph::export::svg::{Svg, SvgEdge, SvgFrame, SvgNode, SvgText};

/// Lays out an application's drawing: the same [`crate::graph::export::layout::View`] as
/// `graph --format dot|mermaid --app` (zone / account / region frames, alike functions
/// collapsed, the node budget, crossings marked), with the findings of this application marked.
pub fn layout(t: &Topology<'_>, app: AppId, findings: &[Finding]) -> Svg {
    let name = t.app_name(app);
    let own: Vec<Finding> = findings
        .iter()
        .filter(|f| f.applications.iter().any(|a| a == name))
        .cloned()
        .collect();
    crate::graph::export::svg::layout(&crate::graph::export::app_view(t, app, &own))
}

struct CompView {
    title: &'static str,
    points: u32,
    possible: u32,
    outstanding: Vec<String>,
}

struct AppView {
    name: String,
    owner: String,
    score: Option<u32>,
    components: Vec<CompView>,
    graph: Svg,
}

struct FindingView<'a> {
    severity: &'static str,
    status: &'static str,
    check: &'a str,
    title: &'a str,
    resource: &'a str,
    message: &'a str,
    /// Space-separated, with a space at both ends (names never hold spaces).
    apps: String,
    apps_shown: String,
    evidence: Vec<String>,
    remediation: &'a str,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: &'a str,
    source: &'a str,
    apps: Vec<AppView>,
    findings: Vec<FindingView<'a>>,
    severities: Vec<&'static str>,
    checks: Vec<&'a str>,
    app_names: Vec<String>,
}

fn finding_view(f: &Finding) -> FindingView<'_> {
    let apps = if f.applications.is_empty() {
        vec![super::NO_APPLICATION.to_string()]
    } else {
        f.applications.clone()
    };
    FindingView {
        severity: f.severity.as_str(),
        status: f.status.as_str(),
        check: &f.check,
        title: &f.title,
        resource: &f.resource,
        message: &f.message,
        apps: format!(" {} ", apps.join(" ")),
        apps_shown: apps.join(", "),
        evidence: f
            .evidence
            .iter()
            .map(|e| match &e.to {
                Some(to) => format!("{} —{}→ {}: {}", e.from, e.relation, to, e.detail),
                None => format!("{} ({}): {}", e.from, e.relation, e.detail),
            })
            .collect(),
        remediation: &f.remediation,
    }
}

fn app_view(t: &Topology<'_>, app: AppId, findings: &[Finding], score: Option<&AppReadiness>) -> AppView {
    let name = t.app_name(app);
    AppView {
        name: name.to_string(),
        owner: t
            .config
            .application(name)
            .and_then(|a| a.owner.clone())
            .unwrap_or_default(),
        score: score.map(|s| s.score),
        components: score
            .map(|s| {
                s.components
                    .iter()
                    .map(|c| CompView {
                        title: c.title,
                        points: c.points,
                        possible: c.possible,
                        outstanding: c
                            .outstanding()
                            .filter(|(_, o)| o.state != State::Met)
                            .map(|(cr, o)| format!("{} — {}: {}: {}", cr.id, o.state.as_str(), o.subject, o.detail))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        graph: layout(t, app, findings),
    }
}

fn render_page(
    t: &Topology<'_>,
    title: &str,
    source: &str,
    apps: &[AppId],
    scores: &[AppReadiness],
    findings: &[Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let checks: BTreeSet<&str> = sorted.iter().map(|f| f.check.as_str()).collect();
    let mut app_names: BTreeSet<String> = apps.iter().map(|a| t.app_name(*a).to_string()).collect();
    if sorted.iter().any(|f| f.applications.is_empty()) {
        app_names.insert(super::NO_APPLICATION.to_string());
    }
    let page = Page {
        title,
        source,
        apps: apps
            .iter()
            .map(|&a| {
                let score = scores.iter().find(|s| s.application == t.app_name(a));
                app_view(t, a, findings, score)
            })
            .collect(),
        findings: sorted.into_iter().map(finding_view).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        checks: checks.into_iter().collect(),
        app_names: app_names.into_iter().collect(),
    };
    let html = page.render().map_err(io::Error::other)?;
    out.write_all(html.as_bytes())
}

/// The readiness report: a score card and graph per application, then the findings.
pub fn readiness(
    t: &Topology<'_>,
    scores: &[AppReadiness],
    findings: &[Finding],
    source: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let apps: Vec<AppId> = scores.iter().filter_map(|s| t.app_id(&s.application)).collect();
    render_page(t, "topoguard readiness", source, &apps, scores, findings, out)
}

/// The check report: a graph per configured application, then the findings.
pub fn check(t: &Topology<'_>, findings: &[Finding], source: &str, out: &mut dyn Write) -> io::Result<()> {
    let apps: Vec<AppId> = (0..t.applications.len()).collect();
    render_page(t, "topoguard check", source, &apps, &[], findings, out)
}

#[cfg(test)]
mod tests;
