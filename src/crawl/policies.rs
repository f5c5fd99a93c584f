//! Resource policies of the shared kinds the checks need, for the resources of one account that
//! the Tagging API found or that the account's own rules, functions and event-source mappings
//! reference untagged (an untagged shared queue is exactly what `shared-resource-untagged` is
//! for): SQS queue policies (`GetQueueAttributes`), SNS topic policies
//! (`GetTopicAttributes`), S3 bucket policies (`GetBucketPolicy`, in the bucket's region from
//! `GetBucketLocation`), KMS key policies (`GetKeyPolicy`), Secrets Manager secret policies and
//! DynamoDB table policies (`GetResourcePolicy`).
//!
//! A resource without a policy gives `None`; any other failure is a coverage gap for the
//! resource's account and region, and the crawl goes on.

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::documents::parse_document;
use super::session::{Connector, in_region};
use super::tagging::kind_of;
use crate::arn::Arn;
use crate::model::{PolicyDocument, ResourceKind};
use aws_config::SdkConfig;
use futures::future::join_all;
use std::collections::BTreeSet;

/// What was read about one resource: its policy and, for an S3 bucket, its region.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInfo {
    pub arn: String,
    pub policy: Option<PolicyDocument>,
    pub region: Option<String>,
}

/// The kinds whose policies are read.
pub fn has_policy_api(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::SqsQueue
            | ResourceKind::SnsTopic
            | ResourceKind::S3Bucket
            | ResourceKind::KmsKey
            | ResourceKind::SecretsmanagerSecret
            | ResourceKind::DynamodbTable
    )
}

/// The policies of the shared-kind resources of one account: those its Tagging API reported
/// (`tagged`) and those its own rules, functions and event-source mappings reference without
/// their being tagged (`referenced`), each read once. Only resources owned by `account` are
/// read (S3 ARNs name no account: a bucket is read only when the account's Tagging API reported
/// it). A referenced resource that does not exist is left out without a gap: nothing was hidden.
/// `config` holds the account's credentials.
pub async fn crawl_policies<'a>(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    tagged: impl IntoIterator<Item = &'a str>,
    referenced: impl IntoIterator<Item = &'a str>,
) -> Vec<PolicyInfo> {
    let tagged: BTreeSet<&str> = tagged.into_iter().collect();
    let referenced: BTreeSet<&str> = referenced
        .into_iter()
        .filter(|a| !tagged.contains(a) && Arn::parse(a).is_ok_and(|p| p.account() == Some(account)))
        .collect();
    let wanted: Vec<(&str, bool)> = tagged
        .into_iter()
        .map(|a| (a, false))
        .chain(referenced.into_iter().map(|a| (a, true)))
        .filter(|(a, _)| {
            Arn::parse(a).is_ok_and(|p| has_policy_api(kind_of(&p)) && p.account().is_none_or(|o| o == account))
        })
        .collect();
    join_all(
        wanted
            .into_iter()
            .map(|(arn, referenced)| read_one(ctx, connector, config, account, arn, referenced)),
    )
    .await
    .into_iter()
    .flatten()
    .collect()
}

/// Error codes that say the resource does not exist.
const NOT_FOUND: &[&str] = &[
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "NoSuchBucket",
];

/// One resource; `None` when its policy could not be read (a gap was recorded) or, for a
/// `referenced` one, when it does not exist.
pub(super) async fn read_one(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    arn: &str,
    referenced: bool,
) -> Option<PolicyInfo> {
    let parsed = Arn::parse(arn).ok()?;
    let kind = kind_of(&parsed);
    // A referenced resource that does not exist was not hidden from the crawl: no gap.
    let skip: &[&str] = if referenced { NOT_FOUND } else { &[] };
    let region = parsed.region().map(str::to_string);
    let info = |policy: Option<PolicyDocument>, region: Option<String>| PolicyInfo {
        arn: arn.to_string(),
        policy,
        region,
    };
    let regional = match &region {
        Some(r) => in_region(config, r),
        None => config.clone(),
    };
    let region_name = region.as_deref().unwrap_or("-");
    let scope = Scope::region(account, region_name);
    let doc =
        |api: Api, scope: Scope<'_>, text: Option<&str>| text.and_then(|t| parse_document(ctx, api, scope, arn, t));
    match kind {
        ResourceKind::SqsQueue => {
            let api = Api::SqsGetQueueAttributes;
            let url = crate::arn::sqs_queue_url(&parsed);
            let client = connector.sqs(&regional, Some(account));
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || {
                        client
                            .get_queue_attributes()
                            .queue_url(&url)
                            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
                            .send()
                    },
                    &[],
                    skip,
                )
                .await??;
            let text = out
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
                .map(String::as_str);
            Some(info(doc(api, scope, text), None))
        }
        ResourceKind::SnsTopic => {
            let api = Api::SnsGetTopicAttributes;
            let client = connector.sns(&regional, Some(account));
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || client.get_topic_attributes().topic_arn(arn).send(),
                    &[],
                    skip,
                )
                .await??;
            let text = out.attributes().and_then(|a| a.get("Policy")).map(String::as_str);
            Some(info(doc(api, scope, text), None))
        }
        ResourceKind::S3Bucket => {
            let bucket = parsed.resource;
            let global = Scope::account(account);
            let client = connector.s3(config, Some(account));
            let out = ctx
                .call_or_absent(
                    Api::S3GetBucketLocation,
                    global,
                    || client.get_bucket_location().bucket(bucket).send(),
                    &[],
                    skip,
                )
                .await??;
            let bucket_region = match out.location_constraint().map(|c| c.as_str()) {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(other) => other.to_string(),
            };
            let scope = Scope::region(account, &bucket_region);
            let client = connector.s3(&in_region(config, &bucket_region), Some(account));
            let api = Api::S3GetBucketPolicy;
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || client.get_bucket_policy().bucket(bucket).send(),
                    &["NoSuchBucketPolicy"],
                    skip,
                )
                .await?;
            let policy = out.and_then(|o| doc(api, scope, o.policy()));
            Some(info(policy, Some(bucket_region)))
        }
        ResourceKind::KmsKey => {
            let api = Api::KmsGetKeyPolicy;
            let client = connector.kms(&regional, Some(account));
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || client.get_key_policy().key_id(arn).policy_name("default").send(),
                    &[],
                    skip,
                )
                .await??;
            Some(info(doc(api, scope, out.policy()), None))
        }
        ResourceKind::SecretsmanagerSecret => {
            let api = Api::SecretsManagerGetResourcePolicy;
            let client = connector.secretsmanager(&regional, Some(account));
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || client.get_resource_policy().secret_id(arn).send(),
                    &[],
                    skip,
                )
                .await??;
            Some(info(doc(api, scope, out.resource_policy()), None))
        }
        ResourceKind::DynamodbTable => {
            let api = Api::DynamodbGetResourcePolicy;
            let client = connector.dynamodb(&regional, Some(account));
            let out = ctx
                .call_or_absent(
                    api,
                    scope,
                    || client.get_resource_policy().resource_arn(arn).send(),
                    &["PolicyNotFoundException"],
                    skip,
                )
                .await?;
            Some(info(out.and_then(|o| doc(api, scope, o.policy())), None))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_kinds_have_a_policy_api() {
        assert!(has_policy_api(ResourceKind::SqsQueue));
        assert!(has_policy_api(ResourceKind::S3Bucket));
        assert!(!has_policy_api(ResourceKind::Other));
        assert!(!has_policy_api(ResourceKind::LogsLogGroup));
    }
}
