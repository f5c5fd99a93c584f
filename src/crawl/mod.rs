//! The live crawler: from the management (or a delegated administrator) account, read the
//! Organization, assume a role into every member account, read every requested region, and
//! assemble a [`Snapshot`].
//!
//! Accounts and regions are crawled in parallel, each account as soon as the organization lists
//! it; an account's resource policies are read region by region as each region is done
//! ([`schedule`]). Every request holds one of `concurrency` permits while it is in flight, so
//! the total number of requests in flight is bounded, and waits first for the client-side rate
//! limit of its (service, account, region) ([`limits`]); a request whose bucket has others
//! waiting behind it takes the next free permit first, so the busiest bucket keeps its pace. Throttled and transient failures are retried by the crawler (backoff slept
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
mod permits;
mod policies;
mod progress;
mod refs;
mod schedule;
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
use futures::StreamExt;
use futures::channel::mpsc;
use futures::future::join_all;
use progress::Progress;
use schedule::PolicyQueue;
use std::collections::BTreeSet;
use std::sync::Mutex;

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
    /// The share of each published request rate the crawler uses, in (0, 1]
    /// ([`limits::HEADROOM`] by default: room for other callers in the same account and region).
    pub rate_headroom: f64,
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
            rate_headroom: limits::HEADROOM,
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
    let limits = limits::Limits::new(None).with_headroom(options.rate_headroom);
    let ctx = Ctx::with_limits(options.concurrency, Progress::new(options.progress), limits);
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
    ctx.progress.start(options.regions.len());

    // The organization and the accounts at the same time: each account is crawled as soon as
    // `ListAccounts` lists it, while the unit tree, tags and policies are still being read.
    let (sender, listed) = mpsc::unbounded::<String>();
    let organization = read_organization(&ctx, connector, options, caller.as_deref(), sender);
    let accounts = listed
        .map(|account| {
            let ctx = &ctx;
            let partition = partition.as_str();
            let caller = caller.as_deref();
            async move {
                let data = crawl_account(ctx, connector, options, partition, caller, &account).await;
                ctx.progress.account_done(&account);
                (account, data)
            }
        })
        .buffer_unordered(usize::MAX)
        .collect::<Vec<_>>();
    let (organization, mut results) = futures::join!(organization, accounts);
    // Account order, whatever order the accounts finished in: the snapshot does not depend on it.
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let accounts_crawled = results.iter().filter(|r| r.1.is_some()).count();
    let mut data: Vec<AccountData> = results.into_iter().filter_map(|(_, d)| d).collect();
    // References across accounts: once every account is crawled, resolved in their owners.
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

/// Reads the organization, sending each account to crawl to `crawl` as soon as it is listed:
/// the selected accounts of the organization, then (outside an organization, or when it cannot
/// be listed) the caller's own account. The channel is closed once the accounts are known, before
/// the unit tree, tags and policies are read.
async fn read_organization(
    ctx: &Ctx,
    connector: &Connector,
    options: &CrawlOptions,
    caller: Option<&str>,
    crawl: mpsc::UnboundedSender<String>,
) -> Organization {
    let client = org::client(connector);
    let only = options.accounts.as_deref();
    let mut sent = BTreeSet::new();
    let mut send = |id: &str| {
        if sent.insert(id.to_string()) {
            ctx.progress.account_listed();
            // The receiving end lives until the crawl's end; nothing to do if it did not.
            let _ = crawl.unbounded_send(id.to_string());
        }
    };
    let listed = org::list_accounts(ctx, &client, |a| {
        if schedule::selected(a, only) {
            send(&a.id);
        }
    })
    .await;
    let complete = listed.is_some();
    let mut organization = listed.unwrap_or_default();
    if let Some(c) = caller
        && !organization.accounts.iter().any(|a| a.id == c)
    {
        // Outside an organization (or unable to list it): crawl the caller's own account.
        organization.accounts.push(Account {
            id: c.to_string(),
            name: c.to_string(),
            status: "ACTIVE".to_string(),
            parent: None,
            tags: Tags::new(),
        });
    }
    // The same selection, once the list is whole: records a gap for each requested account the
    // organization does not list, and adds the caller's own account.
    for id in assemble::select_accounts(ctx, &organization, only) {
        send(&id);
    }
    drop(crawl);
    ctx.progress.accounts_known();
    if complete {
        org::read_structure(ctx, &client, &mut organization).await;
    }
    organization
}

/// One account: assume the role (not for the caller's own account), then IAM and every region in
/// parallel, each region's resource policies as soon as the region is done
/// ([`PolicyQueue`]). `None` when the account cannot be entered.
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
    let queue = Mutex::new(PolicyQueue::new(&options.regions));
    let regions = join_all(options.regions.iter().map(|region| {
        let (config, queue) = (&config, &queue);
        async move {
            let mut data = crawl_region(ctx, connector, options, config, partition, account, region).await;
            let tagged = data.tagged.iter().map(|(a, _)| a.clone());
            let batch = match queue.lock() {
                Ok(mut q) => q.region_done(region, tagged, referenced_arns(&data)),
                Err(_) => schedule::Batch::default(),
            };
            data.policies = policies::crawl_policies(
                ctx,
                connector,
                config,
                account,
                batch.tagged.iter().map(String::as_str),
                batch.referenced.iter().map(String::as_str),
            )
            .await;
            data
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
    for region in regions {
        data.buses.extend(region.buses);
        data.rules.extend(region.rules);
        data.buses_v2.extend(region.buses_v2);
        data.subscribers_v2.extend(region.subscribers_v2);
        data.functions.extend(region.functions);
        data.mappings.extend(region.mappings);
        data.tagged.extend(region.tagged);
        data.policies.extend(region.policies);
        data.spaces.extend(region.spaces);
    }
    data.session = Some(config);
    Some(data)
}

/// One region of one account: EventBridge (classic and v2), Lambda, the Tagging API and the
/// DevOps Agent in parallel; `config` holds the account's credentials.
async fn crawl_region(
    ctx: &Ctx,
    connector: &Connector,
    options: &CrawlOptions,
    config: &SdkConfig,
    partition: &str,
    account: &str,
    region: &str,
) -> AccountData {
    let config = session::in_region(config, region);
    let ((buses, rules), v2, (functions, mappings), tagged, spaces) = futures::join!(
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
    AccountData {
        account: account.to_string(),
        buses,
        rules,
        buses_v2: v2.buses,
        subscribers_v2: v2.subscribers,
        functions,
        mappings,
        tagged,
        spaces,
        ..AccountData::default()
    }
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
