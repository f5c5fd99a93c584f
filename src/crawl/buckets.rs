//! The S3 buckets each crawled account owns (`ListBuckets`, authorized by
//! `s3:ListAllMyBuckets`), so that a bucket ARN, which names no account, can be placed in its
//! owner's account ([`Snapshot::bucket_owners`](crate::model::Snapshot::bucket_owners)) and its
//! tags and policy read there. `ListBuckets` lists the caller's own buckets in every region from
//! any regional endpoint: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html>.
//! The bucket's region, needed to read its policy, comes later from `GetBucketLocation`
//! ([`policies`](super::policies)).

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::session::Connector;
use aws_config::SdkConfig;
use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
use std::collections::BTreeMap;

/// Buckets per page (the API's maximum is 10,000; a page size makes the listing paginated).
const PAGE: i32 = 1000;

/// The names of the buckets `account` owns; a failure is a gap for the account (and what was
/// read is kept).
pub async fn list_buckets(ctx: &Ctx, connector: &Connector, config: &SdkConfig, account: &str) -> Vec<String> {
    let client = connector.s3(config, Some(account));
    let mut names = Vec::new();
    ctx.pages(
        Api::S3ListBuckets,
        Scope::account(account),
        |token| {
            client
                .list_buckets()
                .max_buckets(PAGE)
                .set_continuation_token(token)
                .send()
        },
        ListBucketsOutput::continuation_token,
        |out| {
            names.extend(out.buckets().iter().filter_map(|b| b.name()).map(str::to_string));
        },
    )
    .await;
    names.sort();
    names.dedup();
    names
}

/// Bucket name → owning account from each account's listing, given in account order: a name
/// listed by two accounts (which S3's global namespace rules out) keeps the first, so the map
/// does not depend on timing. Names that are not bucket names are left out.
pub fn owners<'a>(listed: impl IntoIterator<Item = (&'a str, &'a [String])>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (account, names) in listed {
        for name in names {
            if name.is_empty() || name.contains(['/', ':']) {
                continue;
            }
            map.entry(name.clone()).or_insert_with(|| account.to_string());
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_account_listing_a_bucket_owns_it_and_bad_names_are_dropped() {
        let a = vec!["data".to_string(), "a/b".to_string(), String::new()];
        let b = vec!["data".to_string(), "logs".to_string()];
        let map = owners([("111111111111", a.as_slice()), ("222222222222", b.as_slice())]);
        assert_eq!(map.len(), 2, "{map:?}");
        assert_eq!(map["data"], "111111111111");
        assert_eq!(map["logs"], "222222222222");
    }
}
