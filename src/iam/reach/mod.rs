//! Who can reach whom: which principals may assume each role, from trust policies and the
//! principals' own policies (SCPs and boundaries included), and which roles a principal reaches
//! through chains of assumptions (bounded depth).
//!
//! Candidates come only from what a trust policy names — a role ARN, an account, `*` — and are
//! pre-filtered to roles that have any identity Allow for `sts:AssumeRole`, so the work grows
//! with trust relationships, not with the square of the number of roles. Each candidate is then
//! confirmed by [`evaluate`], with the trust policy as the resource policy.

use super::condition::{RequestContext, Truth, evaluate_all};
use super::eval::{Decision, Request, evaluate};
use super::policy::{Effect, Statement};
use super::store::PolicyStore;
use crate::arn::root_account;
use crate::model::Snapshot;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How far role chains are followed.
pub const MAX_CHAIN: usize = 5;

/// One principal that may assume a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Assumer {
    /// A role ARN, or a service principal such as `aidevops.amazonaws.com`.
    pub principal: String,
    /// True when it depends on conditions whose values are unknown.
    pub conditional: bool,
    /// The condition keys (or service-principal conditions) it depends on.
    pub conditional_on: Vec<String>,
    /// The trust-policy statement that lets it in.
    pub statement: String,
}

/// Assumption edges of a whole snapshot.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Role ARN → who may assume it, sorted.
    assumers: BTreeMap<String, Vec<Assumer>>,
    /// Principal → roles it may assume directly, sorted.
    assumable: BTreeMap<String, Vec<String>>,
}

fn label(i: usize, st: &Statement) -> String {
    st.sid
        .as_ref()
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("#{i}"), |s| format!("`{s}`"))
}

impl Reach {
    /// Computes every assumption edge of the snapshot.
    pub fn compute(s: &Snapshot, store: &PolicyStore<'_>) -> Self {
        let org_id = s.organization.id.as_deref();
        // Roles that can call sts:AssumeRole at all, by account.
        let mut callers: HashMap<&str, Vec<&str>> = HashMap::new();
        for (arn, rp) in &store.roles {
            let set = store.policy_set(arn, None, None);
            let any = set.is_some_and(|set| {
                set.identity.iter().any(|p| {
                    p.policy
                        .statements
                        .iter()
                        .any(|st| st.effect == Effect::Allow && st.allows_action("sts:AssumeRole"))
                })
            });
            if any {
                callers.entry(rp.role.account.as_str()).or_default().push(arn);
            }
        }
        for list in callers.values_mut() {
            list.sort_unstable();
        }
        let mut reach = Reach::default();
        let mut roles: Vec<&&str> = store.roles.keys().collect();
        roles.sort_unstable();
        for role_arn in roles {
            let Some(target) = store.roles.get(*role_arn) else {
                continue;
            };
            let mut found: BTreeMap<String, Assumer> = BTreeMap::new();
            for (i, st) in target.trust.policy.statements.iter().enumerate() {
                if st.effect != Effect::Allow || !st.allows_action("sts:AssumeRole") {
                    continue;
                }
                let Some(principal) = st.principal.as_ref().filter(|p| !p.is_negated()) else {
                    continue;
                };
                // Service principals: recorded with their conditions left to the caller.
                for service in principal.inner().values("Service") {
                    let mut keys: Vec<String> = st.conditions.iter().map(|c| c.key.clone()).collect();
                    keys.sort();
                    keys.dedup();
                    found.entry(service.to_string()).or_insert(Assumer {
                        principal: service.to_string(),
                        conditional: !keys.is_empty(),
                        conditional_on: keys,
                        statement: label(i, st),
                    });
                }
                let mut candidates: Vec<&str> = Vec::new();
                for v in principal.inner().values("AWS") {
                    if v == "*" {
                        candidates.extend(callers.values().flatten().copied());
                    } else if store.roles.contains_key(v) {
                        candidates.push(store.roles.get_key_value(v).map_or(v, |(k, _)| *k));
                    } else {
                        let account = root_account(v).unwrap_or(v);
                        candidates.extend(callers.get(account).into_iter().flatten().copied());
                    }
                }
                candidates.sort_unstable();
                candidates.dedup();
                for candidate in candidates {
                    if candidate == *role_arn || found.contains_key(candidate) {
                        continue;
                    }
                    let Some(caller) = store.roles.get(candidate) else {
                        continue;
                    };
                    let Some(mut ctx) = store.principal_context(candidate, org_id) else {
                        continue;
                    };
                    ctx.absent("aws:SourceArn").absent("aws:SourceAccount");
                    let req = Request {
                        principal: candidate,
                        principal_account: &caller.role.account,
                        action: "sts:AssumeRole",
                        resource: role_arn,
                        resource_account: Some(&target.role.account),
                        context: &ctx,
                    };
                    let Some(set) =
                        store.policy_set(candidate, Some(&target.role.account), Some(target.trust.as_named()))
                    else {
                        continue;
                    };
                    let conditional_on = match evaluate(&req, &set) {
                        Decision::Denied(_) => continue,
                        Decision::Allowed { .. } => Vec::new(),
                        Decision::Conditional { keys, .. } => keys,
                    };
                    found.insert(
                        candidate.to_string(),
                        Assumer {
                            principal: candidate.to_string(),
                            conditional: !conditional_on.is_empty(),
                            conditional_on,
                            statement: label(i, st),
                        },
                    );
                }
            }
            for a in found.values() {
                reach
                    .assumable
                    .entry(a.principal.clone())
                    .or_default()
                    .push(role_arn.to_string());
            }
            if !found.is_empty() {
                reach
                    .assumers
                    .insert(role_arn.to_string(), found.into_values().collect());
            }
        }
        for list in reach.assumable.values_mut() {
            list.sort();
            list.dedup();
        }
        reach
    }

    /// Who may assume `role` directly.
    pub fn assumers(&self, role: &str) -> &[Assumer] {
        self.assumers.get(role).map_or(&[], Vec::as_slice)
    }

    /// Roles `principal` reaches, directly or through chains of at most [`MAX_CHAIN`]
    /// assumptions, each with the chain that reaches it (principal first), sorted by role.
    pub fn reachable_from(&self, principal: &str) -> Vec<(String, Vec<String>)> {
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut queue = VecDeque::from([(principal.to_string(), vec![principal.to_string()])]);
        while let Some((current, path)) = queue.pop_front() {
            if path.len() > MAX_CHAIN {
                continue;
            }
            for next in self.assumable.get(&current).into_iter().flatten() {
                if next == principal || seen.contains_key(next) {
                    continue;
                }
                let mut p = path.clone();
                p.push(next.clone());
                seen.insert(next.clone(), p.clone());
                queue.push_back((next.clone(), p));
            }
        }
        seen.into_iter().collect()
    }

    /// Whether a service principal acting for `source_arn` in `source_account` may assume
    /// `role` under its trust policy: true, false, or unknown (conditions on other keys).
    /// `source_arn: None` asks about a request that carries no `aws:SourceArn` at all.
    pub fn service_may_assume(
        store: &PolicyStore<'_>,
        role: &str,
        service: &str,
        source_arn: Option<&str>,
        source_account: &str,
    ) -> Truth {
        let Some(rp) = store.roles.get(role) else {
            return Truth::False;
        };
        let mut ctx = RequestContext::new();
        match source_arn {
            Some(arn) => ctx.set("aws:SourceArn", arn),
            None => ctx.absent("aws:SourceArn"),
        };
        ctx.set("aws:SourceAccount", source_account);
        let mut result = Truth::False;
        for st in &rp.trust.policy.statements {
            if !st.allows_action("sts:AssumeRole") {
                continue;
            }
            let names_service = st
                .principal
                .as_ref()
                .is_some_and(|p| !p.is_negated() && p.inner().values("Service").contains(&service));
            if !names_service {
                continue;
            }
            match (st.effect, evaluate_all(&st.conditions, &ctx)) {
                (Effect::Deny, Truth::True) => return Truth::False,
                (Effect::Allow, Truth::True) => result = Truth::True,
                (Effect::Allow, Truth::Unknown(k)) if result != Truth::True => result = Truth::Unknown(k),
                _ => {}
            }
        }
        result
    }
}

#[cfg(test)]
mod tests;
