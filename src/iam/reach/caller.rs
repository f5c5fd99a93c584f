//! Who a policy's `AWS` principal element lets in, grouped the way the decision is made: a named
//! role is one principal; an account (`arn:aws:iam::ACCOUNT:root` or the bare id) is every
//! principal that account's administrators allow; `"*"` pinned by `aws:PrincipalAccount` is
//! those accounts, pinned by `aws:PrincipalOrgID` is the organization (one caller, not one per
//! member), and otherwise anyone.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>

use crate::arn::{Arn, is_account_id, root_account};
use crate::iam::condition::{RequestContext, Truth, evaluate_all};
use crate::iam::policy::Statement;
use std::collections::BTreeSet;

/// A caller named by a trust or resource policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Caller {
    /// A named IAM principal (role, user or session ARN).
    Principal(String),
    /// A service principal such as `aidevops.amazonaws.com`.
    Service(String),
    /// Every principal of the account that its administrators allow (a synthetic principal).
    AccountAdmins(String),
    /// Any principal in the organization (`"*"` with `aws:PrincipalOrgID`).
    Organization(String),
    /// Any principal of any account (`"*"` without an account or organization pin).
    Anyone,
}

impl Caller {
    /// The identifier evidence and `allow` entries use: the ARN, the service, the account root
    /// ARN, `aws:PrincipalOrgID=<org>` or `*`.
    pub fn id(&self) -> String {
        match self {
            Caller::Principal(p) | Caller::Service(p) => p.clone(),
            Caller::AccountAdmins(a) => format!("arn:aws:iam::{a}:root"),
            Caller::Organization(o) => format!("aws:PrincipalOrgID={o}"),
            Caller::Anyone => "*".to_string(),
        }
    }

    /// A phrase naming the caller in a message.
    pub fn describe(&self) -> String {
        match self {
            Caller::Principal(p) => format!("`{p}`"),
            Caller::Service(s) => format!("service `{s}`"),
            Caller::AccountAdmins(a) => format!("any principal that account `{a}`'s administrators allow"),
            Caller::Organization(o) => format!("any principal in organization `{o}`"),
            Caller::Anyone => "any principal of any account".to_string(),
        }
    }

    /// The caller's account when it has exactly one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Principal(p) => Arn::parse(p).ok().and_then(|a| a.account()),
            Caller::AccountAdmins(a) => Some(a),
            _ => None,
        }
    }

    /// True when the caller stands for principals the snapshot cannot enumerate.
    pub fn is_synthetic(&self) -> bool {
        matches!(
            self,
            Caller::AccountAdmins(_) | Caller::Organization(_) | Caller::Anyone
        )
    }

    /// True when the caller may be a principal of an account other than `account`.
    pub fn is_outside(&self, account: &str) -> bool {
        match self {
            Caller::Service(_) => false,
            Caller::Organization(_) | Caller::Anyone => true,
            Caller::Principal(_) | Caller::AccountAdmins(_) => self.account().is_some_and(|a| a != account),
        }
    }
}

/// What the organization looks like to caller classification.
#[derive(Debug, Clone, Copy)]
pub struct OrgFacts<'a> {
    pub id: Option<&'a str>,
    pub accounts: &'a BTreeSet<String>,
}

impl OrgFacts<'_> {
    /// What is known about a request from `caller`: its account and organization, where they
    /// follow from the caller itself.
    pub fn context(&self, caller: &Caller) -> RequestContext {
        let mut ctx = RequestContext::new();
        match caller {
            Caller::Principal(p) => {
                ctx.set("aws:PrincipalArn", p.as_str());
                if let Some(a) = caller.account() {
                    self.account_facts(&mut ctx, a);
                }
            }
            Caller::AccountAdmins(a) => self.account_facts(&mut ctx, a),
            Caller::Organization(o) => {
                ctx.set("aws:PrincipalOrgID", o.as_str());
            }
            Caller::Service(_) | Caller::Anyone => {}
        }
        ctx
    }

    fn account_facts(&self, ctx: &mut RequestContext, account: &str) {
        ctx.set("aws:PrincipalAccount", account);
        match self.id {
            Some(org) if self.accounts.contains(account) => ctx.set("aws:PrincipalOrgID", org),
            // An account outside the organization is in none that the policy can name.
            _ if !self.accounts.contains(account) => ctx.absent("aws:PrincipalOrgID"),
            _ => ctx,
        };
    }
}

/// The callers an Allow statement's `AWS` principal values stand for, each with whether the
/// statement's conditions hold for it (true, unknown with the keys, false dropped).
pub fn callers_of(st: &Statement, org: OrgFacts<'_>) -> Vec<(Caller, Truth)> {
    let Some(principal) = st.principal.as_ref().filter(|p| !p.is_negated()) else {
        return Vec::new();
    };
    let mut callers: BTreeSet<Caller> = BTreeSet::new();
    for v in principal.inner().values("AWS") {
        if v == "*" {
            callers.extend(wildcard_callers(st, org));
        } else if let Some(account) = root_account(v).or(is_account_id(v).then_some(v)) {
            callers.insert(Caller::AccountAdmins(account.to_string()));
        } else {
            callers.insert(Caller::Principal(v.to_string()));
        }
    }
    callers
        .into_iter()
        .filter_map(|c| match evaluate_all(&st.conditions, &org.context(&c)) {
            Truth::False => None,
            t => Some((c, t)),
        })
        .collect()
}

/// `"*"`: the accounts `aws:PrincipalAccount` pins, else the organization `aws:PrincipalOrgID`
/// pins, else anyone.
fn wildcard_callers(st: &Statement, org: OrgFacts<'_>) -> Vec<Caller> {
    let pinned = |key: &str| -> Vec<String> {
        st.condition_values(key)
            .filter(|c| matches!(c.operator.as_str(), "StringEquals" | "ForAnyValue:StringEquals"))
            .flat_map(|c| c.values.iter().cloned())
            .collect()
    };
    let accounts = pinned("aws:PrincipalAccount");
    if !accounts.is_empty() {
        return accounts.into_iter().map(Caller::AccountAdmins).collect();
    }
    let orgs = pinned("aws:PrincipalOrgID");
    if !orgs.is_empty() {
        // Only our own organization is one the snapshot can place callers in; another one is
        // anyone as far as we know.
        return orgs
            .into_iter()
            .map(|o| {
                if org.id == Some(o.as_str()) {
                    Caller::Organization(o)
                } else {
                    Caller::Anyone
                }
            })
            .collect();
    }
    vec![Caller::Anyone]
}
