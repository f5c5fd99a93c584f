//! What a role can actually do: the catalog actions its identity policies name, each confirmed
//! by [`evaluate`] with SCPs, RCPs, the permission boundary and (for a given resource) its
//! resource policy — either against one resource, or against the resources its own statements
//! name.

use super::catalog::{ActionClass, ActionInfo, Catalog};
use super::classify::allowed_actions;
use super::condition::RequestContext;
use super::eval::{Decision, NamedPolicy, PolicySet, Request, StatementRef, evaluate, evaluate_some};
use super::policy::{Effect, Matcher};
use super::store::PolicyStore;
use super::subresource::action_targets;
use crate::arn::Arn;
use crate::model::Tags;
use std::collections::{BTreeMap, HashMap};

/// One action a role can perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    /// `service:Action` as AWS spells it.
    pub action: String,
    pub class: ActionClass,
    /// The resource (or resource pattern) it was evaluated on.
    pub resource: String,
    /// Condition keys with unknown values it depends on; empty when it is certain.
    pub conditional_on: Vec<String>,
    /// The statements that grant it.
    pub grants: Vec<StatementRef>,
}

/// What to evaluate against.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Whatever resources the role's own Allow statements name.
    OwnStatements,
    /// One resource with what is known about it.
    Resource {
        arn: &'a str,
        account: Option<&'a str>,
        region: Option<&'a str>,
        tags: Option<&'a Tags>,
        policy: Option<NamedPolicy<'a>>,
    },
}

/// A role prepared for repeated questions: its policies gathered and its actions expanded once.
pub struct RoleView<'a> {
    store: &'a PolicyStore<'a>,
    catalog: &'a Catalog,
    role: &'a str,
    account: &'a str,
    identity: Vec<&'a super::Policy>,
    allowed: Vec<&'a ActionInfo>,
    ctx: RequestContext,
    /// Session policies its sessions carry (none: the role's own permissions).
    session: Vec<NamedPolicy<'a>>,
}

impl<'a> RoleView<'a> {
    /// `None` when the role is not in the store.
    pub fn new(store: &'a PolicyStore<'a>, catalog: &'a Catalog, org_id: Option<&str>, role: &'a str) -> Option<Self> {
        let rp = store.roles.get(role)?;
        let identity: Vec<&super::Policy> = store
            .policy_set(role, None, None)?
            .identity
            .iter()
            .map(|p| p.policy)
            .collect();
        let allowed = cached_allowed(catalog, &identity);
        let ctx = store.principal_context(role, org_id)?;
        Some(RoleView {
            store,
            catalog,
            role,
            account: &rp.role.account,
            identity,
            allowed,
            ctx,
            session: Vec::new(),
        })
    }

    /// The same role as seen by a session that carries the session policies `session`: it can
    /// do only what they allow too ([`super::eval::DenyReason::Session`]).
    pub fn with_session(&self, session: Vec<NamedPolicy<'a>>) -> Self {
        RoleView {
            identity: self.identity.clone(),
            allowed: self.allowed.clone(),
            ctx: self.ctx.clone(),
            session,
            ..*self
        }
    }

    /// The role's ARN.
    pub fn role(&self) -> &'a str {
        self.role
    }

    /// True when the role's policies name any action of `classes` at all (a cheap pre-check).
    pub fn may_have(&self, classes: &[ActionClass]) -> bool {
        self.allowed.iter().any(|a| classes.contains(&a.class()))
    }

    /// The actions of `classes` the role can perform on `target`, sorted by action.
    pub fn capabilities(&self, target: Target<'_>, classes: &[ActionClass]) -> Vec<Capability> {
        let mut out: BTreeMap<String, Capability> = BTreeMap::new();
        let wanted = |a: &&&ActionInfo| classes.contains(&a.class());
        match target {
            Target::Resource {
                arn,
                account,
                region,
                tags,
                policy,
            } => {
                let service = Arn::parse(arn).map(|a| a.service).unwrap_or("");
                let mut ctx = self.ctx.clone();
                if let Some(acc) = account {
                    ctx.set("aws:ResourceAccount", acc);
                    self.store.resource_context(&mut ctx, acc);
                }
                if let Some(r) = region {
                    ctx.set("aws:RequestedRegion", r);
                }
                if let Some(t) = tags {
                    ctx.tags("aws:ResourceTag", t);
                }
                let Some(mut set) = self.store.policy_set(self.role, account, policy) else {
                    return Vec::new();
                };
                set.session.clone_from(&self.session);
                for a in self.allowed.iter().filter(wanted).filter(|a| a.service() == service) {
                    // The ARNs the action takes on this resource: itself, or its sub-resources.
                    for t in action_targets(self.catalog, arn, &a.full_name()) {
                        let some = t != arn;
                        self.consider(a, &t, account, &set, &ctx, some, &mut out);
                    }
                }
            }
            Target::OwnStatements => {
                let account = Some(self.account);
                let Some(mut set) = self.store.policy_set(self.role, account, None) else {
                    return Vec::new();
                };
                set.session.clone_from(&self.session);
                for policy in &self.identity {
                    for st in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
                        let resources: Vec<&str> = match &st.resource {
                            Some(Matcher::Is(list)) => list.iter().map(String::as_str).collect(),
                            _ => vec!["*"],
                        };
                        for a in self.allowed.iter().filter(wanted) {
                            let name = a.full_name();
                            if st.allows_action(&name) {
                                for r in &resources {
                                    // A resource in one known region fixes aws:RequestedRegion.
                                    let region = Arn::parse(r)
                                        .ok()
                                        .and_then(|p| p.region())
                                        .filter(|g| !g.contains(['*', '?']));
                                    match region {
                                        Some(g) => {
                                            let mut ctx = self.ctx.clone();
                                            ctx.set("aws:RequestedRegion", g);
                                            self.consider(a, r, account, &set, &ctx, false, &mut out);
                                        }
                                        None => self.consider(a, r, account, &set, &self.ctx, false, &mut out),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out.into_values().collect()
    }

    /// `some`: `resource` is a sub-resource pattern; the action counts when it is allowed on
    /// some of the sub-resources ([`evaluate_some`]).
    #[allow(clippy::too_many_arguments)]
    fn consider(
        &self,
        a: &ActionInfo,
        resource: &str,
        account: Option<&str>,
        set: &PolicySet<'_>,
        ctx: &RequestContext,
        some: bool,
        out: &mut BTreeMap<String, Capability>,
    ) {
        let name = a.full_name();
        // One entry per action and resource: the same action may be confined on one resource
        // and open on another, and the caller judges each.
        let key = format!("{name}\u{0}{resource}");
        if out.contains_key(&key) {
            return;
        }
        let req = Request {
            principal: self.role,
            principal_account: self.account,
            action: &name,
            resource,
            resource_account: account,
            context: ctx,
        };
        let decision = if some {
            evaluate_some(&req, set)
        } else {
            evaluate(&req, set)
        };
        let (grants, conditional_on) = match decision {
            Decision::Denied(_) => return,
            Decision::Allowed { grants } => (grants, Vec::new()),
            Decision::Conditional { grants, keys } => (grants, keys),
        };
        out.insert(
            key,
            Capability {
                action: name,
                class: a.class(),
                resource: resource.to_string(),
                conditional_on,
                grants,
            },
        );
    }
}

/// The catalog actions a set of identity policies allows at most, computed once per distinct
/// set of Allow action patterns: thousands of roles built from one template share one
/// expansion over the catalog.
fn cached_allowed<'c>(catalog: &'c Catalog, identity: &[&super::Policy]) -> Vec<&'c ActionInfo> {
    type Key = Vec<(bool, Vec<String>)>;
    static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<Key, Vec<&'static ActionInfo>>>> =
        std::sync::OnceLock::new();
    // Only the embedded catalog lives long enough to be cached.
    let embedded = match Catalog::get() {
        Ok(c) if std::ptr::eq(c, catalog) => c,
        _ => return allowed_actions(catalog, identity).actions,
    };
    let key: Key = identity
        .iter()
        .flat_map(|p| p.statements.iter().filter(|s| s.effect == Effect::Allow))
        .filter_map(|st| match &st.action {
            Some(Matcher::Is(list)) => Some((false, list.clone())),
            Some(Matcher::IsNot(list)) => Some((true, list.clone())),
            None => None,
        })
        .collect();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let actions = allowed_actions(embedded, identity).actions;
    if let Ok(mut c) = cache.lock() {
        c.insert(key, actions.clone());
    }
    actions
}

/// The actions of `classes` that `role` can perform on `target`, sorted by action (a one-off
/// [`RoleView`]).
pub fn capabilities(
    store: &PolicyStore<'_>,
    catalog: &Catalog,
    org_id: Option<&str>,
    role: &str,
    target: Target<'_>,
    classes: &[ActionClass],
) -> Vec<Capability> {
    RoleView::new(store, catalog, org_id, role)
        .map(|v| v.capabilities(target, classes))
        .unwrap_or_default()
}

/// The statements granting a set of capabilities, as `"<policy> statement <sid>"`, sorted and
/// without repeats: the evidence findings show.
pub fn grant_labels<'c>(caps: impl IntoIterator<Item = &'c Capability>) -> Vec<String> {
    let mut out: Vec<String> = caps
        .into_iter()
        .flat_map(|c| {
            c.grants
                .iter()
                .map(|g| format!("{} statement {}", g.policy, g.statement))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The first `shown` action names joined, with "and N more" for the rest (names already sorted).
pub fn summarize_actions(names: &[&str], shown: usize) -> String {
    let mut text = names.iter().take(shown).copied().collect::<Vec<_>>().join(", ");
    let more = names.len().saturating_sub(shown);
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}
