//! `can`: may a principal perform an action (on a resource)? Decided directly first; when that
//! is not a plain allow, the role chains the principal reaches (as the checks follow them, up to
//! [`crate::iam::reach::MAX_CHAIN`] hops) are tried, shortest first, and the chain that allows
//! is shown with the trust statement of every hop. A coverage gap on the accounts involved, or a
//! resource the snapshot does not hold, makes the answer `not-proven`.

use super::access::{Deciding, Direct, Grant, Target, decide, principal_account};
use super::context::Context;
use super::{AnswerFormat, QueryError, Verdict, apply_context, describe_gap, gaps_touching, shown};
use crate::graph::Topology;
use crate::iam::Effect;
use crate::iam::condition::{Truth, evaluate_all};
use crate::iam::eval::session_role;
use crate::iam::reach::{Caller, callers_of};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{self, Write};

/// One hop of a role chain, a path or an impact: `from` reaches `to` by `relation`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hop {
    pub from: String,
    pub to: String,
    pub relation: String,
    pub detail: String,
    /// The condition keys this hop depends on (shown by `path`; `can` and `who-can` list them
    /// for the whole answer).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub conditions: Vec<String>,
}

/// The answer of `can`.
#[derive(Debug, Clone, Serialize)]
pub struct CanAnswer {
    pub decision: Verdict,
    /// What decided a denial (the direct request's), `null` otherwise.
    pub deciding: Option<Deciding>,
    /// Condition keys the answer depends on (for `conditional`).
    pub conditions: Vec<String>,
    /// The role chain that grants it (empty when granted directly or not at all).
    pub chain: Vec<Hop>,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub grants: Vec<Grant>,
    /// For `not-proven`: what the evaluation says from what the snapshot holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluated: Option<Verdict>,
    /// What the snapshot could not see that the answer depends on.
    pub gaps: Vec<String>,
    pub assumed: Vec<String>,
}

/// The trust statement (and its undecided keys) that lets `from` assume `role`.
pub fn hop(t: &Topology<'_>, from: &str, role: &str) -> (Hop, Vec<String>) {
    let iam = t.iam();
    let assumers = iam.reach.assumers(role);
    let direct = assumers.iter().find(|a| a.principal == from);
    let found = direct
        .map(|a| (a.statement.clone(), a.conditional_on.clone(), None))
        .or_else(|| {
            assumers.iter().filter(|a| a.caller.is_synthetic()).find_map(|a| {
                iam.reach
                    .behind(iam.store, a, role, from)
                    .map(|c| (c.statement, c.conditional_on, Some(a.caller.clone())))
            })
        });
    let (statement, keys, via) = found.unwrap_or_else(|| ("?".to_string(), Vec::new(), None));
    let via = match via {
        Some(Caller::AccountAdmins(a)) => format!(", which trusts account {a}"),
        Some(c @ (Caller::Organization(_) | Caller::Anyone)) => format!(", which trusts {}", c.id()),
        _ => String::new(),
    };
    let detail = format!("trust policy of {role} statement {}{via}", statement.trim_matches('`'));
    (
        Hop {
            from: from.to_string(),
            to: role.to_string(),
            relation: "can-assume".to_string(),
            detail,
            conditions: Vec::new(),
        },
        keys,
    )
}

/// The hops of a chain `[principal, role1, role2, …]`, with every hop's undecided keys, as the
/// snapshot alone decides them (the checks' role reachability).
pub fn chain_hops(t: &Topology<'_>, chain: &[String]) -> (Vec<Hop>, Vec<String>) {
    let mut hops = Vec::new();
    let mut keys = Vec::new();
    for pair in chain.windows(2) {
        if let [a, b] = pair {
            let (h, k) = hop(t, a, b);
            hops.push(h);
            keys.extend(k);
        }
    }
    (hops, keys)
}

/// Whether a caller the snapshot cannot enumerate (an account's administrators, the
/// organization, anyone, a principal outside the snapshot) may assume `role` under its trust
/// policy with `pairs` applied over what the caller itself tells: the trust's Allow statements
/// that let the caller in, their conditions decided in that context.
fn outside_hop_truth(t: &Topology<'_>, caller: &Caller, role: &str, pairs: &[(String, String)]) -> Truth {
    let Some(rp) = t.policies.role(role) else {
        return Truth::False;
    };
    let org = t.iam().reach.org();
    let account = rp.role.account.as_str();
    let mut ctx = org.direct_call(caller, account).unwrap_or_else(|| {
        let mut ctx = org.context(caller);
        ctx.absent("aws:SourceAccount")
            .absent("aws:SourceArn")
            .set("aws:PrincipalIsAWSService", "false")
            .set("aws:ResourceAccount", account);
        ctx
    });
    apply_context(&mut ctx, pairs);
    rp.trust
        .policy
        .statements
        .iter()
        .filter(|st| st.effect == Effect::Allow && st.allows_action("sts:AssumeRole"))
        .filter(|st| callers_of(st, org, account).iter().any(|(c, _)| c == caller))
        .map(|st| evaluate_all(&st.conditions, &ctx))
        .fold(Truth::False, Truth::or)
}

/// One assumption decided as request number `n` of its chain, with the `--context` values for
/// that request: the hop and its undecided keys, `None` when that request is denied. Without any
/// `--context` this is [`hop`] (the checks' reachability, decided once per snapshot).
pub fn hop_in(t: &Topology<'_>, from: &str, role: &str, context: &Context, n: usize) -> Option<(Hop, Vec<String>)> {
    let (h, keys) = hop(t, from, role);
    if context.is_empty() {
        return Some((h, keys));
    }
    let pairs = context.for_hop(n);
    if principal_account(t, from).is_some() {
        let target = Target::resolve(t, Some(role));
        let d = decide(t, from, "sts:AssumeRole", &target, &pairs, &context.session_for_hop(n))?;
        return (d.decision != Verdict::Denied).then_some((h, d.conditions));
    }
    let caller = t
        .iam()
        .reach
        .assumers(role)
        .iter()
        .find(|a| a.principal == from)
        .map_or_else(|| Caller::Principal(from.to_string()), |a| a.caller.clone());
    if matches!(caller, Caller::Service(_)) {
        // A service's assumption is not a request of the chain's principals: its conditions
        // (aws:SourceArn, aws:SourceAccount) are left to the service, as the reachability does.
        return Some((h, keys));
    }
    match outside_hop_truth(t, &caller, role, &pairs) {
        Truth::True => Some((h, Vec::new())),
        Truth::False => None,
        Truth::Unknown(k) => Some((h, k)),
    }
}

/// [`chain_hops`] with every assumption decided as its own request (request 1 is the first
/// assumption) with the `--context` values for it: `None` when one of them is denied.
pub fn chain_hops_in(t: &Topology<'_>, chain: &[String], context: &Context) -> Option<(Vec<Hop>, Vec<String>)> {
    let mut hops = Vec::new();
    let mut keys = Vec::new();
    for (i, pair) in chain.windows(2).enumerate() {
        if let [a, b] = pair {
            let (h, k) = hop_in(t, a, b, context, i + 1)?;
            hops.push(h);
            keys.extend(k);
        }
    }
    Some((hops, keys))
}

/// A chain that may: its principals (the starting one first), its hops, the hops' undecided
/// keys, and the final request's decision.
type Found = (Vec<String>, Vec<Hop>, Vec<String>, Direct);

/// The first role chain from `principal` whose assumptions and final request are allowed, each
/// decided as its own request with the `--context` values for it: an allow on the shortest
/// chain, else a conditional one. The chain starts with the principal; the hops and the final
/// decision come with it.
fn best_chain(
    t: &Topology<'_>,
    principal: &str,
    action: &str,
    target: &Target<'_>,
    context: &Context,
) -> Option<Found> {
    let iam = t.iam();
    let start = session_role(principal)
        .and_then(|r| t.policies.role(&r).map(|rp| rp.role.arn.clone()))
        .unwrap_or_else(|| principal.to_string());
    let mut reachable = iam.reach.reachable_from(iam.store, &start);
    reachable.sort_by(|a, b| (a.1.len(), &a.0).cmp(&(b.1.len(), &b.0)));
    let mut conditional = None;
    for (role, chain) in reachable {
        // The final request is the one after the chain's assumptions.
        let Some(d) = decide(
            t,
            &role,
            action,
            target,
            &context.for_hop(chain.len()),
            &context.session_for_hop(chain.len()),
        ) else {
            continue;
        };
        if d.decision == Verdict::Denied || (d.decision == Verdict::Conditional && conditional.is_some()) {
            continue;
        }
        let Some((hops, keys)) = chain_hops_in(t, &chain, context) else {
            continue;
        };
        if d.decision == Verdict::Allowed && keys.is_empty() {
            return Some((chain, hops, keys, d));
        }
        if conditional.is_none() {
            conditional = Some((chain, hops, keys, d));
        }
    }
    conditional
}

/// Answers `can`.
pub fn can(
    t: &Topology<'_>,
    principal: &str,
    action: &str,
    resource: Option<&str>,
    context: &Context,
) -> Result<CanAnswer, QueryError> {
    let target = Target::resolve(t, resource);
    let direct = decide(
        t,
        principal,
        action,
        &target,
        &context.for_hop(1),
        &context.session_for_hop(1),
    )
    .ok_or_else(|| {
        QueryError(format!(
            "unknown principal `{}`: not a role, role session or user of the snapshot",
            crate::escape::terminal(principal)
        ))
    })?;
    let mut answer = CanAnswer {
        decision: direct.decision,
        deciding: direct.deciding.clone(),
        conditions: direct.conditions.clone(),
        chain: Vec::new(),
        principal: principal.to_string(),
        action: action.to_string(),
        resource: target.arn.clone(),
        grants: direct.grants.clone(),
        evaluated: None,
        gaps: Vec::new(),
        assumed: direct.assumed.clone(),
    };
    let mut accounts: BTreeSet<String> = principal_account(t, principal)
        .map(str::to_string)
        .into_iter()
        .collect();
    accounts.extend(target.account.clone());
    if direct.decision != Verdict::Allowed
        && let Some((chain, hops, mut keys, d)) = best_chain(t, principal, action, &target, context)
        && {
            keys.extend(d.conditions.iter().cloned());
            keys.sort();
            keys.dedup();
            // The chain's verdict: allowed only when no hop and not the final request is
            // conditional.
            (if keys.is_empty() {
                Verdict::Allowed
            } else {
                Verdict::Conditional
            }) < direct.decision
        }
    {
        accounts.extend(chain.iter().filter_map(|r| principal_account(t, r)).map(str::to_string));
        answer.decision = if keys.is_empty() {
            Verdict::Allowed
        } else {
            Verdict::Conditional
        };
        answer.conditions = keys;
        answer.chain = hops;
        answer.grants = d.grants;
        answer.assumed.extend(d.assumed);
        answer.assumed.sort();
        answer.assumed.dedup();
    }
    let accounts: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
    answer.gaps = gaps_touching(t.snapshot, &accounts, None)
        .into_iter()
        .map(describe_gap)
        .collect();
    if !target.in_snapshot {
        answer.gaps.push(format!(
            "resource {} is not in the snapshot: its resource policy is unknown",
            target.arn
        ));
    }
    if !answer.gaps.is_empty() {
        answer.evaluated = Some(answer.decision);
        answer.decision = Verdict::NotProven;
    }
    Ok(answer)
}

impl CanAnswer {
    /// Writes the answer in `format`.
    pub fn render(&self, format: AnswerFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == AnswerFormat::Json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            return writeln!(out);
        }
        let s = |v: &str| shown(format, v);
        let bullet = if format == AnswerFormat::Markdown { "- " } else { "  " };
        let mut head = format!(
            "{}: {} can do {} on {}",
            self.decision.as_str(),
            s(&self.principal),
            s(&self.action),
            s(&self.resource)
        );
        if self.decision == Verdict::Denied {
            head = format!(
                "denied: {} cannot do {} on {}",
                s(&self.principal),
                s(&self.action),
                s(&self.resource)
            );
        }
        for h in &self.chain {
            head.push_str(&format!(" through {} ({})", s(&h.to), s(&h.detail)));
        }
        if format == AnswerFormat::Markdown {
            writeln!(out, "**{head}**\n")?;
        } else {
            writeln!(out, "{head}")?;
        }
        if let Some(d) = &self.deciding {
            let at = d.at.as_deref().map(|a| format!(" at {}", s(a))).unwrap_or_default();
            let kind = if d.explicit { "explicit deny" } else { "implicit deny" };
            let which = if self.chain.is_empty() {
                "deciding"
            } else {
                "the direct request"
            };
            writeln!(out, "{bullet}{which}: {kind}, layer {}{at}: {}", d.layer, s(&d.detail))?;
        }
        for g in &self.grants {
            writeln!(
                out,
                "{bullet}granted by {} {} statement {}",
                g.layer,
                s(&g.policy),
                s(&g.statement)
            )?;
        }
        if !self.conditions.is_empty() {
            let keys: Vec<String> = self.conditions.iter().map(|k| s(k)).collect();
            writeln!(
                out,
                "{bullet}undecided condition keys: {} (decide them with --context KEY=VALUE)",
                keys.join(", ")
            )?;
        }
        if let Some(e) = self.evaluated {
            writeln!(
                out,
                "{bullet}not proven: the snapshot alone says {}, but it could not see:",
                e.as_str()
            )?;
        }
        for g in &self.gaps {
            writeln!(out, "{bullet}gap: {}", s(g))?;
        }
        for a in &self.assumed {
            writeln!(out, "{bullet}assumed: {}", s(a))?;
        }
        Ok(())
    }
}
