//! Agent Spaces as both the config (intent) and the snapshot (what exists) describe them,
//! matched by name and tied to one application.

use super::{AppId, Topology};
use crate::config::AgentSpaceIntent;
use crate::model::AgentSpace;
use std::collections::BTreeSet;

/// One Agent Space seen from both sides.
#[derive(Debug, Clone, Copy)]
pub struct SpaceView<'a> {
    pub name: &'a str,
    pub app: AppId,
    /// The space in the snapshot, if it exists there.
    pub existing: Option<&'a AgentSpace>,
    /// The space as declared in the config, if it is.
    pub intent: Option<&'a AgentSpaceIntent>,
}

impl<'a> SpaceView<'a> {
    /// Accounts the existing space can investigate: its primary account and its associations.
    pub fn associated(&self) -> Option<BTreeSet<&'a str>> {
        self.existing.map(|s| {
            std::iter::once(s.account.as_str())
                .chain(s.associations.iter().map(|a| a.account.as_str()))
                .collect()
        })
    }

    /// Accounts the config declares, when it declares any.
    pub fn declared(&self) -> Option<BTreeSet<&'a str>> {
        self.intent
            .filter(|i| !i.accounts.is_empty())
            .map(|i| i.accounts.iter().map(|a| a.get_ref().as_str()).collect())
    }

    /// The ARN of the existing space, or a readable stand-in for a declared-only one.
    pub fn id(&self) -> String {
        self.existing
            .map_or_else(|| format!("agent-space/{}", self.name), |s| s.arn.clone())
    }
}

impl<'a> Topology<'a> {
    /// Every Agent Space tied to an application, sorted by name. A snapshot space is tied to the
    /// application of the config entry with its name, else to its owner by tag or account.
    pub fn agent_spaces(&self) -> Vec<SpaceView<'a>> {
        let mut out: Vec<SpaceView<'a>> = Vec::new();
        for (name, intent) in &self.config.agent_spaces {
            let Some(app) = self.app_id(intent.application.get_ref()) else {
                continue;
            };
            let existing = self.snapshot.agent_spaces.iter().find(|s| &s.name == name.get_ref());
            out.push(SpaceView {
                name: name.get_ref(),
                app,
                existing,
                intent: Some(intent),
            });
        }
        for s in &self.snapshot.agent_spaces {
            if out.iter().any(|v| v.name == s.name) {
                continue;
            }
            if let Some(app) = self.find(&s.arn).and_then(|ix| self.owner(ix)) {
                out.push(SpaceView {
                    name: &s.name,
                    app,
                    existing: Some(s),
                    intent: None,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(b.name));
        out
    }
}
