//! The self-contained HTML report of `check` and `readiness`: one file with inline CSS, inline
//! SVG and a small inline script for the filters (severity, application, check) — no network
//! fetch, no server. The page is an `askama` template (`templates/report.html`), checked at
//! compile time; askama HTML-escapes every value, in text and in attributes, so snapshot names
//! stay inert. Each application's dependency graph is laid out here (layers by kind, left to
//! right) and drawn as SVG by the same template.

use crate::finding::{Finding, Severity};
use crate::graph::{AppId, NodeKind, Topology};
use crate::readiness::{AppReadiness, State, footprint_nodes};
use askama::Template;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Nodes per layer drawn before the rest are collapsed into one "+N more" node.
pub const LAYER_MAX: usize = 25;

const NODE_W: u32 = 230;
const NODE_H: u32 = 26;
const GAP_X: u32 = 70;
const GAP_Y: u32 = 12;
const MARGIN: u32 = 10;

/// A node box of the SVG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgNode {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label: String,
    /// Full id and notes, shown as the tooltip.
    pub tooltip: String,
    /// CSS class: the kind, plus `shared` / `finding`.
    pub class: String,
}

/// An edge between two node boxes (right middle of one to left middle of the other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgEdge {
    pub x1: u32,
    pub y1: u32,
    pub x2: u32,
    pub y2: u32,
    pub class: &'static str,
}

/// A laid-out graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svg {
    pub width: u32,
    pub height: u32,
    pub nodes: Vec<SvgNode>,
    pub edges: Vec<SvgEdge>,
}

/// The column of a kind: delivery flows left to right.
fn layer(kind: NodeKind) -> usize {
    match kind {
        NodeKind::EventBus => 0,
        NodeKind::Rule => 1,
        NodeKind::Function => 2,
        NodeKind::Role | NodeKind::User | NodeKind::Group | NodeKind::AgentSpace => 4,
        _ => 3,
    }
}

fn short(id: &str) -> &str {
    id.rsplit([':', '/']).next().filter(|s| !s.is_empty()).unwrap_or(id)
}

/// The short name, with the region when it has one (the same name recurs per region).
fn node_label(id: &str, region: Option<&str>) -> String {
    match region {
        Some(r) => format!("{} · {r}", short(id)),
        None => short(id).to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Lays out an application's footprint: one column per kind layer, nodes sorted by id, at most
/// [`LAYER_MAX`] per column (the rest become one node with a count); edges are the
/// dependencies of its rules and functions and bus → rule.
pub fn layout(t: &Topology<'_>, app: AppId, with_findings: &BTreeSet<&str>) -> Svg {
    let nodes = footprint_nodes(t, app);
    let mut columns: BTreeMap<usize, Vec<petgraph::graph::NodeIndex>> = BTreeMap::new();
    for ix in nodes {
        columns.entry(layer(t.node(ix).kind)).or_default().push(ix);
    }
    let mut svg = Svg::default();
    let mut placed: BTreeMap<petgraph::graph::NodeIndex, (u32, u32)> = BTreeMap::new();
    for (col, (_, ixs)) in columns.iter().enumerate() {
        let x = MARGIN + u32::try_from(col).unwrap_or(0) * (NODE_W + GAP_X);
        for (row, ix) in ixs.iter().take(LAYER_MAX).enumerate() {
            let y = MARGIN + u32::try_from(row).unwrap_or(0) * (NODE_H + GAP_Y);
            let n = t.node(*ix);
            let mut class = n.kind.as_str().to_string();
            let mut tooltip = n.id.to_string();
            if t.is_shared(*ix) {
                class.push_str(" shared");
                tooltip.push_str(" (shared)");
            }
            if with_findings.contains(n.id) {
                class.push_str(" finding");
                tooltip.push_str(" (has findings)");
            }
            svg.nodes.push(SvgNode {
                x,
                y,
                w: NODE_W,
                h: NODE_H,
                label: truncate(&node_label(n.id, n.region), 34),
                tooltip,
                class,
            });
            placed.insert(*ix, (x, y));
        }
        if ixs.len() > LAYER_MAX {
            let y = MARGIN + u32::try_from(LAYER_MAX).unwrap_or(0) * (NODE_H + GAP_Y);
            let more = ixs.len() - LAYER_MAX;
            svg.nodes.push(SvgNode {
                x,
                y,
                w: NODE_W,
                h: NODE_H,
                label: format!("+{more} more"),
                tooltip: format!("{more} more nodes of this column, not drawn"),
                class: "more".to_string(),
            });
        }
    }
    svg.edges = edges(t, app, &placed);
    svg.width = svg.nodes.iter().map(|n| n.x + n.w).max().unwrap_or(0) + MARGIN;
    svg.height = svg.nodes.iter().map(|n| n.y + n.h).max().unwrap_or(0) + MARGIN;
    svg
}

fn edges(t: &Topology<'_>, app: AppId, placed: &BTreeMap<petgraph::graph::NodeIndex, (u32, u32)>) -> Vec<SvgEdge> {
    let mut pairs: BTreeSet<(petgraph::graph::NodeIndex, petgraph::graph::NodeIndex)> = BTreeSet::new();
    for &ix in placed.keys() {
        let n = t.node(ix);
        if matches!(n.kind, NodeKind::Rule | NodeKind::Function) && t.owner(ix) == Some(app) {
            for d in t.dependencies_of(ix) {
                pairs.insert((ix, d.to));
            }
        }
    }
    for r in &t.snapshot.rules {
        if let (Some(rule), Some(bus)) = (t.find(&r.arn), t.find(&r.bus)) {
            pairs.insert((bus, rule));
        }
    }
    let mut out = Vec::new();
    for (a, b) in pairs {
        let (Some(&(xa, ya)), Some(&(xb, yb))) = (placed.get(&a), placed.get(&b)) else {
            continue;
        };
        let cross = t.node(a).account != t.node(b).account;
        let zone = t.zone_of(a) != t.zone_of(b);
        let (x1, x2) = if xa <= xb { (xa + NODE_W, xb) } else { (xa, xb + NODE_W) };
        out.push(SvgEdge {
            x1,
            y1: ya + NODE_H / 2,
            x2,
            y2: yb + NODE_H / 2,
            class: if zone {
                "cross-zone"
            } else if cross {
                "cross-account"
            } else {
                "same"
            },
        });
    }
    out
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
    let with_findings: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.applications.iter().any(|a| a == name))
        .map(|f| f.resource.as_str())
        .collect();
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
        graph: layout(t, app, &with_findings),
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
