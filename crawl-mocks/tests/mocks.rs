//! Fault-injection tests of the crawler with `aws-smithy-mocks`: throttling retried, access
//! denied recorded as gaps, every page read, a repeating page token stopped, timeouts recorded as
//! gaps, and the number of calls per account and region.
//!
//! A separate package because `aws-smithy-mocks` turns on serde_json's `preserve_order`, which
//! would change the byte output of topoguard's own tests (schema, SARIF) if it were a
//! dev-dependency there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider, SharedInterceptor};
use aws_smithy_mocks::{MockResponseInterceptor, Rule as MockRule, RuleMode, create_mock_http_client, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::time::Duration;
use topoguard::crawl::{Api, Connector, CrawlOptions, crawl};
use topoguard::model::{CoverageGap, Snapshot};

const CALLER: &str = "111111111111";
const SCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("mocked {code}"))
        .build()
}

async fn base_config(http: bool, timeout: Duration) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .retry_config(
            // Standard, not adaptive as the CLI: the adaptive client rate limiter is shared by
            // every client of one retry partition (service, account, region) in the process, and
            // the tests use the same accounts, so parallel tests would wait on each other's
            // throttling. Which errors are retried is the same in both modes.
            RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build());
    if http {
        loader = loader.http_client(create_mock_http_client());
    }
    loader.load().await
}

fn interceptor(rules: &[MockRule]) -> SharedInterceptor {
    let mut interceptor = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .allow_passthrough();
    for r in rules {
        interceptor = interceptor.with_rule(r);
    }
    SharedInterceptor::new(interceptor)
}

async fn connector(rules: &[MockRule]) -> Connector {
    // Generous: after a throttle the adaptive rate limiter waits before the next attempt.
    Connector::new(base_config(true, Duration::from_secs(10)).await).with_interceptor(interceptor(rules))
}

/// An organization of `accounts` (the caller first) with one bus, one rule, one function and one
/// tagged queue per account and region (ARNs in the caller's account: the mocks cannot tell
/// accounts apart, the assembly merges duplicates).
fn organization(accounts: &[&str]) -> Vec<MockRule> {
    use aws_sdk_organizations::operation as o;
    use aws_sdk_organizations::types as ot;
    let accounts: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
    let listed = accounts.clone();
    let under_ou = accounts.clone();
    vec![
        mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
                .account(CALLER)
                .arn(format!("arn:aws:iam::{CALLER}:user/crawler"))
                .build()
        }),
        mock!(aws_sdk_sts::Client::assume_role).then_output(|| {
            aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id("ASIATEST")
                        .secret_access_key("secret")
                        .session_token("token")
                        .expiration(aws_smithy_types::DateTime::from_secs(4_102_444_800))
                        .build()
                        .unwrap(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
            o::describe_organization::DescribeOrganizationOutput::builder()
                .organization(
                    ot::Organization::builder()
                        .id("o-test")
                        .master_account_id(CALLER)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_accounts).then_output(move || {
            let mut b = o::list_accounts::ListAccountsOutput::builder();
            for a in &listed {
                b = b.accounts(
                    ot::Account::builder()
                        .id(a)
                        .name(format!("acct-{a}"))
                        .state(ot::AccountState::Active)
                        .build(),
                );
            }
            b.build()
        }),
        mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
            o::list_roots::ListRootsOutput::builder()
                .roots(ot::Root::builder().id("r-root").name("Root").build())
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root"))
            .then_output(|| {
                o::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput::builder()
                    .organizational_units(
                        ot::OrganizationalUnit::builder()
                            .id("ou-root-work")
                            .name("work")
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent).then_output(|| {
            o::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput::builder().build()
        }),
        mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-work"))
            .then_output(move || {
                let mut b = o::list_accounts_for_parent::ListAccountsForParentOutput::builder();
                for a in under_ou.iter().skip(1) {
                    b = b.accounts(ot::Account::builder().id(a).build());
                }
                b.build()
            }),
        mock!(aws_sdk_organizations::Client::list_accounts_for_parent).then_output(|| {
            o::list_accounts_for_parent::ListAccountsForParentOutput::builder()
                .accounts(ot::Account::builder().id(CALLER).build())
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_tags_for_resource).then_output(|| {
            o::list_tags_for_resource::ListTagsForResourceOutput::builder()
                .tags(ot::Tag::builder().key("app").value("payments").build().unwrap())
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_policies)
            .match_requests(|r| r.filter() == Some(&ot::PolicyType::ServiceControlPolicy))
            .then_output(|| {
                o::list_policies::ListPoliciesOutput::builder()
                    .policies(ot::PolicySummary::builder().id("p-deny").build())
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_policies)
            .then_output(|| o::list_policies::ListPoliciesOutput::builder().build()),
        mock!(aws_sdk_organizations::Client::describe_policy).then_output(|| {
            o::describe_policy::DescribePolicyOutput::builder()
                .policy(
                    ot::Policy::builder()
                        .policy_summary(
                            ot::PolicySummary::builder()
                                .id("p-deny")
                                .name("deny-leave")
                                .arn(format!(
                                    "arn:aws:organizations::{CALLER}:policy/o-test/service_control_policy/p-deny"
                                ))
                                .build(),
                        )
                        .content(SCP)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_organizations::Client::list_targets_for_policy).then_output(|| {
            o::list_targets_for_policy::ListTargetsForPolicyOutput::builder()
                .targets(ot::PolicyTargetSummary::builder().target_id("ou-root-work").build())
                .targets(ot::PolicyTargetSummary::builder().target_id("999999999999").build())
                .build()
        }),
    ]
}

/// One page of IAM, events, Lambda and tagging data per account and region.
fn workloads() -> Vec<MockRule> {
    use aws_sdk_eventbridge::operation as e;
    use aws_sdk_lambda::operation as l;
    vec![
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_output(|| {
                aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput::builder()
                    .is_truncated(false)
                    .build()
            }),
        mock!(aws_sdk_eventbridge::Client::list_event_buses)
            .then_output(|| {
                e::list_event_buses::ListEventBusesOutput::builder()
                    .event_buses(
                        aws_sdk_eventbridge::types::EventBus::builder()
                            .name("default")
                            .arn(format!("arn:aws:events:eu-west-1:{CALLER}:event-bus/default"))
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_eventbridge::Client::list_rules)
            .then_output(|| {
                e::list_rules::ListRulesOutput::builder()
                    .rules(
                        aws_sdk_eventbridge::types::Rule::builder()
                            .name("r1")
                            .arn(format!("arn:aws:events:eu-west-1:{CALLER}:rule/r1"))
                            .state(aws_sdk_eventbridge::types::RuleState::Enabled)
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_eventbridge::Client::list_targets_by_rule)
            .then_output(|| {
                e::list_targets_by_rule::ListTargetsByRuleOutput::builder()
                    .targets(
                        aws_sdk_eventbridge::types::Target::builder()
                            .id("q")
                            .arn("arn:aws:sqs:eu-west-1:222222222222:shared")
                            .build()
                            .unwrap(),
                    )
                    .build()
            }),
        mock!(aws_sdk_lambda::Client::list_functions)
            .then_output(|| {
                l::list_functions::ListFunctionsOutput::builder()
                    .functions(function("f1"))
                    .build()
            }),
        mock!(aws_sdk_lambda::Client::get_policy)
            .then_error(|| l::get_policy::GetPolicyError::generic(meta("ResourceNotFoundException"))),
        mock!(aws_sdk_lambda::Client::list_event_source_mappings)
            .then_output(|| l::list_event_source_mappings::ListEventSourceMappingsOutput::builder().build()),
        mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
            .then_output(|| {
                aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput::builder()
                    .resource_tag_mapping_list(tagged(&format!("arn:aws:sqs:eu-west-1:{CALLER}:orders")))
                    .build()
            }),
        mock!(aws_sdk_s3::Client::list_buckets)
            .then_output(|| aws_sdk_s3::operation::list_buckets::ListBucketsOutput::builder().build()),
        mock!(aws_sdk_sqs::Client::get_queue_attributes)
            .then_output(|| {
                aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput::builder()
                    .attributes(
                        aws_sdk_sqs::types::QueueAttributeName::Policy,
                        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}"#,
                    )
                    .build()
            }),
    ]
}

fn function(name: &str) -> aws_sdk_lambda::types::FunctionConfiguration {
    aws_sdk_lambda::types::FunctionConfiguration::builder()
        .function_name(name)
        .function_arn(format!("arn:aws:lambda:eu-west-1:{CALLER}:function:{name}"))
        .role(format!("arn:aws:iam::{CALLER}:role/exec"))
        .environment(
            aws_sdk_lambda::types::EnvironmentResponse::builder()
                .variables("TOKEN", "hunter2-s3cr3t")
                .variables("QUEUE", format!("arn:aws:sqs:eu-west-1:{CALLER}:orders"))
                .build(),
        )
        .build()
}

fn tagged(arn: &str) -> aws_sdk_resourcegroupstagging::types::ResourceTagMapping {
    aws_sdk_resourcegroupstagging::types::ResourceTagMapping::builder()
        .resource_arn(arn)
        .tags(
            aws_sdk_resourcegroupstagging::types::Tag::builder()
                .key("app")
                .value("payments")
                .build()
                .unwrap(),
        )
        .build()
}

fn options(regions: &[&str], concurrency: usize) -> CrawlOptions {
    CrawlOptions {
        regions: regions.iter().map(|r| r.to_string()).collect(),
        concurrency,
        ..CrawlOptions::default()
    }
}

fn gaps_for<'a>(gaps: &'a [CoverageGap], api: &str) -> Vec<&'a CoverageGap> {
    gaps.iter().filter(|g| g.api == api).collect()
}

fn validate(snapshot: &Snapshot) {
    let text = serde_json::to_string(snapshot).unwrap();
    topoguard::model::parse_snapshot(&text, std::path::Path::new("crawl.json")).unwrap();
}

#[tokio::test]
async fn a_clean_crawl_reads_everything_and_loads() {
    let mut rules = organization(&[CALLER]);
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    assert_eq!(s.organization.accounts.len(), 1);
    assert_eq!(s.organization.accounts[0].tags["app"], "payments");
    assert_eq!(s.organization.units.len(), 2);
    assert_eq!(s.organization.policies[0].targets, vec!["ou-root-work".to_string()]);
    assert_eq!(s.rules[0].targets[0].arn, "arn:aws:sqs:eu-west-1:222222222222:shared");
    let f = &s.functions[0];
    assert_eq!(f.environment_keys, vec!["QUEUE".to_string(), "TOKEN".to_string()]);
    assert_eq!(
        f.environment_references,
        vec![format!("arn:aws:sqs:eu-west-1:{CALLER}:orders")]
    );
    assert!(f.policy.is_none(), "ResourceNotFound means no policy");
    assert_eq!(s.resources[0].kind, topoguard::model::ResourceKind::SqsQueue);
    assert_eq!(
        s.resources[0].policy.as_ref().unwrap()["Statement"][0]["Action"],
        "sqs:SendMessage",
        "queue policy read"
    );
    assert!(!serde_json::to_string(s).unwrap().contains("hunter2"));
    // Only the APIs not mocked here are missing, each a gap rather than a silent pass: the
    // DevOps Agent API and EventBridge v2 (whose bus listing fails, so nothing else of it is
    // called).
    let apis: Vec<&str> = s.coverage.gaps.iter().map(|g| g.api.as_str()).collect();
    assert_eq!(apis, ["aidevops:ListAgentSpaces", "eventsv2:ListEventBuses"]);
}

#[tokio::test]
async fn throttling_then_success_is_retried() {
    let throttled = mock!(aws_sdk_lambda::Client::list_functions)
        .sequence()
        .error(|| aws_sdk_lambda::operation::list_functions::ListFunctionsError::generic(meta("ThrottlingException")))
        .times(2)
        .output(|| {
            aws_sdk_lambda::operation::list_functions::ListFunctionsOutput::builder()
                .functions(function("after-throttling"))
                .build()
        })
        .build();
    let mut rules = vec![throttled.clone()];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    assert_eq!(
        throttled.num_calls(),
        3,
        "two throttled attempts, then success: {:?}",
        outcome.snapshot.coverage.gaps
    );
    assert!(gaps_for(&outcome.snapshot.coverage.gaps, "lambda:ListFunctions").is_empty());
    assert_eq!(outcome.snapshot.functions[0].name, "after-throttling");
}

#[tokio::test]
async fn throttling_in_the_middle_of_a_listing_is_retried_within_the_rate_limit() {
    // Lambda answers `TooManyRequestsException` (HTTP 429) above 15 requests per second:
    // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests
    use aws_sdk_lambda::operation::list_functions::{ListFunctionsError, ListFunctionsOutput};
    let first = mock!(aws_sdk_lambda::Client::list_functions)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            ListFunctionsOutput::builder()
                .functions(function("page-one"))
                .next_marker("p2")
                .build()
        });
    let second = mock!(aws_sdk_lambda::Client::list_functions)
        .match_requests(|r| r.marker() == Some("p2"))
        .sequence()
        .error(|| ListFunctionsError::generic(meta("TooManyRequestsException")))
        .times(3)
        .output(|| ListFunctionsOutput::builder().functions(function("page-two")).build())
        .build();
    let mut rules = vec![first.clone(), second.clone()];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let started = std::time::Instant::now();
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let gaps = &outcome.snapshot.coverage.gaps;
    assert_eq!(first.num_calls(), 1);
    assert_eq!(
        second.num_calls(),
        4,
        "three throttled attempts of page two, then success"
    );
    assert!(gaps_for(gaps, "lambda:ListFunctions").is_empty(), "{gaps:?}");
    let names: Vec<&str> = outcome.snapshot.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"page-one") && names.contains(&"page-two"), "{names:?}");
    assert!(outcome.retries >= 3);
    // Five Lambda requests at most 13.5 per second (15 less headroom) in this account and
    // region, plus the backoffs: not instantaneous, not slow.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(290), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_hung_service_costs_one_timeout_per_account_and_region() {
    // Every call times out (a server that never answers): each service is tried once per
    // account and region and its later calls there are gaps without a second timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let config = base_config(false, Duration::from_millis(300))
        .await
        .to_builder()
        .endpoint_url(url)
        .build();
    let started = std::time::Instant::now();
    let outcome = crawl(&Connector::new(config), &options(&["eu-west-1"], 4)).await;
    // GetCallerIdentity, then Organizations: DescribeOrganization and ListAccounts are sent
    // together (accounts are crawled as they are listed) and both time out in the same
    // 300 ms; without the account list nothing else of Organizations is called, and the caller
    // is unknown, so nothing else is crawled. Two timeouts at once cost one timeout of time.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let gaps = &outcome.snapshot.coverage.gaps;
    assert!(gaps.iter().all(|g| g.error_code == "Timeout"), "{gaps:?}");
    let mut org: Vec<&str> = gaps
        .iter()
        .filter(|g| g.api.starts_with("organizations:"))
        .map(|g| g.api.as_str())
        .collect();
    org.sort_unstable();
    assert_eq!(
        org,
        ["organizations:DescribeOrganization", "organizations:ListAccounts"],
        "{gaps:?}"
    );
    assert_eq!(outcome.accounts_crawled, 0);
}

#[tokio::test]
async fn access_denied_on_assume_role_is_a_gap_and_the_crawl_goes_on() {
    let denied = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| r.role_arn() == Some("arn:aws:iam::333333333333:role/OrganizationAccountAccessRole"))
        .then_error(|| aws_sdk_sts::operation::assume_role::AssumeRoleError::generic(meta("AccessDenied")));
    let mut rules = vec![denied];
    rules.extend(organization(&[CALLER, "222222222222", "333333333333"]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let gaps = gaps_for(&outcome.snapshot.coverage.gaps, "sts:AssumeRole");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].account.as_deref(), Some("333333333333"));
    assert_eq!(gaps[0].error_code, "AccessDenied");
    assert_eq!(outcome.accounts_crawled, 2);
    let listed = |account: &str| {
        outcome.call_counts.get(&(
            Some(account.to_string()),
            Some("eu-west-1".to_string()),
            Api::LambdaListFunctions,
        ))
    };
    assert_eq!(listed("222222222222"), Some(&1));
    assert_eq!(listed("333333333333"), None);
    // The policy target outside the organization is dropped, so the snapshot loads.
    validate(&outcome.snapshot);
}

#[tokio::test]
async fn access_denied_on_one_api_is_a_gap() {
    let denied = mock!(aws_sdk_eventbridge::Client::list_event_buses).then_error(|| {
        aws_sdk_eventbridge::operation::list_event_buses::ListEventBusesError::generic(meta("AccessDeniedException"))
    });
    let mut rules = vec![denied];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let gaps = gaps_for(&outcome.snapshot.coverage.gaps, "events:ListEventBuses");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(gaps[0].error_code, "AccessDeniedException");
    assert!(outcome.snapshot.event_buses.is_empty());
    assert_eq!(outcome.snapshot.functions.len(), 1, "the rest of the region is read");
}

#[tokio::test]
async fn every_page_is_read() {
    use aws_sdk_eventbridge::operation::list_rules::ListRulesOutput;
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::types::{ManagedPolicyDetail, PolicyVersion};
    let rule = |name: &str| {
        aws_sdk_eventbridge::types::Rule::builder()
            .name(name)
            .arn(format!("arn:aws:events:eu-west-1:{CALLER}:rule/{name}"))
            .build()
    };
    let policy = |name: &str| {
        let doc = percent_encoding::utf8_percent_encode(SCP, percent_encoding::NON_ALPHANUMERIC).to_string();
        ManagedPolicyDetail::builder()
            .arn(format!("arn:aws:iam::{CALLER}:policy/{name}"))
            .policy_name(name)
            .default_version_id("v1")
            .policy_version_list(
                PolicyVersion::builder()
                    .version_id("v1")
                    .is_default_version(true)
                    .document(doc)
                    .build(),
            )
            .build()
    };
    let pages = vec![
        mock!(aws_sdk_eventbridge::Client::list_rules)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || ListRulesOutput::builder().rules(rule("page1")).next_token("t2").build()),
        mock!(aws_sdk_eventbridge::Client::list_rules)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_output(move || ListRulesOutput::builder().rules(rule("page2")).build()),
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .match_requests(|r| r.marker().is_none())
            .then_output(move || {
                GetAccountAuthorizationDetailsOutput::builder()
                    .policies(policy("one"))
                    .is_truncated(true)
                    .marker("m2")
                    .build()
            }),
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .match_requests(|r| r.marker() == Some("m2"))
            .then_output(move || {
                GetAccountAuthorizationDetailsOutput::builder()
                    .policies(policy("two"))
                    .is_truncated(false)
                    .build()
            }),
    ];
    let mut rules = pages;
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    let names: Vec<&str> = s.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["page1", "page2"]);
    let policies: Vec<&str> = s.managed_policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(policies, vec!["one", "two"]);
    assert!(
        s.managed_policies[0].document.is_object(),
        "URL-encoded documents are stored as JSON"
    );
    validate(s);
}

#[tokio::test]
async fn a_page_token_that_comes_back_is_a_gap_not_a_loop() {
    use aws_sdk_eventbridge::operation::list_rules::ListRulesOutput;
    let rule = |name: &str| {
        aws_sdk_eventbridge::types::Rule::builder()
            .name(name)
            .arn(format!("arn:aws:events:eu-west-1:{CALLER}:rule/{name}"))
            .build()
    };
    let pages = vec![
        mock!(aws_sdk_eventbridge::Client::list_rules)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || ListRulesOutput::builder().rules(rule("page1")).next_token("t2").build()),
        // A broken endpoint: the second page points back at itself.
        mock!(aws_sdk_eventbridge::Client::list_rules)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_output(move || ListRulesOutput::builder().rules(rule("page2")).next_token("t2").build()),
    ];
    let mut rules = pages;
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    let names: Vec<&str> = s.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["page1", "page2"], "what was read is kept");
    let gaps = gaps_for(&s.coverage.gaps, "events:ListRules");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].error_code, "PagingLoop");
    assert!(gaps[0].message.contains("`t2`"), "{}", gaps[0].message);
    validate(s);
}

#[tokio::test]
async fn agent_space_associations_of_primary_and_source_accounts_are_read() {
    use aws_sdk_devopsagent::operation::list_agent_spaces::ListAgentSpacesOutput;
    use aws_sdk_devopsagent::operation::list_associations::ListAssociationsOutput;
    use aws_sdk_devopsagent::types as d;
    let now = aws_smithy_types::DateTime::from_secs(1_700_000_000);
    let association = move |id: &str, config: d::ServiceConfiguration| {
        d::Association::builder()
            .status(d::ValidationStatus::Valid)
            .agent_space_id("as-1")
            .association_id(id)
            .service_id("aws")
            .configuration(config)
            .created_at(now)
            .updated_at(now)
            .build()
            .unwrap()
    };
    let rules = vec![
        mock!(aws_sdk_devopsagent::Client::list_agent_spaces).then_output(move || {
            ListAgentSpacesOutput::builder()
                .agent_spaces(
                    d::AgentSpace::builder()
                        .agent_space_id("as-1")
                        .name("invoice-oncall")
                        .kms_key_arn(format!("arn:aws:kms:eu-west-1:{CALLER}:key/k-1"))
                        .preferences(d::AgentSpacePreferenceKey::ElevatedActionsEnabled, true)
                        .created_at(now)
                        .updated_at(now)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_devopsagent::Client::list_associations).then_output(move || {
            let primary = d::AwsConfiguration::builder()
                .account_id(CALLER)
                .account_type(d::MonitorAccountType::Monitor)
                .assumable_role_arn(format!("arn:aws:iam::{CALLER}:role/DevOpsAgentRole-invoice-oncall"))
                .agent_elevated_role_arn(format!("arn:aws:iam::{CALLER}:role/DevOpsAgentElevated"))
                .agent_elevated_role_arn_status(d::ValidationStatus::PendingConfirmation)
                .build()
                .unwrap();
            let source = d::SourceAwsConfiguration::builder()
                .account_id("222222222222")
                .account_type(d::SourceAccountType::Source)
                .assumable_role_arn("arn:aws:iam::222222222222:role/DevOpsAgentRole-invoice-oncall")
                .external_id("ext-222")
                .build()
                .unwrap();
            ListAssociationsOutput::builder()
                .associations(association("a-2", d::ServiceConfiguration::SourceAws(source)))
                .associations(association("a-1", d::ServiceConfiguration::Aws(primary)))
                .build()
                .unwrap()
        }),
    ];
    let mut all = rules;
    all.push(
        mock!(aws_sdk_devopsagent::Client::get_operator_app)
            .match_requests(|r| r.agent_space_id() == Some("as-1"))
            .then_output(move || {
                aws_sdk_devopsagent::operation::get_operator_app::GetOperatorAppOutput::builder()
                    .iam(
                        d::IamAuthConfiguration::builder()
                            .operator_app_role_arn(format!("arn:aws:iam::{CALLER}:role/DevOpsAgentOperatorApp"))
                            .created_at(now)
                            .build()
                            .unwrap(),
                    )
                    .build()
            }),
    );
    all.extend(organization(&[CALLER]));
    all.extend(workloads());
    let outcome = crawl(&connector(&all).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    assert_eq!(s.agent_spaces.len(), 1, "{:?}", s.coverage.gaps);
    let space = &s.agent_spaces[0];
    assert_eq!(
        space.arn,
        format!("arn:aws:aidevops:eu-west-1:{CALLER}:agentspace/as-1")
    );
    let associated: Vec<(&str, &str)> = space
        .associations
        .iter()
        .map(|a| (a.account.as_str(), a.role.as_str()))
        .collect();
    assert_eq!(
        associated,
        vec![
            (
                CALLER,
                format!("arn:aws:iam::{CALLER}:role/DevOpsAgentRole-invoice-oncall").as_str()
            ),
            (
                "222222222222",
                "arn:aws:iam::222222222222:role/DevOpsAgentRole-invoice-oncall"
            ),
        ],
        "the primary (monitor) and the source account"
    );
    // The rest of the configuration: type, external id, elevated role and statuses, preferences.
    use topoguard::model::{AssociationKind, ValidationStatus};
    let (monitor, source) = (&space.associations[0], &space.associations[1]);
    assert_eq!(monitor.kind, Some(AssociationKind::Monitor));
    assert_eq!(
        monitor.elevated_role.as_deref(),
        Some(format!("arn:aws:iam::{CALLER}:role/DevOpsAgentElevated").as_str())
    );
    assert_eq!(
        monitor.elevated_role_status,
        Some(ValidationStatus::PendingConfirmation)
    );
    assert_eq!(monitor.external_id, None);
    assert_eq!(source.kind, Some(AssociationKind::Source));
    assert_eq!(source.external_id.as_deref(), Some("ext-222"));
    assert_eq!(source.status, Some(ValidationStatus::Valid));
    assert_eq!(space.elevated_actions_enabled, Some(true));
    assert_eq!(
        space.kms_key.as_deref(),
        Some(format!("arn:aws:kms:eu-west-1:{CALLER}:key/k-1").as_str())
    );
    assert!(gaps_for(&s.coverage.gaps, "aidevops:ListAssociations").is_empty());
    assert_eq!(
        space.operator_app_role.as_deref(),
        Some(format!("arn:aws:iam::{CALLER}:role/DevOpsAgentOperatorApp").as_str()),
        "the operator app's role from GetOperatorApp"
    );
    assert!(gaps_for(&s.coverage.gaps, "aidevops:GetOperatorApp").is_empty());
    validate(s);
}

#[tokio::test]
async fn a_failed_operator_app_read_is_a_gap_and_no_app_is_not() {
    // AccessDenied on GetOperatorApp: a gap and no role; ResourceNotFoundException (no operator
    // app enabled): neither.
    use aws_sdk_devopsagent::operation::get_operator_app::GetOperatorAppError;
    use aws_sdk_devopsagent::operation::list_agent_spaces::ListAgentSpacesOutput;
    use aws_sdk_devopsagent::types as d;
    let now = aws_smithy_types::DateTime::from_secs(1_700_000_000);
    let space = move |id: &str| {
        d::AgentSpace::builder()
            .agent_space_id(id)
            .name(id)
            .created_at(now)
            .updated_at(now)
            .build()
            .unwrap()
    };
    let mut rules = vec![
        mock!(aws_sdk_devopsagent::Client::list_agent_spaces).then_output(move || {
            ListAgentSpacesOutput::builder()
                .agent_spaces(space("as-denied"))
                .agent_spaces(space("as-none"))
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_devopsagent::Client::list_associations).then_output(|| {
            aws_sdk_devopsagent::operation::list_associations::ListAssociationsOutput::builder()
                .set_associations(Some(Vec::new()))
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_devopsagent::Client::get_operator_app)
            .match_requests(|r| r.agent_space_id() == Some("as-denied"))
            .then_error(|| GetOperatorAppError::generic(meta("AccessDeniedException"))),
        mock!(aws_sdk_devopsagent::Client::get_operator_app)
            .then_error(|| GetOperatorAppError::generic(meta("ResourceNotFoundException"))),
    ];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    assert_eq!(s.agent_spaces.len(), 2, "{:?}", s.coverage.gaps);
    assert!(s.agent_spaces.iter().all(|sp| sp.operator_app_role.is_none()));
    let gaps = gaps_for(&s.coverage.gaps, "aidevops:GetOperatorApp");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].error_code, "AccessDeniedException");
    validate(s);
}

#[tokio::test]
async fn a_timeout_is_a_gap() {
    // A server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    // No retries: timeouts would drain the process-wide retry quota other tests rely on.
    let config = base_config(false, Duration::from_millis(500))
        .await
        .to_builder()
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .build();
    let started = std::time::Instant::now();
    let outcome = crawl(&Connector::new(config), &options(&["eu-west-1"], 4)).await;
    assert!(started.elapsed() < Duration::from_secs(20), "the crawl never hangs");
    let gaps = &outcome.snapshot.coverage.gaps;
    assert!(!gaps.is_empty());
    assert!(gaps.iter().all(|g| g.error_code == "Timeout"), "{gaps:?}");
    assert!(gaps.iter().any(|g| g.api == "sts:GetCallerIdentity"));
}

#[tokio::test]
async fn calls_per_account_and_region_are_as_expected() {
    let accounts = [CALLER, "222222222222", "333333333333", "444444444444"];
    let regions = ["eu-west-1", "eu-central-1"];
    let mut rules = organization(&accounts);
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&regions, 8)).await;
    let counts = &outcome.call_counts;
    let per_region = [
        (Api::EventsListEventBuses, 1),
        (Api::EventsListRules, 1),
        (Api::EventsListTargetsByRule, 1),
        (Api::LambdaListFunctions, 1),
        (Api::LambdaGetPolicy, 1),
        (Api::LambdaListEventSourceMappings, 1),
        (Api::TagGetResources, 1),
        (Api::DevOpsListAgentSpaces, 1),
        (Api::EventsV2ListEventBuses, 1),
    ];
    for account in accounts {
        for region in regions {
            for (api, n) in per_region {
                let key = (Some(account.to_string()), Some(region.to_string()), api);
                assert_eq!(counts.get(&key), Some(&n), "{account} {region} {}", api.action());
            }
        }
        let global = |api| counts.get(&(Some(account.to_string()), None, api)).copied();
        assert_eq!(
            global(Api::IamGetAccountAuthorizationDetails),
            Some(1),
            "one IAM call per account"
        );
        assert_eq!(global(Api::S3ListBuckets), Some(1), "one bucket listing per account");
        let assumed = if account == CALLER { None } else { Some(1) };
        assert_eq!(global(Api::StsAssumeRole), assumed);
    }
    let per_account_region: u64 = per_region.iter().map(|(_, n)| n).sum();
    let org_calls: u64 = counts.iter().filter(|((a, _, _), _)| a.is_none()).map(|(_, n)| n).sum();
    // Organization: identity, describe, accounts, roots, 2 units × 2 lists, tags per account,
    // 2 policy lists, describe + targets for the one SCP.
    assert_eq!(org_calls, 1 + 1 + 1 + 1 + 4 + accounts.len() as u64 + 2 + 2);
    // Queue policies: the tagged queue's once, in its own account and region; the untagged queue
    // that the rule targets (in 222222222222) once, by that account, which owns it. No other
    // account reads either.
    let queue_policy: Vec<_> = counts
        .iter()
        .filter(|((_, _, api), _)| *api == Api::SqsGetQueueAttributes)
        .map(|((a, r, _), n)| (a.clone().unwrap(), r.clone().unwrap(), *n))
        .collect();
    let eu = "eu-west-1".to_string();
    assert_eq!(
        queue_policy,
        vec![(CALLER.to_string(), eu.clone(), 1), ("222222222222".to_string(), eu, 1)]
    );
    // Per account: IAM and ListBuckets, then each region; the references all resolved by their
    // owners' own crawls (the queue is its owner's own target, untagged in a listed region):
    // no call after the accounts.
    let expected = org_calls + accounts.len() as u64 * (2 + regions.len() as u64 * per_account_region) + 3 + 2;
    assert_eq!(outcome.calls, expected);
}

#[tokio::test]
async fn the_snapshot_is_deterministic() {
    let accounts = [CALLER, "222222222222", "333333333333"];
    let run = |concurrency| async move {
        let mut rules = organization(&accounts);
        rules.extend(workloads());
        let outcome = crawl(
            &connector(&rules).await,
            &options(&["eu-west-1", "us-east-1"], concurrency),
        )
        .await;
        serde_json::to_string_pretty(&outcome.snapshot).unwrap()
    };
    assert_eq!(run(1).await, run(16).await);
}

// EventBridge v2 (Custom Event Buses). The mocks cannot tell accounts apart, so every account
// gets the same answers: the bus is owned by the caller (the other account's listing names the
// caller as its owner and skips it), and each account lists the subscribers "it owns" — the
// assembly keeps one of each and hangs both on the caller's bus.

const V2_BUS: &str = "arn:aws:events:eu-west-1:111111111111:event-busv2/orders/abcdefghijklmnopqrstuvwxy";
const V2_BUS_2: &str = "arn:aws:events:eu-west-1:111111111111:event-busv2/audit/bcdefghijklmnopqrstuvwxyz";
const V2_OWN_SUB: &str = "arn:aws:events:eu-west-1:111111111111:subscriber/billing/cdefghijklmnopqrstuvwxyza";
const V2_CONSUMER_SUB: &str = "arn:aws:events:eu-west-1:222222222222:subscriber/replica/defghijklmnopqrstuvwxyzab";
const V2_SHARE: &str = "arn:aws:ram:eu-west-1:111111111111:resource-share/0a1b2c3d-4e5f-6789-abcd-ef0123456789";

fn v2_bus(arn: &str, name: &str) -> aws_sdk_eventbridgev2::types::EventBusSummary {
    aws_sdk_eventbridgev2::types::EventBusSummary::builder()
        .name(name)
        .event_bus_arn(arn)
        .event_bus_account_id(CALLER)
        .build()
}

fn v2_summary(arn: &str, account: &str, target: &str) -> aws_sdk_eventbridgev2::types::SubscriberSummary {
    aws_sdk_eventbridgev2::types::SubscriberSummary::builder()
        .subscriber_arn(arn)
        .name(arn.split('/').nth(1).unwrap())
        .event_bus_arn(V2_BUS)
        .target_arn(target)
        .state(aws_sdk_eventbridgev2::types::SubscriberState::Running)
        .subscriber_account_id(account)
        .build()
}

/// A full v2 crawl: two pages of buses, two pages of subscribers (the caller's, delivering to a
/// function in its own region, and another account's, delivering to a queue in us-east-1 — another
/// residency zone — through an HTTP-free invoke configuration), both named resource policies,
/// a KMS key, and a RAM share of the first bus with the other account and an OU.
fn eventsv2_workloads() -> Vec<MockRule> {
    use aws_sdk_eventbridgev2::operation as v;
    use aws_sdk_eventbridgev2::types as vt;
    use aws_sdk_ram::operation as r;
    use aws_sdk_ram::types as rt;
    let policy = |sid: &str, principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"events:CreateSubscriber","Resource":"{V2_BUS}"}}]}}"#
        )
    };
    let (default_policy, ram_policy) = (policy("Default", "333333333333"), policy("Ram", "222222222222"));
    let mut rules = vec![
        mock!(aws_sdk_eventbridgev2::Client::list_event_buses)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                v::list_event_buses::ListEventBusesOutput::builder()
                    .event_buses(v2_bus(V2_BUS, "orders"))
                    .next_token("buses-2")
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::list_event_buses)
            .match_requests(|r| r.next_token() == Some("buses-2"))
            .then_output(|| {
                v::list_event_buses::ListEventBusesOutput::builder()
                    .event_buses(v2_bus(V2_BUS_2, "audit"))
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::describe_event_bus)
            .match_requests(|r| r.event_bus_arn() == Some(V2_BUS))
            .then_output(|| {
                v::describe_event_bus::DescribeEventBusOutput::builder()
                    .event_bus_arn(V2_BUS)
                    .encryption_configuration(
                        vt::EncryptionConfiguration::builder()
                            .kms_key_identifier(format!("arn:aws:kms:eu-west-1:{CALLER}:key/k1"))
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::describe_event_bus)
            .then_output(|| v::describe_event_bus::DescribeEventBusOutput::builder().build()),
        mock!(aws_sdk_eventbridgev2::Client::list_resource_policies)
            .match_requests(|r| r.resource_arn() == Some(V2_BUS))
            .then_output(|| {
                v::list_resource_policies::ListResourcePoliciesOutput::builder()
                    .policy_summaries(
                        vt::ResourcePolicySummary::builder()
                            .policy_name("default")
                            .revision_id("1")
                            .build()
                            .unwrap(),
                    )
                    .policy_summaries(
                        vt::ResourcePolicySummary::builder()
                            .policy_name("AWS_RAM")
                            .revision_id("2")
                            .build()
                            .unwrap(),
                    )
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::list_resource_policies)
            .then_output(|| v::list_resource_policies::ListResourcePoliciesOutput::builder().build()),
        mock!(aws_sdk_eventbridgev2::Client::list_subscribers)
            .match_requests(|r| r.next_token().is_none() && r.event_bus_arn().is_none())
            .then_output(|| {
                v::list_subscribers::ListSubscribersOutput::builder()
                    .subscribers(v2_summary(
                        V2_OWN_SUB,
                        CALLER,
                        &format!("arn:aws:lambda:eu-west-1:{CALLER}:function:f1"),
                    ))
                    .next_token("subs-2")
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::list_subscribers)
            .match_requests(|r| r.next_token() == Some("subs-2"))
            .then_output(|| {
                v::list_subscribers::ListSubscribersOutput::builder()
                    .subscribers(v2_summary(
                        V2_CONSUMER_SUB,
                        "222222222222",
                        "arn:aws:sqs:us-east-1:222222222222:replica",
                    ))
                    .build()
            }),
        mock!(aws_sdk_eventbridgev2::Client::describe_subscriber)
            .match_requests(|r| r.subscriber_arn() == Some(V2_CONSUMER_SUB))
            .then_output(|| {
                describe_subscriber(
                    V2_CONSUMER_SUB,
                    "arn:aws:sqs:us-east-1:222222222222:replica",
                    "arn:aws:iam::222222222222:role/replica-delivery",
                    Some("arn:aws:sqs:eu-west-1:222222222222:replica-dlq"),
                )
            }),
        mock!(aws_sdk_eventbridgev2::Client::describe_subscriber).then_output(|| {
            describe_subscriber(
                V2_OWN_SUB,
                &format!("arn:aws:lambda:eu-west-1:{CALLER}:function:f1"),
                &format!("arn:aws:iam::{CALLER}:role/billing-delivery"),
                None,
            )
        }),
        mock!(aws_sdk_ram::Client::list_resources).then_output(|| {
            r::list_resources::ListResourcesOutput::builder()
                .resources(
                    rt::Resource::builder()
                        .arn(V2_BUS)
                        .resource_share_arn(V2_SHARE)
                        .status(rt::ResourceStatus::Available)
                        .build(),
                )
                .resources(
                    rt::Resource::builder()
                        .arn(format!("arn:aws:ec2:eu-west-1:{CALLER}:subnet/subnet-1"))
                        .resource_share_arn("arn:aws:ram:eu-west-1:111111111111:resource-share/other")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ram::Client::get_resource_shares).then_output(|| {
            r::get_resource_shares::GetResourceSharesOutput::builder()
                .resource_shares(
                    rt::ResourceShare::builder()
                        .resource_share_arn(V2_SHARE)
                        .status(rt::ResourceShareStatus::Active)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ram::Client::list_principals).then_output(|| {
            r::list_principals::ListPrincipalsOutput::builder()
                .principals(
                    rt::Principal::builder()
                        .id("222222222222")
                        .resource_share_arn(V2_SHARE)
                        .build(),
                )
                .principals(
                    rt::Principal::builder()
                        .id("arn:aws:organizations::111111111111:ou/o-abc/ou-root-work")
                        .resource_share_arn(V2_SHARE)
                        .build(),
                )
                .build()
        }),
    ];
    rules.extend(policy_rules(default_policy, ram_policy));
    rules
}

/// `GetResourcePolicy` answers per policy name.
fn policy_rules(default_policy: String, ram_policy: String) -> Vec<MockRule> {
    use aws_sdk_eventbridgev2::operation::get_resource_policy::GetResourcePolicyOutput;
    let answer = |name: &'static str, doc: String| {
        mock!(aws_sdk_eventbridgev2::Client::get_resource_policy)
            .match_requests(move |r| r.policy_name() == Some(name))
            .then_output(move || {
                GetResourcePolicyOutput::builder()
                    .resource_arn(V2_BUS)
                    .policy_name(name)
                    .policy_document(doc.clone())
                    .revision_id("1")
                    .build()
                    .unwrap()
            })
    };
    vec![answer("AWS_RAM", ram_policy), answer("default", default_policy)]
}

fn describe_subscriber(
    arn: &str,
    target: &str,
    role: &str,
    failure: Option<&str>,
) -> aws_sdk_eventbridgev2::operation::describe_subscriber::DescribeSubscriberOutput {
    use aws_sdk_eventbridgev2::types as vt;
    aws_sdk_eventbridgev2::operation::describe_subscriber::DescribeSubscriberOutput::builder()
        .subscriber_arn(arn)
        .name(arn.split('/').nth(1).unwrap())
        .event_bus_arn(V2_BUS)
        .state(vt::SubscriberState::Running)
        .filter_configuration(
            vt::FilterConfiguration::builder()
                .filters(
                    vt::Filter::builder()
                        .pattern(r#"{"source":["orders"]}"#)
                        .scope(vt::FilterScope::Data)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .invoke_configuration(
            vt::InvokeConfiguration::builder()
                .target_arn(target)
                .role_arn(role)
                .http_parameters(
                    vt::HttpParameters::builder()
                        .header_parameters("Authorization", "Bearer hunter2-v2")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .set_on_failure_configuration(failure.map(|f| vt::OnFailureConfiguration::builder().arn(f).build()))
        .build()
}

#[tokio::test]
async fn a_full_eventsv2_crawl_reads_buses_subscribers_policies_and_shares() {
    // A consumer account's subscriber on a shared bus is attached to the owner's bus:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-custom-bus-sharing.html
    // Throttling (`ThrottlingException`, which the v2 API declares) on the second page of
    // subscribers is retried and leaves no gap.
    use aws_sdk_eventbridgev2::operation::list_subscribers::ListSubscribersError;
    let throttled = mock!(aws_sdk_eventbridgev2::Client::list_subscribers)
        .match_requests(|r| r.next_token() == Some("subs-2"))
        .sequence()
        .error(|| ListSubscribersError::generic(meta("ThrottlingException")))
        .times(2)
        .build();
    let mut rules = vec![throttled.clone()];
    rules.extend(organization(&[CALLER, "222222222222"]));
    rules.extend(workloads());
    rules.extend(eventsv2_workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    let gaps: Vec<&CoverageGap> = s
        .coverage
        .gaps
        .iter()
        .filter(|g| g.api.starts_with("eventsv2:") || g.api.starts_with("ram:"))
        .collect();
    assert!(gaps.is_empty(), "{gaps:?}");
    assert_eq!(throttled.num_calls(), 2, "both throttled answers were used");
    assert!(outcome.retries >= 2);

    let arns: Vec<&str> = s.event_buses_v2.iter().map(|b| b.arn.as_str()).collect();
    assert_eq!(arns, [V2_BUS_2, V2_BUS], "both pages of buses, once each, sorted");
    let bus = s.event_buses_v2.iter().find(|b| b.arn == V2_BUS).unwrap();
    assert_eq!(bus.account, CALLER);
    assert_eq!(
        bus.kms_key.as_deref(),
        Some("arn:aws:kms:eu-west-1:111111111111:key/k1")
    );
    let policy = serde_json::to_value(bus.policy.as_ref().unwrap()).unwrap();
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids.len(), 2, "both named policies merged: {sids:?}");
    assert!(sids.contains(&"Default") && sids.contains(&"Ram"));
    assert_eq!(bus.shares.len(), 1, "the subnet's share is not the bus's");
    assert_eq!(bus.shares[0].arn, V2_SHARE);
    assert_eq!(
        bus.shares[0].principals,
        [
            "222222222222",
            "arn:aws:organizations::111111111111:ou/o-abc/ou-root-work"
        ]
    );

    let subs: Vec<&str> = bus.subscribers.iter().map(|x| x.arn.as_str()).collect();
    assert_eq!(subs, [V2_OWN_SUB, V2_CONSUMER_SUB]);
    let consumer = &bus.subscribers[1];
    assert_eq!(consumer.account, "222222222222");
    assert_eq!(consumer.target, "arn:aws:sqs:us-east-1:222222222222:replica");
    assert_eq!(
        consumer.role.as_deref(),
        Some("arn:aws:iam::222222222222:role/replica-delivery")
    );
    assert_eq!(
        consumer.failure_destination.as_deref(),
        Some("arn:aws:sqs:eu-west-1:222222222222:replica-dlq")
    );
    assert_eq!(consumer.filters, [r#"{"source":["orders"]}"#]);
    assert_eq!(consumer.state, Some(topoguard::model::SubscriberState::Running));
    assert!(
        s.event_buses_v2
            .iter()
            .find(|b| b.arn == V2_BUS_2)
            .unwrap()
            .subscribers
            .is_empty()
    );
    assert!(
        !serde_json::to_string(s).unwrap().contains("hunter2"),
        "no HTTP header of an invoke configuration is kept"
    );
}

#[tokio::test]
async fn a_missing_eventsv2_api_is_a_gap_and_nothing_else_of_it_is_called() {
    // An emulator, a region without the v2 API, or an SCP deny: the listing fails, the gap names
    // the v2 API, and the classic buses are read as before.
    use aws_sdk_eventbridgev2::operation::list_event_buses::ListEventBusesError;
    let unknown = mock!(aws_sdk_eventbridgev2::Client::list_event_buses)
        .then_error(|| ListEventBusesError::generic(meta("UnknownOperationException")));
    let subscribers = mock!(aws_sdk_eventbridgev2::Client::list_subscribers)
        .then_output(|| aws_sdk_eventbridgev2::operation::list_subscribers::ListSubscribersOutput::builder().build());
    let mut rules = vec![unknown.clone(), subscribers.clone()];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    let gaps = gaps_for(&s.coverage.gaps, "eventsv2:ListEventBuses");
    assert_eq!(gaps.len(), 1, "{:?}", s.coverage.gaps);
    assert_eq!(gaps[0].error_code, "UnknownOperationException");
    assert_eq!(gaps[0].account.as_deref(), Some(CALLER));
    assert_eq!(gaps[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(unknown.num_calls(), 1, "not retried");
    assert_eq!(subscribers.num_calls(), 0);
    assert!(s.event_buses_v2.is_empty());
    assert!(gaps_for(&s.coverage.gaps, "events:ListEventBuses").is_empty());
    assert_eq!(s.event_buses.len(), 1, "the classic bus is read");
}

#[tokio::test]
async fn access_denied_on_subscribers_is_a_gap_and_the_buses_are_kept() {
    // Near miss of the full crawl: an SCP denying `events:ListSubscribers` leaves the buses and
    // their shares in the snapshot and a gap that makes the subscriber checks "not proven".
    use aws_sdk_eventbridgev2::operation::list_subscribers::ListSubscribersError;
    let denied = mock!(aws_sdk_eventbridgev2::Client::list_subscribers)
        .then_error(|| ListSubscribersError::generic(meta("AccessDeniedException")));
    let mut rules = vec![denied];
    rules.extend(organization(&[CALLER]));
    rules.extend(workloads());
    rules.extend(eventsv2_workloads());
    let outcome = crawl(&connector(&rules).await, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    let gaps = gaps_for(&s.coverage.gaps, "eventsv2:ListSubscribers");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].error_code, "AccessDeniedException");
    assert_eq!(s.event_buses_v2.len(), 2);
    assert!(s.event_buses_v2.iter().all(|b| b.subscribers.is_empty()));
    assert_eq!(s.event_buses_v2.iter().map(|b| b.shares.len()).sum::<usize>(), 1);
}

// References across accounts (issue 9 part 3): resolved once every account is crawled, in the
// account that owns the resource, through that account's session. Each account gets its own
// mocked answers here (`Connector::with_account_interceptor`), so that a reference can come from
// one account only.

const OWNER: &str = "222222222222";
const SHARED_QUEUE: &str = "arn:aws:sqs:eu-west-1:222222222222:shared";
const REPLICA: &str = "arn:aws:sqs:us-east-1:222222222222:replica";
const REPLICA_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sqs:ReceiveMessage","Resource":"arn:aws:sqs:us-east-1:222222222222:replica"}]}"#;

fn targets(arns: &[&str]) -> MockRule {
    use aws_sdk_eventbridge::operation::list_targets_by_rule::ListTargetsByRuleOutput;
    let arns: Vec<String> = arns.iter().map(|a| a.to_string()).collect();
    mock!(aws_sdk_eventbridge::Client::list_targets_by_rule).then_output(move || {
        let mut b = ListTargetsByRuleOutput::builder();
        for (i, arn) in arns.iter().enumerate() {
            b = b.targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id(format!("t{i}"))
                    .arn(arn)
                    .build()
                    .unwrap(),
            );
        }
        b.build()
    })
}

/// `GetResources` with a `ResourceARNList` naming `arn`: its tags.
fn tags_by_arn(arn: &'static str, key: &'static str, value: &'static str) -> MockRule {
    use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
    mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .match_requests(move |r| r.resource_arn_list().contains(&arn.to_string()))
        .then_output(move || {
            GetResourcesOutput::builder()
                .resource_tag_mapping_list(
                    ResourceTagMapping::builder()
                        .resource_arn(arn)
                        .tags(Tag::builder().key(key).value(value).build().unwrap())
                        .build(),
                )
                .build()
        })
}

/// An organization of the caller and [`OWNER`]: the caller's rule targets the owner's untagged
/// queue in a crawled region and its queue in us-east-1, a region the crawl does not list; the
/// owner references neither. `owner_first` go before the owner's usual answers.
async fn cross_account_connector(owner_first: Vec<MockRule>) -> Connector {
    let accounts = [CALLER, OWNER];
    let mut caller = vec![targets(&[SHARED_QUEUE, REPLICA])];
    caller.extend(organization(&accounts));
    caller.extend(workloads());
    let mut owner = owner_first;
    owner.push(targets(&[]));
    owner.extend(organization(&accounts));
    owner.extend(workloads());
    Connector::new(base_config(true, Duration::from_secs(10)).await)
        .with_interceptor(interceptor(&caller))
        .with_account_interceptor(OWNER, interceptor(&owner))
}

/// The number of accounts whose gaps are exactly the APIs these tests do not mock (the DevOps
/// Agent API and EventBridge v2); panics on any other gap.
fn unmocked_only(s: &Snapshot) -> usize {
    let mut accounts = std::collections::BTreeSet::new();
    for g in &s.coverage.gaps {
        assert!(
            ["aidevops:ListAgentSpaces", "eventsv2:ListEventBuses"].contains(&g.api.as_str()),
            "unexpected gap {g:?}"
        );
        accounts.insert(g.account.clone());
    }
    assert_eq!(s.coverage.gaps.len(), accounts.len() * 2, "{:?}", s.coverage.gaps);
    accounts.len()
}

fn count(outcome: &topoguard::crawl::CrawlOutcome, account: &str, region: &str, api: Api) -> u64 {
    outcome
        .call_counts
        .get(&(Some(account.to_string()), Some(region.to_string()), api))
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_resource_referenced_only_from_another_account_gets_its_tags_and_policy_and_no_gap() {
    let replica_tags = tags_by_arn(REPLICA, "app", "replica");
    let replica_policy = mock!(aws_sdk_sqs::Client::get_queue_attributes)
        .match_requests(|r| r.queue_url().is_some_and(|u| u.ends_with("/222222222222/replica")))
        .then_output(|| {
            aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput::builder()
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, REPLICA_POLICY)
                .build()
        });
    let connector = cross_account_connector(vec![replica_tags.clone(), replica_policy.clone()]).await;
    let outcome = crawl(&connector, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    assert_eq!(
        unmocked_only(s),
        2,
        "only the APIs not mocked, in both accounts: {:?}",
        s.coverage.gaps
    );
    // The queue in a region the crawl did not list: tags and policy, read by its owner.
    let replica = s
        .resources
        .iter()
        .find(|r| r.arn == REPLICA)
        .expect("the replica queue");
    assert_eq!(replica.account, OWNER);
    assert_eq!(replica.region.as_deref(), Some("us-east-1"));
    assert_eq!(replica.tags["app"], "replica");
    assert_eq!(
        replica.policy.as_ref().unwrap()["Statement"][0]["Action"],
        "sqs:ReceiveMessage"
    );
    assert_eq!(replica_tags.num_calls(), 1, "through the owner's session");
    assert_eq!(replica_policy.num_calls(), 1, "through the owner's session");
    // The untagged queue in a listed region: its policy, no tag call (the owner's listing of
    // eu-west-1 was complete and did not name it).
    let shared = s
        .resources
        .iter()
        .find(|r| r.arn == SHARED_QUEUE)
        .expect("the shared queue");
    assert_eq!(shared.account, OWNER);
    assert!(shared.tags.is_empty());
    assert_eq!(
        shared.policy.as_ref().unwrap()["Statement"][0]["Action"],
        "sqs:SendMessage"
    );
    assert_eq!(count(&outcome, OWNER, "us-east-1", Api::TagGetResources), 1);
    assert_eq!(count(&outcome, OWNER, "us-east-1", Api::SqsGetQueueAttributes), 1);
    assert_eq!(count(&outcome, OWNER, "eu-west-1", Api::SqsGetQueueAttributes), 1);
    assert_eq!(
        count(&outcome, OWNER, "eu-west-1", Api::TagGetResources),
        1,
        "the listing only"
    );
    assert_eq!(count(&outcome, CALLER, "us-east-1", Api::SqsGetQueueAttributes), 0);
}

#[tokio::test]
async fn access_denied_on_the_owners_read_is_a_gap_and_the_resource_stays_not_proven() {
    use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError;
    let denied = mock!(aws_sdk_sqs::Client::get_queue_attributes)
        .match_requests(|r| r.queue_url().is_some_and(|u| u.ends_with("/222222222222/replica")))
        .then_error(|| GetQueueAttributesError::generic(meta("AccessDenied")));
    let connector = cross_account_connector(vec![tags_by_arn(REPLICA, "app", "replica"), denied]).await;
    let outcome = crawl(&connector, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    let gaps = gaps_for(&s.coverage.gaps, "sqs:GetQueueAttributes");
    assert_eq!(gaps.len(), 1, "{:?}", s.coverage.gaps);
    assert_eq!(gaps[0].account.as_deref(), Some(OWNER));
    assert_eq!(gaps[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(gaps[0].error_code, "AccessDenied");
    // Not in the snapshot although its tags were readable: it stays an external node in its
    // owner's account, whose checks say "not proven" (`shared-resource-untagged`).
    assert!(!s.resources.iter().any(|r| r.arn == REPLICA));
    let config = topoguard::config::Config::default();
    let t = topoguard::graph::Topology::build(s, &config);
    let node = t.node(t.find(REPLICA).expect("the rule's target is a node"));
    assert_eq!(node.kind, topoguard::graph::NodeKind::External);
    assert_eq!(node.account, Some(OWNER));
    // Near miss: the owner's other queue was read.
    assert!(s.resources.iter().any(|r| r.arn == SHARED_QUEUE));
}

#[tokio::test]
async fn a_bucket_is_placed_in_the_account_listing_it_and_read_there() {
    // `ListBuckets` lists the caller's own buckets; a bucket ARN names no account, so the
    // listing is how an IAM policy's `arn:aws:s3:::exports/*` finds its owner:
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::types::{PolicyDetail, RoleDetail};
    use aws_sdk_s3::operation as s3;
    let encode = |doc: &str| percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC).to_string();
    let trust = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    );
    let reads = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::exports/*"}]}"#,
    );
    let bucket_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::exports/*"}]}"#;
    let accounts = [CALLER, OWNER];
    // The caller's role reads the bucket; the owner lists it.
    let mut caller = vec![
        mock!(aws_sdk_iam::Client::get_account_authorization_details).then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(
                    RoleDetail::builder()
                        .arn(format!("arn:aws:iam::{CALLER}:role/exporter"))
                        .role_name("exporter")
                        .assume_role_policy_document(trust.clone())
                        .role_policy_list(
                            PolicyDetail::builder()
                                .policy_name("read-exports")
                                .policy_document(reads.clone())
                                .build(),
                        )
                        .build(),
                )
                .is_truncated(false)
                .build()
        }),
    ];
    caller.extend(organization(&accounts));
    caller.extend(workloads());
    let location = mock!(aws_sdk_s3::Client::get_bucket_location)
        .match_requests(|r| r.bucket() == Some("exports"))
        .then_output(|| {
            s3::get_bucket_location::GetBucketLocationOutput::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build()
        });
    let mut owner = vec![
        mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
            s3::list_buckets::ListBucketsOutput::builder()
                .buckets(aws_sdk_s3::types::Bucket::builder().name("exports").build())
                .build()
        }),
        location.clone(),
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .match_requests(|r| r.bucket() == Some("exports"))
            .then_output(move || {
                s3::get_bucket_policy::GetBucketPolicyOutput::builder()
                    .policy(bucket_policy)
                    .build()
            }),
        tags_by_arn("arn:aws:s3:::exports", "shared-with", "exports"),
    ];
    owner.extend(organization(&accounts));
    owner.extend(workloads());
    let connector = Connector::new(base_config(true, Duration::from_secs(10)).await)
        .with_interceptor(interceptor(&caller))
        .with_account_interceptor(OWNER, interceptor(&owner));
    let outcome = crawl(&connector, &options(&["eu-west-1"], 4)).await;
    let s = &outcome.snapshot;
    validate(s);
    assert_eq!(s.bucket_owners.get("exports").map(String::as_str), Some(OWNER));
    assert_eq!(s.bucket_owners.len(), 1);
    assert_eq!(unmocked_only(s), 2, "{:?}", s.coverage.gaps);
    let b = s
        .resources
        .iter()
        .find(|r| r.arn == "arn:aws:s3:::exports")
        .expect("the bucket");
    assert_eq!(b.account, OWNER);
    assert_eq!(b.region.as_deref(), Some("eu-central-1"), "from GetBucketLocation");
    assert_eq!(b.tags["shared-with"], "exports");
    assert_eq!(b.policy.as_ref().unwrap()["Statement"][0]["Action"], "s3:GetObject");
    assert_eq!(location.num_calls(), 1, "read once, by its owner");
    assert_eq!(count(&outcome, OWNER, "eu-central-1", Api::TagGetResources), 1);
}
