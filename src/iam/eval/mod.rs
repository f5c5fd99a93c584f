//! Evaluation of one request (principal, action, resource) following AWS's policy evaluation
//! logic: an explicit deny anywhere wins; every level of SCPs on the principal account's OU path
//! must allow (service-linked roles and the management account are exempt); every level of RCPs
//! on the resource account's path must allow; then an identity-policy allow (limited by the
//! permission boundary) or a resource-policy allow grants the request — both are needed across
//! accounts. Conditions whose values are unknown make the result conditional, naming the keys.

use super::condition::{RequestContext, Truth, evaluate_all};
use super::policy::{Effect, Matcher, Policy, Principal, Statement};
use crate::arn::{glob_match, root_account};

/// A policy with a name for evidence (e.g. `inline policy `x` of role/y`, a managed policy ARN).
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'p> {
    pub name: &'p str,
    pub policy: &'p Policy,
}

/// Every policy that applies to one principal and resource.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'p> {
    /// Inline, customer managed and AWS managed policies of the principal.
    pub identity: Vec<NamedPolicy<'p>>,
    pub boundary: Option<NamedPolicy<'p>>,
    /// SCPs per level of the principal account's path (root first, the account last).
    pub scps: Vec<Vec<NamedPolicy<'p>>>,
    /// RCPs per level of the resource account's path; empty when the organization uses none.
    pub rcps: Vec<Vec<NamedPolicy<'p>>>,
    pub resource_policy: Option<NamedPolicy<'p>>,
    /// Service-linked roles and principals of the management account are not limited by SCPs.
    pub scp_exempt: bool,
}

/// The request being decided.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: &'a str,
    pub principal_account: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    /// `None` when the resource's account is not known (S3 bucket ARNs carry none).
    pub resource_account: Option<&'a str>,
    pub context: &'a RequestContext,
}

/// A statement that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatementRef {
    pub policy: String,
    /// `Sid` if present, else `#index`.
    pub statement: String,
}

/// Why a request is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    Explicit(StatementRef),
    /// No SCP at this level of the OU path (0 = root) allows the action.
    Scp(usize),
    Rcp(usize),
    /// The identity policies allow it, the permission boundary does not.
    Boundary,
    /// Nothing allows it.
    NoAllow,
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed {
        grants: Vec<StatementRef>,
    },
    /// Allowed only if conditions on these keys hold (or a deny conditioned on them does not).
    Conditional {
        grants: Vec<StatementRef>,
        keys: Vec<String>,
    },
    Denied(DenyReason),
}

impl Decision {
    pub fn is_denied(&self) -> bool {
        matches!(self, Decision::Denied(_))
    }
}

fn label(i: usize, st: &Statement) -> String {
    st.sid
        .as_ref()
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("#{i}"), |s| s.clone())
}

/// How a resource-policy principal element names the request's principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    None,
    /// Through its account (`arn:aws:iam::ACCOUNT:root` or the bare id): the identity policies
    /// must allow too.
    Account,
    /// By its ARN or `*`.
    Direct,
}

fn principal_match(p: &Matcher<Principal>, req: &Request<'_>) -> PrincipalMatch {
    let direct = |values: Vec<&str>| {
        let mut best = PrincipalMatch::None;
        for v in values {
            if v == "*" || v == req.principal {
                return PrincipalMatch::Direct;
            }
            let account = root_account(v).unwrap_or(v);
            if account == req.principal_account {
                best = PrincipalMatch::Account;
            }
        }
        best
    };
    let m = match p.inner() {
        Principal::Any => PrincipalMatch::Direct,
        typed @ Principal::Typed(_) => direct(typed.values("AWS")),
    };
    if p.is_negated() {
        if m == PrincipalMatch::None {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::None
        }
    } else {
        m
    }
}

fn resource_truth(st: &Statement, req: &Request<'_>) -> Truth {
    let Some(m) = &st.resource else { return Truth::True };
    let mut hit = false;
    let mut variable = false;
    for pattern in m.inner() {
        if pattern.contains("${") {
            // A policy variable in a resource pattern: its value is not known here.
            variable = true;
        } else {
            hit |= glob_match(pattern, req.resource);
        }
    }
    match (hit, variable, m.is_negated()) {
        (true, _, false) | (false, false, true) => Truth::True,
        (false, false, false) | (true, _, true) => Truth::False,
        (false, true, _) => Truth::Unknown(vec!["policy variable in Resource".to_string()]),
    }
}

/// Whether a statement applies to the request (principal checked only when `with_principal`).
fn applies(st: &Statement, req: &Request<'_>, with_principal: bool) -> (Truth, PrincipalMatch) {
    if !st.allows_action(req.action) {
        return (Truth::False, PrincipalMatch::None);
    }
    let pm = match (&st.principal, with_principal) {
        (Some(p), true) => principal_match(p, req),
        (None, true) => PrincipalMatch::None,
        (_, false) => PrincipalMatch::Direct,
    };
    if pm == PrincipalMatch::None {
        return (Truth::False, pm);
    }
    let t = resource_truth(st, req);
    if t == Truth::False {
        return (Truth::False, pm);
    }
    (t.and(evaluate_all(&st.conditions, req.context)), pm)
}

/// The allows of one group of policies: combined truth, the statements that granted, and the
/// strongest principal match among them.
fn allows(
    policies: &[NamedPolicy<'_>],
    req: &Request<'_>,
    with_principal: bool,
) -> (Truth, Vec<StatementRef>, PrincipalMatch) {
    let mut truth = Truth::False;
    let mut grants = Vec::new();
    let mut best = PrincipalMatch::None;
    for np in policies {
        for (i, st) in np
            .policy
            .statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.effect == Effect::Allow)
        {
            let (t, pm) = applies(st, req, with_principal);
            if t != Truth::False {
                grants.push(StatementRef {
                    policy: np.name.to_string(),
                    statement: label(i, st),
                });
                best = best.max(pm);
            }
            truth = truth.or(t);
        }
    }
    (truth, grants, best)
}

/// Decides one request.
pub fn evaluate(req: &Request<'_>, set: &PolicySet<'_>) -> Decision {
    let mut conditional: Vec<String> = Vec::new();
    let note = |t: Truth, conditional: &mut Vec<String>| -> bool {
        match t {
            Truth::True => true,
            Truth::False => false,
            Truth::Unknown(keys) => {
                conditional.extend(keys);
                false
            }
        }
    };

    // 1. Explicit deny anywhere.
    let resource_side = set.resource_policy.iter().chain(set.rcps.iter().flatten());
    let identity_side = set
        .identity
        .iter()
        .chain(set.boundary.iter())
        .chain(set.scps.iter().flatten());
    for (np, with_principal) in identity_side
        .map(|p| (p, false))
        .chain(resource_side.map(|p| (p, true)))
    {
        for (i, st) in np
            .policy
            .statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.effect == Effect::Deny)
        {
            let (t, _) = applies(st, req, with_principal);
            if note(t, &mut conditional) {
                return Decision::Denied(DenyReason::Explicit(StatementRef {
                    policy: np.name.to_string(),
                    statement: label(i, st),
                }));
            }
        }
    }

    // 2. SCPs: every level must allow.
    if !set.scp_exempt {
        for (level, policies) in set.scps.iter().enumerate() {
            let (t, _, _) = allows(policies, req, false);
            if t == Truth::False {
                return Decision::Denied(DenyReason::Scp(level));
            }
            note(t, &mut conditional);
        }
    }
    // 3. RCPs: every level of the resource account's path must allow.
    for (level, policies) in set.rcps.iter().enumerate() {
        let (t, _, _) = allows(policies, req, true);
        if t == Truth::False {
            return Decision::Denied(DenyReason::Rcp(level));
        }
        note(t, &mut conditional);
    }

    // 4. Identity (limited by the boundary) and resource policy.
    let (identity, identity_grants, _) = allows(&set.identity, req, false);
    let bounded = match &set.boundary {
        Some(b) => {
            let (bt, _, _) = allows(std::slice::from_ref(b), req, false);
            identity.clone().and(bt)
        }
        None => identity.clone(),
    };
    let (resource, resource_grants, how) = match &set.resource_policy {
        Some(rp) => allows(std::slice::from_ref(rp), req, true),
        None => (Truth::False, Vec::new(), PrincipalMatch::None),
    };
    let cross_account = req.resource_account.is_some_and(|a| a != req.principal_account);
    let granted = if cross_account {
        bounded.clone().and(resource.clone())
    } else if how == PrincipalMatch::Direct {
        bounded.clone().or(resource.clone())
    } else {
        bounded.clone()
    };
    match granted {
        Truth::False => {
            let reason = if identity != Truth::False && bounded == Truth::False {
                DenyReason::Boundary
            } else {
                DenyReason::NoAllow
            };
            Decision::Denied(reason)
        }
        t => {
            let mut grants: Vec<StatementRef> = identity_grants.into_iter().chain(resource_grants).collect();
            grants.sort();
            grants.dedup();
            if let Truth::Unknown(keys) = t {
                conditional.extend(keys);
            }
            if conditional.is_empty() {
                Decision::Allowed { grants }
            } else {
                conditional.sort();
                conditional.dedup();
                Decision::Conditional {
                    grants,
                    keys: conditional,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
