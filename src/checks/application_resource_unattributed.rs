//! `application-resource-unattributed`: a bus, rule or function that no application claims. It
//! cannot be placed in any Agent Space or responder boundary, so in an incident nobody owns it.

use super::{Check, Finding, Input, Severity, finding_for};
use crate::graph::{EdgeKind, NodeKind, Topology};
use petgraph::Direction;

pub struct ApplicationResourceUnattributed;

impl Check for ApplicationResourceUnattributed {
    fn id(&self) -> &'static str {
        "application-resource-unattributed"
    }
    fn title(&self) -> &'static str {
        "Bus, rule or function belongs to no application"
    }
    fn description(&self) -> &'static str {
        "An EventBridge bus, rule or Lambda function is neither tagged with a configured application nor in an account attributed to one. It falls outside every Agent Space and responder role, so no one is responsible for it during an incident. The default bus is exempt while no rule uses it."
    }
    fn default_severity(&self) -> Severity {
        Severity::Low
    }
    fn inputs(&self) -> &'static [Input] {
        &[Input::Tagging, Input::EventBridge, Input::Lambda]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        let key = t.config.attribution.tag_key.as_str();
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if !matches!(node.kind, NodeKind::EventBus | NodeKind::Rule | NodeKind::Function) || t.owner(ix).is_some() {
                continue;
            }
            if node.kind == NodeKind::EventBus
                && node.id.ends_with(":event-bus/default")
                && !t
                    .graph
                    .edges_directed(ix, Direction::Outgoing)
                    .any(|e| *e.weight() == EdgeKind::Routes)
            {
                continue;
            }
            let message = match t.owner_tag(ix) {
                Some(tag) => format!(
                    "{} `{}` is tagged `{key}={tag}`, but `{tag}` is not a configured application",
                    node.kind.as_str(),
                    node.id
                ),
                None => format!(
                    "{} `{}` has no `{key}` tag and its account `{}` is attributed to no application",
                    node.kind.as_str(),
                    node.id,
                    node.account.unwrap_or("?")
                ),
            };
            let names: Vec<&str> = t.applications.clone();
            out.push(finding_for(
                self,
                node,
                message,
                format!("Tag it with `{key}=<application>` (one of: {}), or attribute its account to an application in the config.", names.join(", ")),
            ));
        }
        out
    }
}
