//! IAM users and groups in an overlay: the records themselves, their inline policies, managed
//! policy attachments and group memberships, laid over the snapshot's `users` and `groups`.

use super::SourceLocation;
use super::draft::{Draft, Entity};
use crate::model::{CoverageGap, Group, InlinePolicy, Snapshot, User};

/// Applies a user or group change; returns the ARNs it created or changed. Other drafts: none.
pub(super) fn apply(
    s: &mut Snapshot,
    d: &Draft,
    delete: bool,
    location: &SourceLocation,
) -> Result<Vec<String>, String> {
    match d {
        Draft::User(u) if delete => s.users.retain(|x| x.arn != u.arn),
        Draft::User(u) => {
            let mut u = u.clone();
            if let Some(old) = s.users.iter().find(|x| x.arn == u.arn) {
                keep(&mut u.inline_policies, &old.inline_policies);
                keep(&mut u.attached_policies, &old.attached_policies);
                keep(&mut u.groups, &old.groups);
            }
            upsert(&mut s.users, u, |x| &x.arn);
        }
        Draft::Group(g) if delete => s.groups.retain(|x| x.arn != g.arn),
        Draft::Group(g) => {
            let mut g = g.clone();
            if let Some(old) = s.groups.iter().find(|x| x.arn == g.arn) {
                keep(&mut g.inline_policies, &old.inline_policies);
                keep(&mut g.attached_policies, &old.attached_policies);
            }
            upsert(&mut s.groups, g, |x| &x.arn);
        }
        Draft::EntityPolicy {
            account,
            entity,
            names,
            policy,
        } => {
            return names
                .iter()
                .map(|n| {
                    let (arn, list) = policies_of(s, *entity, account, n)?;
                    put_inline(list, policy, delete);
                    Ok(arn)
                })
                .collect();
        }
        Draft::EntityAttachment {
            account,
            entity,
            name,
            policy_arn,
        } => {
            let known = s.managed_policies.iter().any(|p| &p.arn == policy_arn);
            if !known && !delete {
                s.coverage.gaps.push(unheld_policy_gap(account, location, policy_arn));
            }
            let (arn, list) = attached_of(s, *entity, account, name)?;
            list.retain(|p| p != policy_arn);
            if known && !delete {
                list.push(policy_arn.clone());
            }
            return Ok(vec![arn]);
        }
        Draft::Membership { account, user, groups } => {
            let u = find_user(s, account, user)?;
            let names: Vec<String> = groups
                .iter()
                .map(|g| g.rsplit('/').next().unwrap_or(g).to_string())
                .collect();
            u.groups.retain(|g| !names.contains(g));
            if !delete {
                u.groups.extend(names);
                u.groups.sort();
            }
            return Ok(vec![u.arn.clone()]);
        }
        _ => {}
    }
    Ok(d.arn().map(str::to_string).into_iter().collect())
}

/// The coverage gap of a managed policy a change names whose document the snapshot lacks.
pub(super) fn unheld_policy_gap(account: &str, location: &SourceLocation, policy: &str) -> CoverageGap {
    CoverageGap {
        account: Some(account.to_string()),
        region: None,
        api: "iam:GetPolicyVersion".to_string(),
        error_code: super::POLICY_NOT_IN_SNAPSHOT.to_string(),
        message: format!("{location}: attaches `{policy}`, whose document is not in the snapshot"),
    }
}

fn keep<T: Clone>(new: &mut Vec<T>, old: &[T]) {
    if new.is_empty() {
        *new = old.to_vec();
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, arn: impl Fn(&T) -> &str) {
    let key = arn(&item).to_string();
    match list.iter_mut().find(|x| arn(x) == key) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

fn put_inline(list: &mut Vec<InlinePolicy>, policy: &InlinePolicy, delete: bool) {
    list.retain(|p| p.name != policy.name);
    if !delete {
        list.push(policy.clone());
    }
}

fn missing(what: &str, name: &str, account: &str) -> String {
    format!("names {what} `{name}` in account `{account}`, which is neither in the change nor in the snapshot")
}

fn find_user<'s>(s: &'s mut Snapshot, account: &str, name: &str) -> Result<&'s mut User, String> {
    s.users
        .iter_mut()
        .find(|u| u.account == account && (u.name == name || u.arn == name))
        .ok_or_else(|| missing("IAM user", name, account))
}

fn find_group<'s>(s: &'s mut Snapshot, account: &str, name: &str) -> Result<&'s mut Group, String> {
    s.groups
        .iter_mut()
        .find(|g| g.account == account && (g.name == name || g.arn == name))
        .ok_or_else(|| missing("IAM group", name, account))
}

fn policies_of<'s>(
    s: &'s mut Snapshot,
    entity: Entity,
    account: &str,
    name: &str,
) -> Result<(String, &'s mut Vec<InlinePolicy>), String> {
    Ok(match entity {
        Entity::User => {
            let u = find_user(s, account, name)?;
            (u.arn.clone(), &mut u.inline_policies)
        }
        Entity::Group => {
            let g = find_group(s, account, name)?;
            (g.arn.clone(), &mut g.inline_policies)
        }
    })
}

fn attached_of<'s>(
    s: &'s mut Snapshot,
    entity: Entity,
    account: &str,
    name: &str,
) -> Result<(String, &'s mut Vec<String>), String> {
    Ok(match entity {
        Entity::User => {
            let u = find_user(s, account, name)?;
            (u.arn.clone(), &mut u.attached_policies)
        }
        Entity::Group => {
            let g = find_group(s, account, name)?;
            (g.arn.clone(), &mut g.attached_policies)
        }
    })
}
