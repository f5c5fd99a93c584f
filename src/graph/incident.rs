//! The roles used during an incident: those each Agent Space can assume (its account
//! associations, and any role whose trust policy lets `aidevops.amazonaws.com` in on the space's
//! behalf) and those the configured responder principals can reach, each followed through role
//! chains.

use super::{AppId, Topology};
use crate::iam::condition::Truth;
use crate::iam::reach::Reach;
use std::collections::BTreeMap;

/// The Agent Space service principal.
pub const AGENT_SERVICE: &str = "aidevops.amazonaws.com";

/// A role reachable during an incident, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRole {
    pub role: String,
    /// The Agent Space ARN or responder principal that reaches it.
    pub reached_by: String,
    /// The chain from `reached_by` to `role`, both included.
    pub path: Vec<String>,
    /// The application of the Agent Space that reaches it; for responders, the application
    /// owning the role.
    pub application: Option<AppId>,
    /// True when a condition with an unknown value decides whether the space may assume it.
    pub conditional: bool,
}

impl Topology<'_> {
    /// Every role reachable by an Agent Space or a responder principal, sorted by role, then by
    /// who reaches it. Only roles in the snapshot are listed. Computed once per topology.
    pub fn incident_roles(&self) -> &[IncidentRole] {
        self.incident_roles.get_or_init(|| self.compute_incident_roles())
    }

    fn compute_incident_roles(&self) -> Vec<IncidentRole> {
        let iam = self.iam();
        let mut out: BTreeMap<(String, String), IncidentRole> = BTreeMap::new();
        let mut add = |r: IncidentRole| {
            out.entry((r.role.clone(), r.reached_by.clone())).or_insert(r);
        };
        // Roles whose trust policy names the Agent Space service at all.
        let mut agent_trusting: Vec<&str> = iam
            .store
            .roles
            .iter()
            .filter(|(_, rp)| {
                rp.trust.policy.statements.iter().any(|st| {
                    st.principal
                        .as_ref()
                        .is_some_and(|p| p.inner().values("Service").contains(&AGENT_SERVICE))
                })
            })
            .map(|(arn, _)| *arn)
            .collect();
        agent_trusting.sort_unstable();
        for view in self.agent_spaces() {
            let Some(space) = view.existing else { continue };
            let mut direct: Vec<(String, bool)> = space.associations.iter().map(|a| (a.role.clone(), false)).collect();
            for arn in &agent_trusting {
                match Reach::service_may_assume(iam.store, arn, AGENT_SERVICE, Some(&space.arn), &space.account) {
                    Truth::True => direct.push((arn.to_string(), false)),
                    Truth::Unknown(_) => direct.push((arn.to_string(), true)),
                    Truth::False => {}
                }
            }
            direct.sort();
            direct.dedup_by(|a, b| a.0 == b.0);
            for (role, conditional) in direct {
                if !iam.store.roles.contains_key(role.as_str()) {
                    continue;
                }
                add(IncidentRole {
                    role: role.clone(),
                    reached_by: space.arn.clone(),
                    path: vec![space.arn.clone(), role.clone()],
                    application: Some(view.app),
                    conditional,
                });
                for (next, chain) in iam.reach.reachable_from(&role) {
                    let mut path = vec![space.arn.clone()];
                    path.extend(chain);
                    add(IncidentRole {
                        role: next,
                        reached_by: space.arn.clone(),
                        path,
                        application: Some(view.app),
                        conditional,
                    });
                }
            }
        }
        for p in &self.config.responders.principals {
            let principal = p.get_ref();
            if iam.store.roles.contains_key(principal.as_str()) {
                add(IncidentRole {
                    role: principal.clone(),
                    reached_by: principal.clone(),
                    path: vec![principal.clone()],
                    application: self.find(principal).and_then(|ix| self.owner(ix)),
                    conditional: false,
                });
            }
            for (next, path) in iam.reach.reachable_from(principal) {
                // A responder reaching a role acts for the application that owns it.
                let application = self.find(&next).and_then(|ix| self.owner(ix));
                add(IncidentRole {
                    role: next,
                    reached_by: principal.clone(),
                    path,
                    application,
                    conditional: false,
                });
            }
        }
        out.into_values().collect()
    }
}
