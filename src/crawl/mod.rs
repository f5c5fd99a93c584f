//! The live crawler: from the management (or a delegated administrator) account, read the
//! Organization, assume a role into every member account, read every requested region, and
//! assemble a [`Snapshot`].
//!
//! Accounts and regions are crawled in parallel; every request holds one permit of a semaphore of
//! `concurrency` permits while it is in flight, so the total number of requests in flight is
//! bounded, and waits first for the client-side rate limit of its (service, account, region)
//! ([`limits`]). Throttled and transient failures are retried by the crawler (backoff slept
//! without a permit); timeouts, credentials, region and endpoint come from the
//! [`aws_config::SdkConfig`] the caller passes in. Every failure becomes a [`CoverageGap`](crate::model::CoverageGap) and the
//! crawl goes on. The result is sorted so that the same organization gives the same snapshot,
//! apart from `crawled_at`.

pub mod apis;
mod assemble;
mod buckets;
mod ctx;
mod devops;
mod documents;
mod events;
mod eventsv2;
mod iam;
mod lambda;
pub mod limits;
mod org;
mod policies;
mod progress;
mod refs;
mod session;
mod tagging;

pub use apis::{APIS, Api, crawl_policy};
pub use ctx::{CallCounts, CallError, Scope};
pub use documents::{decode_document, references};
pub use progress::{ProgressMode, describe_gap};
pub use session::Connector;

use crate::model::{Account, AgentSpace, EventBus, EventSourceMapping, Function, ManagedPolicy, Role, Rule, Snapshot};
use crate::model::{Organization, Tags};
use aws_config::SdkConfig;
use ctx::Ctx;
use futures::future::join_all;
use progress::Progress;
use std::collections::BTreeSet;

/// What to crawl and how.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Regions to read in every account.
    pub regions: Vec<String>,
    /// Only these accounts (all active accounts of the organization when `None`).
    pub accounts: Option<Vec<String>>,
    /// The role assumed in every member account.
    pub role_name: String,
    pub external_id: Option<String>,
    /// Calls in flight at most.
    pub concurrency: usize,
    pub progress: ProgressMode,
    /// Do not call the DevOps Agent API; each account and region gets a `Skipped` gap instead, so
    /// the Agent Space checks say "not proven" rather than pass.
    pub skip_agent_spaces: bool,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        CrawlOptions {
            regions: Vec::new(),
            accounts: None,
            role_name: "OrganizationAccountAccessRole".to_string(),
            external_id: None,
            concurrency: 16,
            progress: ProgressMode::Quiet,
            skip_agent_spaces: false,
        }
    }
}

/// The result of a crawl: the snapshot (without `crawled_at`) and call statistics.
#[derive(Debug)]
pub struct CrawlOutcome {
    pub snapshot: Snapshot,
    /// Calls made, retries not counted.
    pub calls: u64,
    /// Requests sent again after a throttling or transient error.
    pub retries: u64,
    /// Calls by account, region and API.
    pub call_counts: CallCounts,
    /// Accounts crawled (role assumed or the caller's own).
    pub accounts_crawled: usize,
}

/// What one account yielded.
#[derive(Debug, Default)]
struct AccountData {
    account: String,
    roles: Vec<Role>,
    users: Vec<crate::model::User>,
    groups: Vec<crate::model::Group>,
    managed_policies: Vec<ManagedPolicy>,
    buses: Vec<EventBus>,
    rules: Vec<Rule>,
    /// EventBridge v2 buses the account owns, and the subscribers it owns with their bus's ARN.
    buses_v2: Vec<crate::model::EventBusV2>,
    subscribers_v2: Vec<(String, crate::model::Subscriber)>,
    functions: Vec<Function>,
    mappings: Vec<EventSourceMapping>,
    tagged: Vec<(String, Tags)>,
    /// Resource policies (and S3 bucket regions) of the shared kinds among `tagged` and among
    /// the untagged resources of the account that its rules, functions and mappings reference.
    policies: Vec<policies::PolicyInfo>,
    spaces: Vec<AgentSpace>,
    /// The S3 buckets the account owns (`ListBuckets`).
    buckets: Vec<String>,
    /// The account's session, for reading what other accounts reference in it ([`refs`]).
    session: Option<SdkConfig>,
}

/// Crawls the organization visible to the connector's base configuration.
pub async fn crawl(connector: &Connector, options: &CrawlOptions) -> CrawlOutcome {
    let ctx = Ctx::new(options.concurrency, Progress::new(options.progress));
    let sts = connector.sts(connector.base(), None);
    let identity = ctx
        .call(Api::StsGetCallerIdentity, Scope::org(), || {
            sts.get_caller_identity().send()
        })
        .await;
    let caller = identity.as_ref().and_then(|i| i.account()).map(str::to_string);
    let partition = identity
        .as_ref()
        .and_then(|i| i.arn())
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();

    let mut organization: Organization = org::crawl_organization(&ctx, connector).await.unwrap_or_default();
    if let Some(c) = &caller
        && !organization.accounts.iter().any(|a| &a.id == c)
    {
        // Outside an organization (or unable to list it): crawl the caller's own account.
        organization.accounts.push(Account {
            id: c.clone(),
            name: c.clone(),
            status: "ACTIVE".to_string(),
            parent: None,
            tags: Tags::new(),
        });
    }
    let targets = assemble::select_accounts(&ctx, &organization, options.accounts.as_deref());
    ctx.progress.start(targets.len() as u64, options.regions.len());

    let results = join_all(targets.iter().map(|account| {
        let ctx = &ctx;
        let partition = partition.as_str();
        let caller = caller.as_deref();
        async move {
            let data = crawl_account(ctx, connector, options, partition, caller, account).await;
            ctx.progress.account_done(account);
            data
        }
    }))
    .await;
    let accounts_crawled = results.iter().filter(|r| r.is_some()).count();
    // References across accounts: once every account is crawled, resolved in their owners.
    let mut data: Vec<AccountData> = results.into_iter().flatten().collect();
    let bucket_owners = refs::resolve(&ctx, connector, &options.regions, &mut data).await;
    ctx.progress.finish();
    let snapshot = assemble::assemble(organization, data, bucket_owners, ctx.gaps());
    CrawlOutcome {
        snapshot,
        calls: ctx.calls(),
        retries: ctx.retries(),
        call_counts: ctx.call_counts(),
        accounts_crawled,
    }
}

/// One account: assume the role (not for the caller's own account), then IAM and every region in
/// parallel. `None` when the account cannot be entered.
async fn crawl_account(
    ctx: &Ctx,
    connector: &Connector,
    options: &CrawlOptions,
    partition: &str,
    caller: Option<&str>,
    account: &str,
) -> Option<AccountData> {
    let config: SdkConfig = if caller == Some(account) {
        connector.base().clone()
    } else {
        let role = format!("arn:{partition}:iam::{account}:role/{}", options.role_name);
        connector
            .assume(ctx, account, &role, options.external_id.as_deref())
            .await?
    };
    let iam = iam::crawl_iam(ctx, connector, &config, account);
    let regions = join_all(options.regions.iter().map(|region| {
        let config = session::in_region(&config, region);
        async move {
            let (events, v2, lambda, tagged, spaces) = futures::join!(
                events::crawl_events(ctx, connector, &config, account, region),
                eventsv2::crawl_eventsv2(ctx, connector, &config, account, region),
                lambda::crawl_lambda(ctx, connector, &config, account, region),
                tagging::crawl_tagged(ctx, connector, &config, account, region),
                async {
                    if options.skip_agent_spaces {
                        devops::skipped(ctx, account, region);
                        Vec::new()
                    } else {
                        devops::crawl_agent_spaces(ctx, connector, &config, partition, account, region).await
                    }
                },
            );
            (events, v2, lambda, tagged, spaces)
        }
    }));
    let buckets = buckets::list_buckets(ctx, connector, &config, account);
    let (iam, regions, buckets) = futures::join!(iam, regions, buckets);
    let mut data = AccountData {
        account: account.to_string(),
        roles: iam.roles,
        users: iam.users,
        groups: iam.groups,
        managed_policies: iam.managed_policies,
        buckets,
        ..AccountData::default()
    };
    for ((buses, rules), v2, (functions, mappings), tagged, spaces) in regions {
        data.buses.extend(buses);
        data.rules.extend(rules);
        data.buses_v2.extend(v2.buses);
        data.subscribers_v2.extend(v2.subscribers);
        data.functions.extend(functions);
        data.mappings.extend(mappings);
        data.tagged.extend(tagged);
        data.spaces.extend(spaces);
    }
    let referenced = referenced_arns(&data);
    data.policies = policies::crawl_policies(
        ctx,
        connector,
        &config,
        account,
        data.tagged.iter().map(|(a, _)| a.as_str()),
        referenced.iter().map(String::as_str),
    )
    .await;
    data.session = Some(config);
    Some(data)
}

/// What the account's rules (targets, dead-letter queues), v2 subscribers (targets, failure
/// destinations), functions (environment references, dead-letter targets) and event-source
/// mappings (sources) point at, as ARNs; a queue URL is turned into its queue's ARN.
fn referenced_arns(data: &AccountData) -> BTreeSet<String> {
    let targets = data
        .rules
        .iter()
        .flat_map(|r| &r.targets)
        .flat_map(|t| std::iter::once(&t.arn).chain(&t.dead_letter_queue));
    let functions = data
        .functions
        .iter()
        .flat_map(|f| f.environment_references.iter().chain(&f.dead_letter_target));
    let sources = data.mappings.iter().map(|m| &m.source);
    let subscribers = data
        .subscribers_v2
        .iter()
        .flat_map(|(_, s)| std::iter::once(&s.target).chain(&s.failure_destination));
    targets
        .chain(subscribers)
        .chain(functions)
        .chain(sources)
        .filter_map(|r| {
            if r.starts_with("arn:") {
                Some(r.clone())
            } else {
                crate::arn::sqs_queue_arn(r)
            }
        })
        .collect()
}

/// The current time in RFC 3339, for `crawled_at`.
pub fn now_rfc3339() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}
