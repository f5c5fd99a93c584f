//! Lays an [`Overlay`] over a snapshot: records are created, replaced or removed by ARN, policy
//! attachments and statements modify the records they name, unknown values become coverage gaps,
//! and the result is validated like any snapshot file.

use super::draft::{add_statement, remove_statement};
use super::{Action, Change, Draft, IacError, NotConsidered, Overlay, SourceLocation, Unknown};
use crate::model::{CoverageGap, LoadError, Snapshot, parse_snapshot};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// A snapshot with an overlay applied.
#[derive(Debug, Clone)]
pub struct Applied {
    pub snapshot: Snapshot,
    /// ARN → the template location that defines it: the resource of the record itself when the
    /// change defines it (an `AWS::IAM::User`, not the group membership that adds it to a
    /// group), else the first change that modifies it.
    pub sources: BTreeMap<String, SourceLocation>,
    /// ARN → the other template locations that change it (a membership, an attached policy), in
    /// file and line order, without the one in `sources`.
    pub related: BTreeMap<String, Vec<SourceLocation>>,
    pub not_considered: Vec<NotConsidered>,
    pub unknowns: Vec<Unknown>,
}

/// The coverage gap's error code for values known only after deployment. Its message is
/// `file:line:column (resource): `field``, the place of the value.
pub const UNKNOWN_CODE: &str = "KnownOnlyAfterApply";

/// The coverage gap's error code for a managed policy a change names whose document the
/// snapshot does not hold. Its message starts with the template location.
pub const POLICY_NOT_IN_SNAPSHOT: &str = "PolicyNotInSnapshot";

/// Applies `overlay` to a copy of `base`. Fails on a change in an account the snapshot does not
/// hold, on a change naming a record that neither side defines, and when the result is not a
/// valid snapshot.
pub fn apply(base: &Snapshot, overlay: &Overlay) -> Result<Applied, IacError> {
    let mut s = base.clone();
    let accounts: HashSet<String> = s.organization.accounts.iter().map(|a| a.id.clone()).collect();
    let mut changes: Vec<&Change> = overlay.changes.iter().collect();
    changes.sort_by_key(|c| c.draft.phase());
    let mut sources: BTreeMap<String, SourceLocation> = BTreeMap::new();
    let mut related: BTreeMap<String, Vec<SourceLocation>> = BTreeMap::new();
    for change in changes {
        let account = change.draft.account();
        if !accounts.contains(account) {
            return Err(IacError::at(
                &change.location,
                format!(
                    "deploys into account `{account}`, which is not in the snapshot: crawl that account or pass the right `--account`"
                ),
            ));
        }
        let touched = apply_one(&mut s, change).map_err(|m| IacError::at(&change.location, m))?;
        // Definitions are applied first (`Draft::phase`), so the first location of an ARN is
        // its definition when the change has one.
        for arn in touched {
            match sources.get(&arn) {
                None => {
                    sources.insert(arn, change.location.clone());
                }
                Some(first) if first != &change.location => {
                    let more = related.entry(arn).or_default();
                    if !more.contains(&change.location) {
                        more.push(change.location.clone());
                    }
                }
                Some(_) => {}
            }
        }
    }
    for more in related.values_mut() {
        more.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
    prune_unknown_policies(&mut s, &sources);
    for u in &overlay.unknowns {
        s.coverage.gaps.push(CoverageGap {
            account: Some(u.account.clone()),
            // IAM is global: a gap there concerns every region of the account.
            region: u.region.clone().filter(|_| !u.api.starts_with("iam:")),
            api: u.api.clone(),
            error_code: UNKNOWN_CODE.to_string(),
            message: format!("{}: `{}`", u.location, u.field),
        });
    }
    s.coverage.gaps.sort();
    s.coverage.gaps.dedup();
    let text = serde_json::to_string(&s).map_err(|e| IacError::file("(overlay)", e.to_string()))?;
    let snapshot = parse_snapshot(&text, Path::new("(snapshot with the change applied)"))
        .map_err(|e| misfit(&s, &sources, overlay, e))?;
    let mut not_considered = overlay.not_considered.clone();
    not_considered.sort();
    let mut unknowns = overlay.unknowns.clone();
    unknowns.sort();
    Ok(Applied {
        snapshot,
        sources,
        related,
        not_considered,
        unknowns,
    })
}

/// The change made the snapshot invalid: the error is placed at the template location of the
/// record the validator names (`rules[59].bus` → that rule's change), else at the first change.
fn misfit(s: &Snapshot, sources: &BTreeMap<String, SourceLocation>, overlay: &Overlay, e: LoadError) -> IacError {
    // A validation problem's message reads "`at`: what is wrong" (`model::load`).
    let first = match &e {
        LoadError::Invalid(d) => d.items.first().map(|i| i.message.clone()),
        _ => None,
    };
    let (at, message) = match first.as_deref().and_then(|m| m.split_once(": ")) {
        Some((at, message)) => (at.to_string(), message.to_string()),
        None => (String::new(), first.unwrap_or_else(|| e.to_string())),
    };
    let at = at.as_str();
    let (list, rest) = at.split_once('[').unwrap_or(("", ""));
    let index: Option<usize> = rest.split(']').next().and_then(|i| i.parse().ok());
    let arn = index.and_then(|i| match list {
        "roles" => s.roles.get(i).map(|r| r.arn.as_str()),
        "event_buses" => s.event_buses.get(i).map(|r| r.arn.as_str()),
        "rules" => s.rules.get(i).map(|r| r.arn.as_str()),
        "functions" => s.functions.get(i).map(|r| r.arn.as_str()),
        "resources" => s.resources.get(i).map(|r| r.arn.as_str()),
        "managed_policies" => s.managed_policies.get(i).map(|r| r.arn.as_str()),
        "users" => s.users.get(i).map(|r| r.arn.as_str()),
        "groups" => s.groups.get(i).map(|r| r.arn.as_str()),
        // A subscriber's problem is placed at the subscriber, when the change defines it.
        "event_buses_v2" => s.event_buses_v2.get(i).map(|b| {
            let sub = rest
                .split_once("subscribers[")
                .and_then(|(_, j)| j.split(']').next())
                .and_then(|j| j.parse::<usize>().ok())
                .and_then(|j| b.subscribers.get(j))
                .map(|x| x.arn.as_str())
                .filter(|a| sources.contains_key(*a));
            sub.unwrap_or(b.arn.as_str())
        }),
        "agent_spaces" => s.agent_spaces.get(i).map(|r| r.arn.as_str()),
        _ => None,
    });
    let field = at.split_once("].").map_or("", |(_, f)| f);
    match arn.and_then(|a| sources.get(a)) {
        Some(loc) => IacError::at(loc, format!("does not fit the snapshot: `{field}`: {message}")),
        None => {
            let file = overlay
                .changes
                .first()
                .map_or("(overlay)", |c| c.location.file.as_str());
            IacError::file(file, format!("the change does not fit the snapshot: {e}"))
        }
    }
}

/// Replaces the record with the same ARN, or appends it.
fn upsert<T>(list: &mut Vec<T>, item: T, arn: impl Fn(&T) -> &str) {
    let key = arn(&item).to_string();
    match list.iter_mut().find(|x| arn(x) == key) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

/// A role the change defines may name managed policies (or a boundary) whose documents the
/// snapshot does not hold — AWS managed policies no crawled role uses, or policies of other
/// stacks. They cannot be evaluated: they are left out, and each becomes a coverage gap naming
/// the template location, so the IAM checks say "not proven" for that account.
fn prune_unknown_policies(s: &mut Snapshot, sources: &BTreeMap<String, SourceLocation>) {
    let known: HashSet<String> = s.managed_policies.iter().map(|p| p.arn.clone()).collect();
    let mut gaps = Vec::new();
    for role in s.roles.iter_mut() {
        let Some(location) = sources.get(&role.arn) else {
            continue;
        };
        let mut gap = |policy: &str| {
            gaps.push(CoverageGap {
                account: Some(role.account.clone()),
                region: None,
                api: "iam:GetPolicyVersion".to_string(),
                error_code: POLICY_NOT_IN_SNAPSHOT.to_string(),
                message: format!("{location}: names `{policy}`, whose document is not in the snapshot"),
            });
        };
        role.attached_policies.retain(|p| {
            known.contains(p) || {
                gap(p);
                false
            }
        });
        if let Some(b) = role.permission_boundary.take_if(|b| !known.contains(b.as_str())) {
            gap(&b);
        }
    }
    // Users and groups the change defines: the same, through one gap per policy.
    let users = s.users.iter_mut().map(|u| {
        (
            &u.arn,
            &u.account,
            &mut u.attached_policies,
            Some(&mut u.permission_boundary),
        )
    });
    let groups = s
        .groups
        .iter_mut()
        .map(|g| (&g.arn, &g.account, &mut g.attached_policies, None));
    for (arn, account, attached, boundary) in users.chain(groups) {
        let Some(location) = sources.get(arn.as_str()) else {
            continue;
        };
        attached.retain(|p| {
            known.contains(p) || {
                gaps.push(super::entities::unheld_policy_gap(account, location, p));
                false
            }
        });
        if let Some(b) = boundary.and_then(|b| b.take_if(|b| !known.contains(b.as_str()))) {
            gaps.push(super::entities::unheld_policy_gap(account, location, &b));
        }
    }
    s.coverage.gaps.extend(gaps);
}

/// Every account has a default event bus in every region, whether or not the crawl recorded it
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus.html>): a rule on it
/// adds it when the snapshot lacks it.
fn default_bus(s: &mut Snapshot, rule: &crate::model::Rule) {
    let is_default = rule.bus.rsplit('/').next() == Some("default");
    if is_default && !s.event_buses.iter().any(|b| b.arn == rule.bus) {
        s.event_buses.push(crate::model::EventBus {
            arn: rule.bus.clone(),
            account: rule.account.clone(),
            region: rule.region.clone(),
            name: "default".to_string(),
            tags: Default::default(),
            policy: None,
        });
    }
}

/// An update that does not express a list (Terraform manages a rule's targets, a role's
/// attachments, a queue's policy as separate resources) keeps the snapshot's.
fn keep<T: Clone>(new: &mut Vec<T>, old: &[T]) {
    if new.is_empty() {
        *new = old.to_vec();
    }
}

fn remove<T>(list: &mut Vec<T>, key: &str, arn: impl Fn(&T) -> &str) {
    list.retain(|x| arn(x) != key);
}

/// Applies one change; returns the ARNs it created or changed.
fn apply_one(s: &mut Snapshot, change: &Change) -> Result<Vec<String>, String> {
    let delete = change.action == Action::Delete;
    let d = &change.draft;
    let mut touched = d.arn().map(str::to_string).into_iter().collect::<Vec<_>>();
    match d {
        Draft::User(_)
        | Draft::Group(_)
        | Draft::EntityPolicy { .. }
        | Draft::EntityAttachment { .. }
        | Draft::Membership { .. } => {
            return super::entities::apply(s, d, delete, &change.location);
        }
        Draft::EventBusV2(_)
        | Draft::BusV2Policy { .. }
        | Draft::Subscriber { .. }
        | Draft::BusShare { .. }
        | Draft::SharePrincipal { .. } => {
            return super::eventsv2::apply(s, d, delete);
        }
        Draft::AgentSpace(_) | Draft::Association { .. } => return super::devopsagent::apply(s, d, delete),
        Draft::Role(r) if delete => remove(&mut s.roles, &r.arn, |x| &x.arn),
        Draft::Role(r) => {
            let mut r = r.clone();
            if let Some(old) = s.roles.iter().find(|x| x.arn == r.arn) {
                keep(&mut r.inline_policies, &old.inline_policies);
                keep(&mut r.attached_policies, &old.attached_policies);
            }
            upsert(&mut s.roles, r, |x| &x.arn);
        }
        Draft::EventBus(b) if delete => remove(&mut s.event_buses, &b.arn, |x| &x.arn),
        Draft::EventBus(b) => {
            let mut b = b.clone();
            if let Some(old) = s.event_buses.iter().find(|x| x.arn == b.arn) {
                b.policy = b.policy.or_else(|| old.policy.clone());
            }
            upsert(&mut s.event_buses, b, |x| &x.arn);
        }
        Draft::Rule(r) if delete => remove(&mut s.rules, &r.arn, |x| &x.arn),
        Draft::Rule(r) => {
            default_bus(s, r);
            let mut r = r.clone();
            if let Some(old) = s.rules.iter().find(|x| x.arn == r.arn) {
                keep(&mut r.targets, &old.targets);
            }
            upsert(&mut s.rules, r, |x| &x.arn);
        }
        Draft::Function(f) if delete => remove(&mut s.functions, &f.arn, |x| &x.arn),
        Draft::Function(f) => {
            let mut f = f.clone();
            if let Some(old) = s.functions.iter().find(|x| x.arn == f.arn) {
                f.policy = f.policy.or_else(|| old.policy.clone());
            }
            upsert(&mut s.functions, f, |x| &x.arn);
        }
        Draft::Resource(r) if delete => remove(&mut s.resources, &r.arn, |x| &x.arn),
        Draft::Resource(r) => {
            let mut r = r.clone();
            if let Some(old) = s.resources.iter().find(|x| x.arn == r.arn) {
                r.policy = r.policy.or_else(|| old.policy.clone());
                keep(&mut r.aliases, &old.aliases);
            }
            upsert(&mut s.resources, r, |x| &x.arn);
        }
        Draft::EventSourceMapping { mapping, .. } if delete => {
            s.event_source_mappings.retain(|m| m.uuid != mapping.uuid)
        }
        Draft::EventSourceMapping { mapping, .. } => upsert(&mut s.event_source_mappings, mapping.clone(), |x| &x.uuid),
        Draft::ManagedPolicy { policy, account, roles } => {
            if delete {
                remove(&mut s.managed_policies, &policy.arn, |x| &x.arn);
            } else {
                upsert(&mut s.managed_policies, policy.clone(), |x| &x.arn);
            }
            for name in roles {
                touched.push(attach(s, account, name, &policy.arn, delete, &change.location)?);
            }
        }
        Draft::RoleAttachment {
            account,
            role,
            policy_arn,
        } => {
            touched.push(attach(s, account, role, policy_arn, delete, &change.location)?);
        }
        Draft::RolePolicy { account, roles, policy } => {
            for name in roles {
                let role = find_role(s, account, name)?;
                role.inline_policies.retain(|p| p.name != policy.name);
                if !delete {
                    role.inline_policies.push(policy.clone());
                }
                touched.push(role.arn.clone());
            }
        }
        Draft::BusPolicy { bus, statement } => {
            let b = s
                .event_buses
                .iter_mut()
                .find(|b| &b.arn == bus)
                .ok_or_else(|| missing("event bus", bus))?;
            statement_change(&mut b.policy, statement, delete);
        }
        Draft::Permission { function, statement } => {
            let f = s
                .functions
                .iter_mut()
                .find(|f| &f.arn == function)
                .ok_or_else(|| missing("function", function))?;
            statement_change(&mut f.policy, statement, delete);
        }
        Draft::RuleTarget { rule, target } => {
            let r = s
                .rules
                .iter_mut()
                .find(|r| &r.arn == rule)
                .ok_or_else(|| missing("rule", rule))?;
            r.targets.retain(|t| t.id != target.id);
            if !delete {
                r.targets.push(target.clone());
            }
        }
        Draft::ResourcePolicy { target, policy, .. } => {
            let r = s
                .resources
                .iter_mut()
                .find(|r| &r.arn == target || r.aliases.iter().any(|a| a == target))
                .ok_or_else(|| missing("resource", target))?;
            r.policy = if delete { None } else { Some(policy.clone().into()) };
            touched.push(r.arn.clone());
        }
    }
    Ok(touched)
}

/// Adds or removes one statement of a resource policy (the document is parsed again afterwards).
fn statement_change(policy: &mut Option<crate::model::PolicyDocument>, statement: &Value, delete: bool) {
    let mut value = policy.as_ref().map(|d| d.value().clone());
    if delete {
        remove_statement(&mut value, statement.get("Sid"));
    } else {
        add_statement(&mut value, statement.clone());
    }
    *policy = value.map(crate::model::PolicyDocument::from);
}

fn missing(what: &str, id: &str) -> String {
    format!("names {what} `{id}`, which is neither in the change nor in the snapshot")
}

fn find_role<'s>(s: &'s mut Snapshot, account: &str, name: &str) -> Result<&'s mut crate::model::Role, String> {
    s.roles
        .iter_mut()
        .find(|r| r.account == account && (r.name == name || r.arn == name))
        .ok_or_else(|| missing("role", &format!("{name}` in account `{account}")))
}

/// Attaches (or detaches) a managed policy. A policy whose document the snapshot does not hold
/// (an AWS managed policy no crawled role uses) cannot be evaluated: it is left out and recorded
/// as a coverage gap, so the IAM checks report "not proven" for that account.
fn attach(
    s: &mut Snapshot,
    account: &str,
    role: &str,
    policy: &str,
    delete: bool,
    location: &SourceLocation,
) -> Result<String, String> {
    let known = s.managed_policies.iter().any(|p| p.arn == policy);
    if !known && !delete {
        s.coverage.gaps.push(CoverageGap {
            account: Some(account.to_string()),
            region: None,
            api: "iam:GetPolicyVersion".to_string(),
            error_code: POLICY_NOT_IN_SNAPSHOT.to_string(),
            message: format!("{location}: attaches `{policy}`, whose document is not in the snapshot"),
        });
    }
    let role = find_role(s, account, role)?;
    role.attached_policies.retain(|p| p != policy);
    if !delete && known {
        role.attached_policies.push(policy.to_string());
    }
    Ok(role.arn.clone())
}
