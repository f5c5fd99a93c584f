//! Tagged resources of one account and region through the Resource Groups Tagging API, with the
//! kind of each resource derived from its ARN, and the tags of named resources (references
//! resolved in their owner's account, [`refs`](super::refs)). The resource policies of the shared kinds are read
//! afterwards, per account (`policies`).

use super::apis::Api;
use super::ctx::{Ctx, Scope};
use super::session::Connector;
use crate::arn::Arn;
use crate::model::{ResourceKind, Tags};
use aws_config::SdkConfig;
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;

/// Every tagged resource of one account and region: ARN → tags.
pub async fn crawl_tagged(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    region: &str,
) -> Vec<(String, Tags)> {
    let client = connector.tagging(config, Some(account));
    let scope = Scope::region(account, region);
    let mut found = Vec::new();
    ctx.pages(
        Api::TagGetResources,
        scope,
        |token| client.get_resources().set_pagination_token(token).send(),
        GetResourcesOutput::pagination_token,
        |out| found.extend(mappings(&out)),
    )
    .await;
    found
}

/// The tags of the resources `arns` (at most 100, all in `account` and `region`; `config` is
/// in that region) through `GetResources` with a `ResourceARNList`: the resources the API
/// returns with their tags (a resource never tagged, or that does not exist, is not returned).
/// `None` when the call failed (a gap was recorded). A page token in an answer is followed
/// alone, as the API takes no list with a token.
pub async fn tags_of(
    ctx: &Ctx,
    connector: &Connector,
    config: &SdkConfig,
    account: &str,
    region: &str,
    arns: &[String],
) -> Option<Vec<(String, Tags)>> {
    let client = connector.tagging(config, Some(account));
    let scope = Scope::region(account, region);
    let mut found = Vec::new();
    let complete = ctx
        .pages(
            Api::TagGetResources,
            scope,
            |token| {
                let request = client.get_resources();
                match token {
                    None => request.set_resource_arn_list(Some(arns.to_vec())).send(),
                    Some(t) => request.pagination_token(t).send(),
                }
            },
            GetResourcesOutput::pagination_token,
            |out| found.extend(mappings(&out)),
        )
        .await;
    complete.then_some(found)
}

/// The ARNs and tags of one `GetResources` answer.
fn mappings(out: &GetResourcesOutput) -> Vec<(String, Tags)> {
    out.resource_tag_mapping_list()
        .iter()
        .filter_map(|m| {
            let tags: Tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            Some((m.resource_arn()?.to_string(), tags))
        })
        .collect()
}

/// The kind of resource an ARN names.
pub fn kind_of(arn: &Arn<'_>) -> ResourceKind {
    let r = arn.resource;
    match arn.service {
        "sqs" => ResourceKind::SqsQueue,
        "sns" if !r.contains(':') => ResourceKind::SnsTopic,
        // The table itself, not what sits under it (indexes, streams, backups, exports).
        "dynamodb" if r.strip_prefix("table/").is_some_and(|name| !name.contains('/')) => ResourceKind::DynamodbTable,
        "s3" if !r.contains('/') => ResourceKind::S3Bucket,
        "kms" if r.starts_with("key/") => ResourceKind::KmsKey,
        "secretsmanager" if r.starts_with("secret:") => ResourceKind::SecretsmanagerSecret,
        "logs" if r.starts_with("log-group:") => ResourceKind::LogsLogGroup,
        "kinesis" if r.starts_with("stream/") => ResourceKind::KinesisStream,
        "ssm" if r.starts_with("parameter/") => ResourceKind::SsmParameter,
        _ => ResourceKind::Other,
    }
}

/// Other names a resource is referenced by: the queue URL of an SQS queue.
pub fn aliases_of(arn: &Arn<'_>) -> Vec<String> {
    match arn.service {
        "sqs" => vec![crate::arn::sqs_queue_url(arn)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_arns() {
        let k = |s: &str| kind_of(&Arn::parse(s).unwrap());
        assert_eq!(k("arn:aws:sqs:eu-west-1:111111111111:q"), ResourceKind::SqsQueue);
        assert_eq!(k("arn:aws:sns:eu-west-1:111111111111:t"), ResourceKind::SnsTopic);
        assert_eq!(k("arn:aws:sns:eu-west-1:111111111111:t:sub-id"), ResourceKind::Other);
        assert_eq!(
            k("arn:aws:dynamodb:eu-west-1:111111111111:table/t"),
            ResourceKind::DynamodbTable
        );
        // Near misses: what sits under a table is not the table (its policy API takes the table
        // or a stream: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetResourcePolicy.html).
        for under in [
            "index/i",
            "stream/2025-01-01T00:00:00.000",
            "backup/01234567890123-abcdefgh",
        ] {
            let arn = format!("arn:aws:dynamodb:eu-west-1:111111111111:table/t/{under}");
            assert_eq!(k(&arn), ResourceKind::Other, "{arn}");
        }
        assert_eq!(k("arn:aws:s3:::bucket"), ResourceKind::S3Bucket);
        assert_eq!(k("arn:aws:kms:eu-west-1:111111111111:key/abc"), ResourceKind::KmsKey);
        assert_eq!(k("arn:aws:ec2:eu-west-1:111111111111:vpc/v"), ResourceKind::Other);
    }
}
