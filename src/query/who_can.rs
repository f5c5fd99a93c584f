//! `who-can`: every principal that may perform an action on a resource — roles and users of the
//! snapshot decided one by one as `can` decides them, the callers the resource policy names
//! (account administrators, the organization, anyone, services, principals outside the
//! snapshot), and everyone who reaches an allowed role through a chain of assumptions (up to
//! [`MAX_CHAIN`] hops), each with its chain and status.

use super::access::{Direct, Grant, Target, decide, principal_account};
use super::can::{Hop, chain_hops_in};
use super::context::Context;
use super::{AnswerFormat, QueryError, Verdict, describe_gap, gaps_touching, shown};
use crate::graph::{AppId, Topology};
use crate::iam::Effect;
use crate::iam::condition::Truth;
use crate::iam::reach::{Caller, MAX_CHAIN, callers_of, deny_applies};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// One principal that can.
#[derive(Debug, Clone, Serialize)]
pub struct WhoEntry {
    /// A principal ARN, a service, `arn:aws:iam::ACCOUNT:root` (that account's administrators
    /// and whoever they allow), `aws:PrincipalOrgID=<org>` or `*`.
    pub principal: String,
    pub decision: Verdict,
    /// The role chain from the principal to the role that may (empty when it may directly).
    pub chain: Vec<Hop>,
    pub conditions: Vec<String>,
    pub grants: Vec<Grant>,
    /// `role`, `user`, `account-administrators`, `organization`, `anyone`, `service` or
    /// `external` (a principal ARN the snapshot does not hold).
    pub kind: &'static str,
}

/// The answer of `who-can`.
#[derive(Debug, Clone, Serialize)]
pub struct WhoAnswer {
    pub principals: Vec<WhoEntry>,
    pub action: String,
    pub resource: String,
    /// What the snapshot could not see: principals there may be missing from the list, and
    /// entries from those accounts are `not-proven`.
    pub gaps: Vec<String>,
}

fn caller_kind(t: &Topology<'_>, c: &Caller) -> &'static str {
    match c {
        Caller::Principal(p) if t.policies.users.contains_key(p.as_str()) => "user",
        Caller::Principal(p) if t.policies.role(p).is_some() => "role",
        Caller::Principal(_) => "external",
        Caller::Service(_) => "service",
        Caller::AccountAdmins(_) => "account-administrators",
        Caller::Organization(_) => "organization",
        Caller::Anyone => "anyone",
    }
}

fn verdict(keys: &[String]) -> Verdict {
    if keys.is_empty() {
        Verdict::Allowed
    } else {
        Verdict::Conditional
    }
}

/// Callers the resource policy lets in that are not principals of the snapshot. Their own
/// identity policies and SCPs are not known here; the Deny statements of the resource policy
/// and of the resource account's RCPs are applied to them (a Deny that surely applies removes
/// the caller, one that may apply makes it conditional). An RCP level that allows nothing is
/// not read as a deny here.
fn policy_callers(t: &Topology<'_>, action: &str, target: &Target<'_>) -> Vec<WhoEntry> {
    let Some(policy) = target.policy else {
        return Vec::new();
    };
    let covers_target = |st: &crate::iam::Statement| {
        st.resource.is_none() || st.resources().iter().any(|p| crate::arn::glob_match(p, &target.arn))
    };
    // The resource policy's and the resource account's RCPs' Deny statements (an RCP statement
    // always has `"Principal": "*"`).
    let owner_account = target.account.as_deref().unwrap_or_default();
    let rcps = t.policies.rcp_statements(owner_account);
    let denies: Vec<&crate::iam::Statement> = policy
        .policy
        .statements
        .iter()
        .map(|st| &**st)
        .chain(rcps)
        .filter(|st| st.effect == Effect::Deny && st.allows_action(action) && covers_target(st))
        .collect();
    let mut out = Vec::new();
    for (i, st) in policy.policy.statements.iter().enumerate() {
        let label = st
            .sid
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("#{i}"));
        let covers = covers_target(st);
        if st.effect != Effect::Allow || !st.allows_action(action) || !covers {
            continue;
        }
        for service in st
            .principal
            .iter()
            .filter(|p| !p.is_negated())
            .flat_map(|p| p.inner().values("Service"))
        {
            let mut keys: Vec<String> = st.conditions.iter().map(|c| c.key.clone()).collect();
            keys.sort();
            keys.dedup();
            out.push(entry(
                t,
                &Caller::Service(service.to_string()),
                keys,
                policy.name,
                &label,
            ));
        }
        let owner = target.account.as_deref().unwrap_or_default();
        let org = t.iam().reach.org();
        for (caller, truth) in callers_of(st, org, owner) {
            let known =
                matches!(&caller, Caller::Principal(p) if caller_kind(t, &Caller::Principal(p.clone())) != "external");
            if known {
                continue;
            }
            let denied = denies
                .iter()
                .map(|d| deny_applies(d, org, &caller, owner))
                .fold(Truth::False, Truth::or);
            let mut keys = match (truth, &denied) {
                (_, Truth::True) => continue,
                (Truth::Unknown(k), _) => k,
                _ => Vec::new(),
            };
            if let Truth::Unknown(k) = denied {
                keys.extend(k);
                keys.sort();
                keys.dedup();
            }
            out.push(entry(t, &caller, keys, policy.name, &label));
        }
    }
    out
}

fn entry(t: &Topology<'_>, caller: &Caller, keys: Vec<String>, policy: &str, statement: &str) -> WhoEntry {
    WhoEntry {
        principal: caller.id(),
        decision: verdict(&keys),
        chain: Vec::new(),
        conditions: keys,
        grants: vec![Grant {
            layer: "resource",
            policy: policy.to_string(),
            statement: statement.to_string(),
        }],
        kind: caller_kind(t, caller),
    }
}

/// The final request of one role, decided once per request number (its place in a chain) when
/// `--context` gives values for single requests, once otherwise.
struct Finals<'a, 't> {
    t: &'a Topology<'t>,
    action: &'a str,
    target: &'a Target<'a>,
    context: &'a Context,
    cache: BTreeMap<(String, usize), Option<Direct>>,
    /// Whether the target's resource policy has an Allow statement covering the action: when it
    /// has none, only a principal whose own policies allow the action can be allowed.
    resource_may_grant: bool,
}

impl Finals<'_, '_> {
    /// Whether the resource policy alone could grant `principal` the request: only within the
    /// resource's account, since across accounts the principal's own policies must allow too.
    fn resource_may_grant_to(&self, principal: &str) -> bool {
        self.resource_may_grant
            && match (&self.target.account, principal_account(self.t, principal)) {
                (Some(resource), Some(own)) => resource == own,
                _ => true,
            }
    }

    /// The decision of `role`'s request as request `n`; `None` when it is denied.
    fn get(&mut self, role: &str, n: usize) -> Option<Direct> {
        let n = if self.context.is_scoped() { n } else { 1 };
        let key = (role.to_string(), n);
        if let Some(d) = self.cache.get(&key) {
            return d.clone();
        }
        if !self.resource_may_grant_to(role) && !identity_may_allow(self.t, role, self.action) {
            // Nothing could grant the request: it is denied whatever the context (deciding it
            // would only confirm that, at the cost of a whole evaluation per principal).
            self.cache.insert(key, None);
            return None;
        }
        let d = decide(self.t, role, self.action, self.target, &self.context.for_hop(n), &[])
            .filter(|d| matches!(d.decision, Verdict::Allowed | Verdict::Conditional));
        self.cache.insert(key, d.clone());
        d
    }
}

/// Whether a statement that allows `action` is among the allows of `principal`'s own (identity)
/// policies. AWS grants a request only through an Allow in an identity or resource-based policy
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
/// SCPs, RCPs, boundaries and session policies only limit, so without such an Allow (and none in
/// the resource policy) the request is denied.
fn identity_may_allow(t: &Topology<'_>, principal: &str, action: &str) -> bool {
    // Not a principal the store knows: let the evaluation say so.
    t.policies.identity_policies(principal).is_none_or(|policies| {
        policies.iter().any(|p| {
            p.policy
                .statements
                .iter()
                .any(|st| st.effect == Effect::Allow && st.allows_action(action))
        })
    })
}

/// Adds everyone who reaches one of the `roles` that may do the request through assumptions
/// (reverse breadth-first, shortest chain kept): every assumption and the final request decided
/// as its own request of the chain.
fn add_chains(
    t: &Topology<'_>,
    found: &mut BTreeMap<String, WhoEntry>,
    roles: Vec<String>,
    finals: &mut Finals<'_, '_>,
) {
    let iam = t.iam();
    // (role, chain from it to the role that may, itself first)
    let mut frontier: Vec<(String, Vec<String>)> = roles.into_iter().map(|r| (r.clone(), vec![r])).collect();
    for _ in 1..MAX_CHAIN {
        let mut next = Vec::new();
        for (role, suffix) in &frontier {
            for a in iam.reach.assumers(role) {
                let is_new = |p: &str| !found.contains_key(p) && !suffix.iter().any(|s| s == p);
                // The principals behind a synthetic assumer (an account, the organization,
                // anyone) are confirmed only when not found yet: a principal found through an
                // earlier role keeps its chain, and confirming it again for every role trusted
                // organization-wide is what made this quadratic.
                let behind: Vec<&str> = iam
                    .reach
                    .candidates_behind(a, role)
                    .into_iter()
                    .filter(|c| is_new(c))
                    .collect();
                let mut callers = vec![a.clone()];
                callers.extend(
                    behind
                        .into_iter()
                        .filter_map(|c| iam.reach.confirm_behind(iam.store, a, role, c)),
                );
                for c in callers {
                    if found.contains_key(&c.principal) || suffix.contains(&c.principal) {
                        continue;
                    }
                    let mut chain = vec![c.principal.clone()];
                    chain.extend(suffix.iter().cloned());
                    let Some(last_role) = chain.last() else { continue };
                    let Some(last) = finals.get(last_role, chain.len()) else {
                        continue;
                    };
                    let Some((hops, mut keys)) = chain_hops_in(t, &chain, finals.context) else {
                        continue;
                    };
                    keys.extend(last.conditions.iter().cloned());
                    keys.sort();
                    keys.dedup();
                    let kind = caller_kind(t, &c.caller);
                    let e = WhoEntry {
                        principal: c.principal.clone(),
                        decision: verdict(&keys),
                        chain: hops,
                        conditions: keys,
                        grants: last.grants.clone(),
                        kind,
                    };
                    if kind == "role" {
                        next.push((c.principal.clone(), chain));
                    }
                    found.insert(c.principal.clone(), e);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
}

/// Answers `who-can`, limited to the principals an application owns when `app` is given.
pub fn who_can(
    t: &Topology<'_>,
    action: &str,
    resource: &str,
    context: &Context,
    app: Option<AppId>,
) -> Result<WhoAnswer, QueryError> {
    let target = Target::resolve(t, Some(resource));
    let mut principals: Vec<&str> = t
        .policies
        .roles
        .keys()
        .chain(t.policies.users.keys())
        .copied()
        .collect();
    principals.sort_unstable();
    let mut found: BTreeMap<String, WhoEntry> = BTreeMap::new();
    let mut finals = Finals {
        t,
        action,
        target: &target,
        context,
        cache: BTreeMap::new(),
        resource_may_grant: target.policy.as_ref().is_some_and(|p| {
            p.policy
                .statements
                .iter()
                .any(|st| st.effect == Effect::Allow && st.allows_action(action))
        }),
    };
    // Roles whose request may be allowed at some place of a chain: where chains end.
    let mut ends: Vec<String> = Vec::new();
    let later: Vec<usize> = context.scoped_hops().filter(|n| *n > 1).collect();
    for p in principals {
        let is_user = t.policies.users.contains_key(p);
        if let Some(d) = finals.get(p, 1) {
            found.insert(
                p.to_string(),
                WhoEntry {
                    principal: p.to_string(),
                    decision: d.decision,
                    chain: Vec::new(),
                    conditions: d.conditions,
                    grants: d.grants,
                    kind: if is_user { "user" } else { "role" },
                },
            );
            if !is_user {
                ends.push(p.to_string());
            }
        } else if !is_user && later.iter().any(|n| finals.get(p, *n).is_some()) {
            ends.push(p.to_string());
        }
    }
    for e in policy_callers(t, action, &target) {
        found.entry(e.principal.clone()).or_insert(e);
    }
    add_chains(t, &mut found, ends, &mut finals);
    let mut gaps: Vec<String> = t.snapshot.coverage.gaps.iter().map(describe_gap).collect();
    if !target.in_snapshot {
        gaps.push(format!(
            "resource {resource} is not in the snapshot: its resource policy is unknown"
        ));
    }
    let mut entries: Vec<WhoEntry> = found.into_values().collect();
    for e in &mut entries {
        let mut accounts: BTreeSet<&str> = target.account.as_deref().into_iter().collect();
        accounts.extend(principal_account(t, &e.principal));
        if !gaps_touching(t.snapshot, &accounts, None).is_empty() || !target.in_snapshot {
            e.decision = Verdict::NotProven;
        }
    }
    if let Some(app) = app {
        entries.retain(|e| t.find(&e.principal).and_then(|ix| t.owner(ix)) == Some(app));
    }
    Ok(WhoAnswer {
        principals: entries,
        action: action.to_string(),
        resource: resource.to_string(),
        gaps,
    })
}

impl WhoAnswer {
    /// Writes the answer in `format`.
    pub fn render(&self, format: AnswerFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == AnswerFormat::Json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            return writeln!(out);
        }
        let s = |v: &str| shown(format, v);
        let md = format == AnswerFormat::Markdown;
        writeln!(
            out,
            "{}{} principal(s) can do {} on {}{}",
            if md { "**" } else { "" },
            self.principals.len(),
            s(&self.action),
            s(&self.resource),
            if md { "**\n" } else { "" }
        )?;
        for e in &self.principals {
            let mut line = format!("{} {} ({})", e.decision.as_str(), s(&e.principal), e.kind);
            for h in &e.chain {
                line.push_str(&format!(" → {}", s(&h.to)));
            }
            if !e.conditions.is_empty() {
                let keys: Vec<String> = e.conditions.iter().map(|k| s(k)).collect();
                line.push_str(&format!(" if {}", keys.join(", ")));
            }
            writeln!(out, "{}{line}", if md { "- " } else { "  " })?;
        }
        for g in &self.gaps {
            writeln!(out, "{}gap: {}", if md { "- " } else { "  " }, s(g))?;
        }
        Ok(())
    }
}
