//! Who a policy's `AWS` principal element lets in, grouped the way the decision is made: a named
//! role is one principal; an account (`arn:aws:iam::ACCOUNT:root` or the bare id) is every
//! principal that account's administrators allow; `"*"` pinned by `aws:PrincipalAccount` is
//! those accounts, pinned by `aws:PrincipalOrgID` is the organization (one caller, not one per
//! member), and otherwise anyone.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>

use crate::arn::{Arn, is_account_id, named_account};
use crate::iam::condition::{RequestContext, Truth, evaluate_all};
use crate::iam::eval::{Request, request_context};
use crate::iam::policy::Statement;
use std::collections::{BTreeMap, BTreeSet};

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

    /// The request context of a direct call by `caller` (an IAM principal, not a service acting
    /// for a resource) on a resource of `resource_account`: [`OrgFacts::context`] completed by
    /// [`request_context`] — `aws:SourceAccount`/`aws:SourceArn` absent, `aws:SourceOwner` and
    /// `kms:CallerAccount` the caller's account, `aws:ResourceAccount` the resource's. A caller
    /// standing for a whole account has no known principal ARN or type. `None` for a caller
    /// with no single account (the organization, anyone, a service).
    pub fn direct_call(&self, caller: &Caller, resource_account: &str) -> Option<RequestContext> {
        let (principal, account) = match caller {
            Caller::Principal(p) => (p.clone(), caller.account()?.to_string()),
            Caller::AccountAdmins(a) => (format!("arn:aws:iam::{a}:root"), a.clone()),
            _ => return None,
        };
        let base = self.context(caller);
        let req = Request {
            principal: &principal,
            principal_account: &account,
            action: "",
            resource: "",
            resource_account: Some(resource_account),
            context: &base,
        };
        let mut ctx = request_context(&req);
        if matches!(caller, Caller::AccountAdmins(_)) {
            ctx.forget("aws:PrincipalArn").forget("aws:PrincipalType");
        }
        Some(ctx)
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

    /// Whether a statement's conditions hold for a direct call by `caller` (see
    /// [`OrgFacts::direct_call`]); the organization as a whole gets its id and nothing else.
    fn truth(&self, st: &Statement, caller: &Caller, resource_account: &str) -> Truth {
        let ctx = self.direct_call(caller, resource_account).unwrap_or_else(|| {
            let mut ctx = self.context(caller);
            ctx.absent("aws:SourceAccount")
                .absent("aws:SourceArn")
                .set("aws:PrincipalIsAWSService", "false")
                .set("aws:ResourceAccount", resource_account);
            ctx
        });
        evaluate_all(&st.conditions, &ctx)
    }
}

/// An account id no policy names, standing for every account a statement does not name.
const UNNAMED_ACCOUNT: &str = "000000000000";

/// The callers an Allow statement's `AWS` principal values stand for, each with whether the
/// statement's conditions hold for a direct call by it on a resource of `resource_account`
/// (true, unknown with the keys; false dropped). This is the one place where trust and
/// resource policies meet the request context of a principal's own call.
///
/// `"*"` that no principal key pins is tried for every account the conditions name and for one
/// they do not: when that unnamed account is shut out (AWS's default SNS topic policy pins
/// `AWS:SourceOwner` to the owner), the statement lets in only the named accounts' principals,
/// each as that account's administrators.
pub fn callers_of(st: &Statement, org: OrgFacts<'_>, resource_account: &str) -> Vec<(Caller, Truth)> {
    let Some(principal) = st.principal.as_ref().filter(|p| !p.is_negated()) else {
        return Vec::new();
    };
    let mut callers: BTreeSet<Caller> = BTreeSet::new();
    for v in principal.inner().values("AWS") {
        if v == "*" {
            callers.extend(wildcard_callers(st, org));
        } else if let Some(account) = named_account(v) {
            callers.insert(Caller::AccountAdmins(account.to_string()));
        } else {
            callers.insert(Caller::Principal(v.to_string()));
        }
    }
    let mut out: BTreeMap<Caller, Truth> = BTreeMap::new();
    for c in callers {
        let found = if c == Caller::Anyone {
            anyone(st, org, resource_account)
        } else {
            vec![(c.clone(), org.truth(st, &c, resource_account))]
        };
        for (c, t) in found.into_iter().filter(|(_, t)| *t != Truth::False) {
            let merged = out.remove(&c).map_or(t.clone(), |old| old.or(t));
            out.insert(c, merged);
        }
    }
    out.into_iter().collect()
}

/// Whether a Deny statement of a resource or trust policy applies to a direct call by `caller`
/// on a resource of `resource_account`: its `Principal` names `*`, the caller's account or the
/// caller (or its `NotPrincipal` names none of them), and its conditions hold in the caller's
/// request context — true, unknown with the undecided keys, or false. For the synthetic callers
/// only a `*` principal can match: a Deny naming one account does not shut out "anyone". A
/// `NotPrincipal` spares a named principal only when it names that principal itself: naming its
/// account is not enough (the page's own example denies everyone of the account but Bob).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
pub fn deny_applies(st: &Statement, org: OrgFacts<'_>, caller: &Caller, resource_account: &str) -> Truth {
    let Some(principal) = st.principal.as_ref() else {
        return Truth::False;
    };
    // A `Principal` naming an account names every principal of it; a `NotPrincipal` naming an
    // account spares only the account itself (its administrators here), not a named principal
    // of it, which is spared only when named too.
    let negated = principal.is_negated();
    let names_caller = principal.inner().values("AWS").into_iter().any(|v| {
        v == "*"
            || (!(negated && matches!(caller, Caller::Principal(_)))
                && named_account(v).is_some_and(|a| caller.account() == Some(a)))
            || matches!(caller, Caller::Principal(p) if p == v)
    });
    if names_caller == principal.is_negated() {
        return Truth::False;
    }
    org.truth(st, caller, resource_account)
}

/// `"*"` unpinned by principal keys: anyone when an account the statement does not name gets
/// in, else the administrators of each named account that gets in.
fn anyone(st: &Statement, org: OrgFacts<'_>, resource_account: &str) -> Vec<(Caller, Truth)> {
    let mut named: Vec<&str> = st
        .conditions
        .iter()
        .flat_map(|c| c.values.iter())
        .map(String::as_str)
        .filter(|v| is_account_id(v))
        .collect();
    named.sort_unstable();
    named.dedup();
    let each: Vec<(Caller, Truth)> = named
        .iter()
        .map(|a| {
            let c = Caller::AccountAdmins((*a).to_string());
            let t = org.truth(st, &c, resource_account);
            (c, t)
        })
        .collect();
    // The unnamed account stands for accounts of any organization but ours.
    let unnamed = org
        .direct_call(&Caller::AccountAdmins(UNNAMED_ACCOUNT.to_string()), resource_account)
        .map_or(Truth::Unknown(Vec::new()), |mut ctx| {
            ctx.forget("aws:PrincipalOrgID");
            evaluate_all(&st.conditions, &ctx)
        });
    if unnamed == Truth::False {
        return each;
    }
    let truth = each.into_iter().fold(unnamed, |acc, (_, t)| acc.or(t));
    vec![(Caller::Anyone, truth)]
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

#[cfg(test)]
mod deny_tests {
    use super::{Caller, OrgFacts, deny_applies};
    use crate::iam::Policy;
    use crate::iam::condition::Truth;
    use std::collections::BTreeSet;

    const BOB: &str = "arn:aws:iam::444455556666:user/Bob";
    const ALICE: &str = "arn:aws:iam::444455556666:user/Alice";

    fn applies(not_principal: &[&str], caller: &Caller) -> bool {
        let policy = Policy::from_value(&serde_json::json!({"Statement": [{
            "Effect": "Deny", "NotPrincipal": {"AWS": not_principal}, "Action": "s3:*", "Resource": "*"}]}))
        .unwrap();
        let accounts: BTreeSet<String> = ["444455556666".to_string(), "111122223333".to_string()].into();
        let org = OrgFacts {
            id: None,
            accounts: &accounts,
        };
        matches!(
            deny_applies(&policy.statements[0], org, caller, "111122223333"),
            Truth::True
        )
    }

    /// "All principals except the user named Bob in account 444455556666 are explicitly
    /// denied": the element names Bob and his account, and Alice of the same account is denied.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
    #[test]
    fn fires_not_principal_naming_the_account_still_denies_its_other_principals() {
        let element = [BOB, "arn:aws:iam::444455556666:root"];
        assert!(applies(&element, &Caller::Principal(ALICE.to_string())));
        assert!(!applies(&element, &Caller::Principal(BOB.to_string())));
        // near miss: the account itself (its administrators) is spared by its root ARN or id
        assert!(!applies(&element, &Caller::AccountAdmins("444455556666".to_string())));
        assert!(!applies(
            &["444455556666"],
            &Caller::AccountAdmins("444455556666".to_string())
        ));
        // quiet for a positive Principal: naming the account names Alice
        let policy = Policy::from_value(&serde_json::json!({"Statement": [{
            "Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "s3:*", "Resource": "*"}]}))
        .unwrap();
        let accounts = BTreeSet::new();
        let org = OrgFacts {
            id: None,
            accounts: &accounts,
        };
        let alice = Caller::Principal(ALICE.to_string());
        assert!(matches!(
            deny_applies(&policy.statements[0], org, &alice, "111122223333"),
            Truth::True
        ));
    }
}
