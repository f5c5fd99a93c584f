//! `residency-cross-zone-flow`: data leaves its residency zone — an EventBridge rule delivers to
//! a target in another zone (an EU bus rule targeting a US bus), or a function depends on a
//! resource in another zone.

use super::{Check, Finding, Input, Severity, Status, app_names, finding_for};
use crate::graph::{NodeKind, Topology};

pub struct ResidencyCrossZoneFlow;

impl Check for ResidencyCrossZoneFlow {
    fn id(&self) -> &'static str {
        "residency-cross-zone-flow"
    }
    fn title(&self) -> &'static str {
        "Data flows out of its residency zone"
    }
    fn description(&self) -> &'static str {
        "An EventBridge rule target (or its dead-letter queue), a cross-region bus hop, or a resource a Lambda function uses lies in a region outside the residency zone of the rule's or function's region. Events and the personal data in them then leave the zone they are bound to."
    }
    fn default_severity(&self) -> Severity {
        Severity::High
    }
    fn inputs(&self) -> &'static [Input] {
        &[Input::EventBridge, Input::Lambda, Input::Iam, Input::Tagging]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        if t.config.zones.is_empty() {
            return out;
        }
        for (ix, node) in t.nodes() {
            if !matches!(node.kind, NodeKind::Rule | NodeKind::Function) {
                continue;
            }
            let (Some(region), Some(zone)) = (node.region, t.zone_of(ix)) else {
                continue;
            };
            for dep in t.dependencies_of(ix) {
                let target = t.node(dep.to);
                let apps = app_names(t, t.owner(ix));
                let Some(target_region) = target.region else {
                    // S3 buckets and other regionless ARNs not in the snapshot: where is unknown.
                    if target.kind == NodeKind::External && matches!(target.id.split(':').nth(2), Some("s3")) {
                        let mut f = finding_for(
                            self,
                            node,
                            format!(
                                "`{}` depends on `{}`, whose region is not in the snapshot, so it cannot be shown to stay in zone `{zone}`",
                                node.id, target.id
                            ),
                            "Crawl the account that holds the resource so its region is known.".to_string(),
                        );
                        f.status = Status::NotProven;
                        f.applications = apps;
                        f.evidence = dep.reason.evidence(target.id);
                        out.push(f);
                    }
                    continue;
                };
                let target_zone = t.config.zone_of_region(target_region);
                if target_zone == Some(zone) {
                    continue;
                }
                let there = target_zone.map_or_else(
                    || format!("region `{target_region}`, which is in no residency zone"),
                    |z| format!("zone `{z}` (`{target_region}`)"),
                );
                let verb = if node.kind == NodeKind::Rule {
                    "delivers events to"
                } else {
                    "uses"
                };
                let mut f = finding_for(
                    self,
                    node,
                    format!(
                        "{} `{}` in zone `{zone}` (`{region}`) {verb} {} `{}` in {there}",
                        node.kind.as_str(),
                        node.id,
                        target.kind.as_str(),
                        target.id
                    ),
                    format!(
                        "Keep the flow inside zone `{zone}`: point it at a resource in one of that zone's regions, or, if the data may legally leave, record that as an ignore with its legal basis as the reason."
                    ),
                );
                f.applications = apps;
                f.evidence = dep.reason.evidence(target.id);
                out.push(f);
            }
        }
        out
    }
}
