//! Visibility: the application has an AWS DevOps Agent Space that exists, covers its whole
//! footprint, trusts only itself (pinned), reaches nothing of other applications, and lives in
//! the application's residency zone.

use super::{Criterion, Ctx, Outstanding, State, item};
use crate::checks::{Input, gaps_hiding};
use crate::graph::SpaceView;

/// The visibility criteria of the application.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    let spaces: Vec<SpaceView<'_>> = ctx
        .topology
        .agent_spaces()
        .into_iter()
        .filter(|s| s.app == ctx.app)
        .collect();
    let exists = spaces.iter().any(|s| s.existing.is_some());
    let mut out = vec![Criterion::new(
        "agent-space-exists",
        "An Agent Space exists for the application",
        existence(ctx, &spaces),
    )];
    if !exists {
        // Without a space the other criteria cannot hold; their checks are quiet only because
        // there is nothing to look at.
        let none = || {
            vec![item(
                State::Missing,
                ctx.app_name(),
                "no Agent Space exists for the application",
            )]
        };
        out.push(Criterion::new("covers-footprint", COVERS, none()));
        out.push(Criterion::new("pinned", PINNED, none()));
        out.push(Criterion::new("not-over-broad", NARROW, none()));
        out.push(Criterion::new("in-zone", IN_ZONE, none()));
        return out;
    }
    out.push(ctx.from_checks("covers-footprint", COVERS, &["agent-space-missing-account"]));
    out.push(ctx.from_checks("pinned", PINNED, &["agent-space-role-unpinned"]));
    out.push(ctx.from_checks(
        "not-over-broad",
        NARROW,
        &["agent-space-role-overbroad", "agent-space-foreign-account"],
    ));
    out.push(Criterion::new("in-zone", IN_ZONE, zone_items(ctx, &spaces)));
    out
}

const COVERS: &str = "The Agent Space is associated with every account of the footprint";
const PINNED: &str = "Agent Space roles trust only this space (aws:SourceAccount and aws:SourceArn)";
const NARROW: &str = "The Agent Space reaches nothing of other applications";
const IN_ZONE: &str = "The Agent Space lives in the application's residency zone";

fn existence(ctx: &Ctx<'_, '_>, spaces: &[SpaceView<'_>]) -> Vec<Outstanding> {
    if spaces.iter().any(|s| s.existing.is_some()) {
        return Vec::new();
    }
    let gaps = gaps_hiding(ctx.topology, &[Input::AgentSpaces], &[], None);
    let state = if gaps.is_empty() {
        State::Missing
    } else {
        State::NotProven
    };
    let detail = match spaces.first() {
        Some(s) => format!(
            "Agent Space `{}` is declared in the config but not in the snapshot",
            s.name
        ),
        None => "no Agent Space is declared or found for the application".to_string(),
    };
    let detail = if gaps.is_empty() {
        detail
    } else {
        format!("{detail}; {}", crate::checks::gaps_clause(&gaps))
    };
    vec![item(state, ctx.app_name(), detail)]
}

/// Each existing space outside the zone the application (or the space's intent) names. No zone
/// configured: nothing to compare with, so the criterion holds.
fn zone_items(ctx: &Ctx<'_, '_>, spaces: &[SpaceView<'_>]) -> Vec<Outstanding> {
    let config = ctx.topology.config;
    let app_zone = config
        .application(ctx.app_name())
        .and_then(|a| a.zone.as_ref())
        .map(|z| z.get_ref().as_str());
    let mut out = Vec::new();
    for s in spaces {
        let Some(existing) = s.existing else { continue };
        let intent_zone = s.intent.and_then(|i| i.zone.as_ref()).map(|z| z.get_ref().as_str());
        let Some(zone) = app_zone.or(intent_zone) else { continue };
        let actual = config.zone_of_region(&existing.region);
        if actual != Some(zone) {
            out.push(item(
                State::Missing,
                existing.arn.clone(),
                format!(
                    "Agent Space `{}` is in region `{}` ({}), outside zone `{zone}`",
                    s.name,
                    existing.region,
                    actual.map_or_else(|| "in no zone".to_string(), |z| format!("zone `{z}`"))
                ),
            ));
        }
    }
    out
}
