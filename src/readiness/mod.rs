//! Readiness: a score per application, computed from the topology and the findings, in six
//! components (visibility, access, attribution, residency, delivery safety, coverage), one file
//! each. A component is a list of criteria; each criterion is met, missing or not proven, and
//! lists what is outstanding. A component earns `weight × met / criteria` points (rounded down);
//! the score is the points earned out of the points possible, as a percentage (rounded down).
//! What the snapshot cannot show makes a criterion "not proven" — never met. See
//! `docs/readiness.md`.

mod access;
mod attribution;
mod coverage;
mod delivery;
pub mod render;
mod residency;
pub mod runbook;
mod visibility;

use crate::checks::Outcome;
use crate::config::ReadinessWeights;
use crate::finding::{Finding, Status};
use crate::graph::{AppId, NodeKind, Topology};
use petgraph::graph::NodeIndex;
use serde::Serialize;
use std::collections::BTreeSet;

/// The components of the score, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentId {
    Visibility,
    Access,
    Attribution,
    Residency,
    DeliverySafety,
    Coverage,
}

impl ComponentId {
    pub const ALL: [ComponentId; 6] = [
        ComponentId::Visibility,
        ComponentId::Access,
        ComponentId::Attribution,
        ComponentId::Residency,
        ComponentId::DeliverySafety,
        ComponentId::Coverage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentId::Visibility => "visibility",
            ComponentId::Access => "access",
            ComponentId::Attribution => "attribution",
            ComponentId::Residency => "residency",
            ComponentId::DeliverySafety => "delivery-safety",
            ComponentId::Coverage => "coverage",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ComponentId::Visibility => "Visibility",
            ComponentId::Access => "Access",
            ComponentId::Attribution => "Attribution",
            ComponentId::Residency => "Residency",
            ComponentId::DeliverySafety => "Delivery safety",
            ComponentId::Coverage => "Coverage",
        }
    }

    /// The default weight (points possible); the defaults add up to 100.
    pub fn default_weight(self) -> u32 {
        match self {
            ComponentId::Visibility | ComponentId::Access => 20,
            _ => 15,
        }
    }

    /// The weight the config sets, else the default.
    pub fn weight(self, w: &ReadinessWeights) -> u32 {
        let set = match self {
            ComponentId::Visibility => w.visibility,
            ComponentId::Access => w.access,
            ComponentId::Attribution => w.attribution,
            ComponentId::Residency => w.residency,
            ComponentId::DeliverySafety => w.delivery_safety,
            ComponentId::Coverage => w.coverage,
        };
        set.unwrap_or_else(|| self.default_weight())
    }
}

/// Whether a criterion (or one outstanding item) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Met,
    Missing,
    /// The snapshot or the crawl does not show whether it holds.
    NotProven,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Met => "met",
            State::Missing => "missing",
            State::NotProven => "not-proven",
        }
    }
}

/// Something that keeps a criterion from being met.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Outstanding {
    pub state: State,
    /// The resource, role or account concerned.
    pub subject: String,
    pub detail: String,
    /// The check whose finding this is, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

/// One criterion of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// Stable kebab-case id, unique within its component.
    pub id: &'static str,
    pub title: &'static str,
    pub state: State,
    /// Sorted.
    pub outstanding: Vec<Outstanding>,
}

impl Criterion {
    /// A criterion whose state follows from what is outstanding: met when nothing is, missing
    /// when something is missing, else not proven.
    pub fn new(id: &'static str, title: &'static str, mut outstanding: Vec<Outstanding>) -> Self {
        outstanding.sort();
        outstanding.dedup();
        let state = if outstanding.is_empty() {
            State::Met
        } else if outstanding.iter().any(|o| o.state == State::Missing) {
            State::Missing
        } else {
            State::NotProven
        };
        Criterion {
            id,
            title,
            state,
            outstanding,
        }
    }
}

/// A scored component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub id: ComponentId,
    pub title: &'static str,
    pub points: u32,
    pub possible: u32,
    /// Empty when the application has nothing this component applies to (full points).
    pub criteria: Vec<Criterion>,
}

impl Component {
    fn new(id: ComponentId, weight: u32, criteria: Vec<Criterion>) -> Self {
        let total = criteria.len() as u64;
        let met = criteria.iter().filter(|c| c.state == State::Met).count() as u64;
        // No criterion applies: nothing to do, full points.
        let points = (u64::from(weight) * met)
            .checked_div(total)
            .map_or(weight, |p| u32::try_from(p).unwrap_or(weight));
        Component {
            id,
            title: id.title(),
            points,
            possible: weight,
            criteria,
        }
    }

    /// Every outstanding item of every criterion.
    pub fn outstanding(&self) -> impl Iterator<Item = (&Criterion, &Outstanding)> {
        self.criteria
            .iter()
            .flat_map(|c| c.outstanding.iter().map(move |o| (c, o)))
    }
}

/// One application's readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppReadiness {
    pub application: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Points earned out of points possible, as a percentage rounded down.
    pub score: u32,
    pub points: u32,
    pub possible: u32,
    pub components: Vec<Component>,
}

impl AppReadiness {
    pub fn component(&self, id: ComponentId) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// What one component reads.
pub struct Ctx<'t, 's> {
    pub topology: &'t Topology<'s>,
    pub outcome: &'t Outcome,
    pub app: AppId,
}

impl<'s> Ctx<'_, 's> {
    pub fn app_name(&self) -> &'s str {
        self.topology.app_name(self.app)
    }

    /// Findings of `check` that concern the application.
    pub fn findings(&self, check: &str) -> impl Iterator<Item = &Finding> {
        let name = self.app_name();
        self.outcome
            .findings
            .iter()
            .filter(move |f| f.check == check && f.applications.iter().any(|a| a == name))
    }

    /// A criterion met when no finding of `checks` concerns the application; each finding is an
    /// outstanding item (not proven for "not proven" and "conditional" findings). A check the
    /// config turned off makes the criterion not proven.
    pub fn from_checks(&self, id: &'static str, title: &'static str, checks: &[&str]) -> Criterion {
        let mut out = Vec::new();
        for check in checks {
            if !self.outcome.checks_run.contains(check) {
                out.push(Outstanding {
                    state: State::NotProven,
                    subject: "config".to_string(),
                    detail: format!("check `{check}` is disabled in the config, so this is not known"),
                    check: Some((*check).to_string()),
                });
                continue;
            }
            for f in self.findings(check) {
                let (state, prefix) = match f.status {
                    Status::Violation => (State::Missing, ""),
                    Status::Conditional => (State::NotProven, "conditional: "),
                    Status::NotProven => (State::NotProven, ""),
                };
                out.push(Outstanding {
                    state,
                    subject: f.resource.clone(),
                    detail: format!("{prefix}{}", f.message),
                    check: Some(f.check.clone()),
                });
            }
        }
        Criterion::new(id, title, out)
    }

    /// The nodes the application owns or uses (accounts excluded), sorted by id.
    pub fn footprint(&self) -> Vec<NodeIndex> {
        footprint_nodes(self.topology, self.app)
    }
}

/// The nodes an application owns or uses (accounts excluded), sorted by id.
pub fn footprint_nodes(t: &Topology<'_>, app: AppId) -> Vec<NodeIndex> {
    let mut out: BTreeSet<(&str, NodeIndex)> = BTreeSet::new();
    for (ix, node) in t.nodes() {
        if node.kind == NodeKind::Account {
            continue;
        }
        if t.owner(ix) == Some(app) || t.users(ix).iter().any(|(u, _)| *u == app) {
            out.insert((node.id, ix));
        }
    }
    out.into_iter().map(|(_, ix)| ix).collect()
}

/// An outstanding item.
pub fn item(state: State, subject: impl Into<String>, detail: impl Into<String>) -> Outstanding {
    Outstanding {
        state,
        subject: subject.into(),
        detail: detail.into(),
        check: None,
    }
}

/// Scores one application.
pub fn score_app(t: &Topology<'_>, outcome: &Outcome, app: AppId) -> AppReadiness {
    let ctx = Ctx {
        topology: t,
        outcome,
        app,
    };
    let weights = &t.config.readiness.weights;
    let components: Vec<Component> = ComponentId::ALL
        .iter()
        .map(|&id| {
            let criteria = match id {
                ComponentId::Visibility => visibility::criteria(&ctx),
                ComponentId::Access => access::criteria(&ctx),
                ComponentId::Attribution => attribution::criteria(&ctx),
                ComponentId::Residency => residency::criteria(&ctx),
                ComponentId::DeliverySafety => delivery::criteria(&ctx),
                ComponentId::Coverage => coverage::criteria(&ctx),
            };
            Component::new(id, id.weight(weights), criteria)
        })
        .collect();
    let points: u32 = components.iter().map(|c| c.points).sum();
    let possible: u32 = components.iter().map(|c| c.possible).sum();
    let score = (u64::from(points) * 100)
        .checked_div(u64::from(possible))
        .map_or(0, |p| u32::try_from(p).unwrap_or(100));
    let name = t.app_name(app);
    AppReadiness {
        application: name.to_string(),
        owner: t.config.application(name).and_then(|a| a.owner.clone()),
        score,
        points,
        possible,
        components,
    }
}

/// Scores the applications named (every configured one when `apps` is empty), sorted by name.
pub fn score(t: &Topology<'_>, outcome: &Outcome, apps: &[AppId]) -> Vec<AppReadiness> {
    let all: Vec<AppId> = if apps.is_empty() {
        (0..t.applications.len()).collect()
    } else {
        apps.to_vec()
    };
    all.into_iter().map(|app| score_app(t, outcome, app)).collect()
}

#[cfg(test)]
mod tests;
