//! Who can reach whom: which principals may assume each role, from trust policies and the
//! principals' own policies (SCPs and boundaries included), and which roles a principal reaches
//! through chains of assumptions (bounded depth).
//!
//! A trust policy that names a role is confirmed at once by [`evaluate`], with the trust policy
//! as the resource policy. A trust that names an account, or `"*"` pinned to accounts or to the
//! organization, is one edge from a synthetic [`Caller`] — "administrators of ACCOUNT", "any
//! principal in the organization" — as IAM Access Analyzer and PMapper treat it: that account's
//! administrators decide who gets the identity permission, so the snapshot cannot prove that
//! nobody has it. Concrete principals behind such an edge are confirmed lazily, only for the
//! roles and principals a check asks about, so the work grows with trust relationships, not
//! with the square of the number of roles.

mod caller;

pub use caller::{Caller, OrgFacts, callers_of, deny_applies};

use super::condition::{RequestContext, Truth, evaluate_all};
use super::eval::{Decision, Request, evaluate};
use super::policy::{Effect, Statement};
use super::store::PolicyStore;
use crate::model::Snapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// How far role chains are followed.
pub const MAX_CHAIN: usize = 5;

/// One principal that may assume a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Assumer {
    /// [`Caller::id`]: a principal ARN, a service, an account root ARN for the account's
    /// administrators, `aws:PrincipalOrgID=<org>` or `*`.
    pub principal: String,
    pub caller: Caller,
    /// True when it depends on conditions whose values are unknown.
    pub conditional: bool,
    /// The condition keys (or service-principal conditions) it depends on.
    pub conditional_on: Vec<String>,
    /// The trust-policy statement that lets it in.
    pub statement: String,
}

impl Assumer {
    fn new(caller: Caller, truth: &Truth, statement: String) -> Self {
        let conditional_on = match truth {
            Truth::Unknown(keys) => keys.clone(),
            _ => Vec::new(),
        };
        Assumer {
            principal: caller.id(),
            caller,
            conditional: !conditional_on.is_empty(),
            conditional_on,
            statement,
        }
    }
}

/// Assumption edges of a whole snapshot.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Role ARN → who may assume it directly, sorted.
    assumers: BTreeMap<String, Vec<Assumer>>,
    /// Named principal → roles it may assume through a trust naming it, sorted.
    assumable: BTreeMap<String, Vec<String>>,
    /// Account → roles whose trust lets that account's administrators in.
    by_account: HashMap<String, Vec<String>>,
    /// Roles whose trust lets the whole organization in.
    by_org: Vec<String>,
    /// Roles whose trust lets anyone in.
    by_anyone: Vec<String>,
    /// Roles with any identity Allow for `sts:AssumeRole`, by account, sorted.
    callers: HashMap<String, Vec<String>>,
    /// The organization's id and member accounts.
    org_id: Option<String>,
    org_accounts: BTreeSet<String>,
}

fn label(i: usize, st: &Statement) -> String {
    st.sid
        .as_ref()
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("#{i}"), |s| format!("`{s}`"))
}

/// True when any identity policy of `principal` (a role, or a user with its groups' policies)
/// allows `sts:AssumeRole` at all (a cheap pre-filter).
fn may_call_assume(store: &PolicyStore<'_>, principal: &str) -> bool {
    store.identity_policies(principal).is_some_and(|identity| {
        identity.iter().any(|p| {
            p.policy
                .statements
                .iter()
                .any(|st| st.effect == Effect::Allow && st.allows_action("sts:AssumeRole"))
        })
    })
}

/// The account of a role (or role session) or user of the snapshot.
fn account_of<'s>(store: &PolicyStore<'s>, principal: &str) -> Option<&'s str> {
    match store.users.get(principal) {
        Some(up) => Some(up.user.account.as_str()),
        None => store.role(principal).map(|rp| rp.role.account.as_str()),
    }
}

/// True for a role or user of the snapshot, whose own policies can be evaluated.
fn is_known(store: &PolicyStore<'_>, principal: &str) -> bool {
    store.roles.contains_key(principal) || store.users.contains_key(principal)
}

/// Whether a Deny statement of the trust policy that applies whatever the conditions' unknown
/// values are shuts `caller` out of a role of `account`. A Deny naming an account (by its root
/// ARN or its id, the same principal) names every principal of it.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts>
fn trust_denies(statements: &[Arc<Statement>], caller: &Caller, org: OrgFacts<'_>, account: &str) -> bool {
    let id = caller.id();
    let names_account = |v: &str| crate::arn::named_account(v).is_some_and(|a| caller.account() == Some(a));
    statements
        .iter()
        .filter(|st| st.effect == Effect::Deny && st.allows_action("sts:AssumeRole"))
        .any(|st| {
            let names = st.principal.as_ref().is_some_and(|p| {
                !p.is_negated()
                    && p.inner()
                        .values("AWS")
                        .iter()
                        .any(|v| *v == "*" || *v == id || names_account(v))
            });
            let ctx = org.direct_call(caller, account).unwrap_or_else(|| org.context(caller));
            names && evaluate_all(&st.conditions, &ctx) == Truth::True
        })
}

impl Reach {
    /// Computes every direct assumption edge of the snapshot.
    pub fn compute(s: &Snapshot, store: &PolicyStore<'_>) -> Self {
        let mut reach = Reach {
            org_id: s.organization.id.clone(),
            org_accounts: s.organization.accounts.iter().map(|a| a.id.clone()).collect(),
            ..Reach::default()
        };
        let principals = store
            .roles
            .iter()
            .map(|(arn, rp)| (*arn, rp.role.account.as_str()))
            .chain(store.users.iter().map(|(arn, up)| (*arn, up.user.account.as_str())));
        for (arn, account) in principals {
            if may_call_assume(store, arn) {
                reach
                    .callers
                    .entry(account.to_string())
                    .or_default()
                    .push(arn.to_string());
            }
        }
        for list in reach.callers.values_mut() {
            list.sort_unstable();
        }
        let mut roles: Vec<&&str> = store.roles.keys().collect();
        roles.sort_unstable();
        let mut edges = Vec::new();
        for role_arn in roles {
            edges.push((role_arn, reach.direct_assumers(store, reach.org(), role_arn)));
        }
        for (role_arn, found) in edges {
            for a in &found {
                let role = role_arn.to_string();
                match &a.caller {
                    Caller::Principal(p) => reach.assumable.entry(p.clone()).or_default().push(role),
                    Caller::AccountAdmins(acc) => reach.by_account.entry(acc.clone()).or_default().push(role),
                    Caller::Organization(_) => reach.by_org.push(role),
                    Caller::Anyone => reach.by_anyone.push(role),
                    Caller::Service(_) => {}
                }
            }
            if !found.is_empty() {
                reach.assumers.insert(role_arn.to_string(), found);
            }
        }
        for list in reach.assumable.values_mut().chain(reach.by_account.values_mut()) {
            list.sort();
            list.dedup();
        }
        for list in [&mut reach.by_org, &mut reach.by_anyone] {
            list.sort();
            list.dedup();
        }
        reach
    }

    /// The organization as caller classification sees it.
    pub fn org(&self) -> OrgFacts<'_> {
        OrgFacts {
            id: self.org_id.as_deref(),
            accounts: &self.org_accounts,
        }
    }

    /// Who a role's trust policy lets in: services, named principals (confirmed when they are
    /// roles or users of the snapshot) and synthetic callers, sorted by principal.
    fn direct_assumers(&self, store: &PolicyStore<'_>, org: OrgFacts<'_>, role_arn: &str) -> Vec<Assumer> {
        let Some(target) = store.roles.get(role_arn) else {
            return Vec::new();
        };
        let statements = &target.trust.policy.statements;
        let account = target.role.account.as_str();
        let mut found: BTreeMap<String, Assumer> = BTreeMap::new();
        let mut keep = |a: Assumer| {
            let better = found
                .get(&a.principal)
                .is_none_or(|old| old.conditional && !a.conditional);
            if better {
                found.insert(a.principal.clone(), a);
            }
        };
        for (i, st) in statements.iter().enumerate() {
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
                let truth = if keys.is_empty() {
                    Truth::True
                } else {
                    Truth::Unknown(keys)
                };
                keep(Assumer::new(Caller::Service(service.to_string()), &truth, label(i, st)));
            }
            for (caller, truth) in callers_of(st, org, account) {
                match &caller {
                    Caller::Principal(p) if p == role_arn => {}
                    Caller::Principal(p) if is_known(store, p) => {
                        if let Some(keys) = self.confirm(store, p, role_arn) {
                            let truth = if keys.is_empty() {
                                Truth::True
                            } else {
                                Truth::Unknown(keys)
                            };
                            keep(Assumer::new(caller.clone(), &truth, label(i, st)));
                        }
                    }
                    // A principal outside the snapshot, or a synthetic one: its account decides.
                    _ if trust_denies(statements, &caller, org, account) => {}
                    _ => keep(Assumer::new(caller.clone(), &truth, label(i, st))),
                }
            }
        }
        found.into_values().collect()
    }

    /// Whether `caller`, a role or user of the snapshot, may assume `role` today (its identity
    /// policies — a user's groups' included —, boundary and SCPs, and the trust policy as the
    /// resource policy): the unknown condition keys it depends on, or `None` when it may not.
    fn confirm(&self, store: &PolicyStore<'_>, caller: &str, role: &str) -> Option<Vec<String>> {
        let target = store.roles.get(role)?;
        let from = account_of(store, caller)?;
        let mut ctx: RequestContext = store.principal_context(caller, self.org_id.as_deref())?;
        ctx.absent("aws:SourceArn").absent("aws:SourceAccount");
        let req = Request {
            principal: caller,
            principal_account: from,
            action: "sts:AssumeRole",
            resource: role,
            resource_account: Some(&target.role.account),
            context: &ctx,
        };
        let set = store.policy_set(caller, Some(&target.role.account), Some(target.trust.as_named()))?;
        match evaluate(&req, &set) {
            Decision::Denied(_) => None,
            Decision::Allowed { .. } => Some(Vec::new()),
            Decision::Conditional { keys, .. } => Some(keys),
        }
    }

    /// Who may assume `role` directly, synthetic callers included.
    pub fn assumers(&self, role: &str) -> &[Assumer] {
        self.assumers.get(role).map_or(&[], Vec::as_slice)
    }

    /// The roles and users of the snapshot behind a synthetic assumer `a` of `role` that may assume it
    /// today, sorted (empty for a named principal or a service).
    pub fn concrete_behind(&self, store: &PolicyStore<'_>, a: &Assumer, role: &str) -> Vec<Assumer> {
        let mut out: Vec<Assumer> = self
            .candidates_behind(a, role)
            .into_iter()
            .filter_map(|c| self.confirm_behind(store, a, role, c))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Who may stand behind the synthetic assumer `a` of `role`: the roles and users of its
    /// accounts whose own policies allow `sts:AssumeRole` at all, `role` itself left out, sorted
    /// and not yet confirmed (empty for a named principal or a service). Confirm each with
    /// [`Reach::confirm_behind`]; [`Reach::concrete_behind`] is both at once.
    pub fn candidates_behind<'r>(&'r self, a: &Assumer, role: &str) -> Vec<&'r str> {
        let accounts: Vec<&String> = match &a.caller {
            Caller::AccountAdmins(acc) => vec![acc],
            Caller::Organization(_) => self.org_accounts.iter().collect(),
            Caller::Anyone => self.callers.keys().collect(),
            Caller::Principal(_) | Caller::Service(_) => return Vec::new(),
        };
        let mut out: Vec<&str> = accounts
            .into_iter()
            .flat_map(|acc| self.callers.get(acc).into_iter().flatten())
            .map(String::as_str)
            .filter(|c| *c != role)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The assumer `principal`, one of [`Reach::candidates_behind`]`(a, role)`, is when it may
    /// assume `role` today: the conditions of `a` and of its own request together; `None` when
    /// it may not.
    pub fn confirm_behind(&self, store: &PolicyStore<'_>, a: &Assumer, role: &str, principal: &str) -> Option<Assumer> {
        let keys = self.confirm(store, principal, role)?;
        let mut conditional_on = a.conditional_on.clone();
        conditional_on.extend(keys);
        conditional_on.sort();
        conditional_on.dedup();
        Some(Assumer {
            principal: principal.to_string(),
            caller: Caller::Principal(principal.to_string()),
            conditional: !conditional_on.is_empty(),
            conditional_on,
            statement: a.statement.clone(),
        })
    }

    /// `principal` as [`Reach::concrete_behind`]`(store, a, role)` lists it, decided for that
    /// one principal (one evaluation instead of one per principal behind `a`); `None` when the
    /// list would not hold it.
    pub fn behind(&self, store: &PolicyStore<'_>, a: &Assumer, role: &str, principal: &str) -> Option<Assumer> {
        let account = account_of(store, principal)?;
        let in_scope = match &a.caller {
            Caller::AccountAdmins(acc) => acc == account,
            Caller::Organization(_) => self.org_accounts.contains(account),
            Caller::Anyone => true,
            Caller::Principal(_) | Caller::Service(_) => false,
        };
        let listed = self
            .callers
            .get(account)
            .is_some_and(|list| list.binary_search_by(|c| c.as_str().cmp(principal)).is_ok());
        if !in_scope || !listed || principal == role {
            return None;
        }
        self.confirm_behind(store, a, role, principal)
    }

    /// Roles whose trust lets the administrators of `account` in, sorted.
    pub fn trusting_account(&self, account: &str) -> &[String] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }

    /// Roles a named principal may assume directly: through trusts naming it, and through
    /// trusts naming its account, its organization or anyone, each confirmed. Sorted.
    fn next_hops(&self, store: &PolicyStore<'_>, principal: &str) -> Vec<String> {
        let mut out: Vec<String> = self.assumable.get(principal).cloned().unwrap_or_default();
        let account = account_of(store, principal);
        let is_caller = account
            .and_then(|a| self.callers.get(a))
            .is_some_and(|list| list.binary_search_by(|c| c.as_str().cmp(principal)).is_ok());
        if let (Some(account), true) = (account, is_caller) {
            let in_org = self.org_accounts.contains(account);
            let lazy = self
                .trusting_account(account)
                .iter()
                .chain(self.by_org.iter().filter(|_| in_org))
                .chain(self.by_anyone.iter());
            out.extend(
                lazy.filter(|r| r.as_str() != principal && self.confirm(store, principal, r).is_some())
                    .cloned(),
            );
        }
        out.sort();
        out.dedup();
        out
    }

    /// Roles a named principal may assume directly (one hop), sorted: [`Reach::reachable_from`]
    /// without following the chains further.
    pub fn assumable_from(&self, store: &PolicyStore<'_>, principal: &str) -> Vec<String> {
        self.next_hops(store, principal)
            .into_iter()
            .filter(|r| r != principal)
            .collect()
    }

    /// Roles `principal` reaches, directly or through chains of at most [`MAX_CHAIN`]
    /// assumptions, each with the chain that reaches it (principal first), sorted by role.
    pub fn reachable_from(&self, store: &PolicyStore<'_>, principal: &str) -> Vec<(String, Vec<String>)> {
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut queue = VecDeque::from([(principal.to_string(), vec![principal.to_string()])]);
        while let Some((current, path)) = queue.pop_front() {
            if path.len() > MAX_CHAIN {
                continue;
            }
            for next in self.next_hops(store, &current) {
                if next == principal || seen.contains_key(&next) {
                    continue;
                }
                let mut p = path.clone();
                p.push(next.clone());
                seen.insert(next.clone(), p.clone());
                queue.push_back((next, p));
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
        let mut ctx = RequestContext::new();
        match source_arn {
            Some(arn) => ctx.set("aws:SourceArn", arn),
            None => ctx.absent("aws:SourceArn"),
        };
        ctx.set("aws:SourceAccount", source_account);
        Self::service_may_assume_in(store, role, service, &ctx)
    }

    /// [`Reach::service_may_assume`] with a request context the caller fills (e.g. with the
    /// `sts:ExternalId` the service passes, or marks it absent).
    pub fn service_may_assume_in(store: &PolicyStore<'_>, role: &str, service: &str, ctx: &RequestContext) -> Truth {
        let Some(rp) = store.roles.get(role) else {
            return Truth::False;
        };
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
            match (st.effect, evaluate_all(&st.conditions, ctx)) {
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
