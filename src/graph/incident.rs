//! The roles used during an incident: those each Agent Space can assume (its account
//! associations, and any role whose trust policy lets `aidevops.amazonaws.com` in on the space's
//! behalf), every other role the DevOps Agent service may assume (its space is in another
//! region, another organization or not associated yet: still incident access), and those the
//! configured responder principals can reach — through chains, and through any role that trusts
//! a responder's account (that account's administrators decide who may assume it) — each
//! followed through role chains.

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
    /// For a role the DevOps Agent service may assume for a space the snapshot does not show:
    /// the `aws:SourceArn` values its trust is pinned to (empty when it is not pinned).
    pub unknown_space: Option<Vec<String>>,
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
        let mut reached: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
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
                reached.insert(role.clone());
                self.add_with_chain(&mut add, &role, &space.arn, Some(view.app), conditional, None);
            }
        }
        // Roles the service may assume for a space the snapshot does not show.
        for arn in agent_trusting.into_iter().filter(|a| !reached.contains(*a)) {
            let pinned = pinned_sources(iam.store, arn);
            let reached_by = pinned.first().cloned().unwrap_or_else(|| AGENT_SERVICE.to_string());
            let application = pinned
                .iter()
                .filter_map(|p| {
                    crate::arn::Arn::parse(p)
                        .ok()
                        .and_then(|a| a.account().map(str::to_string))
                })
                .find_map(|acc| self.find(&acc).and_then(|ix| self.owner(ix)))
                .or_else(|| self.find(arn).and_then(|ix| self.owner(ix)));
            self.add_with_chain(&mut add, arn, &reached_by, application, false, Some(pinned));
        }
        self.add_responders(&mut add);
        out.into_values().collect()
    }

    /// A role reached directly by `by`, and every role it reaches through chains.
    fn add_with_chain(
        &self,
        add: &mut impl FnMut(IncidentRole),
        role: &str,
        by: &str,
        application: Option<AppId>,
        conditional: bool,
        unknown_space: Option<Vec<String>>,
    ) {
        let iam = self.iam();
        add(IncidentRole {
            role: role.to_string(),
            reached_by: by.to_string(),
            path: vec![by.to_string(), role.to_string()],
            application,
            conditional,
            unknown_space: unknown_space.clone(),
        });
        for (next, chain) in iam.reach.reachable_from(iam.store, role) {
            let mut path = vec![by.to_string()];
            path.extend(chain);
            add(IncidentRole {
                role: next,
                reached_by: by.to_string(),
                path,
                application,
                conditional,
                unknown_space: unknown_space.clone(),
            });
        }
    }

    /// Roles the responder principals reach: themselves, chains, and roles of other accounts
    /// that trust a responder's account.
    fn add_responders(&self, add: &mut impl FnMut(IncidentRole)) {
        let iam = self.iam();
        for p in &self.config.responders.principals {
            let principal = p.get_ref();
            if iam.store.roles.contains_key(principal.as_str()) {
                add(IncidentRole {
                    role: principal.clone(),
                    reached_by: principal.clone(),
                    path: vec![principal.clone()],
                    application: self.find(principal).and_then(|ix| self.owner(ix)),
                    conditional: false,
                    unknown_space: None,
                });
            }
            for (next, path) in iam.reach.reachable_from(iam.store, principal) {
                // A responder reaching a role acts for the application that owns it.
                let application = self.find(&next).and_then(|ix| self.owner(ix));
                add(IncidentRole {
                    role: next,
                    reached_by: principal.clone(),
                    path,
                    application,
                    conditional: false,
                    unknown_space: None,
                });
            }
            let Some(account) = crate::arn::Arn::parse(principal).ok().and_then(|a| a.account()) else {
                continue;
            };
            let admins = format!("arn:aws:iam::{account}:root");
            for role in iam.reach.trusting_account(account) {
                let other = crate::arn::Arn::parse(role).ok().and_then(|a| a.account()) != Some(account);
                let assumer = iam.reach.assumers(role).iter().find(|a| a.principal == admins);
                if let (true, Some(a)) = (other, assumer) {
                    add(IncidentRole {
                        role: role.clone(),
                        reached_by: principal.clone(),
                        path: vec![principal.clone(), admins.clone(), role.clone()],
                        application: self.find(role).and_then(|ix| self.owner(ix)),
                        conditional: a.conditional,
                        unknown_space: None,
                    });
                }
            }
        }
    }
}

/// The `aws:SourceArn` values the statements trusting the DevOps Agent service pin, sorted.
fn pinned_sources(store: &crate::iam::store::PolicyStore<'_>, role: &str) -> Vec<String> {
    let mut out: Vec<String> = store
        .roles
        .get(role)
        .into_iter()
        .flat_map(|rp| rp.trust.policy.statements.iter())
        .filter(|st| {
            st.principal
                .as_ref()
                .is_some_and(|p| p.inner().values("Service").contains(&AGENT_SERVICE))
        })
        .flat_map(|st| st.condition_values("aws:SourceArn"))
        .flat_map(|c| c.values.iter().cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}
