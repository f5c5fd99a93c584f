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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Snapshot, parse_snapshot};
    use serde_json::{Value, json};
    use std::path::Path;

    const ACCOUNT: &str = "111111111111";
    const ROLE: &str = "arn:aws:iam::111111111111:role/worker";

    /// One account with one role per `(name, inline policy)`.
    fn snapshot(roles: &[(&str, Value)]) -> Snapshot {
        let roles: Vec<Value> = roles
            .iter()
            .map(|(name, doc)| {
                json!({"arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"), "account": ACCOUNT, "name": name,
                       "trust_policy": {"Version": "2012-10-17", "Statement": []},
                       "inline_policies": [{"name": "p", "document": doc}]})
            })
            .collect();
        let v =
            json!({"schema_version": 1, "organization": {"accounts": [{"id": ACCOUNT, "name": "a"}]}, "roles": roles});
        parse_snapshot(&v.to_string(), Path::new("t.json")).unwrap()
    }

    fn allow(action: &str, resource: Value) -> Value {
        json!({"Effect": "Allow", "Action": action, "Resource": resource})
    }

    fn policy(statements: Vec<Value>) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn caps_of(
        s: &Snapshot,
        catalog: &Catalog,
        role: &str,
        target: Target<'_>,
        classes: &[ActionClass],
    ) -> Vec<String> {
        let store = PolicyStore::new(s);
        capabilities(&store, catalog, None, role, target, classes)
            .into_iter()
            .map(|c| format!("{} {} {:?}", c.action, c.resource, c.conditional_on))
            .collect()
    }

    fn resource(arn: &str) -> Target<'_> {
        Target::Resource {
            arn,
            account: Some(ACCOUNT),
            region: None,
            tags: None,
            policy: None,
        }
    }

    /// Without a resource, each resource an Allow statement names is judged on its own; a
    /// resource in one region fixes `aws:RequestedRegion` (the region the request goes to), a
    /// region wildcard leaves it unknown, and Deny statements grant nothing.
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    #[test]
    fn own_statements_judge_each_named_resource_in_its_region() {
        let q = |region: &str, name: &str| format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}");
        let doc = policy(vec![
            allow(
                "sqs:SendMessage",
                json!([q("eu-west-1", "a"), q("us-east-1", "b"), q("eu-*", "c")]),
            ),
            json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}),
        ]);
        let s = snapshot(&[("worker", doc)]);
        let caps = caps_of(
            &s,
            Catalog::get().unwrap(),
            ROLE,
            Target::OwnStatements,
            ActionClass::CHANGES,
        );
        assert_eq!(
            caps,
            vec![
                format!("sqs:SendMessage {} [\"aws:RequestedRegion\"]", q("eu-*", "c")),
                format!("sqs:SendMessage {} []", q("eu-west-1", "a")),
            ]
        );
    }

    /// Against one resource only the actions of that resource's service count.
    #[test]
    fn a_resource_is_judged_with_its_own_services_actions_only() {
        let doc = policy(vec![
            allow("sqs:SendMessage", json!("*")),
            allow("s3:PutObject", json!("*")),
        ]);
        let s = snapshot(&[("worker", doc)]);
        let queue = format!("arn:aws:sqs:eu-west-1:{ACCOUNT}:q");
        let caps = caps_of(
            &s,
            Catalog::get().unwrap(),
            ROLE,
            resource(&queue),
            ActionClass::CHANGES,
        );
        assert_eq!(caps, vec![format!("sqs:SendMessage {queue} []")]);
        // Near miss: a read class asks for no write.
        let reads = caps_of(
            &s,
            Catalog::get().unwrap(),
            ROLE,
            resource(&queue),
            &[ActionClass::ContentRead],
        );
        assert!(reads.is_empty(), "{reads:?}");
    }

    /// Roles whose Allow statements differ get their own action sets (the expansion cache is
    /// keyed by the Allow statements), and the pre-check tells them apart.
    #[test]
    fn roles_with_different_allows_have_different_capabilities() {
        let s = snapshot(&[
            ("writer", policy(vec![allow("s3:PutObject", json!("*"))])),
            ("sender", policy(vec![allow("sqs:SendMessage", json!("*"))])),
            ("reader", policy(vec![allow("sqs:ListQueues", json!("*"))])),
        ]);
        let store = PolicyStore::new(&s);
        let catalog = Catalog::get().unwrap();
        let arn = |n: &str| format!("arn:aws:iam::{ACCOUNT}:role/{n}");
        let (writer, sender, reader) = (arn("writer"), arn("sender"), arn("reader"));
        let actions = |role: &str| -> Vec<String> {
            let view = RoleView::new(&store, catalog, None, role).unwrap();
            assert_eq!(view.role(), role);
            view.capabilities(Target::OwnStatements, ActionClass::CHANGES)
                .into_iter()
                .map(|c| c.action)
                .collect()
        };
        assert_eq!(actions(&writer), vec!["s3:PutObject"]);
        assert_eq!(actions(&sender), vec!["sqs:SendMessage"]);
        let may = |role: &str| {
            RoleView::new(&store, catalog, None, role)
                .unwrap()
                .may_have(ActionClass::CHANGES)
        };
        assert!(may(&sender));
        assert!(!may(&reader));
        assert!(RoleView::new(&store, catalog, None, "arn:aws:iam::111111111111:role/none").is_none());
    }

    /// The actions and their classes come from the catalog passed in, not the embedded one.
    #[test]
    fn another_catalog_is_used_as_given() {
        let tiny = r#"{"source":"test","services":{"s3":{"name":"Amazon S3","actions":{
            "PutObject":{"access":"Read","resource_types":[]}},"resource_types":{}}}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, tiny.as_bytes()).unwrap();
        let catalog = Catalog::from_sources(&gz.finish().unwrap(), "").unwrap();
        let s = snapshot(&[("worker", policy(vec![allow("s3:*", json!("*"))]))]);
        let caps = caps_of(&s, &catalog, ROLE, Target::OwnStatements, &[ActionClass::MetadataRead]);
        assert_eq!(caps, vec!["s3:PutObject * []"]);
    }

    fn cap(action: &str, grants: &[(&str, &str)]) -> Capability {
        Capability {
            action: action.into(),
            class: ActionClass::Write,
            resource: "*".into(),
            conditional_on: Vec::new(),
            grants: grants
                .iter()
                .map(|(p, s)| StatementRef {
                    policy: (*p).into(),
                    statement: (*s).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn grant_labels_are_sorted_without_repeats() {
        let caps = [
            cap("s3:PutObject", &[("role/b", "1"), ("role/a", "W")]),
            cap("s3:DeleteObject", &[("role/a", "W")]),
        ];
        assert_eq!(grant_labels(&caps), vec!["role/a statement W", "role/b statement 1"]);
        assert!(grant_labels(&[cap("s3:PutObject", &[])]).is_empty());
    }

    #[test]
    fn summarize_actions_counts_the_rest() {
        assert_eq!(summarize_actions(&["a:A", "a:B", "a:C"], 2), "a:A, a:B and 1 more");
        assert_eq!(summarize_actions(&["a:A", "a:B"], 2), "a:A, a:B");
        assert_eq!(summarize_actions(&["a:A"], 2), "a:A");
        assert_eq!(summarize_actions(&[], 2), "");
    }
}
