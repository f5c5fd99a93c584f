//! Turning what the accounts yielded into one snapshot that loads: duplicates merged by ARN (the
//! Tagging API may report a resource in several regions), tags from the Tagging API applied to
//! the typed records, references that would not resolve dropped, and every list sorted.

use super::AccountData;
use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use super::policies::PolicyInfo;
use super::tagging::{aliases_of, kind_of};
use crate::arn::Arn;
use crate::model::{CoverageGap, Organization, Resource, SCHEMA_VERSION, Snapshot, Tags};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The accounts to crawl: the active accounts of the organization, restricted to `only` when
/// given. A requested account the organization does not list is a gap.
pub fn select_accounts(ctx: &Ctx, org: &Organization, only: Option<&[String]>) -> Vec<String> {
    let mut selected: Vec<String> = org
        .accounts
        .iter()
        .filter(|a| super::schedule::selected(a, only))
        .map(|a| a.id.clone())
        .collect();
    if let Some(only) = only {
        for id in only {
            if !org.accounts.iter().any(|a| &a.id == id) {
                ctx.gap(
                    Api::OrgListAccounts,
                    Scope::account(id),
                    CallError {
                        code: "AccountNotInOrganization".to_string(),
                        message: format!("account `{id}` is not in the organization"),
                    },
                );
            }
        }
    }
    selected.sort();
    selected.dedup();
    selected
}

/// Builds the sorted snapshot. `data` is in account order, so the first report of a duplicated
/// ARN always comes from the same account.
/// `bucket_owners` places the buckets, whose ARNs name no account.
pub fn assemble(
    mut org: Organization,
    data: Vec<AccountData>,
    bucket_owners: BTreeMap<String, String>,
    gaps: Vec<CoverageGap>,
) -> Snapshot {
    let mut s = Snapshot {
        schema_version: SCHEMA_VERSION,
        ..Snapshot::default()
    };
    // ARN → (account it was first reported in, tags).
    let mut tagged: BTreeMap<String, (String, Tags)> = BTreeMap::new();
    let mut managed = BTreeMap::new();
    // ARN → policy and region; `data` is in account order, so the first report wins as for tags.
    let mut policies: BTreeMap<String, PolicyInfo> = BTreeMap::new();
    let mut subscribers = Vec::new();
    for d in data {
        for p in d.policies {
            policies.entry(p.arn.clone()).or_insert(p);
        }
        for p in d.managed_policies {
            managed.entry(p.arn.clone()).or_insert(p);
        }
        s.roles.extend(d.roles);
        s.users.extend(d.users);
        s.groups.extend(d.groups);
        s.event_buses.extend(d.buses);
        s.rules.extend(d.rules);
        s.event_buses_v2.extend(d.buses_v2);
        subscribers.extend(d.subscribers_v2);
        s.functions.extend(d.functions);
        s.event_source_mappings.extend(d.mappings);
        s.agent_spaces.extend(d.spaces);
        for (arn, t) in d.tagged {
            tagged
                .entry(arn)
                .or_insert_with(|| (d.account.clone(), Tags::new()))
                .1
                .extend(t);
        }
    }
    s.managed_policies = managed.into_values().collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    dedup_by_arn(&mut s.roles, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.users, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.groups, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.event_buses, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.rules, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.event_buses_v2, |r| &r.arn, &mut seen);
    attach_subscribers(&mut s.event_buses_v2, subscribers, &mut seen);
    dedup_by_arn(&mut s.functions, |r| &r.arn, &mut seen);
    dedup_by_arn(&mut s.agent_spaces, |r| &r.arn, &mut seen);
    let tags_of = |arn: &str| tagged.get(arn).map(|(_, t)| t.clone()).unwrap_or_default();
    for b in &mut s.event_buses {
        b.tags = tags_of(&b.arn);
    }
    for r in &mut s.rules {
        r.tags = tags_of(&r.arn);
    }
    for b in &mut s.event_buses_v2 {
        b.tags = tags_of(&b.arn);
        for sub in &mut b.subscribers {
            sub.tags = tags_of(&sub.arn);
        }
    }
    for f in &mut s.functions {
        f.tags = tags_of(&f.arn);
    }
    for sp in &mut s.agent_spaces {
        sp.tags = tags_of(&sp.arn);
    }
    for (arn, (account, t)) in &tagged {
        if seen.contains(arn) {
            continue;
        }
        let Ok(parsed) = Arn::parse(arn) else { continue };
        // Functions (versions, aliases), rules, buses and roles have typed records.
        if matches!(parsed.service, "lambda" | "events" | "iam") {
            continue;
        }
        if parsed.account().is_some_and(|a| a != account) {
            continue;
        }
        s.resources
            .push(resource(arn, &parsed, account, t.clone(), policies.get(arn)));
    }
    // Untagged resources the crawl found through references (their policy was read, so they
    // exist): recorded without tags, which is what `shared-resource-untagged` looks for.
    for (arn, p) in &policies {
        if tagged.contains_key(arn) || seen.contains(arn) {
            continue;
        }
        let Ok(parsed) = Arn::parse(arn) else { continue };
        let bucket_owner = || {
            (parsed.service == "s3")
                .then(|| bucket_owners.get(parsed.resource))
                .flatten()
        };
        let Some(account) = parsed.account().or_else(|| bucket_owner().map(String::as_str)) else {
            continue;
        };
        s.resources.push(resource(arn, &parsed, account, Tags::new(), Some(p)));
    }
    s.resources.sort_by(|a, b| a.arn.cmp(&b.arn));

    // References that must resolve: mappings to known functions (a qualified function ARN is
    // mapped to its function), policy targets to known units and accounts.
    let functions: HashSet<&str> = s.functions.iter().map(|f| f.arn.as_str()).collect();
    let mut mappings = std::mem::take(&mut s.event_source_mappings);
    mappings.retain_mut(|m| {
        if functions.contains(m.function.as_str()) {
            return true;
        }
        if let Some((base, _qualifier)) = m.function.rsplit_once(':')
            && functions.contains(base)
        {
            m.function = base.to_string();
            return true;
        }
        false
    });
    mappings.sort_by(|a, b| a.function.cmp(&b.function).then_with(|| a.uuid.cmp(&b.uuid)));
    mappings.dedup_by(|a, b| a.uuid == b.uuid);
    s.event_source_mappings = mappings;

    let ids: HashSet<String> = org
        .units
        .iter()
        .map(|u| u.id.clone())
        .chain(org.accounts.iter().map(|a| a.id.clone()))
        .collect();
    for p in &mut org.policies {
        p.targets.retain(|t| ids.contains(t));
        p.targets.sort();
        p.targets.dedup();
    }
    org.policies.sort_by(|a, b| a.arn.cmp(&b.arn));
    org.policies.dedup_by(|a, b| a.arn == b.arn);
    org.units.sort_by(|a, b| a.id.cmp(&b.id));
    org.units.dedup_by(|a, b| a.id == b.id);
    org.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    // Owners outside the organization's account list cannot be; the map is validated on load.
    let ids: BTreeSet<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
    s.bucket_owners = bucket_owners
        .into_iter()
        .filter(|(_, owner)| ids.contains(owner.as_str()))
        .collect();
    s.organization = org;
    s.coverage.gaps = gaps;
    s
}

/// The record of a tagged or referenced resource; the region comes from the ARN, else (S3) from
/// what the policy read found.
fn resource(arn: &str, parsed: &Arn<'_>, account: &str, tags: Tags, read: Option<&PolicyInfo>) -> Resource {
    Resource {
        arn: arn.to_string(),
        kind: kind_of(parsed),
        account: account.to_string(),
        region: parsed
            .region()
            .map(str::to_string)
            .or_else(|| read.and_then(|p| p.region.clone())),
        tags,
        aliases: aliases_of(parsed),
        policy: read.and_then(|p| p.policy.clone()),
    }
}

/// Puts each subscriber on its bus (a consumer account's subscriber on the owner's bus), first
/// report of an ARN first, sorted by ARN. A subscriber on a bus the crawl did not see (owned by
/// an account outside the crawl) has nothing to hang from and is left out.
fn attach_subscribers(
    buses: &mut [crate::model::EventBusV2],
    subscribers: Vec<(String, crate::model::Subscriber)>,
    seen: &mut BTreeSet<String>,
) {
    let index: BTreeMap<String, usize> = buses.iter().enumerate().map(|(i, b)| (b.arn.clone(), i)).collect();
    for (bus, sub) in subscribers {
        let Some(b) = index.get(&bus).and_then(|&i| buses.get_mut(i)) else {
            continue;
        };
        if seen.insert(sub.arn.clone()) {
            b.subscribers.push(sub);
        }
    }
    for b in buses {
        b.subscribers.sort_by(|x, y| x.arn.cmp(&y.arn));
    }
}

fn dedup_by_arn<T>(items: &mut Vec<T>, arn: impl Fn(&T) -> &String, seen: &mut BTreeSet<String>) {
    items.sort_by(|a, b| arn(a).cmp(arn(b)));
    items.retain(|i| seen.insert(arn(i).clone()));
}
