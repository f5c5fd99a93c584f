//! References across accounts, resolved once every account is crawled.
//!
//! An account's own crawl reads the tags of what its Tagging API lists in the crawled regions and
//! the policies of the resources it owns that it references itself. A resource referenced only
//! from *another* account (a rule target, a v2 subscriber's target, a function's environment or
//! dead-letter target, an event-source mapping, a concrete ARN in an IAM policy's or a resource
//! policy's `Resource`), only by an IAM policy, living in a region the crawl did not list, or an
//! S3 bucket (whose ARN names no account) is read here, in the account that owns it: the owner is
//! the ARN's account, or for a bucket the account whose `ListBuckets` listed it
//! ([`buckets`](super::buckets)). Only owners the crawl entered are asked; a resource owned
//! outside the crawl stays an external node.
//!
//! What is read, through the owner's session and the crawl's rate limits and retries:
//! - its policy, with the per-service reader of [`policies`](super::policies) (SQS, SNS, S3 with
//!   its region, KMS, Secrets Manager, DynamoDB), unless already read;
//! - its tags, with the Tagging API's `GetResources` and a `ResourceARNList` of at most
//!   [`BATCH`] ARNs per call in the owner's account and the resource's region, unless its tags
//!   are already known: listed by a Tagging API, or absent from a complete listing of that
//!   account and region (a crawled region whose `tag:GetResources` left no gap).
//!
//! A resource is added to the snapshot only when everything it needed was read: a policy kind
//! needs its policy (a resource that does not exist gives none, and no gap: nothing was hidden)
//! and known tags; any other kind exists for the crawl only if the Tagging API returns it. A
//! failed read is a coverage gap (one per API, account, region and error, as elsewhere in the
//! crawl) and the resource stays an external node, so its checks say "not proven". Secret values
//! are never read: a secret's policy only.

use super::apis::Api;
use super::ctx::Ctx;
use super::policies::{PolicyInfo, has_policy_api, read_one};
use super::session::{Connector, in_region};
use super::tagging::{kind_of, tags_of};
use super::{AccountData, buckets};
use crate::arn::{Arn, owning_resource};
use crate::iam::policy::{Effect, Matcher};
use crate::model::{PolicyDocument, Tags};
use aws_config::SdkConfig;
use futures::future::join_all;
use std::collections::{BTreeMap, BTreeSet};

/// ARNs per `GetResources` call. The API takes up to 100
/// (<https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>);
/// 50 keeps each answer within one page of the API's default page size.
pub const BATCH: usize = 50;

/// Services whose resources the crawl records as typed records from their own listings (roles,
/// buses, rules, subscribers, functions, Agent Spaces): never resolved as plain resources.
const TYPED: &[&str] = &["iam", "events", "lambda", "aidevops", "organizations", "sts"];

/// One resource to resolve in its owner's account.
#[derive(Debug, Clone)]
struct Wanted {
    arn: String,
    /// Its policy is still to be read.
    policy: bool,
    /// Its tags are still to be read (decided for a bucket once its region is known).
    tags: bool,
}

/// Resolves the references of every crawled account (see the module docs), adding what was read
/// to the owner's [`AccountData`]; returns the bucket owners for the snapshot. `regions` are the
/// crawled regions; `data` is in account order.
pub async fn resolve(
    ctx: &Ctx,
    connector: &Connector,
    regions: &[String],
    data: &mut [AccountData],
) -> BTreeMap<String, String> {
    let bucket_owners = buckets::owners(data.iter().map(|d| (d.account.as_str(), d.buckets.as_slice())));
    let known_tags: BTreeSet<String> = data
        .iter()
        .flat_map(|d| d.tagged.iter().map(|(a, _)| a.clone()))
        .collect();
    let read: BTreeMap<String, PolicyInfo> = data
        .iter()
        .flat_map(|d| d.policies.iter().map(|p| (p.arn.clone(), p.clone())))
        .collect();
    let complete = complete_listings(ctx, data, regions);
    // The policies the accounts' own crawls asked for (a failure there is already a gap): their
    // tagged resources and the resources of their own they reference.
    let attempted: BTreeSet<String> = data
        .iter()
        .flat_map(|d| {
            let own = super::referenced_arns(d)
                .into_iter()
                .filter(|a| Arn::parse(a).is_ok_and(|p| p.account() == Some(d.account.as_str())));
            d.tagged.iter().map(|(a, _)| a.clone()).chain(own).collect::<Vec<_>>()
        })
        .collect();
    let mut by_owner: BTreeMap<String, Vec<Wanted>> = BTreeMap::new();
    for arn in referenced(data) {
        let Ok(parsed) = Arn::parse(&arn) else { continue };
        if TYPED.contains(&parsed.service) {
            continue;
        }
        let owner = match parsed.account() {
            Some(a) => a.to_string(),
            None if parsed.service == "s3" => match bucket_owners.get(parsed.resource) {
                Some(a) => a.clone(),
                None => continue,
            },
            None => continue,
        };
        let policy = has_policy_api(kind_of(&parsed)) && !read.contains_key(&arn) && !attempted.contains(&arn);
        let region = parsed
            .region()
            .or_else(|| read.get(&arn).and_then(|p| p.region.as_deref()));
        let listed = region.is_some_and(|r| complete.contains(&(owner.clone(), r.to_string())));
        let tags = !known_tags.contains(&arn) && !listed;
        // A bucket's tags wait for its region; a kind without a policy API is found only by
        // its tags.
        let bucket_pending = parsed.service == "s3" && region.is_none() && !known_tags.contains(&arn);
        if policy || tags || bucket_pending {
            by_owner.entry(owner).or_default().push(Wanted {
                arn,
                policy,
                tags: tags || bucket_pending,
            });
        }
    }
    let sessions: BTreeMap<&str, &SdkConfig> = data
        .iter()
        .filter_map(|d| d.session.as_ref().map(|s| (d.account.as_str(), s)))
        .collect();
    let results = join_all(by_owner.iter().filter_map(|(owner, wanted)| {
        let config = sessions.get(owner.as_str())?;
        let read = &read;
        Some(async move {
            let found = resolve_in(ctx, connector, config, owner, wanted, read).await;
            (owner.clone(), found)
        })
    }))
    .await;
    for (owner, found) in results {
        apply(data, &owner, found);
    }
    bucket_owners
}

/// What was read in one owner's account.
#[derive(Debug, Default)]
struct Found {
    tagged: Vec<(String, Tags)>,
    policies: Vec<PolicyInfo>,
    /// Resources whose policy an account read earlier but whose tags could not be read: taken
    /// out again, so that they stay unknown rather than appear untagged.
    unresolved: Vec<String>,
}

/// Reads the policies, then (with the buckets' regions known) the tags of `wanted` in `owner`.
/// A bucket's tags are always read by ARN: whether a regional listing names the buckets of its
/// region is not something the crawl relies on.
async fn resolve_in(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    owner: &str,
    wanted: &[Wanted],
    earlier: &BTreeMap<String, PolicyInfo>,
) -> Found {
    let policies: Vec<PolicyInfo> = join_all(
        wanted
            .iter()
            .filter(|w| w.policy)
            .map(|w| read_one(ctx, connector, config, owner, &w.arn, true)),
    )
    .await
    .into_iter()
    .flatten()
    .collect();
    let policy_of = |arn: &str| policies.iter().find(|p| p.arn == arn).or_else(|| earlier.get(arn));
    // Region → ARNs whose tags are to be read there.
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in wanted.iter().filter(|w| w.tags) {
        let Ok(parsed) = Arn::parse(&w.arn) else { continue };
        let Some(region) = parsed
            .region()
            .map(str::to_string)
            .or_else(|| policy_of(&w.arn).and_then(|p| p.region.clone()))
        else {
            continue;
        };
        by_region.entry(region).or_default().push(w.arn.clone());
    }
    let mut tag_results: BTreeMap<String, Option<Tags>> = BTreeMap::new();
    let reads = join_all(by_region.iter().flat_map(|(region, arns)| {
        arns.chunks(BATCH).map(move |batch| {
            let regional = in_region(config, region);
            async move { (batch, tags_of(ctx, connector, &regional, owner, region, batch).await) }
        })
    }))
    .await;
    for (batch, result) in reads {
        let mut found: BTreeMap<String, Tags> = result.clone().unwrap_or_default().into_iter().collect();
        for arn in batch {
            let tags = result.is_some().then(|| found.remove(arn).unwrap_or_default());
            tag_results.insert(arn.clone(), tags);
        }
    }
    let mut out = Found::default();
    for w in wanted {
        let tags = match tag_results.get(&w.arn) {
            _ if !w.tags => Some(Tags::new()),
            Some(read) => read.clone(),
            // No region to read them in: a bucket whose policy read failed (a gap) or found
            // no bucket.
            None => None,
        };
        let Some(tags) = tags else {
            // Tags unknown: a policy read earlier must not make the resource look untagged.
            if !w.policy && earlier.contains_key(&w.arn) {
                out.unresolved.push(w.arn.clone());
            }
            continue;
        };
        if w.policy {
            // A policy kind exists for the crawl when its policy read found it.
            let Some(p) = policies.iter().find(|p| p.arn == w.arn) else {
                continue;
            };
            out.policies.push(p.clone());
        }
        if !tags.is_empty() {
            out.tagged.push((w.arn.clone(), tags));
        }
    }
    out
}

/// Adds what was found in `owner` to its data.
fn apply(data: &mut [AccountData], owner: &str, found: Found) {
    for d in data.iter_mut() {
        d.policies.retain(|p| !found.unresolved.contains(&p.arn));
    }
    if let Some(d) = data.iter_mut().find(|d| d.account == owner) {
        d.tagged.extend(found.tagged);
        d.policies.extend(found.policies);
    }
}

/// The (account, region) pairs whose Tagging API listing was complete: every crawled region of
/// every crawled account without a `tag:GetResources` gap.
fn complete_listings(ctx: &Ctx, data: &[AccountData], regions: &[String]) -> BTreeSet<(String, String)> {
    let failed: BTreeSet<(String, String)> = ctx
        .gaps()
        .into_iter()
        .filter(|g| g.api == Api::TagGetResources.name())
        .filter_map(|g| Some((g.account?, g.region?)))
        .collect();
    data.iter()
        .flat_map(|d| regions.iter().map(|r| (d.account.clone(), r.clone())))
        .filter(|k| !failed.contains(k))
        .collect()
}

/// Every resource the crawled accounts reference, as the ARN of the resource itself: targets,
/// subscribers, environments, mappings (see [`super::referenced_arns`]), and the concrete ARNs
/// in the `Resource` of Allow statements of identity policies (roles, users, groups, customer
/// managed policies) and resource policies (buses, functions, and the policies read).
fn referenced(data: &[AccountData]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in data {
        out.extend(super::referenced_arns(d).iter().filter_map(|a| concrete(a)));
        let mut documents: Vec<&PolicyDocument> = Vec::new();
        documents.extend(
            d.roles
                .iter()
                .flat_map(|r| r.inline_policies.iter().map(|p| &p.document)),
        );
        documents.extend(
            d.users
                .iter()
                .flat_map(|u| u.inline_policies.iter().map(|p| &p.document)),
        );
        documents.extend(
            d.groups
                .iter()
                .flat_map(|g| g.inline_policies.iter().map(|p| &p.document)),
        );
        documents.extend(d.managed_policies.iter().map(|p| &p.document));
        documents.extend(d.buses.iter().filter_map(|b| b.policy.as_ref()));
        documents.extend(d.buses_v2.iter().filter_map(|b| b.policy.as_ref()));
        documents.extend(d.functions.iter().filter_map(|f| f.policy.as_ref()));
        documents.extend(d.policies.iter().filter_map(|p| p.policy.as_ref()));
        for doc in documents {
            for pattern in allowed_resources(doc) {
                out.extend(concrete(pattern));
            }
        }
    }
    out
}

/// The `Resource` patterns of the Allow statements of a policy document (its parsed form; a
/// document that does not parse names nothing here — validation reports it).
fn allowed_resources(doc: &PolicyDocument) -> Vec<&str> {
    let Ok(policy) = doc.policy() else {
        return Vec::new();
    };
    policy
        .statements
        .iter()
        .filter(|st| st.effect == Effect::Allow)
        .filter_map(|st| match &st.resource {
            Some(Matcher::Is(patterns)) => Some(patterns.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The resource an ARN or ARN pattern names concretely: the ARN itself, or the resource owning
/// a sub-resource ([`owning_resource`]: an S3 object's bucket, a DynamoDB index's or stream's
/// table), when that part has no wildcard. `None` for patterns naming no one resource.
fn concrete(pattern: &str) -> Option<String> {
    let base = owning_resource(pattern).unwrap_or(pattern);
    let whole = Arn::parse(base).ok()?;
    (!base.contains(['*', '?']) && !whole.resource.is_empty()).then(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concrete_resources_of_arns_and_patterns() {
        let c = |s: &str| concrete(s);
        assert_eq!(
            c("arn:aws:sqs:eu-west-1:111111111111:q").as_deref(),
            Some("arn:aws:sqs:eu-west-1:111111111111:q")
        );
        // Sub-resources name their owner, wildcards after it included.
        assert_eq!(c("arn:aws:s3:::data/*").as_deref(), Some("arn:aws:s3:::data"));
        assert_eq!(c("arn:aws:s3:::data/a/b.csv").as_deref(), Some("arn:aws:s3:::data"));
        assert_eq!(
            c("arn:aws:dynamodb:eu-west-1:111111111111:table/t/index/*").as_deref(),
            Some("arn:aws:dynamodb:eu-west-1:111111111111:table/t")
        );
        // Near misses: patterns that name no one resource.
        for pattern in [
            "*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::data-*/x",
            "arn:aws:sqs:*:111111111111:q",
            "arn:aws:sqs:eu-west-1:111111111111:q-*",
            "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-??????",
            "arn:aws:dynamodb:eu-west-1:111111111111:table/*",
            "https://example.com",
        ] {
            assert_eq!(c(pattern), None, "{pattern}");
        }
    }

    #[test]
    fn only_allow_statements_name_resources() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": ["arn:aws:sqs:eu-west-1:111111111111:a", "*"]},
            {"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:eu-west-1:111111111111:denied"},
            {"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:eu-west-1:111111111111:t"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}
        ]});
        let doc = PolicyDocument::from(doc);
        assert_eq!(
            allowed_resources(&doc),
            ["arn:aws:sqs:eu-west-1:111111111111:a", "*", "arn:aws:s3:::data/*"]
        );
        let single = json!({"Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-west-1:111111111111:key/k"}});
        assert_eq!(
            allowed_resources(&PolicyDocument::from(single)),
            ["arn:aws:kms:eu-west-1:111111111111:key/k"]
        );
        assert!(allowed_resources(&PolicyDocument::from(json!({}))).is_empty());
    }
}
