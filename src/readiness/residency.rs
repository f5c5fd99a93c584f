//! Residency: no unapproved flow of the application crosses residency zones, and every region
//! its footprint touches is in a configured zone (a region in no zone is not checked, so the
//! flows there are not proven to stay in place).

use super::{Criterion, Ctx, State, item};
use std::collections::BTreeSet;

/// The residency criteria of the application.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    let t = ctx.topology;
    let regions: BTreeSet<&str> = ctx.footprint().into_iter().filter_map(|ix| t.node(ix).region).collect();
    let unzoned = regions
        .iter()
        .filter(|r| t.config.zone_of_region(r).is_none())
        .map(|r| {
            item(
                State::NotProven,
                *r,
                format!("region `{r}` of the footprint is in no configured zone, so flows there are not checked"),
            )
        })
        .collect();
    vec![
        ctx.from_checks(
            "no-cross-zone-flow",
            "No unapproved flow crosses residency zones",
            &["residency-cross-zone-flow"],
        ),
        Criterion::new(
            "regions-zoned",
            "Every region of the footprint is in a residency zone",
            unzoned,
        ),
    ]
}
