//! The bundled example: a fictional AWS Organization ("Acme") that runs three applications
//! (`invoice`, `checkout`, `catalog`) plus a `notifications` platform service across three
//! residency zones (EU / US / APAC, two regions each), with one shared-dependency account
//! (`shared-services`). It is built to be clean except for the planted violations documented in
//! `docs/example-walkthrough.md`:
//!
//! - shared-resource-untagged: the APAC `customer-profiles` table has no `shared-with` tag;
//!   catalog's `catalog-partner-inbox` bus is used by checkout only and is untagged.
//! - shared-resource-tag-mismatch: the EU `price-updates` topic is tagged `catalog`, checkout
//!   uses it too.
//! - agent-space-missing-account: `invoice-oncall` is not associated with shared-services, and
//!   its invoice-us association failed validation; notifications-oncall's associations could
//!   not be listed (a coverage gap: "not proven", not missing).
//! - agent-space-foreign-account: `catalog-oncall` is associated with checkout-apac.
//! - agent-space-role-unpinned: invoice-apac's agent role trusts `agentspace/*` (ArnLike).
//! - residency-cross-zone-flow: checkout's Singapore `order-placed-notify` rule targets the US
//!   hub; checkout-us mirrors EU order events through a v2 subscriber.
//! - application-resource-unattributed: an incident-time Lambda in shared-services has no `app`
//!   tag.
//! - agent-space-role-overbroad: checkout's agent role in shared-services may write the EU
//!   `customer-profiles` table; catalog's still has the preview managed policy attached.
//! - incident-access-not-read-only: the responder `oncall-invoice` reaches
//!   `invoice-incident-observe`, which may read every document; invoice-apac's pending agent
//!   role may purge a dead-letter queue.
//! - cross-account-write-to-shared: `shared-ops-maintenance` (assumable from checkout-eu, by a
//!   role and a legacy IAM user, and trusted by invoice-us), `shared-profiles-backfill`
//!   (conditional), invoice-api's bucket-wide PutObject, the checkout-us v2 subscriber.
//! - agent-space-external-id, agent-space-elevated-access, agent-space-reconfigurable: the
//!   checkout space's shared-services association and checkout's deploy role.
//!
//! plus one residency flow (`catalog` `list-prices-to-eu`) that `policies/topoguard.toml`
//! ignores with a reason, and the designed writes into shared-services that its `allow` entries
//! accept. Each plant has a near miss next to it; the comments at each say which.

use serde_json::{Value, json};
use topoguard::model::{
    Account, AgentSpace, AgentSpaceAssociation, AssociationKind, CoverageGap, EventBusV2, Group, ManagedPolicy,
    Organization, OrganizationPolicy, OrganizationPolicyKind, OrganizationalUnit, Relation, RelationKind, ResourceKind,
    ResourceShare, Role, SCHEMA_VERSION, Snapshot, Subscriber, SubscriberState, Tags, User, ValidationStatus,
};
use topoguard::testkit::{
    Trigger, aws_trust, bus, bus_arn, event_pattern, function_arn as fn_arn, inline, policy, queue, queue_arn,
    queue_url, resource, role_arn, rule, rule_arn, service_trust, table_arn, tags, target, topic_arn, write_ordered,
};

// ---------------------------------------------------------------------------------------------
// The organization
// ---------------------------------------------------------------------------------------------

const MANAGEMENT: &str = "111111111111";
const SHARED: &str = "222222222222";
const CATALOG: &str = "331111111111";
const NOTIFICATIONS: &str = "341111111111";
const ORG_ID: &str = "o-a1b2c3d4e5";

const ZONES: [&str; 3] = ["eu", "us", "apac"];

fn invoice(zone: &str) -> &'static str {
    match zone {
        "eu" => "311111111111",
        "us" => "312222222222",
        _ => "313333333333",
    }
}

fn checkout(zone: &str) -> &'static str {
    match zone {
        "eu" => "321111111111",
        "us" => "322222222222",
        _ => "323333333333",
    }
}

fn regions(zone: &str) -> [&'static str; 2] {
    match zone {
        "eu" => ["eu-west-1", "eu-central-1"],
        "us" => ["us-east-1", "us-west-2"],
        _ => ["ap-southeast-1", "ap-northeast-1"],
    }
}

/// The zone's first region hosts the shared dependencies and the notification hub; the second
/// region hosts the zone's document bucket.
fn hub(zone: &str) -> &'static str {
    regions(zone)[0]
}

/// Glob that matches both regions of a zone (and no region of another zone).
fn zone_glob(zone: &str) -> &'static str {
    match zone {
        "eu" => "eu-*",
        "us" => "us-*",
        _ => "ap-*",
    }
}

const ROOT: &str = "r-a1b2";
const OU_WORKLOADS: &str = "ou-a1b2-wkld0001";
const OU_SHARED: &str = "ou-a1b2-shrd0001";

/// Agent Spaces live in us-east-1 (where AWS DevOps Agent runs for this organization), each in
/// its application's primary account: (name, id, account).
fn space(app: &str) -> (&'static str, &'static str, &'static str) {
    match app {
        "invoice" => ("invoice-oncall", "as-7f3c2a91d0", invoice("eu")),
        "checkout" => ("checkout-oncall", "as-2b8e41c7f5", checkout("eu")),
        "catalog" => ("catalog-oncall", "as-c45d09e3a2", CATALOG),
        _ => ("notifications-oncall", "as-91a6f2b84e", NOTIFICATIONS),
    }
}
const SPACE_REGION: &str = "us-east-1";

fn kms_key_id(zone: &str) -> &'static str {
    match zone {
        "eu" => "0f5e2a7c-3b1d-4e8f-9a6c-2d7b5e1f3a90",
        "us" => "6c1d8e4f-9a2b-4c7d-8e5f-1a3b6c9d2e47",
        _ => "b3a7e9d1-5c2f-4a8b-9d6e-7f1c3a5b8e02",
    }
}

fn secret_suffix(zone: &str) -> &'static str {
    match zone {
        "eu" => "Xq3Lm9",
        "us" => "Rt7Vb2",
        _ => "Kp4Zw8",
    }
}

const DISTRIBUTION: &str = "arn:aws:cloudfront::222222222222:distribution/E2QWRUHAPOMQZL";
const BASIC_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
const PREVIEW_POLICY: &str = "arn:aws:iam::aws:policy/AIOpsAssistantPolicy";

/// The platform team's permission boundary for Agent Space roles: metadata reads and log reads.
fn agent_boundary() -> String {
    format!("arn:aws:iam::{SHARED}:policy/DevOpsAgentReadOnlyBoundary")
}

// ---------------------------------------------------------------------------------------------
// ARNs of the example
// ---------------------------------------------------------------------------------------------

fn kms_arn(zone: &str) -> String {
    format!("arn:aws:kms:{}:{SHARED}:key/{}", hub(zone), kms_key_id(zone))
}

fn profiles_arn(zone: &str) -> String {
    table_arn(hub(zone), SHARED, "customer-profiles")
}

fn price_topic_arn(zone: &str) -> String {
    topic_arn(hub(zone), SHARED, "price-updates")
}

fn payment_secret_arn(zone: &str) -> String {
    format!(
        "arn:aws:secretsmanager:{}:{SHARED}:secret:payment-provider/api-key-{}",
        hub(zone),
        secret_suffix(zone)
    )
}

fn documents_bucket(zone: &str) -> String {
    format!("acme-documents-{zone}")
}

fn hub_bus_arn(zone: &str) -> String {
    bus_arn(hub(zone), SHARED, "customer-notifications")
}

fn space_arn(app: &str) -> String {
    let (_, id, account) = space(app);
    topoguard::testkit::space_arn(SPACE_REGION, account, id)
}

fn root(account: &str) -> String {
    topoguard::testkit::root_arn(account)
}

// ---------------------------------------------------------------------------------------------
// Record shorthands
// ---------------------------------------------------------------------------------------------

/// An `Allow` statement with no extra keys.
fn allow(sid: &str, actions: &[&str], resources: &[&str]) -> Value {
    topoguard::testkit::allow(sid, actions, resources, Value::Null)
}

/// An `Allow` statement with a condition.
fn allow_if(sid: &str, actions: &[&str], resources: &[&str], condition: Value) -> Value {
    topoguard::testkit::allow(sid, actions, resources, json!({ "Condition": condition }))
}

fn app_tags(app: &str) -> Tags {
    tags(&[("app", app)])
}

fn lambda_trust() -> topoguard::model::PolicyDocument {
    service_trust("lambda.amazonaws.com")
}

fn events_trust() -> topoguard::model::PolicyDocument {
    service_trust("events.amazonaws.com")
}

/// A role with one inline policy and nothing attached.
fn role(
    account: &str,
    name: &str,
    tags: Tags,
    trust: topoguard::model::PolicyDocument,
    policy_name: &str,
    statements: Vec<Value>,
) -> Role {
    topoguard::testkit::role(
        account,
        name,
        tags,
        trust,
        vec![inline(policy_name, policy(statements))],
    )
}

/// A Lambda execution role: basic execution (logs) plus one inline policy naming its resources.
fn exec_role(account: &str, name: &str, app: &str, statements: Vec<Value>) -> Role {
    let mut r = role(
        account,
        name,
        app_tags(app),
        lambda_trust(),
        &format!("{name}-access"),
        statements,
    );
    r.attached_policies.push(BASIC_EXECUTION.to_string());
    r
}

/// A function of `app` running as `role_name` in its account.
fn function(
    region: &str,
    account: &str,
    name: &str,
    role_name: &str,
    app: &str,
    environment: &[(&str, Option<&str>)],
    runtime: &str,
) -> topoguard::model::Function {
    let mut f = topoguard::testkit::function(
        region,
        account,
        name,
        &role_arn(account, role_name),
        app_tags(app),
        environment,
    );
    f.runtime = Some(runtime.to_string());
    f
}

/// An event pattern with `source` and `detail-type` (in that order; empty ones left out).
fn pattern(source: &[&str], detail_type: &[&str]) -> Trigger<'static> {
    let mut fields: Vec<(&str, &[&str])> = Vec::new();
    if !source.is_empty() {
        fields.push(("source", source));
    }
    if !detail_type.is_empty() {
        fields.push(("detail-type", detail_type));
    }
    Trigger::Pattern(event_pattern(&fields))
}

fn queue_of(region: &str, account: &str, name: &str, tags: Tags) -> topoguard::model::Resource {
    queue(region, account, name, tags)
}

fn with_policy(
    mut r: topoguard::model::Resource,
    document: topoguard::model::PolicyDocument,
) -> topoguard::model::Resource {
    r.policy = Some(document);
    r
}

// ---------------------------------------------------------------------------------------------
// The snapshot under construction
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Org {
    s: Snapshot,
}

impl Org {
    fn mapping(&mut self, function: String, source: String) {
        let uuid = format!("5e1a7c3d-0000-4000-8000-{:012}", self.s.event_source_mappings.len() + 1);
        self.s
            .event_source_mappings
            .push(topoguard::testkit::event_source_mapping(&uuid, &function, &source));
    }

    fn find_role(&mut self, arn: &str) -> Option<&mut Role> {
        self.s.roles.iter_mut().find(|r| r.arn == arn)
    }
}

// --- invoice: one account per zone, two regions each -----------------------------------------

fn build_invoice(o: &mut Org, zone: &str) {
    let acct = invoice(zone);
    let regions = regions(zone);
    let tags = app_tags("invoice");
    let buses_here: Vec<String> = regions.iter().map(|r| bus_arn(r, acct, "invoice")).collect();
    let buses_here: Vec<&str> = buses_here.iter().map(String::as_str).collect();
    let approvals = format!("arn:aws:dynamodb:{}:{acct}:table/invoice-approvals", zone_glob(zone));
    let approvals_index = format!("{approvals}/index/*");
    let pdf_jobs: Vec<String> = regions.iter().map(|r| queue_arn(r, acct, "invoice-pdf-jobs")).collect();
    let pdf_jobs: Vec<&str> = pdf_jobs.iter().map(String::as_str).collect();
    let profiles = profiles_arn(zone);
    let profiles_index = format!("{profiles}/index/*");
    let kms = kms_arn(zone);
    let documents = format!("arn:aws:s3:::{}/invoices/*", documents_bucket(zone));

    o.s.roles.push(exec_role(
        acct,
        "invoice-api",
        "invoice",
        vec![
            allow("PublishInvoiceEvents", &["events:PutEvents"], &buses_here),
            allow(
                "ReadCustomerProfiles",
                &["dynamodb:GetItem", "dynamodb:Query"],
                &[&profiles, &profiles_index],
            ),
            allow("ReadApprovals", &["dynamodb:GetItem", "dynamodb:Query"], &[&approvals]),
            allow("DecryptCustomerData", &["kms:Decrypt"], &[&kms]),
        ],
    ));
    o.s.roles.push(exec_role(
        acct,
        "invoice-approval-request",
        "invoice",
        vec![
            allow(
                "WriteApprovals",
                &["dynamodb:PutItem", "dynamodb:GetItem"],
                &[&approvals],
            ),
            allow("PublishInvoiceEvents", &["events:PutEvents"], &buses_here),
        ],
    ));
    o.s.roles.push(exec_role(
        acct,
        "invoice-approval-decision",
        "invoice",
        vec![
            allow(
                "UpdateApprovals",
                &["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                &[&approvals, &approvals_index],
            ),
            allow("PublishInvoiceEvents", &["events:PutEvents"], &buses_here),
        ],
    ));
    o.s.roles.push(exec_role(
        acct,
        "invoice-pdf-renderer",
        "invoice",
        vec![
            allow(
                "ConsumePdfJobs",
                &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                &pdf_jobs,
            ),
            allow("WriteInvoiceDocuments", &["s3:PutObject"], &[&documents]),
            allow("EncryptDocuments", &["kms:GenerateDataKey", "kms:Decrypt"], &[&kms]),
        ],
    ));

    for r in regions {
        let own_bus = bus_arn(r, acct, "invoice");
        let dlq = queue_arn(r, acct, "invoice-dlq");
        let table = table_arn(r, acct, "invoice-approvals");
        o.s.event_buses.push(bus(r, acct, "invoice", tags.clone(), None));
        o.s.resources.push(resource(
            &table,
            ResourceKind::DynamodbTable,
            acct,
            Some(r),
            tags.clone(),
        ));
        o.s.resources.push(queue_of(r, acct, "invoice-pdf-jobs", tags.clone()));
        o.s.resources.push(queue_of(r, acct, "invoice-dlq", tags.clone()));

        o.s.functions.push(function(
            r,
            acct,
            "invoice-api",
            "invoice-api",
            "invoice",
            &[
                ("EVENT_BUS_ARN", Some(&own_bus)),
                ("CUSTOMER_PROFILES_TABLE_ARN", Some(&profiles)),
                ("APPROVALS_TABLE_ARN", Some(&table)),
                ("LOG_LEVEL", None),
            ],
            "python3.12",
        ));
        o.s.functions.push(function(
            r,
            acct,
            "invoice-approval-request",
            "invoice-approval-request",
            "invoice",
            &[
                ("APPROVALS_TABLE_ARN", Some(&table)),
                ("EVENT_BUS_ARN", Some(&own_bus)),
                ("APPROVAL_TIMEOUT_HOURS", None),
            ],
            "python3.12",
        ));
        o.s.functions.push(function(
            r,
            acct,
            "invoice-approval-decision",
            "invoice-approval-decision",
            "invoice",
            &[("APPROVALS_TABLE_ARN", Some(&table)), ("EVENT_BUS_ARN", Some(&own_bus))],
            "python3.12",
        ));
        let pdf_url = queue_url(r, acct, "invoice-pdf-jobs");
        o.s.functions.push(function(
            r,
            acct,
            "invoice-pdf-renderer",
            "invoice-pdf-renderer",
            "invoice",
            &[("PDF_JOBS_QUEUE_URL", Some(&pdf_url)), ("TEMPLATE_VERSION", None)],
            "nodejs20.x",
        ));
        o.mapping(
            fn_arn(r, acct, "invoice-pdf-renderer"),
            queue_arn(r, acct, "invoice-pdf-jobs"),
        );

        let dlq = Some(dlq.as_str());
        o.s.rules.push(rule(
            r,
            acct,
            "invoice",
            "invoice-submitted",
            tags.clone(),
            vec![target(
                "approval-request",
                &fn_arn(r, acct, "invoice-approval-request"),
                dlq,
                None,
            )],
            pattern(&["acme.invoice"], &["InvoiceSubmitted"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "invoice",
            "approval-decided",
            tags.clone(),
            vec![target(
                "approval-decision",
                &fn_arn(r, acct, "invoice-approval-decision"),
                dlq,
                None,
            )],
            pattern(&["acme.invoice"], &["ApprovalDecided"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "invoice",
            "invoice-approved",
            tags.clone(),
            vec![target("render-pdf", &queue_arn(r, acct, "invoice-pdf-jobs"), dlq, None)],
            pattern(&["acme.invoice"], &["InvoiceApproved"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "invoice",
            "invoice-customer-notify",
            tags.clone(),
            vec![target("notification-hub", &hub_bus_arn(zone), dlq, None)],
            pattern(&["acme.invoice"], &["InvoiceApproved", "InvoiceRejected"]),
        ));
    }
}

// --- checkout: one account per zone, two regions each ----------------------------------------

fn build_checkout(o: &mut Org, zone: &str) {
    let acct = checkout(zone);
    let regions = regions(zone);
    let tags = app_tags("checkout");
    let buses_here: Vec<String> = regions.iter().map(|r| bus_arn(r, acct, "checkout")).collect();
    let buses_here: Vec<&str> = buses_here.iter().map(String::as_str).collect();
    let orders: Vec<String> = regions.iter().map(|r| table_arn(r, acct, "checkout-orders")).collect();
    let orders: Vec<&str> = orders.iter().map(String::as_str).collect();
    let payments: Vec<String> = regions
        .iter()
        .map(|r| queue_arn(r, acct, "checkout-payments"))
        .collect();
    let payments: Vec<&str> = payments.iter().map(String::as_str).collect();
    let profiles = profiles_arn(zone);
    let kms = kms_arn(zone);
    let secret = payment_secret_arn(zone);
    let receipts = format!("arn:aws:s3:::{}/receipts/*", documents_bucket(zone));
    let price_updates = format!("arn:aws:sqs:{}:{acct}:checkout-price-updates", zone_glob(zone));
    let price_cache = format!("arn:aws:dynamodb:{}:{acct}:table/checkout-price-cache", zone_glob(zone));

    o.s.roles.push(exec_role(
        acct,
        "checkout-api",
        "checkout",
        vec![
            allow("PublishCheckoutEvents", &["events:PutEvents"], &buses_here),
            allow("WriteOrders", &["dynamodb:PutItem", "dynamodb:GetItem"], &orders),
            allow("ReadCustomerProfiles", &["dynamodb:GetItem"], &[&profiles]),
            allow("DecryptCustomerData", &["kms:Decrypt"], &[&kms]),
        ],
    ));
    o.s.roles.push(exec_role(
        acct,
        "checkout-payment-worker",
        "checkout",
        vec![
            allow(
                "ConsumePayments",
                &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                &payments,
            ),
            allow("UpdateOrders", &["dynamodb:UpdateItem"], &orders),
            allow("ReadPaymentProviderKey", &["secretsmanager:GetSecretValue"], &[&secret]),
            allow("DecryptCustomerData", &["kms:Decrypt"], &[&kms]),
            allow("WriteReceipts", &["s3:PutObject"], &[&receipts]),
            allow("PublishCheckoutEvents", &["events:PutEvents"], &buses_here),
        ],
    ));
    o.s.roles.push(exec_role(
        acct,
        "checkout-price-cache",
        "checkout",
        vec![
            allow(
                "ConsumePriceUpdates",
                &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                &[&price_updates],
            ),
            allow(
                "WritePriceCache",
                &["dynamodb:PutItem", "dynamodb:BatchWriteItem"],
                &[&price_cache],
            ),
        ],
    ));
    if zone == "apac" {
        // Created so that the misrouted Singapore rule (below) could deliver across regions.
        o.s.roles.push(role(
            acct,
            "checkout-events-forwarder",
            tags.clone(),
            events_trust(),
            "forward-to-notification-hub",
            vec![allow("PutToHub", &["events:PutEvents"], &[&hub_bus_arn("us")])],
        ));
    }

    for r in regions {
        let own_bus = bus_arn(r, acct, "checkout");
        let dlq = queue_arn(r, acct, "checkout-dlq");
        let orders_table = table_arn(r, acct, "checkout-orders");
        let cache_table = table_arn(r, acct, "checkout-price-cache");
        o.s.event_buses.push(bus(r, acct, "checkout", tags.clone(), None));
        o.s.resources.push(resource(
            &orders_table,
            ResourceKind::DynamodbTable,
            acct,
            Some(r),
            tags.clone(),
        ));
        o.s.resources.push(resource(
            &cache_table,
            ResourceKind::DynamodbTable,
            acct,
            Some(r),
            tags.clone(),
        ));
        o.s.resources.push(queue_of(r, acct, "checkout-payments", tags.clone()));
        o.s.resources
            .push(queue_of(r, acct, "checkout-price-updates", tags.clone()));
        o.s.resources.push(queue_of(r, acct, "checkout-dlq", tags.clone()));
        o.s.relations.push(Relation {
            from: price_topic_arn(zone),
            to: queue_arn(r, acct, "checkout-price-updates"),
            kind: RelationKind::Targets,
            evidence: "sns:ListSubscriptionsByTopic: protocol sqs, raw message delivery".to_string(),
        });

        o.s.functions.push(function(
            r,
            acct,
            "checkout-api",
            "checkout-api",
            "checkout",
            &[
                ("EVENT_BUS_ARN", Some(&own_bus)),
                ("ORDERS_TABLE_ARN", Some(&orders_table)),
                ("CUSTOMER_PROFILES_TABLE_ARN", Some(&profiles)),
                ("LOG_LEVEL", None),
            ],
            "nodejs20.x",
        ));
        let payments_url = queue_url(r, acct, "checkout-payments");
        o.s.functions.push(function(
            r,
            acct,
            "checkout-payment-worker",
            "checkout-payment-worker",
            "checkout",
            &[
                ("PAYMENTS_QUEUE_URL", Some(&payments_url)),
                ("PAYMENT_PROVIDER_SECRET_ARN", Some(&secret)),
                ("PAYMENT_PROVIDER_ENDPOINT", None),
            ],
            "nodejs20.x",
        ));
        o.s.functions.push(function(
            r,
            acct,
            "checkout-price-cache",
            "checkout-price-cache",
            "checkout",
            &[("PRICE_CACHE_TABLE_ARN", Some(&cache_table))],
            "python3.12",
        ));
        o.mapping(
            fn_arn(r, acct, "checkout-payment-worker"),
            queue_arn(r, acct, "checkout-payments"),
        );
        o.mapping(
            fn_arn(r, acct, "checkout-price-cache"),
            queue_arn(r, acct, "checkout-price-updates"),
        );

        // PLANTED residency-cross-zone-flow: checkout launched in Singapore before the APAC
        // notification hub existed, and this one rule still points at the US hub.
        // ap-northeast-1 (launched later) uses the APAC hub correctly.
        let dlq = Some(dlq.as_str());
        let hub_target = if r == "ap-southeast-1" {
            target(
                "notification-hub",
                &hub_bus_arn("us"),
                dlq,
                Some(&role_arn(acct, "checkout-events-forwarder")),
            )
        } else {
            target("notification-hub", &hub_bus_arn(zone), dlq, None)
        };
        o.s.rules.push(rule(
            r,
            acct,
            "checkout",
            "order-placed",
            tags.clone(),
            vec![target("payments", &queue_arn(r, acct, "checkout-payments"), dlq, None)],
            pattern(&["acme.checkout"], &["OrderPlaced"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "checkout",
            "order-placed-notify",
            tags.clone(),
            vec![hub_target],
            pattern(&["acme.checkout"], &["OrderPlaced", "OrderShipped"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "checkout",
            "payment-failed",
            tags.clone(),
            vec![target(
                "retry-payment",
                &fn_arn(r, acct, "checkout-payment-worker"),
                dlq,
                None,
            )],
            pattern(&["acme.payments"], &["PaymentFailed"]),
        ));
    }
}

// --- catalog: one account, one region per zone -----------------------------------------------

fn build_catalog(o: &mut Org) {
    let acct = CATALOG;
    let tags = app_tags("catalog");
    let eu_catalog_bus = bus_arn("eu-west-1", acct, "catalog");
    for zone in ZONES {
        let r = hub(zone);
        let own_bus = bus_arn(r, acct, "catalog");
        let products = table_arn(r, acct, "catalog-products");
        let products_index = format!("{products}/index/*");
        let dlq = queue_arn(r, acct, "catalog-dlq");
        // The account spans three zones, so execution roles are per region: a shared role
        // would make every regional copy "use" the other zones' tables.
        o.s.roles.push(exec_role(
            acct,
            &format!("catalog-api-{r}"),
            "catalog",
            vec![
                allow(
                    "ReadProducts",
                    &["dynamodb:GetItem", "dynamodb:Query"],
                    &[&products, &products_index],
                ),
                allow("PublishCatalogEvents", &["events:PutEvents"], &[&own_bus]),
                allow(
                    "InvalidateStorefrontCache",
                    &["cloudfront:CreateInvalidation"],
                    &[DISTRIBUTION],
                ),
            ],
        ));
        o.s.roles.push(exec_role(
            acct,
            &format!("catalog-indexer-{r}"),
            "catalog",
            vec![allow(
                "IndexProducts",
                &["dynamodb:GetItem", "dynamodb:UpdateItem"],
                &[&products],
            )],
        ));
        o.s.roles.push(exec_role(
            acct,
            &format!("catalog-price-publisher-{r}"),
            "catalog",
            vec![
                allow("ScanProducts", &["dynamodb:Scan"], &[&products]),
                allow("PublishCatalogEvents", &["events:PutEvents"], &[&own_bus]),
            ],
        ));

        o.s.event_buses.push(bus(r, acct, "catalog", tags.clone(), None));
        o.s.event_buses.push(bus(r, acct, "default", Tags::new(), None));
        o.s.resources.push(resource(
            &products,
            ResourceKind::DynamodbTable,
            acct,
            Some(r),
            tags.clone(),
        ));
        o.s.resources.push(queue_of(r, acct, "catalog-dlq", tags.clone()));

        o.s.functions.push(function(
            r,
            acct,
            "catalog-api",
            &format!("catalog-api-{r}"),
            "catalog",
            &[
                ("PRODUCTS_TABLE_ARN", Some(&products)),
                ("EVENT_BUS_ARN", Some(&own_bus)),
                ("STOREFRONT_DISTRIBUTION_ARN", Some(DISTRIBUTION)),
            ],
            "python3.12",
        ));
        o.s.functions.push(function(
            r,
            acct,
            "catalog-indexer",
            &format!("catalog-indexer-{r}"),
            "catalog",
            &[("PRODUCTS_TABLE_ARN", Some(&products))],
            "python3.12",
        ));
        o.s.functions.push(function(
            r,
            acct,
            "catalog-price-publisher",
            &format!("catalog-price-publisher-{r}"),
            "catalog",
            &[
                ("PRODUCTS_TABLE_ARN", Some(&products)),
                ("EVENT_BUS_ARN", Some(&own_bus)),
            ],
            "python3.12",
        ));

        let dlq = Some(dlq.as_str());
        o.s.rules.push(rule(
            r,
            acct,
            "catalog",
            "product-updated",
            tags.clone(),
            vec![target("indexer", &fn_arn(r, acct, "catalog-indexer"), dlq, None)],
            pattern(&["acme.catalog"], &["ProductUpdated"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "catalog",
            "price-changed",
            tags.clone(),
            vec![target("shared-price-topic", &price_topic_arn(zone), dlq, None)],
            pattern(&["acme.catalog"], &["PriceChanged"]),
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "default",
            "price-snapshot-hourly",
            tags.clone(),
            vec![target(
                "publisher",
                &fn_arn(r, acct, "catalog-price-publisher"),
                None,
                None,
            )],
            Trigger::Schedule("rate(1 hour)"),
        ));
        if zone == "us" {
            // IGNORED residency-cross-zone-flow (see policies/topoguard.toml): US list prices
            // are mirrored to the EU storefront; public prices only, approved by the DPO.
            o.s.rules.push(rule(
                r,
                acct,
                "catalog",
                "list-prices-to-eu",
                tags.clone(),
                vec![target(
                    "eu-catalog-bus",
                    &eu_catalog_bus,
                    None,
                    Some(&role_arn(acct, "catalog-cross-region-forwarder")),
                )],
                pattern(&["acme.catalog"], &["ListPricePublished"]),
            ));
        }
    }
    o.s.roles.push(role(
        acct,
        "catalog-cross-region-forwarder",
        tags,
        events_trust(),
        "forward-list-prices",
        vec![allow("PutToEuCatalogBus", &["events:PutEvents"], &[&eu_catalog_bus])],
    ));
}

// --- notifications: its own account (one region per zone) plus hub buses in shared-services ---

fn build_notifications(o: &mut Org) {
    let acct = NOTIFICATIONS;
    let tags = app_tags("notifications");
    for zone in ZONES {
        let r = hub(zone);
        let own_bus = bus_arn(r, acct, "notifications");
        let deliveries = table_arn(r, acct, "notification-deliveries");
        let dlq = queue_arn(r, acct, "notifications-dlq");
        let identity = format!("arn:aws:ses:{r}:{acct}:identity/acme.example");
        o.s.roles.push(exec_role(
            acct,
            &format!("notifications-send-email-{r}"),
            "notifications",
            vec![
                allow("SendEmail", &["ses:SendEmail", "ses:SendRawEmail"], &[&identity]),
                allow("RecordDeliveries", &["dynamodb:PutItem"], &[&deliveries]),
            ],
        ));
        o.s.event_buses.push(bus(
            r,
            acct,
            "notifications",
            tags.clone(),
            Some(policy(vec![json!({
                "Sid": "AllowNotificationHub",
                "Effect": "Allow",
                "Principal": {"AWS": root(SHARED)},
                "Action": "events:PutEvents",
                "Resource": own_bus,
            })])),
        ));
        o.s.resources.push(resource(
            &deliveries,
            ResourceKind::DynamodbTable,
            acct,
            Some(r),
            tags.clone(),
        ));
        o.s.resources.push(queue_of(r, acct, "notifications-dlq", tags.clone()));
        o.s.functions.push(function(
            r,
            acct,
            "notifications-send-email",
            &format!("notifications-send-email-{r}"),
            "notifications",
            &[
                ("DELIVERIES_TABLE_ARN", Some(&deliveries)),
                ("SENDER_IDENTITY_ARN", Some(&identity)),
            ],
            "python3.12",
        ));
        o.s.rules.push(rule(
            r,
            acct,
            "notifications",
            "email-requested",
            tags.clone(),
            vec![target(
                "send-email",
                &fn_arn(r, acct, "notifications-send-email"),
                Some(&dlq),
                None,
            )],
            pattern(
                &[],
                &["InvoiceApproved", "InvoiceRejected", "OrderPlaced", "OrderShipped"],
            ),
        ));

        // The hub in shared-services: owned by notifications (tag), used by invoice and checkout.
        let hub_bus = hub_bus_arn(zone);
        o.s.event_buses.push(bus(
            r,
            SHARED,
            "customer-notifications",
            tags_of(&[("app", "notifications"), ("shared-with", "invoice+checkout")]),
            Some(policy(vec![json!({
                "Sid": "AllowOrganizationPublishers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": hub_bus,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            })])),
        ));
        o.s.rules.push(rule(
            r,
            SHARED,
            "customer-notifications",
            "forward-to-notifications",
            tags.clone(),
            vec![target("notifications-bus", &own_bus, None, None)],
            pattern(&["acme.invoice", "acme.checkout"], &[]),
        ));
    }
}

fn tags_of(pairs: &[(&str, &str)]) -> Tags {
    tags(pairs)
}

// --- shared-services: shared dependencies, one set per zone -----------------------------------

fn build_shared(o: &mut Org) {
    for zone in ZONES {
        let h = hub(zone);
        let (inv, chk) = (invoice(zone), checkout(zone));
        let profiles = profiles_arn(zone);
        // PLANTED shared-resource-untagged: the APAC table was created by hand during the
        // Singapore launch and never got its consumer tag.
        let mut profiles_tags = tags(&[("team", "customer-data")]);
        if zone != "apac" {
            profiles_tags.insert("shared-with".into(), "invoice+checkout".into());
        }
        o.s.resources.push(with_policy(
            resource(&profiles, ResourceKind::DynamodbTable, SHARED, Some(h), profiles_tags),
            policy(vec![json!({
                "Sid": "AllowApplicationReads",
                "Effect": "Allow",
                "Principal": {"AWS": [role_arn(chk, "checkout-api"), role_arn(inv, "invoice-api")]},
                "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                "Resource": [profiles, format!("{profiles}/index/*")],
            })]),
        ));
        o.s.resources.push(with_policy(
            resource(
                &kms_arn(zone),
                ResourceKind::KmsKey,
                SHARED,
                Some(h),
                tags(&[("team", "customer-data"), ("shared-with", "invoice+checkout")]),
            ),
            policy(vec![
                json!({"Sid": "KeyAdministration", "Effect": "Allow", "Principal": {"AWS": root(SHARED)},
                       "Action": "kms:*", "Resource": "*"}),
                json!({"Sid": "AllowApplicationUse", "Effect": "Allow",
                       "Principal": {"AWS": [root(chk), root(inv)]},
                       "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}),
            ]),
        ));
        // PLANTED shared-resource-tag-mismatch: the EU topic predates checkout's price cache;
        // its tag still says `catalog` only. The US and APAC copies are tagged correctly.
        let shared_with = if zone == "eu" { "catalog" } else { "catalog checkout" };
        let topic = price_topic_arn(zone);
        o.s.resources.push(with_policy(
            resource(&topic, ResourceKind::SnsTopic, SHARED, Some(h), tags(&[("team", "catalog"), ("shared-with", shared_with)])),
            policy(vec![
                json!({"Sid": "AllowCatalogRule", "Effect": "Allow",
                       "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sns:Publish", "Resource": topic,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn(h, CATALOG, "catalog", "price-changed")}}}),
                json!({"Sid": "AllowCheckoutSubscriptions", "Effect": "Allow",
                       "Principal": {"AWS": root(chk)},
                       "Action": "sns:Subscribe", "Resource": topic}),
            ]),
        ));
        o.s.resources.push(with_policy(
            resource(
                &payment_secret_arn(zone),
                ResourceKind::SecretsmanagerSecret,
                SHARED,
                Some(h),
                tags(&[("team", "payments-platform"), ("shared-with", "checkout")]),
            ),
            policy(vec![json!({
                "Sid": "AllowPaymentWorker", "Effect": "Allow",
                "Principal": {"AWS": role_arn(chk, "checkout-payment-worker")},
                "Action": "secretsmanager:GetSecretValue", "Resource": "*"})]),
        ));
        let bucket = documents_bucket(zone);
        let bucket_region = regions(zone)[1];
        let mut documents = with_policy(
            resource(
                &format!("arn:aws:s3:::{bucket}"),
                ResourceKind::S3Bucket,
                SHARED,
                Some(bucket_region),
                tags(&[("team", "documents"), ("shared-with", "invoice+checkout")]),
            ),
            policy(vec![
                json!({"Sid": "InvoiceDocuments", "Effect": "Allow",
                       "Principal": {"AWS": role_arn(inv, "invoice-pdf-renderer")},
                       "Action": "s3:PutObject",
                       "Resource": format!("arn:aws:s3:::{bucket}/invoices/*")}),
                json!({"Sid": "CheckoutReceipts", "Effect": "Allow",
                       "Principal": {"AWS": role_arn(chk, "checkout-payment-worker")},
                       "Action": "s3:PutObject",
                       "Resource": format!("arn:aws:s3:::{bucket}/receipts/*")}),
            ]),
        );
        documents.aliases = vec![format!("https://{bucket}.s3.{bucket_region}.amazonaws.com")];
        o.s.resources.push(documents);
    }

    // Global (regionless) resource: residency does not apply, the consumer tag does.
    o.s.resources.push(resource(
        DISTRIBUTION,
        ResourceKind::Other,
        SHARED,
        None,
        tags(&[("team", "web-platform"), ("shared-with", "catalog")]),
    ));
    // Near miss: nobody uses this log group, so it is not shared and needs no consumer tag.
    o.s.resources.push(resource(
        &format!("arn:aws:logs:eu-central-1:{SHARED}:log-group:/platform/org-audit"),
        ResourceKind::LogsLogGroup,
        SHARED,
        Some("eu-central-1"),
        tags(&[("team", "security")]),
    ));
    // Near miss: the default bus with no rules needs no owner.
    o.s.event_buses
        .push(bus("eu-west-1", SHARED, "default", Tags::new(), None));

    // PLANTED application-resource-unattributed: written during an incident to replay stuck
    // orders, never tagged, never deleted.
    let checkout_bus = bus_arn("eu-west-1", checkout("eu"), "checkout");
    let mut replay = role(
        SHARED,
        "replay-checkout-orders",
        tags(&[("created-by", "sre-oncall")]),
        lambda_trust(),
        "replay",
        vec![allow("ReplayOrders", &["events:PutEvents"], &[&checkout_bus])],
    );
    replay.attached_policies.push(BASIC_EXECUTION.to_string());
    o.s.roles.push(replay);
    let mut f = topoguard::testkit::function(
        "eu-west-1",
        SHARED,
        "replay-checkout-orders",
        &role_arn(SHARED, "replay-checkout-orders"),
        tags(&[("created-by", "sre-oncall"), ("incident", "INC-4711")]),
        &[("TARGET_BUS_ARN", Some(&checkout_bus))],
    );
    f.runtime = Some("python3.12".to_string());
    o.s.functions.push(f);
}

// --- incident responders and cross-account maintenance ----------------------------------------

fn build_access(o: &mut Org) {
    let inv = invoice("eu");
    // The role invoice's on-call signs in as (`[responders] principals` in the config).
    // Near miss (incident-access-not-read-only): it has metadata reads only. It needs no
    // sts:AssumeRole statement of its own: the observe role's trust policy names it by ARN, and
    // within one account the trust policy alone allows the assumption. The chain
    // oncall-invoice -> invoice-incident-observe is what the check follows.
    o.s.roles.push(role(
        inv,
        "oncall-invoice",
        app_tags("invoice"),
        aws_trust(json!(root(inv))),
        "triage",
        vec![allow(
            "TriageMetadata",
            &[
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetMetricData",
                "logs:DescribeLogGroups",
                "tag:GetResources",
            ],
            &["*"],
        )],
    ));
    let documents: Vec<String> = ZONES
        .iter()
        .map(|z| format!("arn:aws:s3:::{}/*", documents_bucket(z)))
        .collect();
    let documents: Vec<&str> = documents.iter().map(String::as_str).collect();
    o.s.roles.push(role(
        inv,
        "invoice-incident-observe",
        app_tags("invoice"),
        aws_trust(json!(role_arn(inv, "oncall-invoice"))),
        "observe",
        vec![
            allow(
                "ObserveMetadata",
                &[
                    "cloudwatch:Describe*",
                    "cloudwatch:GetMetricData",
                    "dynamodb:DescribeTable",
                    "events:Describe*",
                    "events:List*",
                    "lambda:GetFunctionConfiguration",
                    "logs:DescribeLogGroups",
                    "sqs:GetQueueAttributes",
                ],
                &["*"],
            ),
            // PLANTED incident-access-not-read-only (responder path): added so responders could
            // "check a rendered PDF"; it reads every invoice and every checkout receipt of every
            // zone.
            allow("CheckRenderedDocuments", &["s3:GetObject"], &documents),
            // Near miss (incident-access-not-read-only): pasted from the mitigation runbook, but
            // the SCP `protect-incident-observe-roles` denies it to every `*-incident-observe`
            // role, so it grants nothing.
            allow(
                "ThrottleRunawayFunctions",
                &["lambda:PutFunctionConcurrency"],
                &[&format!("arn:aws:lambda:*:{inv}:function:invoice-*")],
            ),
        ],
    ));

    // PLANTED cross-account-write-to-shared: created for the customer-profiles schema migration
    // (MIG-7), which ran from a CodeBuild project in checkout-eu; the migration finished, the
    // role and the runner's permission to assume it stayed. No `allow` entry covers it.
    // PLANTED as well (account trust, issue 8.1): the trust also names invoice-us (in case
    // invoice needed the migration too). No principal in invoice-us may call sts:AssumeRole on
    // it today, but invoice-us's administrators decide that, so it is a second finding.
    let chk = checkout("eu");
    o.s.roles.push(role(
        SHARED,
        "shared-ops-maintenance",
        tags(&[("team", "customer-data"), ("ticket", "MIG-7")]),
        aws_trust(json!([root(chk), root(invoice("us"))])),
        "migrate-customer-profiles",
        vec![allow(
            "MigrateProfiles",
            &[
                "dynamodb:DescribeTable",
                "dynamodb:Scan",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ],
            &[&profiles_arn("eu")],
        )],
    ));
    o.s.roles.push(role(
        chk,
        "checkout-migration-runner",
        tags(&[("app", "checkout"), ("ticket", "MIG-7")]),
        service_trust("codebuild.amazonaws.com"),
        "assume-shared-maintenance",
        vec![allow(
            "AssumeSharedMaintenance",
            &["sts:AssumeRole"],
            &[&role_arn(SHARED, "shared-ops-maintenance")],
        )],
    ));
}

// --- Trust in other accounts, and Agent Service roles without a known space ---------------------

/// Plants for account trust as access by that account, the conditional status, and a role the
/// DevOps Agent service may assume for a space the snapshot does not show.
fn build_reach_plants(o: &mut Org) {
    // PLANTED cross-account-write-to-shared, CONDITIONAL: a backfill role trusts checkout-us
    // (its administrators decide who may assume it; nobody there holds the permission today)
    // and may write only items whose leading key is `checkout` -- a request-time condition
    // topoguard cannot decide, so the finding is conditional (dynamodb:LeadingKeys), not a
    // violation.
    o.s.roles.push(role(
        SHARED,
        "shared-profiles-backfill",
        tags(&[("team", "customer-data")]),
        aws_trust(json!(checkout("us"))),
        "backfill-checkout-keys",
        vec![allow_if(
            "BackfillCheckoutKeys",
            &["dynamodb:PutItem"],
            &[&profiles_arn("eu")],
            json!({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["checkout"]}}),
        )],
    ));
    // Near miss: an organization-wide observer role ("AWS": "*" pinned by aws:PrincipalOrgID) --
    // one edge from the organization, read-only, so no finding.
    o.s.roles.push(role(
        SHARED,
        "shared-org-observer",
        tags(&[("team", "platform")]),
        policy(vec![
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                           "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}}),
        ]),
        "observe",
        vec![allow(
            "Observe",
            &["cloudwatch:GetMetricData", "dynamodb:DescribeTable"],
            &["*"],
        )],
    ));
    // PLANTED incident-access-not-read-only: invoice-apac prepared an agent role for a Sydney
    // Agent Space that is not created yet (so not in the snapshot); the role is pinned to it,
    // but may purge invoice's APAC dead-letter queue.
    let apac = invoice("apac");
    let pending = format!("arn:aws:aidevops:ap-southeast-2:{apac}:agentspace/as-invoice-apac-pending");
    o.s.roles.push(role(
        apac,
        "DevOpsAgentRole-invoice-apac-pending",
        tags(&[("agent-space", "invoice-apac")]),
        policy(vec![
            json!({"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"},
                           "Action": "sts:AssumeRole",
                           "Condition": {"StringEquals": {"aws:SourceAccount": apac},
                                         "ArnEquals": {"aws:SourceArn": pending}}}),
        ]),
        "devops-agent-investigate",
        vec![
            allow(
                "Investigate",
                &["cloudwatch:GetMetricData", "sqs:GetQueueAttributes"],
                &["*"],
            ),
            allow(
                "DrainDeadLetters",
                &["sqs:PurgeQueue"],
                &[&queue_arn(hub("apac"), apac, "invoice-dlq")],
            ),
        ],
    ));
}

// --- owner and consumer: a resource another application uses (issue 8 point 5) ----------------

/// Catalog's partner inbox bus in the catalog account receives checkout's EU order events
/// through a checkout rule. Only checkout uses it, but catalog owns it: it is shared, and with
/// no `shared-with` tag `shared-resource-untagged` names the owner and the consumer.
fn build_owner_consumer_plants(o: &mut Org) {
    let r = "eu-west-1";
    let inbox = "catalog-partner-inbox";
    o.s.event_buses.push(bus(r, CATALOG, inbox, app_tags("catalog"), None));
    o.s.rules.push(rule(
        r,
        checkout("eu"),
        "checkout",
        "checkout-orders-to-catalog",
        app_tags("checkout"),
        vec![target("catalog-inbox", &bus_arn(r, CATALOG, inbox), None, None)],
        pattern(&["checkout.orders"], &["OrderPlaced"]),
    ));
}

// --- Agent Spaces and their roles --------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Pin {
    Exact,
    /// StringEquals with one exact ARN (a near miss: pins as well as ArnEquals does).
    String,
    /// PLANTED agent-space-role-unpinned: copied from the onboarding guide, which pins only the
    /// account and allows any Agent Space in it.
    Wildcard,
}

fn agent_role(
    o: &mut Org,
    account: &str,
    app: &str,
    pin: Pin,
    extra: Vec<Value>,
    boundary: Option<String>,
) -> AgentSpaceAssociation {
    let (space_name, _, primary) = space(app);
    let arn = space_arn(app);
    let condition = match pin {
        Pin::Wildcard => json!({"StringEquals": {"aws:SourceAccount": primary},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:aidevops:{SPACE_REGION}:{primary}:agentspace/*")}}),
        Pin::String => json!({"StringEquals": {"aws:SourceAccount": primary, "aws:SourceArn": arn}}),
        Pin::Exact => json!({"StringEquals": {"aws:SourceAccount": primary}, "ArnEquals": {"aws:SourceArn": arn}}),
    };
    let trust = policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": "aidevops.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    })]);
    // Metadata reads on `*`; log content only from the application's own Lambda log groups
    // (`/aws/lambda/<app>-*`) in this account. A content read on `*` (as `logs:StartQuery` was
    // here before) would let the agent query every other application's logs.
    let own_logs = format!("arn:aws:logs:*:{account}:log-group:/aws/lambda/{app}-*");
    let own_log_streams = format!("{own_logs}:*");
    let mut statements = vec![
        allow(
            "InvestigateMetadata",
            &[
                "cloudwatch:Describe*",
                "cloudwatch:GetMetricData",
                "events:Describe*",
                "events:List*",
                "lambda:GetFunctionConfiguration",
                "logs:DescribeLogGroups",
                "tag:GetResources",
            ],
            &["*"],
        ),
        allow(
            "ReadOwnLogs",
            &["logs:FilterLogEvents", "logs:GetQueryResults", "logs:StartQuery"],
            &[&own_logs, &own_log_streams],
        ),
    ];
    statements.extend(extra);
    let name = format!("DevOpsAgentRole-{space_name}");
    let mut r = role(
        account,
        &name,
        tags(&[("agent-space", space_name)]),
        trust,
        "devops-agent-investigate",
        statements,
    );
    r.permission_boundary = boundary;
    o.s.roles.push(r);
    AgentSpaceAssociation {
        account: account.to_string(),
        role: role_arn(account, &name),
        kind: None,
        external_id: None,
        elevated_role: None,
        elevated_role_status: None,
        status: None,
    }
}

fn build_spaces(o: &mut Org) -> Vec<AgentSpace> {
    let plan: [(&str, Vec<&str>); 4] = [
        ("invoice", vec![invoice("us"), invoice("apac")]), // PLANTED: shared-services missing
        ("checkout", vec![checkout("us"), checkout("apac"), SHARED]),
        ("catalog", vec![SHARED, checkout("apac")]), // PLANTED: checkout-apac is foreign
        // PLANTED (issue 8 point 10): the crawl could not list notifications-oncall's
        // associations (see `coverage_gaps`), so the snapshot records none. Its shared-services
        // association is then unknown, not missing: agent-space-missing-account says "not
        // proven" and names the gap. Near miss: invoice-oncall's associations were read, so
        // its missing shared-services association stays a violation.
        ("notifications", vec![SHARED]),
    ];
    let mut spaces = Vec::new();
    for (app, secondaries) in plan {
        let (space_name, space_id, primary) = space(app);
        let pin = if app == "catalog" { Pin::String } else { Pin::Exact };
        let mut associations = Vec::new();
        for acct in secondaries {
            let this_pin = if acct == invoice("apac") { Pin::Wildcard } else { pin };
            let (extra, boundary) = if app == "checkout" && acct == SHARED {
                // PLANTED agent-space-role-overbroad (and, same root cause,
                // incident-access-not-read-only): during the "auto-remediation" pilot the
                // checkout team let the agent rewrite stale customer-profile entries in the EU
                // table. The pilot ended; the statement stayed. The role predates the platform
                // team's read-only boundary, so nothing stops it.
                (
                    vec![allow(
                        "RepairCustomerProfiles",
                        &["dynamodb:PutItem", "dynamodb:UpdateItem"],
                        &[&profiles_arn("eu")],
                    )],
                    None,
                )
            } else if app == "catalog" && acct == SHARED {
                // Near miss (agent-space-role-overbroad, incident-access-not-read-only): the
                // catalog runbook lets the agent publish a test PriceChanged message, but this
                // role carries the read-only permission boundary, which does not allow
                // sns:Publish, so the statement grants nothing.
                let topics: Vec<String> = ZONES.iter().map(|z| price_topic_arn(z)).collect();
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                (
                    vec![allow("PublishTestPriceChange", &["sns:Publish"], &topics)],
                    Some(agent_boundary()),
                )
            } else {
                (Vec::new(), None)
            };
            let association = agent_role(o, acct, app, this_pin, extra, boundary);
            if app != "notifications" {
                // notifications' role exists in IAM; its association was not read.
                associations.push(association);
            }
        }
        spaces.push(AgentSpace {
            id: space_id.to_string(),
            arn: space_arn(app),
            name: space_name.to_string(),
            account: primary.to_string(),
            region: SPACE_REGION.to_string(),
            tags: app_tags(app),
            associations,
            elevated_actions_enabled: None,
            kms_key: None,
            operator_app_role: None,
        });
    }
    spaces
}

/// What the crawl could not read. PLANTED (issue 8 point 10): the DevOps Agent read role in the
/// notifications account was created before `aidevops:ListAssociations` was added to it.
fn coverage_gaps() -> Vec<CoverageGap> {
    vec![CoverageGap {
        account: Some(NOTIFICATIONS.to_string()),
        region: Some(SPACE_REGION.to_string()),
        api: "aidevops:ListAssociations".to_string(),
        error_code: "AccessDeniedException".to_string(),
        message: format!(
            "User is not authorized to perform: aidevops:ListAssociations on resource: {}",
            space_arn("notifications")
        ),
    }]
}

// --- EventBridge v2: a Custom Event Bus shared through AWS RAM (issue 9 part 1) -----------------
// shared-services runs `order-events`, an EventBridge v2 bus in eu-west-1, shared with invoice's
// and checkout's accounts through one RAM share; each consumer account created its own
// subscriber. (The subscriber ARNs follow a made-up `subscriber/<bus>/<name>` shape: the example
// only needs them to be unique.)

fn v2_subscriber(o: &mut Org, account: &str, name: &str, target_arn: &str, role_name: &str) -> Subscriber {
    o.s.roles.push(role(
        account,
        role_name,
        Tags::new(),
        events_trust(),
        "deliver",
        vec![allow("Deliver", &["sqs:SendMessage"], &[target_arn])],
    ));
    Subscriber {
        arn: format!("arn:aws:events:{}:{SHARED}:subscriber/order-events/{name}", hub("eu")),
        name: name.to_string(),
        account: account.to_string(),
        state: Some(SubscriberState::Running),
        filters: vec![event_pattern(&[("source", &["checkout.orders"])])],
        target: target_arn.to_string(),
        role: Some(role_arn(account, role_name)),
        failure_destination: None,
        tags: Tags::new(),
    }
}

fn build_v2_bus(o: &mut Org) {
    let region = hub("eu");
    let (chk_us, inv_eu) = (checkout("us"), invoice("eu"));
    // PLANTED residency-cross-zone-flow and cross-account-write-to-shared: checkout's US
    // account mirrors EU order events into a US queue through its own subscriber on the EU bus.
    let mirror = queue_arn("us-east-1", chk_us, "eu-order-events-mirror");
    o.s.resources
        .push(queue_of("us-east-1", chk_us, "eu-order-events-mirror", Tags::new()));
    // Near miss (residency): invoice's EU subscriber delivers inside the zone; its subscriber
    // is accepted under `[checks.cross-account-write-to-shared] allow` in
    // policies/topoguard.toml.
    let inbox = queue_arn(region, inv_eu, "invoice-order-events");
    o.s.resources
        .push(queue_of(region, inv_eu, "invoice-order-events", Tags::new()));
    let subscribers = vec![
        v2_subscriber(o, chk_us, "checkout-us-mirror", &mirror, "order-events-mirror"),
        v2_subscriber(o, inv_eu, "invoice-eu-inbox", &inbox, "order-events-inbox"),
    ];
    o.s.event_buses_v2.push(EventBusV2 {
        arn: format!("arn:aws:events:{region}:{SHARED}:event-busv2/order-events/eb-5d7c1a2e9f"),
        account: SHARED.to_string(),
        region: region.to_string(),
        name: "order-events".to_string(),
        // Near miss (shared-resource-untagged, -tag-mismatch): the consumer tag names both users.
        tags: tags(&[
            ("app", "checkout"),
            ("team", "platform-events"),
            ("shared-with", "invoice+checkout"),
        ]),
        policy: None,
        kms_key: None,
        shares: vec![ResourceShare {
            arn: format!("arn:aws:ram:{region}:{SHARED}:resource-share/order-events"),
            principals: vec![chk_us.to_string(), inv_eu.to_string()],
        }],
        subscribers,
    });
}

// --- The whole DevOps Agent configuration (issue 9 part 2) -------------------------------------
// Association types, external ids, elevated roles and validation statuses, and the spaces'
// preferences. Every plant has a near miss next to it.

fn agent_trust(app: &str) -> topoguard::model::PolicyDocument {
    policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": "aidevops.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": space(app).2},
                      "ArnEquals": {"aws:SourceArn": space_arn(app)}},
    })])
}

fn external_id(app: &str, account: &str) -> String {
    format!("tg-{}-{account}", space(app).1)
}

/// Adds `sts:ExternalId` = `external_id` to the first trust statement's `StringEquals`.
fn require_external_id(role: &mut Role, external_id: &str) {
    let mut trust = role.trust_policy.value().clone();
    if let Some(condition) = trust
        .pointer_mut("/Statement/0/Condition/StringEquals")
        .and_then(Value::as_object_mut)
    {
        condition.insert("sts:ExternalId".into(), json!(external_id));
    }
    role.trust_policy = trust.into();
}

fn agent_configuration_plants(o: &mut Org, spaces: &mut [AgentSpace]) {
    let chk_eu = checkout("eu");
    for s in spaces.iter_mut() {
        let app = s.tags.get("app").cloned().unwrap_or_default();
        for a in &mut s.associations {
            a.kind = Some(AssociationKind::Source);
            a.status = Some(ValidationStatus::Valid);
            a.external_id = Some(external_id(&app, &a.account));
        }
    }
    let by_name = |spaces: &mut [AgentSpace], name: &str| spaces.iter().position(|s| s.name == name).unwrap_or(0);
    let checkout_ix = by_name(spaces, "checkout-oncall");
    let invoice_ix = by_name(spaces, "invoice-oncall");
    let notifications_ix = by_name(spaces, "notifications-oncall");
    // checkout-oncall requires external ids (policies/topoguard.toml). The us and apac roles
    // require theirs (near misses); PLANTED agent-space-external-id: the shared-services role
    // was created before the requirement and its trust never got the `sts:ExternalId`
    // condition.
    if let Some(checkout) = spaces.get(checkout_ix) {
        for a in checkout.associations.iter().filter(|a| a.account != SHARED) {
            if let (Some(role), Some(id)) = (o.find_role(&a.role), &a.external_id) {
                require_external_id(role, id);
            }
        }
    }
    // PLANTED agent-space-missing-account (hygiene): invoice's us association failed validation
    // after someone edited its role's trust; the space cannot investigate invoice-us.
    if let Some(a) = spaces.get_mut(invoice_ix).and_then(|s| s.associations.first_mut()) {
        a.status = Some(ValidationStatus::Invalid);
    }

    // checkout-oncall has elevated actions on. Its monitor association (the primary account)
    // has an elevated role limited to checkout's own functions: a near miss of
    // agent-space-elevated-access.
    let monitor_role = "DevOpsAgentRole-checkout-oncall";
    let elevated_own = "DevOpsAgentElevated-checkout-oncall";
    let space_tags = || tags(&[("agent-space", "checkout-oncall")]);
    o.s.roles.push(role(
        chk_eu,
        monitor_role,
        space_tags(),
        agent_trust("checkout"),
        "devops-agent-investigate",
        vec![allow(
            "InvestigateMetadata",
            &[
                "cloudwatch:Describe*",
                "lambda:GetFunctionConfiguration",
                "tag:GetResources",
            ],
            &["*"],
        )],
    ));
    o.s.roles.push(role(
        chk_eu,
        elevated_own,
        space_tags(),
        agent_trust("checkout"),
        "devops-agent-mitigate",
        vec![allow(
            "ThrottleOwnFunctions",
            &["lambda:PutFunctionConcurrency"],
            &[&format!("arn:aws:lambda:*:{chk_eu}:function:checkout-*")],
        )],
    ));
    // PLANTED agent-space-elevated-access: the shared-services association got an elevated role
    // "to raise table capacity during throttling incidents"; it can change every
    // customer-profiles table, which invoice uses too.
    let elevated_shared = "DevOpsAgentElevated-checkout-shared";
    o.s.roles.push(role(
        SHARED,
        elevated_shared,
        space_tags(),
        agent_trust("checkout"),
        "devops-agent-mitigate",
        vec![allow(
            "RaiseTableCapacity",
            &["dynamodb:UpdateTable"],
            &[&format!("arn:aws:dynamodb:*:{SHARED}:table/customer-profiles")],
        )],
    ));
    if let Some(checkout) = spaces.get_mut(checkout_ix) {
        checkout.elevated_actions_enabled = Some(true);
        checkout.associations.push(AgentSpaceAssociation {
            account: chk_eu.to_string(),
            role: role_arn(chk_eu, monitor_role),
            kind: Some(AssociationKind::Monitor),
            external_id: None,
            elevated_role: Some(role_arn(chk_eu, elevated_own)),
            elevated_role_status: Some(ValidationStatus::Valid),
            status: Some(ValidationStatus::Valid),
        });
        for a in checkout.associations.iter_mut().filter(|a| a.account == SHARED) {
            a.elevated_role = Some(role_arn(SHARED, elevated_shared));
            a.elevated_role_status = Some(ValidationStatus::Valid);
        }
    }
    // Near miss: notifications-oncall has elevated actions on, but its only association role
    // can read and nothing else.
    if let Some(notifications) = spaces.get_mut(notifications_ix) {
        notifications.elevated_actions_enabled = Some(true);
    }

    // PLANTED agent-space-reconfigurable: checkout's deploy role may update the space's
    // associations and pass any role to the agent service: it could point the space at a role
    // of its choosing. Near misses: the platform administrator (declared in [platform]) with
    // the same rights, and checkout's CI role, which may pass roles to Lambda only.
    let checkout_space = space_arn("checkout");
    for (name, passed_to) in [
        ("checkout-deployer", "aidevops.amazonaws.com"),
        ("platform-admin", "aidevops.amazonaws.com"),
        ("checkout-ci", "lambda.amazonaws.com"),
    ] {
        let mut statements = vec![
            allow(
                "ManageAgentSpace",
                &["aidevops:UpdateAssociation", "aidevops:AssociateService"],
                &[&checkout_space],
            ),
            allow_if(
                "PassRoles",
                &["iam:PassRole"],
                &["*"],
                json!({"StringEquals": {"iam:PassedToService": passed_to}}),
            ),
        ];
        if name == "checkout-ci" {
            // PLANTED agent-space-reconfigurable through a chain (issue 9): the CI role may
            // assume platform-admin "to roll out space settings from the pipeline". On its own
            // it is a near miss (it may pass roles to Lambda only); through platform-admin, a
            // declared administrator, it can reconfigure checkout's space. Whoever can assume
            // an administrator role is not one.
            statements.push(allow(
                "AssumePlatformAdmin",
                &["sts:AssumeRole"],
                &[&role_arn(chk_eu, "platform-admin")],
            ));
        }
        o.s.roles.push(role(
            chk_eu,
            name,
            app_tags("checkout"),
            aws_trust(json!(root(chk_eu))),
            "deploy",
            statements,
        ));
    }
}

/// PLANTED (issue 9): catalog's shared-services association got an elevated role "to reset the
/// price topic's delivery policy when subscribers fall behind". It can change the EU
/// `price-updates` topic, which checkout uses too, but `sns:SetTopicAttributes` is outside the
/// DevOps Agent guardrail the config names (`policies/devops-agent-guardrail.json` denies
/// `*:Set*Attributes`): agent-space-elevated-access and agent-space-role-overbroad report it at
/// low, "allowed by the role but outside the guardrail". Near miss: checkout's elevated
/// `dynamodb:UpdateTable` is within the guardrail and stays high.
fn guardrail_plants(o: &mut Org, spaces: &mut [AgentSpace]) {
    let name = "DevOpsAgentElevated-catalog-shared";
    o.s.roles.push(role(
        SHARED,
        name,
        tags(&[("agent-space", "catalog-oncall")]),
        agent_trust("catalog"),
        "devops-agent-mitigate",
        vec![allow(
            "ResetPriceTopicDelivery",
            &["sns:SetTopicAttributes"],
            &[&price_topic_arn("eu")],
        )],
    ));
    let catalog = spaces.iter_mut().find(|s| s.arn == space_arn("catalog"));
    for a in catalog.into_iter().flat_map(|s| s.associations.iter_mut()) {
        if a.account == SHARED {
            a.elevated_role = Some(role_arn(SHARED, name));
            a.elevated_role_status = Some(ValidationStatus::Valid);
        }
    }
}

/// PLANTED shared-resource-untagged, NOT PROVEN (issue 9 point 3): invoice-api (eu-west-1)
/// reads exports from `org-shared-exports`, an S3 bucket of shared-services that the crawl found
/// through `ListBuckets` (so `bucket_owners` names its account) but whose tags and policy it
/// could not read; only object ARNs name it: in the role's policy and in the function's
/// environment (`EXPORTS_PREFIX`). The bucket is placed in shared-services and reported "not
/// proven", not dropped as outside; and since its region is unknown, residency-cross-zone-flow
/// cannot show that the two EU invoice-api functions that use it stay in the EU ("not proven",
/// one finding per function). (A bucket named only by an IAM policy gets no node in the graph
/// today, so the environment names it too.) The near miss, a bucket no crawled account owns,
/// is the unit test `near_miss_a_bucket_owned_outside_the_organization_is_not_reported`.
fn cross_account_reference_plants(o: &mut Org) {
    o.s.bucket_owners
        .insert("org-shared-exports".to_string(), SHARED.to_string());
    let api = fn_arn("eu-west-1", invoice("eu"), "invoice-api");
    for f in o.s.functions.iter_mut().filter(|f| f.arn == api) {
        f.environment_keys.push("EXPORTS_PREFIX".to_string());
        f.environment_references
            .push("arn:aws:s3:::org-shared-exports/invoice/*".to_string());
        f.environment_keys.sort();
        f.environment_references.sort();
    }
    if let Some(r) = o.find_role(&role_arn(invoice("eu"), "invoice-api")) {
        r.inline_policies.push(inline(
            "read-exports",
            policy(vec![allow(
                "ReadSharedExports",
                &["s3:GetObject"],
                &["arn:aws:s3:::org-shared-exports/invoice/*"],
            )]),
        ));
    }
}

/// PLANTED agent-space-role-overbroad (hygiene): catalog's shared-services role still has the
/// DevOps Agent preview's managed policy attached. The document here is an abridged stand-in
/// (metadata reads only): the finding is about the attachment, not its content.
fn agent_preview_policy(o: &mut Org) {
    o.s.managed_policies.push(ManagedPolicy {
        arn: PREVIEW_POLICY.to_string(),
        name: "AIOpsAssistantPolicy".to_string(),
        document: policy(vec![allow(
            "PreviewReads",
            &["cloudwatch:Describe*", "tag:GetResources"],
            &["*"],
        )]),
    });
    if let Some(r) = o.find_role(&role_arn(SHARED, "DevOpsAgentRole-catalog-oncall")) {
        r.attached_policies.push(PREVIEW_POLICY.to_string());
    }
}

// --- the organization --------------------------------------------------------------------------

fn organization() -> Organization {
    let account = |id: &str, name: &str, parent: &str, tags: Tags| Account {
        id: id.to_string(),
        name: name.to_string(),
        status: "ACTIVE".to_string(),
        parent: Some(parent.to_string()),
        tags,
    };
    let mut accounts = vec![
        account(MANAGEMENT, "management", ROOT, tags(&[("environment", "management")])),
        account(SHARED, "shared-services", OU_SHARED, tags(&[("environment", "prod")])),
    ];
    for zone in ZONES {
        accounts.push(account(
            invoice(zone),
            &format!("invoice-{zone}"),
            OU_WORKLOADS,
            tags(&[("environment", "prod"), ("zone", zone)]),
        ));
    }
    for zone in ZONES {
        accounts.push(account(
            checkout(zone),
            &format!("checkout-{zone}"),
            OU_WORKLOADS,
            tags(&[("environment", "prod"), ("zone", zone)]),
        ));
    }
    accounts.push(account(
        CATALOG,
        "catalog-prod",
        OU_WORKLOADS,
        tags(&[("environment", "prod")]),
    ));
    accounts.push(account(
        NOTIFICATIONS,
        "notifications-prod",
        OU_WORKLOADS,
        tags(&[("environment", "prod")]),
    ));
    let all_regions: Vec<&str> = ZONES.iter().flat_map(|z| regions(z)).collect();
    let unit = |id: &str, name: &str, parent: Option<&str>| OrganizationalUnit {
        id: id.to_string(),
        name: name.to_string(),
        parent: parent.map(str::to_string),
    };
    let scp = |id: &str, arn: String, name: &str, document: Value, targets: &[&str]| OrganizationPolicy {
        id: id.to_string(),
        arn,
        name: name.to_string(),
        kind: OrganizationPolicyKind::ServiceControlPolicy,
        document: policy(vec![document]),
        targets: targets.iter().map(|t| (*t).to_string()).collect(),
    };
    let org_scp_arn =
        |id: &str| format!("arn:aws:organizations::{MANAGEMENT}:policy/{ORG_ID}/service_control_policy/{id}");
    Organization {
        id: Some(ORG_ID.to_string()),
        management_account: Some(MANAGEMENT.to_string()),
        units: vec![
            unit(ROOT, "Root", None),
            unit(OU_SHARED, "shared", Some(ROOT)),
            unit(OU_WORKLOADS, "workloads", Some(ROOT)),
        ],
        accounts,
        policies: vec![
            scp(
                "p-FullAWSAccess",
                "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess".to_string(),
                "FullAWSAccess",
                json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                &[ROOT],
            ),
            scp(
                "p-3x8k2m9q",
                org_scp_arn("p-3x8k2m9q"),
                "deny-unapproved-regions",
                json!({
                    "Sid": "DenyOutsideApprovedRegions",
                    "Effect": "Deny",
                    "NotAction": ["aidevops:*", "cloudfront:*", "iam:*", "organizations:*", "route53:*", "sts:*", "support:*"],
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": all_regions}},
                }),
                &[OU_SHARED, OU_WORKLOADS],
            ),
            scp(
                "p-7h4n1w5r",
                org_scp_arn("p-7h4n1w5r"),
                "protect-incident-observe-roles",
                json!({
                    "Sid": "ObserveRolesDoNotMitigate",
                    "Effect": "Deny",
                    "Action": ["events:DisableRule", "events:PutRule", "lambda:DeleteFunction",
                               "lambda:PutFunctionConcurrency", "lambda:UpdateFunctionCode",
                               "lambda:UpdateFunctionConfiguration", "sqs:PurgeQueue"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*-incident-observe"}},
                }),
                &[OU_WORKLOADS],
            ),
        ],
    }
}

/// IAM evaluation (issue 8 points 2, 8, 9).
///
/// AWS attaches `FullAWSAccess` to the root, every OU and every account, and a crawl records
/// every attachment (ListTargetsForPolicy). topoguard takes a level whose attachments are
/// recorded as complete: a level with only deny-style SCPs would deny everything, so the
/// example records the default attachments as a crawl would.
fn iam_eval_additions(o: &mut Org) {
    let org = &mut o.s.organization;
    let mut account_ids: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    account_ids.sort();
    let unit_ids: Vec<String> = org.units.iter().map(|u| u.id.clone()).collect();
    if let Some(full) = org.policies.iter_mut().find(|p| p.name == "FullAWSAccess") {
        full.targets = unit_ids.into_iter().chain(account_ids).collect();
    }

    // NEAR MISS (8.2): the EU `ops-alerts` topic keeps the default topic policy SNS writes
    // (`"AWS": "*"` limited by `AWS:SourceOwner` = the owner account). invoice's and checkout's
    // API roles name it in their identity policies (so both applications use it and it is
    // shared), but the default policy grants nothing to other accounts: no
    // cross-account-write-to-shared finding. Before 8.2 the unknown SourceOwner made it one.
    let alerts = topic_arn("eu-west-1", SHARED, "ops-alerts");
    o.s.resources.push(with_policy(
        resource(
            &alerts,
            ResourceKind::SnsTopic,
            SHARED,
            Some("eu-west-1"),
            tags(&[("team", "platform"), ("shared-with", "invoice+checkout")]),
        ),
        json!({
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [{
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                           "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                           "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                "Resource": alerts,
                "Condition": {"StringEquals": {"AWS:SourceOwner": SHARED}},
            }],
        })
        .into(),
    ));
    for (account, name) in [(invoice("eu"), "invoice-api"), (checkout("eu"), "checkout-api")] {
        if let Some(r) = o.find_role(&role_arn(account, name)) {
            r.inline_policies.push(inline(
                "publish-ops-alerts",
                policy(vec![allow("PublishOpsAlerts", &["sns:Publish"], &[&alerts])]),
            ));
        }
    }

    // PLANTED cross-account-write-to-shared (9.9): invoice-api was given bucket-wide PutObject
    // on the EU document bucket (`acme-documents-eu/*`, "for CSV exports"), and the bucket
    // policy grants it. A write on `bucket/*` is a write to the shared bucket's objects; the
    // allow entries cover only invoice-pdf-renderer and checkout-payment-worker.
    let bucket = documents_bucket("eu");
    let objects = format!("arn:aws:s3:::{bucket}/*");
    if let Some(r) = o.find_role(&role_arn(invoice("eu"), "invoice-api")) {
        r.inline_policies.push(inline(
            "export-csv",
            policy(vec![allow("ExportCsv", &["s3:PutObject"], &[&objects])]),
        ));
    }
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    if let Some(docs) = o.s.resources.iter_mut().find(|r| r.arn == bucket_arn)
        && let Some(document) = &docs.policy
    {
        let mut value = document.value().clone();
        if let Some(statements) = value.get_mut("Statement").and_then(Value::as_array_mut) {
            statements.push(json!({
                "Sid": "InvoiceExports", "Effect": "Allow",
                "Principal": {"AWS": role_arn(invoice("eu"), "invoice-api")},
                "Action": "s3:PutObject", "Resource": objects}));
        }
        docs.policy = Some(value.into());
    }
}

// --- IAM users as callers (issue 8 point 8) ------------------------------------------------------

/// Legacy IAM users of checkout-eu, from before SSO. A user that holds sts:AssumeRole starts a
/// concrete chain like a role does.
fn build_user_plants(o: &mut Org) {
    let chk = checkout("eu");
    let maintenance = role_arn(SHARED, "shared-ops-maintenance");
    // PLANTED cross-account-write-to-shared (8.8): the deploy user the MIG-7 migration used
    // before it moved to CodeBuild still may assume `shared-ops-maintenance` (trusted by
    // checkout-eu's administrators) and delete customer profiles. The finding names the user.
    let deployer = User {
        arn: format!("arn:aws:iam::{chk}:user/checkout-legacy-deployer"),
        account: chk.to_string(),
        name: "checkout-legacy-deployer".to_string(),
        tags: tags(&[("app", "checkout"), ("ticket", "MIG-7")]),
        inline_policies: vec![inline(
            "assume-shared-maintenance",
            policy(vec![allow(
                "AssumeSharedMaintenance",
                &["sts:AssumeRole"],
                &[&maintenance],
            )]),
        )],
        attached_policies: Vec::new(),
        permission_boundary: None,
        groups: Vec::new(),
    };
    // NEAR MISS (8.8): the CI bot's group may assume any shared-services role, but its
    // permission boundary allows reads only, so it can assume nothing: no finding.
    let boundary = format!("arn:aws:iam::{chk}:policy/CheckoutCiReadOnlyBoundary");
    let group = Group {
        arn: format!("arn:aws:iam::{chk}:group/checkout-ci"),
        account: chk.to_string(),
        name: "checkout-ci".to_string(),
        inline_policies: vec![inline(
            "assume-shared",
            policy(vec![allow(
                "AssumeShared",
                &["sts:AssumeRole"],
                &[&format!("arn:aws:iam::{SHARED}:role/*")],
            )]),
        )],
        attached_policies: Vec::new(),
    };
    let bot = User {
        arn: format!("arn:aws:iam::{chk}:user/checkout-ci-bot"),
        account: chk.to_string(),
        name: "checkout-ci-bot".to_string(),
        tags: app_tags("checkout"),
        inline_policies: Vec::new(),
        attached_policies: Vec::new(),
        permission_boundary: Some(boundary.clone()),
        groups: vec!["checkout-ci".to_string()],
    };
    o.s.managed_policies.push(ManagedPolicy {
        arn: boundary,
        name: "CheckoutCiReadOnlyBoundary".to_string(),
        document: policy(vec![allow(
            "ReadOnly",
            &["cloudwatch:GetMetricData", "s3:GetObject"],
            &["*"],
        )]),
    });
    o.s.users = vec![bot, deployer];
    o.s.groups = vec![group];
}

/// The example snapshot.
pub fn example() -> Snapshot {
    let mut o = Org::default();
    for zone in ZONES {
        build_invoice(&mut o, zone);
    }
    for zone in ZONES {
        build_checkout(&mut o, zone);
    }
    build_catalog(&mut o);
    build_notifications(&mut o);
    build_shared(&mut o);
    build_access(&mut o);
    build_reach_plants(&mut o);
    build_owner_consumer_plants(&mut o);
    build_v2_bus(&mut o);
    let mut spaces = build_spaces(&mut o);
    agent_configuration_plants(&mut o, &mut spaces);
    guardrail_plants(&mut o, &mut spaces);
    cross_account_reference_plants(&mut o);
    o.s.schema_version = SCHEMA_VERSION;
    o.s.crawled_at = Some("2025-06-02T07:30:00Z".to_string());
    o.s.organization = organization();
    let mut managed = vec![
        ManagedPolicy {
            arn: BASIC_EXECUTION.to_string(),
            name: "AWSLambdaBasicExecutionRole".to_string(),
            document: policy(vec![json!({
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            })]),
        },
        ManagedPolicy {
            arn: agent_boundary(),
            name: "DevOpsAgentReadOnlyBoundary".to_string(),
            document: policy(vec![allow(
                "MetadataAndLogReads",
                &[
                    "cloudwatch:Describe*",
                    "cloudwatch:GetMetricData",
                    "events:Describe*",
                    "events:List*",
                    "lambda:GetFunctionConfiguration",
                    "logs:DescribeLogGroups",
                    "logs:FilterLogEvents",
                    "logs:GetQueryResults",
                    "logs:StartQuery",
                    "sns:GetTopicAttributes",
                    "sns:ListSubscriptionsByTopic",
                    "tag:GetResources",
                ],
                &["*"],
            )]),
        },
    ];
    managed.append(&mut o.s.managed_policies);
    o.s.managed_policies = managed;
    o.s.agent_spaces = spaces;
    o.s.coverage.gaps = coverage_gaps();
    iam_eval_additions(&mut o);
    agent_preview_policy(&mut o);
    build_user_plants(&mut o);
    o.s
}

/// The example as the committed file's text.
pub fn example_json() -> Result<String, serde_json::Error> {
    write_ordered(&example())
}
