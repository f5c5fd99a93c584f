//! The one list of AWS API actions the crawler calls. Coverage gaps name these actions, and
//! `topoguard crawl-policy` prints exactly them as the read-only policy the crawl role needs.
//!
//! Every action is at the IAM `List` or `Read` access level, except `sts:AssumeRole`, which the
//! crawler needs to enter member accounts; the policy scopes it to the crawl role's name.
//!
//! EventBridge v2 (Custom Event Buses, endpoint `eventsv2`) keeps the `events:` IAM namespace,
//! so its APIs have two names: the IAM action the crawl policy grants ([`Api::action`], e.g.
//! `events:ListSubscribers`; `events:ListEventBuses` serves both kinds of bus) and the name its
//! coverage gaps, rate limit and hung-service marks go by ([`Api::name`], e.g.
//! `eventsv2:ListSubscribers`), so that a region without the v2 API is told apart from one
//! without EventBridge.

use serde_json::{Value, json};

/// An API the crawler calls, in IAM action form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    OrgDescribeOrganization,
    OrgListAccounts,
    OrgListRoots,
    OrgListOrganizationalUnitsForParent,
    OrgListAccountsForParent,
    OrgListPolicies,
    OrgDescribePolicy,
    OrgListTargetsForPolicy,
    OrgListTagsForResource,
    StsGetCallerIdentity,
    StsAssumeRole,
    IamGetAccountAuthorizationDetails,
    EventsListEventBuses,
    EventsListRules,
    EventsListTargetsByRule,
    EventsV2ListEventBuses,
    EventsV2DescribeEventBus,
    EventsV2ListResourcePolicies,
    EventsV2GetResourcePolicy,
    EventsV2ListSubscribers,
    EventsV2DescribeSubscriber,
    RamListResources,
    RamGetResourceShares,
    RamListPrincipals,
    LambdaListFunctions,
    LambdaListEventSourceMappings,
    LambdaGetPolicy,
    TagGetResources,
    SqsGetQueueAttributes,
    SnsGetTopicAttributes,
    S3ListBuckets,
    S3GetBucketLocation,
    S3GetBucketPolicy,
    KmsGetKeyPolicy,
    SecretsManagerGetResourcePolicy,
    DynamodbGetResourcePolicy,
    DevOpsListAgentSpaces,
    DevOpsListAssociations,
    DevOpsGetOperatorApp,
}

/// Every API the crawler calls, in the order of the crawl.
pub const APIS: &[Api] = &[
    Api::OrgDescribeOrganization,
    Api::OrgListAccounts,
    Api::OrgListRoots,
    Api::OrgListOrganizationalUnitsForParent,
    Api::OrgListAccountsForParent,
    Api::OrgListPolicies,
    Api::OrgDescribePolicy,
    Api::OrgListTargetsForPolicy,
    Api::OrgListTagsForResource,
    Api::StsGetCallerIdentity,
    Api::StsAssumeRole,
    Api::IamGetAccountAuthorizationDetails,
    Api::EventsListEventBuses,
    Api::EventsListRules,
    Api::EventsListTargetsByRule,
    Api::EventsV2ListEventBuses,
    Api::EventsV2DescribeEventBus,
    Api::EventsV2ListResourcePolicies,
    Api::EventsV2GetResourcePolicy,
    Api::EventsV2ListSubscribers,
    Api::EventsV2DescribeSubscriber,
    Api::RamListResources,
    Api::RamGetResourceShares,
    Api::RamListPrincipals,
    Api::LambdaListFunctions,
    Api::LambdaListEventSourceMappings,
    Api::LambdaGetPolicy,
    Api::TagGetResources,
    Api::SqsGetQueueAttributes,
    Api::SnsGetTopicAttributes,
    Api::S3ListBuckets,
    Api::S3GetBucketLocation,
    Api::S3GetBucketPolicy,
    Api::KmsGetKeyPolicy,
    Api::SecretsManagerGetResourcePolicy,
    Api::DynamodbGetResourcePolicy,
    Api::DevOpsListAgentSpaces,
    Api::DevOpsListAssociations,
    Api::DevOpsGetOperatorApp,
];

impl Api {
    /// The IAM action, e.g. `lambda:ListFunctions`.
    pub fn action(self) -> &'static str {
        match self {
            Api::OrgDescribeOrganization => "organizations:DescribeOrganization",
            Api::OrgListAccounts => "organizations:ListAccounts",
            Api::OrgListRoots => "organizations:ListRoots",
            Api::OrgListOrganizationalUnitsForParent => "organizations:ListOrganizationalUnitsForParent",
            Api::OrgListAccountsForParent => "organizations:ListAccountsForParent",
            Api::OrgListPolicies => "organizations:ListPolicies",
            Api::OrgDescribePolicy => "organizations:DescribePolicy",
            Api::OrgListTargetsForPolicy => "organizations:ListTargetsForPolicy",
            Api::OrgListTagsForResource => "organizations:ListTagsForResource",
            Api::StsGetCallerIdentity => "sts:GetCallerIdentity",
            Api::StsAssumeRole => "sts:AssumeRole",
            Api::IamGetAccountAuthorizationDetails => "iam:GetAccountAuthorizationDetails",
            Api::EventsListEventBuses => "events:ListEventBuses",
            Api::EventsListRules => "events:ListRules",
            Api::EventsListTargetsByRule => "events:ListTargetsByRule",
            Api::EventsV2ListEventBuses => "events:ListEventBuses",
            Api::EventsV2DescribeEventBus => "events:DescribeEventBus",
            Api::EventsV2ListResourcePolicies => "events:ListResourcePolicies",
            Api::EventsV2GetResourcePolicy => "events:GetResourcePolicy",
            Api::EventsV2ListSubscribers => "events:ListSubscribers",
            Api::EventsV2DescribeSubscriber => "events:DescribeSubscriber",
            Api::RamListResources => "ram:ListResources",
            Api::RamGetResourceShares => "ram:GetResourceShares",
            Api::RamListPrincipals => "ram:ListPrincipals",
            Api::LambdaListFunctions => "lambda:ListFunctions",
            Api::LambdaListEventSourceMappings => "lambda:ListEventSourceMappings",
            Api::LambdaGetPolicy => "lambda:GetPolicy",
            Api::TagGetResources => "tag:GetResources",
            Api::SqsGetQueueAttributes => "sqs:GetQueueAttributes",
            Api::SnsGetTopicAttributes => "sns:GetTopicAttributes",
            // `ListBuckets` is authorized by `s3:ListAllMyBuckets`:
            // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
            Api::S3ListBuckets => "s3:ListAllMyBuckets",
            Api::S3GetBucketLocation => "s3:GetBucketLocation",
            Api::S3GetBucketPolicy => "s3:GetBucketPolicy",
            Api::KmsGetKeyPolicy => "kms:GetKeyPolicy",
            Api::SecretsManagerGetResourcePolicy => "secretsmanager:GetResourcePolicy",
            Api::DynamodbGetResourcePolicy => "dynamodb:GetResourcePolicy",
            Api::DevOpsListAgentSpaces => "aidevops:ListAgentSpaces",
            Api::DevOpsListAssociations => "aidevops:ListAssociations",
            Api::DevOpsGetOperatorApp => "aidevops:GetOperatorApp",
        }
    }

    /// The name gaps, rate limits and hung-service marks use: the IAM action, except for the
    /// EventBridge v2 APIs, named after their endpoint (`eventsv2:ListSubscribers`).
    pub fn name(self) -> &'static str {
        match self {
            Api::EventsV2ListEventBuses => "eventsv2:ListEventBuses",
            Api::EventsV2DescribeEventBus => "eventsv2:DescribeEventBus",
            Api::EventsV2ListResourcePolicies => "eventsv2:ListResourcePolicies",
            Api::EventsV2GetResourcePolicy => "eventsv2:GetResourcePolicy",
            Api::EventsV2ListSubscribers => "eventsv2:ListSubscribers",
            Api::EventsV2DescribeSubscriber => "eventsv2:DescribeSubscriber",
            other => other.action(),
        }
    }

    /// True for the organization-wide APIs called once with the caller's credentials.
    pub fn is_organization(self) -> bool {
        self.action().starts_with("organizations:")
    }
}

/// The IAM policy (JSON) the crawl needs: one read-only statement with every action but
/// `sts:AssumeRole`, and one statement allowing `sts:AssumeRole` into `role_name` in any account.
/// The read statement goes on the crawl role in every account; the caller needs both.
pub fn crawl_policy(role_name: &str) -> Value {
    let mut reads: Vec<&str> = APIS
        .iter()
        .filter(|a| **a != Api::StsAssumeRole)
        .map(|a| a.action())
        .collect();
    reads.sort_unstable();
    reads.dedup();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopoguardCrawlRead",
                "Effect": "Allow",
                "Action": reads,
                "Resource": "*"
            },
            {
                "Sid": "TopoguardCrawlAssumeRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": format!("arn:aws:iam::*:role/{role_name}")
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::catalog::{AccessLevel, Catalog};

    #[test]
    fn every_api_is_list_or_read_except_assume_role() {
        let catalog = Catalog::get().unwrap();
        for api in APIS {
            let info = catalog
                .action(api.action())
                .unwrap_or_else(|| panic!("`{}` is not in the IAM catalog", api.action()));
            if *api == Api::StsAssumeRole {
                continue;
            }
            assert!(
                matches!(info.access_level(), AccessLevel::List | AccessLevel::Read),
                "`{}` is at access level {:?}",
                api.action(),
                info.access_level()
            );
        }
    }

    #[test]
    fn crawl_policy_lists_exactly_the_apis() {
        let policy = crawl_policy("OrganizationAccountAccessRole");
        let mut listed: Vec<String> = Vec::new();
        for st in policy["Statement"].as_array().unwrap() {
            match &st["Action"] {
                Value::String(s) => listed.push(s.clone()),
                Value::Array(a) => listed.extend(a.iter().map(|v| v.as_str().unwrap().to_string())),
                _ => panic!("unexpected action shape"),
            }
        }
        listed.sort();
        let mut expected: Vec<String> = APIS.iter().map(|a| a.action().to_string()).collect();
        expected.sort();
        expected.dedup();
        assert_eq!(listed, expected);
        crate::iam::Policy::from_value(&policy).unwrap();
    }

    #[test]
    fn apis_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(APIS.iter().all(|a| seen.insert(a.name())));
    }

    #[test]
    fn v2_apis_keep_the_events_namespace_and_are_named_after_their_endpoint() {
        // The v2 API signs as `events` (the SDK's signing name), so IAM grants it with `events:`
        // actions: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-custom-bus-access-actions.html
        assert_eq!(Api::EventsV2ListSubscribers.action(), "events:ListSubscribers");
        assert_eq!(Api::EventsV2ListSubscribers.name(), "eventsv2:ListSubscribers");
        assert_eq!(Api::EventsV2ListEventBuses.action(), Api::EventsListEventBuses.action());
        assert_ne!(Api::EventsV2ListEventBuses.name(), Api::EventsListEventBuses.name());
        assert_eq!(Api::RamListResources.name(), "ram:ListResources");
        let policy = crawl_policy("R").to_string();
        assert_eq!(policy.matches("\"events:ListEventBuses\"").count(), 1);
        assert!(policy.contains("events:DescribeSubscriber") && policy.contains("ram:ListPrincipals"));
    }
}
