//! Evaluation of one request (principal, action, resource) following AWS's policy evaluation
//! logic: an explicit deny anywhere wins; every level of SCPs on the principal account's OU path
//! must allow (service-linked roles and the management account are exempt); every level of RCPs
//! on the resource account's path must allow; then an identity-policy allow (limited by the
//! permission boundary) or a resource-policy allow grants the request — both are needed across
//! accounts. Session policies, when the request is made by a session that was given some, limit
//! the identity policies and the resource-policy grants that name the role or user, not those
//! that name the session itself. Conditions whose values are unknown make the result
//! conditional, naming the keys.

use super::condition::{RequestContext, Truth, evaluate_all};
use super::policy::{Effect, Matcher, Policy, Principal, Statement};
use super::subresource::matches_some_under;
use crate::arn::{glob_match, named_account};

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
    /// The session policies passed when the session making the request was created (the inline
    /// one and the managed ones); empty when none was passed. See [`DenyReason::Session`].
    pub session: Vec<NamedPolicy<'p>>,
    /// Service-linked roles and principals of the management account are not limited by SCPs.
    pub scp_exempt: bool,
    /// What was assumed for lack of data (e.g. `FullAWSAccess` at an SCP level the snapshot does
    /// not record), to be said wherever the decision is explained.
    pub assumed: Vec<String>,
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
    /// It would be allowed, but no session policy of the session allows it: the session's
    /// permissions are the intersection of its identity-based policies and its session policies
    /// (a resource-based policy that names the session itself still grants).
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>
    Session,
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
    /// By the role's ARN: within the account the grant suffices, but a permission boundary and
    /// session policies still limit it.
    Role,
    /// By the user's ARN: within the account the grant suffices, a permission boundary does not
    /// limit it, session policies (of a federated user's session) do.
    User,
    /// By the session ARN or `*`: within the account the grant suffices, neither a permission
    /// boundary nor session policies limit it.
    Direct,
}

/// The role ARN a session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) belongs to,
/// without a path (a session ARN carries none): `arn:aws:iam::ACCOUNT:role/ROLE`.
pub fn session_role(principal: &str) -> Option<String> {
    let rest = principal.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("sts::")?;
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    (!role.is_empty() && !session.is_empty()).then(|| format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// True when a role ARN (with or without a path) is the role `name` of `account`.
fn same_role(role_arn: &str, bare: &str) -> bool {
    let name = |a: &str| a.rsplit('/').next().map(str::to_string);
    let account = |a: &str| a.split(':').nth(4).map(str::to_string);
    role_arn.contains(":role/") && name(role_arn) == name(bare) && account(role_arn) == account(bare)
}

fn principal_match(p: &Matcher<Principal>, req: &Request<'_>) -> PrincipalMatch {
    if p.is_negated() {
        return if not_principal_spares(p.inner(), req) {
            PrincipalMatch::None
        } else {
            PrincipalMatch::Direct
        };
    }
    let session_of = session_role(req.principal);
    let is_role = req.principal.contains(":role/");
    let direct = |values: Vec<&str>| {
        let mut best = PrincipalMatch::None;
        for v in values {
            let m = if v == "*" || (v == req.principal && session_of.is_some()) {
                PrincipalMatch::Direct
            } else if v == req.principal && !is_role {
                PrincipalMatch::User
            } else if v == req.principal || session_of.as_deref().is_some_and(|r| same_role(v, r)) {
                PrincipalMatch::Role
            } else if named_account(v) == Some(req.principal_account) {
                PrincipalMatch::Account
            } else {
                PrincipalMatch::None
            };
            best = best.max(m);
        }
        best
    };
    match p.inner() {
        Principal::Any => PrincipalMatch::Direct,
        typed @ Principal::Typed(_) => direct(typed.values("AWS")),
    }
}

/// Whether a `NotPrincipal` element spares the request's principal: only a principal it names
/// itself — a session by its session ARN, a user by its user ARN, an account's administrators by
/// the account — or `*`. Naming the account (or the role) spares none of the other principals in
/// it: `NotPrincipal` naming Bob and his account denies every other user of that account.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
fn not_principal_spares(p: &Principal, req: &Request<'_>) -> bool {
    let account_admins = req.principal.ends_with(":root");
    p.values("AWS")
        .into_iter()
        .any(|v| v == "*" || v == req.principal || (account_admins && named_account(v) == Some(req.principal_account)))
}

/// The keys [`request_context`] fills when the caller's context says nothing about them.
pub const DERIVED_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "kms:CallerAccount",
    "aws:SourceOwner",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalType",
    "aws:ResourceAccount",
    "s3:ResourceAccount",
];

/// What the request itself tells about the condition keys of a direct call by an IAM principal,
/// added where the caller's context says nothing: the principal's ARN, account and type, the
/// resource's account, `kms:CallerAccount`, `aws:SourceOwner` (the caller's account, as SNS sets
/// it for direct calls), and the absence of `aws:SourceAccount` / `aws:SourceArn` (present only
/// when a service calls on behalf of a resource). See [`super::keys`] for the reviewed table.
pub fn request_context(req: &Request<'_>) -> RequestContext {
    let mut ctx = req.context.clone();
    let iam_principal =
        req.principal.starts_with("arn:") && (req.principal.contains(":iam::") || req.principal.contains(":sts::"));
    if !iam_principal {
        return ctx;
    }
    let mut fill = |key: &str, value: Option<&str>| {
        if !ctx.knows(key) {
            match value {
                Some(v) => ctx.set(key, v),
                None => ctx.absent(key),
            };
        }
    };
    let role = session_role(req.principal);
    fill("aws:PrincipalArn", Some(role.as_deref().unwrap_or(req.principal)));
    fill("aws:PrincipalAccount", Some(req.principal_account));
    fill("kms:CallerAccount", Some(req.principal_account));
    fill("aws:SourceOwner", Some(req.principal_account));
    fill("aws:SourceAccount", None);
    fill("aws:SourceArn", None);
    fill("aws:PrincipalIsAWSService", Some("false"));
    let kind = if req.principal.contains(":user/") {
        "User"
    } else if req.principal.ends_with(":root") {
        "Account"
    } else {
        "AssumedRole"
    };
    fill("aws:PrincipalType", Some(kind));
    if let Some(account) = req.resource_account {
        fill("aws:ResourceAccount", Some(account));
        fill("s3:ResourceAccount", Some(account));
    }
    ctx
}

/// True for requests whose resource policy is primary: a KMS key's key policy and a role's trust
/// policy must allow the request (naming the principal, or its account together with an identity
/// allow) even within the account.
fn resource_policy_primary(req: &Request<'_>) -> bool {
    let action = req.action.to_ascii_lowercase();
    (action.starts_with("kms:") && req.resource.contains(":key/"))
        || (action.starts_with("sts:assumerole") && req.resource.contains(":role/"))
}

fn resource_truth(st: &Statement, req: &Request<'_>, some: bool) -> Truth {
    let Some(m) = &st.resource else { return Truth::True };
    let mut hit = false;
    let mut variable = false;
    for pattern in m.inner() {
        if super::pattern::has_variable(pattern) {
            // A policy variable in a resource pattern: its value is not known here.
            variable = true;
        } else if pattern.contains("${") {
            // Only `${*}`, `${?}`, `${$}`: literal characters.
            hit |= match some.then(|| req.resource.split('*').next()).flatten() {
                Some(prefix) => super::pattern::matches_some_under(pattern, prefix),
                None => super::pattern::matches(pattern, req.resource, false),
            };
        } else {
            hit |= match some.then(|| req.resource.split('*').next()).flatten() {
                Some(prefix) => matches_some_under(pattern, prefix),
                None => glob_match(pattern, req.resource),
            };
        }
    }
    match (hit, variable, m.is_negated()) {
        (true, _, false) | (false, false, true) => Truth::True,
        (false, false, false) | (true, _, true) => Truth::False,
        (false, true, _) => Truth::Unknown(vec!["policy variable in Resource".to_string()]),
    }
}

/// Whether a statement applies to the request (principal checked only when `with_principal`).
/// `some`: the request's resource is a pattern standing for sub-resources, and the statement
/// applies when it matches some of them (for allows); denies pass `false` and apply only when
/// they cover the whole pattern.
fn applies(st: &Statement, req: &Request<'_>, with_principal: bool, some: bool) -> (Truth, PrincipalMatch) {
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
    let t = resource_truth(st, req, some);
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
    some: bool,
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
            let (t, pm) = applies(st, req, with_principal, some);
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
    decide(req, set, false)
}

/// Decides whether the action is allowed on some of the sub-resources `req.resource` stands for
/// (an ARN pattern from [`super::subresource::action_targets`], e.g. `arn:aws:s3:::B/*`): an
/// allow needs to match some of them, a deny applies only when it covers the whole pattern.
pub fn evaluate_some(req: &Request<'_>, set: &PolicySet<'_>) -> Decision {
    decide(req, set, true)
}

fn decide(req: &Request<'_>, set: &PolicySet<'_>, some: bool) -> Decision {
    let ctx = request_context(req);
    let req = &Request { context: &ctx, ..*req };
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
    // SCPs do not affect principals of the management account or service-linked roles, their
    // Deny statements included.
    let scps = if set.scp_exempt { &[][..] } else { &set.scps[..] };
    let identity_side = set
        .identity
        .iter()
        .chain(set.boundary.iter())
        .chain(set.session.iter())
        .chain(scps.iter().flatten());
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
            // A resource-policy Deny with `NotPrincipal` always denies a principal that has a
            // permissions boundary, whatever the element names.
            // <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
            let not_principal = st.principal.as_ref().is_some_and(Matcher::is_negated);
            let with_principal = with_principal && !(not_principal && set.boundary.is_some());
            let (t, _) = applies(st, req, with_principal, false);
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
            let (t, _, _) = allows(policies, req, false, some);
            if t == Truth::False {
                return Decision::Denied(DenyReason::Scp(level));
            }
            note(t, &mut conditional);
        }
    }
    // 3. RCPs: every level of the resource account's path must allow.
    for (level, policies) in set.rcps.iter().enumerate() {
        let (t, _, _) = allows(policies, req, true, some);
        if t == Truth::False {
            return Decision::Denied(DenyReason::Rcp(level));
        }
        note(t, &mut conditional);
    }

    // 4. Identity (limited by the boundary) and resource policy.
    let (identity, identity_grants, _) = allows(&set.identity, req, false, some);
    let boundary_truth = set
        .boundary
        .as_ref()
        .map(|b| allows(std::slice::from_ref(b), req, false, some).0);
    let bounded = match &boundary_truth {
        Some(bt) => identity.clone().and(bt.clone()),
        None => identity.clone(),
    };
    let (resource, resource_grants, how) = match &set.resource_policy {
        Some(rp) => allows(std::slice::from_ref(rp), req, true, some),
        None => (Truth::False, Vec::new(), PrincipalMatch::None),
    };
    let (session, session_grants) = if set.session.is_empty() {
        (Truth::True, Vec::new())
    } else {
        let (t, g, _) = allows(&set.session, req, false, some);
        (t, g)
    };
    let cross_account = req.resource_account.is_some_and(|a| a != req.principal_account);
    let primary = set.resource_policy.is_some() && resource_policy_primary(req);
    let grant = |session: Truth| {
        // What the identity side grants: identity ∩ boundary ∩ session policies.
        let identity_side = bounded.clone().and(session.clone());
        match how {
            // Across accounts, or where the resource policy is primary, naming the account
            // delegates to the identity policies: both must allow.
            _ if cross_account => identity_side.and(resource.clone()),
            PrincipalMatch::Account | PrincipalMatch::None if primary => identity_side.and(resource.clone()),
            // Within the account a grant naming the session suffices, unbounded and not limited
            // by session policies.
            PrincipalMatch::Direct => identity_side.or(resource.clone()),
            // A grant naming the user suffices, unbounded, but session policies limit it.
            PrincipalMatch::User => identity_side.or(resource.clone().and(session)),
            // A grant naming the role ARN suffices, but the boundary and session policies limit it.
            PrincipalMatch::Role => {
                let limited = resource.clone().and(session);
                identity_side.or(match &boundary_truth {
                    Some(bt) => limited.and(bt.clone()),
                    None => limited,
                })
            }
            PrincipalMatch::Account | PrincipalMatch::None => identity_side,
        }
    };
    // Where the resource policy is primary (a role's trust policy, a key policy) it must allow
    // whatever the identity side grants: an identity allow does not stand in for a trust
    // statement whose conditions are undecided.
    let grant = |session: Truth| {
        let g = grant(session);
        if primary { g.and(resource.clone()) } else { g }
    };
    let granted = grant(session.clone());
    if granted == Truth::False && session == Truth::False && grant(Truth::True) != Truth::False {
        return Decision::Denied(DenyReason::Session);
    }
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
            let mut grants: Vec<StatementRef> = identity_grants
                .into_iter()
                .chain(resource_grants)
                .chain(session_grants)
                .collect();
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

#[cfg(test)]
mod rules_tests;
