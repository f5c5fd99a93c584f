//! Sessions: the caller's SDK configuration, per-account configurations obtained through
//! `sts:AssumeRole`, and the service clients built from them.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use aws_config::SdkConfig;
use aws_sdk_devopsagent::config::interceptors::BeforeSerializationInterceptorContextMut;
use aws_sdk_devopsagent::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::retry::RetryPartition;
use aws_sdk_sts::config::{Credentials, Region, SharedCredentialsProvider, SharedInterceptor};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use std::time::SystemTime;

/// Builds service clients from an [`SdkConfig`], adding an interceptor to each when one is set
/// (tests use it to mock responses).
#[derive(Debug, Clone)]
pub struct Connector {
    base: SdkConfig,
    interceptor: Option<SharedInterceptor>,
    /// Interceptors that replace `interceptor` in the clients of one account (tests give each
    /// account its own mocked answers).
    per_account: Vec<(String, SharedInterceptor)>,
}

/// The retry partition of one service in one account and region. The clients do not retry
/// (the crawl's [`Ctx`] does, without holding a permit while it backs off), but a partition
/// per account and region keeps any SDK-side state (such as the credentials' clock skew) from
/// being shared across the organization. `account` is `None` for the caller's own
/// organization-level calls.
fn partition(service: &str, config: &SdkConfig, account: Option<&str>) -> RetryPartition {
    let region = config.region().map_or("-", |r| r.as_ref());
    RetryPartition::new(format!("topoguard/{service}/{}/{region}", account.unwrap_or("caller")))
}

macro_rules! client {
    ($name:ident, $krate:ident) => {
        /// A client with the account's own retry partition (see [`partition`]).
        pub fn $name(&self, config: &SdkConfig, account: Option<&str>) -> $krate::Client {
            let mut builder = $krate::config::Builder::from(config)
                .retry_config(RetryConfig::disabled())
                .retry_partition(partition(stringify!($name), config, account));
            if let Some(i) = self.interceptor_for(account) {
                builder.push_interceptor(i.clone());
            }
            $krate::Client::from_conf(builder.build())
        }
    };
}

impl Connector {
    /// A connector for the caller's configuration (credentials, region, retry and timeouts).
    pub fn new(base: SdkConfig) -> Self {
        Connector {
            base,
            interceptor: None,
            per_account: Vec::new(),
        }
    }

    /// Adds an interceptor to every client built.
    pub fn with_interceptor(mut self, interceptor: SharedInterceptor) -> Self {
        self.interceptor = Some(interceptor);
        self
    }

    /// Uses `interceptor` instead of the one of [`Connector::with_interceptor`] in the clients
    /// of `account` (tests give each account its own mocked answers).
    pub fn with_account_interceptor(mut self, account: &str, interceptor: SharedInterceptor) -> Self {
        self.per_account.push((account.to_string(), interceptor));
        self
    }

    /// The interceptor of the clients of `account` (`None`: organization-level clients).
    fn interceptor_for(&self, account: Option<&str>) -> Option<&SharedInterceptor> {
        account
            .and_then(|a| self.per_account.iter().find(|(id, _)| id == a).map(|(_, i)| i))
            .or(self.interceptor.as_ref())
    }

    /// The caller's configuration.
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    client!(organizations, aws_sdk_organizations);
    client!(sts, aws_sdk_sts);
    client!(iam, aws_sdk_iam);
    client!(events, aws_sdk_eventbridge);
    client!(eventsv2, aws_sdk_eventbridgev2);
    client!(ram, aws_sdk_ram);
    client!(lambda, aws_sdk_lambda);
    client!(tagging, aws_sdk_resourcegroupstagging);
    client!(sqs, aws_sdk_sqs);
    client!(sns, aws_sdk_sns);
    client!(kms, aws_sdk_kms);
    client!(secretsmanager, aws_sdk_secretsmanager);
    client!(dynamodb, aws_sdk_dynamodb);

    /// The S3 client uses path-style addressing when an endpoint is set (an emulator on a
    /// loopback address has no per-bucket host names).
    pub fn s3(&self, config: &SdkConfig, account: Option<&str>) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .force_path_style(config.endpoint_url().is_some())
            .retry_partition(partition("s3", config, account));
        if let Some(i) = self.interceptor_for(account) {
            builder.push_interceptor(i.clone());
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    /// The DevOps Agent client, which like the others does not retry itself; where the service
    /// does not exist (most regions) the call fails fast and [`Ctx`] retries a dispatch failure
    /// at most twice, after a short backoff slept without a permit.
    pub fn devops(&self, config: &SdkConfig, account: Option<&str>) -> aws_sdk_devopsagent::Client {
        let mut builder = aws_sdk_devopsagent::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .retry_partition(partition("devops", config, account));
        if config.endpoint_url().is_some() {
            builder.push_interceptor(SharedInterceptor::new(NoHostPrefix));
        }
        if let Some(i) = self.interceptor_for(account) {
            builder.push_interceptor(i.clone());
        }
        aws_sdk_devopsagent::Client::from_conf(builder.build())
    }

    /// Assumes `role_arn` with session name `topoguard` and returns a configuration that uses the
    /// temporary credentials; a failure is recorded as a gap for the account.
    pub async fn assume(
        &self,
        ctx: &Ctx,
        account: &str,
        role_arn: &str,
        external_id: Option<&str>,
    ) -> Option<SdkConfig> {
        let sts = self.sts(&self.base, None);
        let scope = Scope::account(account);
        let out = ctx
            .call(Api::StsAssumeRole, scope, || {
                sts.assume_role()
                    .role_arn(role_arn)
                    .role_session_name("topoguard")
                    .set_external_id(external_id.map(str::to_string))
                    .send()
            })
            .await?;
        let Some(c) = out.credentials() else {
            ctx.gap(
                Api::StsAssumeRole,
                scope,
                CallError {
                    code: "MissingCredentials".to_string(),
                    message: format!("assuming `{role_arn}` returned no credentials"),
                },
            );
            return None;
        };
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "topoguard-assume-role",
        );
        Some(
            self.base
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .build(),
        )
    }
}

/// Removes the host prefix an operation puts in front of the endpoint's host. The DevOps Agent
/// API has one (`cp.`): with a custom endpoint such as `http://127.0.0.1:5000` the request would
/// go to `cp.127.0.0.1`, a name that does not resolve, so with `--endpoint-url` the crawler
/// sends its DevOps Agent calls to the endpoint as given.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}

/// The configuration `config` with another region.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config.to_builder().region(Region::new(region.to_string())).build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_account_region_and_service_has_its_own_retry_partition() {
        let config = |region: &str| SdkConfig::builder().region(Region::new(region.to_string())).build();
        let name = |service, region, account| partition(service, &config(region), account).to_string();
        let a = name("lambda", "eu-west-1", Some("111111111111"));
        assert_eq!(a, "topoguard/lambda/111111111111/eu-west-1");
        assert_ne!(a, name("lambda", "eu-west-1", Some("222222222222")));
        assert_ne!(a, name("lambda", "eu-central-1", Some("111111111111")));
        assert_ne!(a, name("events", "eu-west-1", Some("111111111111")));
        assert_eq!(
            name("organizations", "us-east-1", None),
            "topoguard/organizations/caller/us-east-1"
        );
    }
}
