//! `agent-space-outside-zone`: an Agent Space lives in a region outside its application's
//! residency zone. Investigations, journals and chat transcripts are stored in the space's
//! region, and they carry the logs and events the agent read; a space outside the zone moves that
//! data out of it. A customer managed key in another zone is reported the same way.

use super::{Check, Context, Evidence, Finding, Input, Meta, Severity};
use crate::arn::Arn;
use crate::graph::{SpaceView, Topology};

pub struct AgentSpaceOutsideZone;

/// The zone the space's data must stay in: the config's space entry, else its application's.
fn expected_zone<'a>(t: &Topology<'a>, view: &SpaceView<'a>) -> Option<&'a str> {
    view.intent
        .and_then(|i| i.zone.as_ref())
        .or_else(|| t.declared_zone(view.app))
        .map(|z| z.get_ref().as_str())
}

/// "zone `z` (`region`)" or "region `r`, which is in no residency zone".
fn place(t: &Topology<'_>, region: &str) -> String {
    t.zone_of_region(region).map_or_else(
        || format!("region `{region}`, which is in no residency zone"),
        |z| format!("zone `{z}` (`{region}`)"),
    )
}

const META: Meta = Meta {
    id: "agent-space-outside-zone",
    title: "Agent Space outside its application's residency zone",
    description: "An Agent Space (where investigations, journals and chat transcripts are stored) or the customer managed KMS key encrypting it is in a region outside the residency zone of the space's application (the space's own `zone` in the config, else the application's). The logs and events the agent reads then leave the zone.",
    severity: Severity::High,
    inputs: &[Input::AgentSpaces],
};

impl Check for AgentSpaceOutsideZone {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        for view in t.agent_spaces() {
            let (Some(space), Some(zone)) = (view.existing, expected_zone(t, &view)) else {
                continue;
            };
            let Some(ix) = t.find(&space.arn) else { continue };
            let app = t.app_name(view.app);
            let key_region = space
                .kms_key
                .as_deref()
                .and_then(|k| Arn::parse(k).ok().and_then(|a| a.region().map(|r| (k, r.to_string()))));
            let mut wrong: Vec<(String, Evidence)> = Vec::new();
            if t.zone_of_region(&space.region) != Some(zone) {
                wrong.push((
                    format!("the space is in {}", place(t, &space.region)),
                    Evidence::new("config", app, Some(space.arn.clone()), format!("zone `{zone}`")),
                ));
            }
            if let Some((key, region)) = key_region
                && t.zone_of_region(&region) != Some(zone)
            {
                wrong.push((
                    format!("its KMS key `{key}` is in {}", place(t, &region)),
                    Evidence::new("uses", space.arn.clone(), Some(key.to_string()), "kmsKeyArn"),
                ));
            }
            if wrong.is_empty() {
                continue;
            }
            let mut f = META.finding(
                t.node(ix),
                format!(
                    "Agent Space `{}` of `{app}` keeps its investigations outside zone `{zone}`: {}",
                    space.arn,
                    wrong.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join("; ")
                ),
                format!(
                    "Create the space (and its KMS key) in a region of zone `{zone}` and move the associations to it, or record the legal basis for keeping it elsewhere as an ignore."
                ),
            );
            f.applications = vec![app.to_string()];
            f.evidence = wrong.into_iter().map(|(_, e)| e).collect();
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceOutsideZone;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    fn space(region: &str, key: Option<&str>) -> Value {
        let mut s = org();
        let mut sp = json!({"id": "invoice", "arn": format!("arn:aws:aidevops:{region}:111111111111:agentspace/invoice"),
            "name": "invoice", "account": INVOICE, "region": region, "associations": []});
        if let Some(k) = key {
            sp["kms_key"] = json!(k);
        }
        add(&mut s, "agent_spaces", sp);
        s
    }

    const ZONED: &str = "[applications.invoice]\naccounts = [\"111111111111\"]\nzone = \"eu\"\n[zones.eu]\nregions = [\"eu-west-1\", \"eu-central-1\"]\n[zones.us]\nregions = [\"us-east-1\"]\n";

    #[test]
    fn fires_for_a_space_or_key_in_another_zone() {
        let f = run_with(&AgentSpaceOutsideZone, &space("us-east-1", None), ZONED);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("zone `us` (`us-east-1`)"), "{}", f[0].message);
        assert_eq!(f[0].applications, vec!["invoice"]);
        let key = "arn:aws:kms:ap-southeast-1:111111111111:key/k";
        let f = run_with(&AgentSpaceOutsideZone, &space("eu-west-1", Some(key)), ZONED);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("in no residency zone"), "{}", f[0].message);
    }

    #[test]
    fn quiet_inside_the_zone_or_without_a_zone() {
        let key = "arn:aws:kms:eu-west-1:111111111111:key/k";
        assert_eq!(
            run_with(&AgentSpaceOutsideZone, &space("eu-west-1", Some(key)), ZONED),
            vec![]
        );
        // No residency intent for the application: nothing to hold the space to.
        assert_eq!(run(&AgentSpaceOutsideZone, &space("us-east-1", None)), vec![]);
    }

    #[test]
    fn near_miss_another_region_of_the_same_zone_is_quiet() {
        assert_eq!(
            run_with(&AgentSpaceOutsideZone, &space("eu-central-1", None), ZONED),
            vec![]
        );
    }

    #[test]
    fn the_space_entry_zone_overrides_the_application_zone() {
        let config = format!(
            "{ZONED}[agent_spaces.invoice]\napplication = \"invoice\"\naccounts = [\"111111111111\"]\nzone = \"us\"\n"
        );
        assert_eq!(
            run_with(&AgentSpaceOutsideZone, &space("us-east-1", None), &config),
            vec![]
        );
        assert_eq!(
            run_with(&AgentSpaceOutsideZone, &space("eu-west-1", None), &config).len(),
            1
        );
    }
}
