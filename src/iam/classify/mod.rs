//! What a policy document allows at most, by action class: the catalog actions its Allow
//! statements name (with `NotAction` taken as "every action except"), ignoring resources and
//! conditions. Checks use it to pick the actions worth evaluating for a principal.

use super::catalog::{ActionClass, ActionInfo, Catalog};
use super::policy::{Effect, Matcher, Policy};
use crate::arn::glob_match_ignore_case;
use std::collections::{BTreeMap, BTreeSet};

/// Catalog actions a policy's Allow statements name, by class, plus patterns that matched no
/// catalog action (typos, retired actions, services newer than the catalog).
#[derive(Debug, Clone, Default)]
pub struct Classified<'c> {
    pub by_class: BTreeMap<ActionClass, BTreeSet<&'c str>>,
    pub actions: Vec<&'c ActionInfo>,
    pub unknown: BTreeSet<String>,
}

impl Classified<'_> {
    /// True when any action of `class` is allowed.
    pub fn has(&self, class: ActionClass) -> bool {
        self.by_class.get(&class).is_some_and(|s| !s.is_empty())
    }
}

/// The Allow-able actions of several policies together.
pub fn allowed_actions<'c>(catalog: &'c Catalog, policies: &[&Policy]) -> Classified<'c> {
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut out = Classified::default();
    let mut add = |out: &mut Classified<'c>, a: &'c ActionInfo| {
        if seen.insert((a.service(), a.name())) {
            out.actions.push(a);
        }
    };
    for policy in policies {
        for st in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
            match &st.action {
                Some(Matcher::Is(patterns)) => {
                    for p in patterns {
                        let found = catalog.expand(p);
                        if found.is_empty() {
                            out.unknown.insert(p.clone());
                        }
                        for a in found {
                            add(&mut out, a);
                        }
                    }
                }
                Some(Matcher::IsNot(excluded)) => {
                    for a in catalog.expand("*") {
                        let name = a.full_name();
                        if !excluded.iter().any(|p| glob_match_ignore_case(p, &name)) {
                            add(&mut out, a);
                        }
                    }
                }
                None => {}
            }
        }
    }
    for a in &out.actions {
        out.by_class.entry(a.class()).or_default().insert(a.name());
    }
    out
}

#[cfg(test)]
mod tests;
