//! Validation of every generated role before anything is written, with the policy parser, the
//! action catalog and the classification the checks use: any violation is a bug in the
//! generator, reported as [`RolesError::Invalid`].
//!
//! - every document parses, every action exists, sizes and counts are within IAM's limits;
//! - no `*` resource on an action that supports resource-level permissions;
//! - every statement carries an `aws:RequestedRegion` condition;
//! - content reads only on the application's own log groups (and X-Ray in its own accounts);
//! - no Write, Permissions management or Tagging action, except the mitigate allowlist on the
//!   application's own unshared resources (mitigate and Agent Space elevated roles); never an
//!   `iam:` action.

use super::actions::{MITIGATE_WRITES, own_log_group};
use super::{GeneratedRole, RolesError, compact_len, limits};
use crate::arn::glob_match;
use crate::escape::iam_literal;
use crate::graph::Topology;
use crate::iam::catalog::{ActionClass, Catalog};
use crate::iam::classify::allowed_actions;
use crate::iam::policy::{Effect, Matcher, Policy};
use std::collections::BTreeSet;

pub fn validate(t: &Topology<'_>, catalog: &Catalog, role: &GeneratedRole) -> Result<(), RolesError> {
    let fail = |problem: String| RolesError::Invalid {
        role: role.arn(),
        problem,
    };
    if role.name.len() > limits::ROLE_NAME {
        return Err(fail(format!(
            "role name is longer than {} characters",
            limits::ROLE_NAME
        )));
    }
    if role.policy_name(role.policies.len()).len() > limits::POLICY_NAME {
        return Err(fail(format!("policy names exceed {} characters", limits::POLICY_NAME)));
    }
    let trust_len = compact_len(&role.trust);
    if trust_len > limits::TRUST_POLICY {
        return Err(fail(format!(
            "trust policy has {trust_len} characters, more than {}",
            limits::TRUST_POLICY
        )));
    }
    Policy::from_value(&role.trust).map_err(|e| fail(format!("trust policy does not parse: {e}")))?;
    if role.policies.len() > limits::ATTACHED_PER_ROLE {
        return Err(fail(format!("{} managed policies attached", role.policies.len())));
    }
    let app = t.app_id(&role.application);
    let own: Vec<petgraph::graph::NodeIndex> = app.map(|a| t.owned_by(a).collect()).unwrap_or_default();
    // Resources are written as IAM literals (`crate::escape::iam_literal`); compare like with like.
    let own_logs: BTreeSet<String> = own
        .iter()
        .filter_map(|ix| own_log_group(t, *ix))
        .map(|g| iam_literal(&g).into_owned())
        .collect();
    let own_arns: BTreeSet<String> = own
        .iter()
        .filter(|ix| !t.is_shared(**ix))
        .map(|ix| iam_literal(t.node(*ix).id).into_owned())
        .filter(|_| !t.config.is_shared_account(&role.account))
        .collect();
    let own_log_strings: BTreeSet<String> = own_logs.iter().flat_map(|g| [g.clone(), format!("{g}:*")]).collect();
    // What a compressed pattern could match: everything of the role's account in the snapshot.
    let universe = super::compress::universe(t, &role.account);
    let account_owned = app.is_some() && t.find(&role.account).and_then(|ix| t.owner(ix)) == app;
    for (i, doc) in role.policies.iter().enumerate() {
        let at = |m: String| fail(format!("policy {}: {m}", i + 1));
        let len = compact_len(doc);
        if len > limits::MANAGED_POLICY {
            return Err(at(format!("{len} characters, more than {}", limits::MANAGED_POLICY)));
        }
        let policy = Policy::from_value(doc).map_err(|e| at(format!("does not parse: {e}")))?;
        let classified = allowed_actions(catalog, &[&policy]);
        if let Some(unknown) = classified.unknown.iter().next() {
            return Err(at(format!("action `{unknown}` is not in the catalog")));
        }
        if !role.kind.writes() && ActionClass::CHANGES.iter().any(|c| classified.has(*c)) {
            return Err(at("a read-only role grants a change".to_string()));
        }
        for st in &policy.statements {
            let sid = st.sid.clone().unwrap_or_default();
            let at = |m: String| fail(format!("policy {} statement `{sid}`: {m}", i + 1));
            if st.effect != Effect::Allow {
                return Err(at("not an Allow statement".to_string()));
            }
            if st.condition_values("aws:RequestedRegion").next().is_none() {
                return Err(at("no `aws:RequestedRegion` condition".to_string()));
            }
            let (Some(Matcher::Is(actions)), Some(Matcher::Is(resources))) = (&st.action, &st.resource) else {
                return Err(at("uses NotAction or NotResource".to_string()));
            };
            // Resource checks shared by every action of the statement, computed once.
            let mut logs_ok: Option<bool> = None;
            let mut writes_ok: Option<bool> = None;
            for name in actions {
                let Some(action) = catalog.action(name) else {
                    return Err(at(format!("action `{name}` is not in the catalog")));
                };
                if name.contains(['*', '?']) {
                    return Err(at(format!("action `{name}` is a wildcard")));
                }
                if action.supports_resource_level_permissions() && resources.iter().any(|r| r == "*") {
                    return Err(at(format!(
                        "`{name}` supports resource-level permissions but is granted on `*`"
                    )));
                }
                if action.service().eq_ignore_ascii_case("iam") {
                    return Err(at(format!("`{name}` is an IAM action")));
                }
                match action.class() {
                    ActionClass::MetadataRead => {}
                    ActionClass::ContentRead => {
                        let ok = match action.service() {
                            "logs" => *logs_ok.get_or_insert_with(|| {
                                resources.iter().all(|r| {
                                    own_log_strings.contains(r.as_str())
                                        || only_covers(r, &universe, &|x| own_log_strings.contains(x))
                                })
                            }),
                            "xray" => account_owned,
                            _ => false,
                        };
                        if !ok {
                            return Err(at(format!(
                                "content read `{name}` outside the application's own logs and traces"
                            )));
                        }
                    }
                    ActionClass::Write => {
                        let allowed = role.kind.writes()
                            && MITIGATE_WRITES
                                .iter()
                                .any(|(svc, _, names)| *svc == action.service() && names.contains(&action.name()))
                            && *writes_ok.get_or_insert_with(|| {
                                resources.iter().all(|r| {
                                    own_arns.contains(r.as_str())
                                        || only_covers(r, &universe, &|x| own_arns.contains(x))
                                })
                            });
                        if !allowed {
                            return Err(at(format!(
                                "write `{name}` is not an allowed mitigation on own resources"
                            )));
                        }
                    }
                    ActionClass::PermissionsManagement | ActionClass::Tagging => {
                        return Err(at(format!("`{name}` changes permissions or tags")));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A pattern of the role's account (`prefix*`) that matches at least one string of `universe`
/// and only strings `allowed` accepts.
fn only_covers(pattern: &str, universe: &BTreeSet<String>, allowed: &dyn Fn(&str) -> bool) -> bool {
    if !pattern.contains('*') {
        return false;
    }
    let mut matched = universe.iter().filter(|x| glob_match(pattern, x)).peekable();
    matched.peek().is_some() && matched.all(|x| allowed(x))
}
