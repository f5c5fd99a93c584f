#!/usr/bin/env python3
"""Generate the bundled example topology `topology/examples/global-org.json`.

The example is a fictional AWS Organization ("Acme") that runs three applications
(`invoice`, `checkout`, `catalog`) plus a `notifications` platform service across three
residency zones (EU / US / APAC, two regions each), with one shared-dependency account
(`shared-services`). It is built to be clean except for exactly one planted violation per
check, each documented in `docs/example-walkthrough.md`:

  shared-resource-untagged           APAC `customer-profiles` table has no `shared-with` tag
  shared-resource-tag-mismatch       EU `price-updates` topic is tagged `catalog`, checkout uses it too
  agent-space-missing-account        `invoice-oncall` space is not associated with shared-services
  agent-space-foreign-account        `catalog-oncall` space is associated with checkout-apac
  agent-space-role-unpinned          invoice-apac's agent role trusts `agentspace/*` (ArnLike)
  residency-cross-zone-flow          checkout's Singapore `order-placed-notify` rule targets the US hub
  application-resource-unattributed  an incident-time Lambda in shared-services has no `app` tag
  agent-space-role-overbroad         checkout's agent role in shared-services may write the EU
                                     `customer-profiles` table (also reported, same root cause,
                                     by incident-access-not-read-only on the role)
  incident-access-not-read-only      the responder `oncall-invoice` reaches
                                     `invoice-incident-observe`, which may read every document
  cross-account-write-to-shared      checkout-eu's `checkout-migration-runner` may assume the
                                     leftover `shared-ops-maintenance` role and delete profiles;
                                     the same role trusts invoice-us (its administrators decide:
                                     a second finding); `shared-profiles-backfill` trusts
                                     checkout-us and writes only under dynamodb:LeadingKeys
                                     (status `conditional`); invoice-eu's `invoice-api` may
                                     PutObject on the whole EU document bucket
                                     (`acme-documents-eu/*`, a sub-resource write)
  cross-account-write-to-shared      checkout-eu's legacy IAM user `checkout-legacy-deployer` may
                                     assume `shared-ops-maintenance` (a user is a caller; the
                                     bounded `checkout-ci-bot` is a near miss)
  incident-access-not-read-only      invoice-apac's `DevOpsAgentRole-invoice-apac-pending` is
                                     pinned to a Sydney Agent Space not in the snapshot and may
                                     purge invoice's APAC dead-letter queue

plus one more residency flow (`catalog` `list-prices-to-eu`) that `policies/topoguard.toml`
ignores with a reason, and the designed writes into shared-services (hub PutEvents, document
PutObject, price-updates Subscribe) that its `allow` entries accept.

Usage (from the repository root):

    python3 scripts/gen_example.py > topology/examples/global-org.json

The output is deterministic: same script, byte-identical JSON (2-space indent, trailing newline).
"""

import json
import sys

# ---------------------------------------------------------------------------------------------
# The organization
# ---------------------------------------------------------------------------------------------

MANAGEMENT = "111111111111"
SHARED = "222222222222"
INVOICE = {"eu": "311111111111", "us": "312222222222", "apac": "313333333333"}
CHECKOUT = {"eu": "321111111111", "us": "322222222222", "apac": "323333333333"}
CATALOG = "331111111111"
NOTIFICATIONS = "341111111111"

ZONES = {
    "eu": ["eu-west-1", "eu-central-1"],
    "us": ["us-east-1", "us-west-2"],
    "apac": ["ap-southeast-1", "ap-northeast-1"],
}
# The zone's first region hosts the shared dependencies and the notification hub; the second
# region hosts the zone's document bucket.
HUB = {zone: regions[0] for zone, regions in ZONES.items()}
# Glob that matches both regions of a zone (and no region of another zone).
ZONE_GLOB = {"eu": "eu-*", "us": "us-*", "apac": "ap-*"}

ROOT = "r-a1b2"
OU_WORKLOADS = "ou-a1b2-wkld0001"
OU_SHARED = "ou-a1b2-shrd0001"

# Agent Spaces live in us-east-1 (where AWS DevOps Agent runs for this organization), each in
# its application's primary account.
SPACES = {
    "invoice": ("invoice-oncall", "as-7f3c2a91d0", INVOICE["eu"]),
    "checkout": ("checkout-oncall", "as-2b8e41c7f5", CHECKOUT["eu"]),
    "catalog": ("catalog-oncall", "as-c45d09e3a2", CATALOG),
    "notifications": ("notifications-oncall", "as-91a6f2b84e", NOTIFICATIONS),
}
SPACE_REGION = "us-east-1"

KMS_KEY_IDS = {
    "eu": "0f5e2a7c-3b1d-4e8f-9a6c-2d7b5e1f3a90",
    "us": "6c1d8e4f-9a2b-4c7d-8e5f-1a3b6c9d2e47",
    "apac": "b3a7e9d1-5c2f-4a8b-9d6e-7f1c3a5b8e02",
}
SECRET_SUFFIX = {"eu": "Xq3Lm9", "us": "Rt7Vb2", "apac": "Kp4Zw8"}
DISTRIBUTION = "arn:aws:cloudfront::222222222222:distribution/E2QWRUHAPOMQZL"

VERSION = "2012-10-17"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# The platform team's permission boundary for Agent Space roles: metadata reads and log reads.
AGENT_BOUNDARY = f"arn:aws:iam::{SHARED}:policy/DevOpsAgentReadOnlyBoundary"


# ---------------------------------------------------------------------------------------------
# ARN helpers
# ---------------------------------------------------------------------------------------------

def bus_arn(region, account, name):
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region, account, bus, name):
    if bus == "default":
        return f"arn:aws:events:{region}:{account}:rule/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{bus}/{name}"


def fn_arn(region, account, name):
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def role_arn(account, name):
    return f"arn:aws:iam::{account}:role/{name}"


def table_arn(region, account, name):
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def queue_arn(region, account, name):
    return f"arn:aws:sqs:{region}:{account}:{name}"


def queue_url(region, account, name):
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def topic_arn(region, account, name):
    return f"arn:aws:sns:{region}:{account}:{name}"


def kms_arn(zone):
    return f"arn:aws:kms:{HUB[zone]}:{SHARED}:key/{KMS_KEY_IDS[zone]}"


def profiles_arn(zone):
    return table_arn(HUB[zone], SHARED, "customer-profiles")


def price_topic_arn(zone):
    return topic_arn(HUB[zone], SHARED, "price-updates")


def payment_secret_arn(zone):
    return f"arn:aws:secretsmanager:{HUB[zone]}:{SHARED}:secret:payment-provider/api-key-{SECRET_SUFFIX[zone]}"


def documents_bucket(zone):
    return f"acme-documents-{zone}"


def hub_bus_arn(zone):
    return bus_arn(HUB[zone], SHARED, "customer-notifications")


def space_arn(app):
    _, space_id, account = SPACES[app]
    return f"arn:aws:aidevops:{SPACE_REGION}:{account}:agentspace/{space_id}"


# ---------------------------------------------------------------------------------------------
# Record builders
# ---------------------------------------------------------------------------------------------

def policy(*statements):
    return {"Version": VERSION, "Statement": list(statements)}


def one(value):
    """A one-element list is written as a plain string, as most policy authors do."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def allow(sid, actions, resources, **extra):
    stmt = {"Sid": sid, "Effect": "Allow", "Action": one(actions), "Resource": one(resources)}
    stmt.update(extra)
    return stmt


LAMBDA_TRUST = policy({
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole",
})
EVENTS_TRUST = policy({
    "Effect": "Allow",
    "Principal": {"Service": "events.amazonaws.com"},
    "Action": "sts:AssumeRole",
})


def role(account, name, tags, trust, inline=None, attached=None):
    return {
        "arn": role_arn(account, name),
        "account": account,
        "name": name,
        "tags": tags,
        "trust_policy": trust,
        "inline_policies": inline or [],
        "attached_policies": attached or [],
    }


def exec_role(account, name, app, statements):
    """A Lambda execution role: basic execution (logs) plus one inline policy naming its resources."""
    return role(account, name, {"app": app}, LAMBDA_TRUST,
                [{"name": f"{name}-access", "document": policy(*statements)}],
                [BASIC_EXECUTION])


def function(region, account, name, role_name, app, env, runtime="python3.12"):
    """`env` maps variable names to the ARN/URL found in the value, or None for plain values."""
    rec = {
        "arn": fn_arn(region, account, name),
        "account": account,
        "region": region,
        "name": name,
        "runtime": runtime,
        "role": role_arn(account, role_name),
        "tags": {"app": app},
        "environment_keys": sorted(env),
        "environment_references": sorted(v for v in env.values() if v),
    }
    return rec


def bus(region, account, name, tags, bus_policy=None):
    rec = {
        "arn": bus_arn(region, account, name),
        "account": account,
        "region": region,
        "name": name,
        "tags": tags,
    }
    if bus_policy:
        rec["policy"] = bus_policy
    return rec


def rule(region, account, bus_name, name, tags, targets, pattern=None, schedule=None):
    rec = {
        "arn": rule_arn(region, account, bus_name, name),
        "account": account,
        "region": region,
        "name": name,
        "bus": bus_arn(region, account, bus_name),
        "state": "ENABLED",
    }
    if pattern is not None:
        rec["event_pattern"] = json.dumps(pattern, separators=(",", ":"))
    if schedule is not None:
        rec["schedule_expression"] = schedule
    rec["tags"] = tags
    rec["targets"] = targets
    return rec


def target(tid, arn, dlq=None, role=None):
    t = {"id": tid, "arn": arn}
    if role:
        t["role"] = role
    if dlq:
        t["dead_letter_queue"] = dlq
    return t


def resource(arn, kind, account, region, tags, aliases=None, res_policy=None):
    rec = {"arn": arn, "kind": kind, "account": account}
    if region:
        rec["region"] = region
    rec["tags"] = tags
    rec["aliases"] = aliases or []
    if res_policy:
        rec["policy"] = res_policy
    return rec


def queue(region, account, name, tags, res_policy=None):
    return resource(queue_arn(region, account, name), "sqs-queue", account, region, tags,
                    [queue_url(region, account, name)], res_policy)


# ---------------------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------------------

roles, buses, rules, functions, mappings, resources, relations = [], [], [], [], [], [], []


def esm(uuid, function_arn, source):
    mappings.append({"uuid": uuid, "function": function_arn, "source": source, "state": "Enabled"})


def uuid_for(n):
    return f"5e1a7c3d-0000-4000-8000-{n:012d}"


# --- invoice: one account per zone, two regions each -----------------------------------------

def build_invoice(zone):
    acct = INVOICE[zone]
    regions = ZONES[zone]
    tags = {"app": "invoice"}
    buses_here = [bus_arn(r, acct, "invoice") for r in regions]
    approvals = f"arn:aws:dynamodb:{ZONE_GLOB[zone]}:{acct}:table/invoice-approvals"
    pdf_jobs = [queue_arn(r, acct, "invoice-pdf-jobs") for r in regions]

    roles.append(exec_role(acct, "invoice-api", "invoice", [
        allow("PublishInvoiceEvents", "events:PutEvents", buses_here),
        allow("ReadCustomerProfiles", ["dynamodb:GetItem", "dynamodb:Query"],
              [profiles_arn(zone), profiles_arn(zone) + "/index/*"]),
        allow("ReadApprovals", ["dynamodb:GetItem", "dynamodb:Query"], [approvals]),
        allow("DecryptCustomerData", "kms:Decrypt", kms_arn(zone)),
    ]))
    roles.append(exec_role(acct, "invoice-approval-request", "invoice", [
        allow("WriteApprovals", ["dynamodb:PutItem", "dynamodb:GetItem"], approvals),
        allow("PublishInvoiceEvents", "events:PutEvents", buses_here),
    ]))
    roles.append(exec_role(acct, "invoice-approval-decision", "invoice", [
        allow("UpdateApprovals", ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"],
              [approvals, approvals + "/index/*"]),
        allow("PublishInvoiceEvents", "events:PutEvents", buses_here),
    ]))
    roles.append(exec_role(acct, "invoice-pdf-renderer", "invoice", [
        allow("ConsumePdfJobs",
              ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], pdf_jobs),
        allow("WriteInvoiceDocuments", "s3:PutObject",
              f"arn:aws:s3:::{documents_bucket(zone)}/invoices/*"),
        allow("EncryptDocuments", ["kms:GenerateDataKey", "kms:Decrypt"], kms_arn(zone)),
    ]))

    for r in regions:
        own_bus = bus_arn(r, acct, "invoice")
        dlq = queue_arn(r, acct, "invoice-dlq")
        table = table_arn(r, acct, "invoice-approvals")
        buses.append(bus(r, acct, "invoice", tags))
        resources.append(resource(table, "dynamodb-table", acct, r, tags))
        resources.append(queue(r, acct, "invoice-pdf-jobs", tags))
        resources.append(queue(r, acct, "invoice-dlq", tags))

        functions.append(function(r, acct, "invoice-api", "invoice-api", "invoice", {
            "EVENT_BUS_ARN": own_bus,
            "CUSTOMER_PROFILES_TABLE_ARN": profiles_arn(zone),
            "APPROVALS_TABLE_ARN": table,
            "LOG_LEVEL": None,
        }))
        functions.append(function(r, acct, "invoice-approval-request", "invoice-approval-request",
                                  "invoice", {
                                      "APPROVALS_TABLE_ARN": table,
                                      "EVENT_BUS_ARN": own_bus,
                                      "APPROVAL_TIMEOUT_HOURS": None,
                                  }))
        functions.append(function(r, acct, "invoice-approval-decision",
                                  "invoice-approval-decision", "invoice", {
                                      "APPROVALS_TABLE_ARN": table,
                                      "EVENT_BUS_ARN": own_bus,
                                  }))
        functions.append(function(r, acct, "invoice-pdf-renderer", "invoice-pdf-renderer",
                                  "invoice", {
                                      "PDF_JOBS_QUEUE_URL": queue_url(r, acct, "invoice-pdf-jobs"),
                                      "TEMPLATE_VERSION": None,
                                  }, runtime="nodejs20.x"))
        esm(uuid_for(len(mappings) + 1), fn_arn(r, acct, "invoice-pdf-renderer"),
            queue_arn(r, acct, "invoice-pdf-jobs"))

        rules.append(rule(r, acct, "invoice", "invoice-submitted", tags, [
            target("approval-request", fn_arn(r, acct, "invoice-approval-request"), dlq)],
            {"source": ["acme.invoice"], "detail-type": ["InvoiceSubmitted"]}))
        rules.append(rule(r, acct, "invoice", "approval-decided", tags, [
            target("approval-decision", fn_arn(r, acct, "invoice-approval-decision"), dlq)],
            {"source": ["acme.invoice"], "detail-type": ["ApprovalDecided"]}))
        rules.append(rule(r, acct, "invoice", "invoice-approved", tags, [
            target("render-pdf", queue_arn(r, acct, "invoice-pdf-jobs"), dlq)],
            {"source": ["acme.invoice"], "detail-type": ["InvoiceApproved"]}))
        rules.append(rule(r, acct, "invoice", "invoice-customer-notify", tags, [
            target("notification-hub", hub_bus_arn(zone), dlq)],
            {"source": ["acme.invoice"], "detail-type": ["InvoiceApproved", "InvoiceRejected"]}))


# --- checkout: one account per zone, two regions each ----------------------------------------

def build_checkout(zone):
    acct = CHECKOUT[zone]
    regions = ZONES[zone]
    tags = {"app": "checkout"}
    buses_here = [bus_arn(r, acct, "checkout") for r in regions]
    orders = [table_arn(r, acct, "checkout-orders") for r in regions]

    roles.append(exec_role(acct, "checkout-api", "checkout", [
        allow("PublishCheckoutEvents", "events:PutEvents", buses_here),
        allow("WriteOrders", ["dynamodb:PutItem", "dynamodb:GetItem"], orders),
        allow("ReadCustomerProfiles", "dynamodb:GetItem", profiles_arn(zone)),
        allow("DecryptCustomerData", "kms:Decrypt", kms_arn(zone)),
    ]))
    roles.append(exec_role(acct, "checkout-payment-worker", "checkout", [
        allow("ConsumePayments",
              ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
              [queue_arn(r, acct, "checkout-payments") for r in regions]),
        allow("UpdateOrders", "dynamodb:UpdateItem", orders),
        allow("ReadPaymentProviderKey", "secretsmanager:GetSecretValue", payment_secret_arn(zone)),
        allow("DecryptCustomerData", "kms:Decrypt", kms_arn(zone)),
        allow("WriteReceipts", "s3:PutObject", f"arn:aws:s3:::{documents_bucket(zone)}/receipts/*"),
        allow("PublishCheckoutEvents", "events:PutEvents", buses_here),
    ]))
    roles.append(exec_role(acct, "checkout-price-cache", "checkout", [
        allow("ConsumePriceUpdates",
              ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
              f"arn:aws:sqs:{ZONE_GLOB[zone]}:{acct}:checkout-price-updates"),
        allow("WritePriceCache", ["dynamodb:PutItem", "dynamodb:BatchWriteItem"],
              f"arn:aws:dynamodb:{ZONE_GLOB[zone]}:{acct}:table/checkout-price-cache"),
    ]))
    if zone == "apac":
        # Created so that the misrouted Singapore rule (below) could deliver across regions.
        roles.append(role(acct, "checkout-events-forwarder", tags, EVENTS_TRUST, [
            {"name": "forward-to-notification-hub",
             "document": policy(allow("PutToHub", "events:PutEvents", hub_bus_arn("us")))}]))

    for r in regions:
        own_bus = bus_arn(r, acct, "checkout")
        dlq = queue_arn(r, acct, "checkout-dlq")
        buses.append(bus(r, acct, "checkout", tags))
        resources.append(resource(table_arn(r, acct, "checkout-orders"), "dynamodb-table", acct, r, tags))
        resources.append(resource(table_arn(r, acct, "checkout-price-cache"), "dynamodb-table", acct, r, tags))
        resources.append(queue(r, acct, "checkout-payments", tags))
        resources.append(queue(r, acct, "checkout-price-updates", tags))
        resources.append(queue(r, acct, "checkout-dlq", tags))
        relations.append({
            "from": price_topic_arn(zone),
            "to": queue_arn(r, acct, "checkout-price-updates"),
            "kind": "targets",
            "evidence": "sns:ListSubscriptionsByTopic: protocol sqs, raw message delivery",
        })

        functions.append(function(r, acct, "checkout-api", "checkout-api", "checkout", {
            "EVENT_BUS_ARN": own_bus,
            "ORDERS_TABLE_ARN": table_arn(r, acct, "checkout-orders"),
            "CUSTOMER_PROFILES_TABLE_ARN": profiles_arn(zone),
            "LOG_LEVEL": None,
        }, runtime="nodejs20.x"))
        functions.append(function(r, acct, "checkout-payment-worker", "checkout-payment-worker",
                                  "checkout", {
                                      "PAYMENTS_QUEUE_URL": queue_url(r, acct, "checkout-payments"),
                                      "PAYMENT_PROVIDER_SECRET_ARN": payment_secret_arn(zone),
                                      "PAYMENT_PROVIDER_ENDPOINT": None,
                                  }, runtime="nodejs20.x"))
        functions.append(function(r, acct, "checkout-price-cache", "checkout-price-cache",
                                  "checkout", {
                                      "PRICE_CACHE_TABLE_ARN": table_arn(r, acct, "checkout-price-cache"),
                                  }))
        esm(uuid_for(len(mappings) + 1), fn_arn(r, acct, "checkout-payment-worker"),
            queue_arn(r, acct, "checkout-payments"))
        esm(uuid_for(len(mappings) + 1), fn_arn(r, acct, "checkout-price-cache"),
            queue_arn(r, acct, "checkout-price-updates"))

        # PLANTED residency-cross-zone-flow: checkout launched in Singapore before the APAC
        # notification hub existed, and this one rule still points at the US hub.
        # ap-northeast-1 (launched later) uses the APAC hub correctly.
        misrouted = r == "ap-southeast-1"
        hub_target = (target("notification-hub", hub_bus_arn("us"), dlq,
                             role_arn(acct, "checkout-events-forwarder"))
                      if misrouted else target("notification-hub", hub_bus_arn(zone), dlq))
        rules.append(rule(r, acct, "checkout", "order-placed", tags, [
            target("payments", queue_arn(r, acct, "checkout-payments"), dlq)],
            {"source": ["acme.checkout"], "detail-type": ["OrderPlaced"]}))
        rules.append(rule(r, acct, "checkout", "order-placed-notify", tags, [
            hub_target],
            {"source": ["acme.checkout"], "detail-type": ["OrderPlaced", "OrderShipped"]}))
        rules.append(rule(r, acct, "checkout", "payment-failed", tags, [
            target("retry-payment", fn_arn(r, acct, "checkout-payment-worker"), dlq)],
            {"source": ["acme.payments"], "detail-type": ["PaymentFailed"]}))


# --- catalog: one account, one region per zone -----------------------------------------------

def build_catalog():
    acct = CATALOG
    tags = {"app": "catalog"}
    for zone in ZONES:
        r = HUB[zone]
        own_bus = bus_arn(r, acct, "catalog")
        products = table_arn(r, acct, "catalog-products")
        dlq = queue_arn(r, acct, "catalog-dlq")
        # The account spans three zones, so execution roles are per region: a shared role
        # would make every regional copy "use" the other zones' tables.
        roles.append(exec_role(acct, f"catalog-api-{r}", "catalog", [
            allow("ReadProducts", ["dynamodb:GetItem", "dynamodb:Query"], [products, products + "/index/*"]),
            allow("PublishCatalogEvents", "events:PutEvents", own_bus),
            allow("InvalidateStorefrontCache", "cloudfront:CreateInvalidation", DISTRIBUTION),
        ]))
        roles.append(exec_role(acct, f"catalog-indexer-{r}", "catalog", [
            allow("IndexProducts", ["dynamodb:GetItem", "dynamodb:UpdateItem"], products),
        ]))
        roles.append(exec_role(acct, f"catalog-price-publisher-{r}", "catalog", [
            allow("ScanProducts", "dynamodb:Scan", products),
            allow("PublishCatalogEvents", "events:PutEvents", own_bus),
        ]))

        buses.append(bus(r, acct, "catalog", tags))
        buses.append(bus(r, acct, "default", {}))
        resources.append(resource(products, "dynamodb-table", acct, r, tags))
        resources.append(queue(r, acct, "catalog-dlq", tags))

        functions.append(function(r, acct, "catalog-api", f"catalog-api-{r}", "catalog", {
            "PRODUCTS_TABLE_ARN": products,
            "EVENT_BUS_ARN": own_bus,
            "STOREFRONT_DISTRIBUTION_ARN": DISTRIBUTION,
        }))
        functions.append(function(r, acct, "catalog-indexer", f"catalog-indexer-{r}", "catalog", {
            "PRODUCTS_TABLE_ARN": products,
        }))
        functions.append(function(r, acct, "catalog-price-publisher", f"catalog-price-publisher-{r}",
                                  "catalog", {
                                      "PRODUCTS_TABLE_ARN": products,
                                      "EVENT_BUS_ARN": own_bus,
                                  }))

        rules.append(rule(r, acct, "catalog", "product-updated", tags, [
            target("indexer", fn_arn(r, acct, "catalog-indexer"), dlq)],
            {"source": ["acme.catalog"], "detail-type": ["ProductUpdated"]}))
        rules.append(rule(r, acct, "catalog", "price-changed", tags, [
            target("shared-price-topic", price_topic_arn(zone), dlq)],
            {"source": ["acme.catalog"], "detail-type": ["PriceChanged"]}))
        rules.append(rule(r, acct, "default", "price-snapshot-hourly", tags, [
            target("publisher", fn_arn(r, acct, "catalog-price-publisher"))],
            schedule="rate(1 hour)"))
        if zone == "us":
            # IGNORED residency-cross-zone-flow (see policies/topoguard.toml): US list prices
            # are mirrored to the EU storefront; public prices only, approved by the DPO.
            rules.append(rule(r, acct, "catalog", "list-prices-to-eu", tags, [
                target("eu-catalog-bus", bus_arn("eu-west-1", acct, "catalog"), None,
                       role_arn(acct, "catalog-cross-region-forwarder"))],
                {"source": ["acme.catalog"], "detail-type": ["ListPricePublished"]}))
    roles.append(role(acct, "catalog-cross-region-forwarder", tags, EVENTS_TRUST, [
        {"name": "forward-list-prices",
         "document": policy(allow("PutToEuCatalogBus", "events:PutEvents",
                                  bus_arn("eu-west-1", acct, "catalog")))}]))


# --- notifications: its own account (one region per zone) plus hub buses in shared-services ---

def build_notifications():
    acct = NOTIFICATIONS
    tags = {"app": "notifications"}
    for zone in ZONES:
        r = HUB[zone]
        own_bus = bus_arn(r, acct, "notifications")
        deliveries = table_arn(r, acct, "notification-deliveries")
        dlq = queue_arn(r, acct, "notifications-dlq")
        roles.append(exec_role(acct, f"notifications-send-email-{r}", "notifications", [
            allow("SendEmail", ["ses:SendEmail", "ses:SendRawEmail"],
                  f"arn:aws:ses:{r}:{acct}:identity/acme.example"),
            allow("RecordDeliveries", "dynamodb:PutItem", deliveries),
        ]))
        buses.append(bus(r, acct, "notifications", tags, policy({
            "Sid": "AllowNotificationHub",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SHARED}:root"},
            "Action": "events:PutEvents",
            "Resource": own_bus,
        })))
        resources.append(resource(deliveries, "dynamodb-table", acct, r, tags))
        resources.append(queue(r, acct, "notifications-dlq", tags))
        functions.append(function(r, acct, "notifications-send-email", f"notifications-send-email-{r}",
                                  "notifications", {
                                      "DELIVERIES_TABLE_ARN": deliveries,
                                      "SENDER_IDENTITY_ARN": f"arn:aws:ses:{r}:{acct}:identity/acme.example",
                                  }))
        rules.append(rule(r, acct, "notifications", "email-requested", tags, [
            target("send-email", fn_arn(r, acct, "notifications-send-email"), dlq)],
            {"detail-type": ["InvoiceApproved", "InvoiceRejected", "OrderPlaced", "OrderShipped"]}))

        # The hub in shared-services: owned by notifications (tag), used by invoice and checkout.
        hub = hub_bus_arn(zone)
        buses.append(bus(r, SHARED, "customer-notifications",
                         {"app": "notifications", "shared-with": "invoice+checkout"},
                         policy({
                             "Sid": "AllowOrganizationPublishers",
                             "Effect": "Allow",
                             "Principal": "*",
                             "Action": "events:PutEvents",
                             "Resource": hub,
                             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                         })))
        rules.append(rule(r, SHARED, "customer-notifications", "forward-to-notifications", tags, [
            target("notifications-bus", own_bus)],
            {"source": ["acme.invoice", "acme.checkout"]}))


# --- shared-services: shared dependencies, one set per zone -----------------------------------

def build_shared():
    for zone in ZONES:
        h = HUB[zone]
        inv, chk = INVOICE[zone], CHECKOUT[zone]
        # PLANTED shared-resource-untagged: the APAC table was created by hand during the
        # Singapore launch and never got its consumer tag.
        profiles_tags = {"team": "customer-data"}
        if zone != "apac":
            profiles_tags["shared-with"] = "invoice+checkout"
        resources.append(resource(profiles_arn(zone), "dynamodb-table", SHARED, h, profiles_tags,
                                  res_policy=policy({
                                      "Sid": "AllowApplicationReads",
                                      "Effect": "Allow",
                                      "Principal": {"AWS": [role_arn(chk, "checkout-api"),
                                                            role_arn(inv, "invoice-api")]},
                                      "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                                      "Resource": [profiles_arn(zone), profiles_arn(zone) + "/index/*"],
                                  })))
        resources.append(resource(kms_arn(zone), "kms-key", SHARED, h,
                                  {"team": "customer-data", "shared-with": "invoice+checkout"},
                                  res_policy=policy(
                                      {"Sid": "KeyAdministration", "Effect": "Allow",
                                       "Principal": {"AWS": f"arn:aws:iam::{SHARED}:root"},
                                       "Action": "kms:*", "Resource": "*"},
                                      {"Sid": "AllowApplicationUse", "Effect": "Allow",
                                       "Principal": {"AWS": [f"arn:aws:iam::{chk}:root",
                                                             f"arn:aws:iam::{inv}:root"]},
                                       "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                       "Resource": "*"})))
        # PLANTED shared-resource-tag-mismatch: the EU topic predates checkout's price cache;
        # its tag still says `catalog` only. The US and APAC copies are tagged correctly.
        price_tags = {"team": "catalog", "shared-with": "catalog" if zone == "eu" else "catalog checkout"}
        resources.append(resource(price_topic_arn(zone), "sns-topic", SHARED, h, price_tags,
                                  res_policy=policy(
                                      {"Sid": "AllowCatalogRule", "Effect": "Allow",
                                       "Principal": {"Service": "events.amazonaws.com"},
                                       "Action": "sns:Publish", "Resource": price_topic_arn(zone),
                                       "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn(
                                           h, CATALOG, "catalog", "price-changed")}}},
                                      {"Sid": "AllowCheckoutSubscriptions", "Effect": "Allow",
                                       "Principal": {"AWS": f"arn:aws:iam::{chk}:root"},
                                       "Action": "sns:Subscribe", "Resource": price_topic_arn(zone)})))
        resources.append(resource(payment_secret_arn(zone), "secretsmanager-secret", SHARED, h,
                                  {"team": "payments-platform", "shared-with": "checkout"},
                                  res_policy=policy({
                                      "Sid": "AllowPaymentWorker", "Effect": "Allow",
                                      "Principal": {"AWS": role_arn(chk, "checkout-payment-worker")},
                                      "Action": "secretsmanager:GetSecretValue", "Resource": "*"})))
        bucket = documents_bucket(zone)
        bucket_region = ZONES[zone][1]
        resources.append(resource(f"arn:aws:s3:::{bucket}", "s3-bucket", SHARED, bucket_region,
                                  {"team": "documents", "shared-with": "invoice+checkout"},
                                  [f"https://{bucket}.s3.{bucket_region}.amazonaws.com"],
                                  policy(
                                      {"Sid": "InvoiceDocuments", "Effect": "Allow",
                                       "Principal": {"AWS": role_arn(inv, "invoice-pdf-renderer")},
                                       "Action": "s3:PutObject",
                                       "Resource": f"arn:aws:s3:::{bucket}/invoices/*"},
                                      {"Sid": "CheckoutReceipts", "Effect": "Allow",
                                       "Principal": {"AWS": role_arn(chk, "checkout-payment-worker")},
                                       "Action": "s3:PutObject",
                                       "Resource": f"arn:aws:s3:::{bucket}/receipts/*"})))

    # Global (regionless) resource: residency does not apply, the consumer tag does.
    resources.append(resource(DISTRIBUTION, "other", SHARED, None,
                              {"team": "web-platform", "shared-with": "catalog"}))
    # Near miss: nobody uses this log group, so it is not shared and needs no consumer tag.
    resources.append(resource(f"arn:aws:logs:eu-central-1:{SHARED}:log-group:/platform/org-audit",
                              "logs-log-group", SHARED, "eu-central-1", {"team": "security"}))
    # Near miss: the default bus with no rules needs no owner.
    buses.append(bus("eu-west-1", SHARED, "default", {}))

    # PLANTED application-resource-unattributed: written during an incident to replay stuck
    # orders, never tagged, never deleted.
    roles.append(role(SHARED, "replay-checkout-orders", {"created-by": "sre-oncall"}, LAMBDA_TRUST,
                      [{"name": "replay", "document": policy(
                          allow("ReplayOrders", "events:PutEvents",
                                bus_arn("eu-west-1", CHECKOUT["eu"], "checkout")))}],
                      [BASIC_EXECUTION]))
    functions.append({
        "arn": fn_arn("eu-west-1", SHARED, "replay-checkout-orders"),
        "account": SHARED,
        "region": "eu-west-1",
        "name": "replay-checkout-orders",
        "runtime": "python3.12",
        "role": role_arn(SHARED, "replay-checkout-orders"),
        "tags": {"created-by": "sre-oncall", "incident": "INC-4711"},
        "environment_keys": ["TARGET_BUS_ARN"],
        "environment_references": [bus_arn("eu-west-1", CHECKOUT["eu"], "checkout")],
    })


# --- incident responders and cross-account maintenance ----------------------------------------

def build_access():
    inv = INVOICE["eu"]
    # The role invoice's on-call signs in as (`[responders] principals` in the config).
    # Near miss (incident-access-not-read-only): it has metadata reads only. It needs no
    # sts:AssumeRole statement of its own: the observe role's trust policy names it by ARN, and
    # within one account the trust policy alone allows the assumption. The chain
    # oncall-invoice -> invoice-incident-observe is what the check follows.
    roles.append(role(inv, "oncall-invoice", {"app": "invoice"},
                      policy({"Effect": "Allow",
                              "Principal": {"AWS": f"arn:aws:iam::{inv}:root"},
                              "Action": "sts:AssumeRole"}),
                      [{"name": "triage", "document": policy(
                          allow("TriageMetadata", [
                              "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
                              "logs:DescribeLogGroups", "tag:GetResources"], "*"))}]))
    own_logs = f"arn:aws:logs:*:{inv}:log-group:/aws/lambda/invoice-*"
    roles.append(role(inv, "invoice-incident-observe", {"app": "invoice"},
                      policy({"Effect": "Allow",
                              "Principal": {"AWS": role_arn(inv, "oncall-invoice")},
                              "Action": "sts:AssumeRole"}),
                      [{"name": "observe", "document": policy(
                          allow("ObserveMetadata", [
                              "cloudwatch:Describe*", "cloudwatch:GetMetricData",
                              "dynamodb:DescribeTable", "events:Describe*", "events:List*",
                              "lambda:GetFunctionConfiguration", "logs:DescribeLogGroups",
                              "sqs:GetQueueAttributes"], "*"),
                          # PLANTED incident-access-not-read-only (responder path): added so
                          # responders could "check a rendered PDF"; it reads every invoice
                          # and every checkout receipt of every zone.
                          allow("CheckRenderedDocuments", "s3:GetObject",
                                [f"arn:aws:s3:::{documents_bucket(z)}/*" for z in ZONES]),
                          # Near miss (incident-access-not-read-only): pasted from the
                          # mitigation runbook, but the SCP `protect-incident-observe-roles`
                          # denies it to every `*-incident-observe` role, so it grants nothing.
                          allow("ThrottleRunawayFunctions", "lambda:PutFunctionConcurrency",
                                f"arn:aws:lambda:*:{inv}:function:invoice-*"))}]))

    # PLANTED cross-account-write-to-shared: created for the customer-profiles schema migration
    # (MIG-7), which ran from a CodeBuild project in checkout-eu; the migration finished, the
    # role and the runner's permission to assume it stayed. No `allow` entry covers it.
    # PLANTED as well (account trust, issue 8.1): the trust also names invoice-us (in case
    # invoice needed the migration too). No principal in invoice-us may call sts:AssumeRole on
    # it today, but invoice-us's administrators decide that, so it is a second finding.
    chk = CHECKOUT["eu"]
    roles.append(role(SHARED, "shared-ops-maintenance", {"team": "customer-data", "ticket": "MIG-7"},
                      policy({"Effect": "Allow",
                              "Principal": {"AWS": [f"arn:aws:iam::{chk}:root",
                                                    f"arn:aws:iam::{INVOICE['us']}:root"]},
                              "Action": "sts:AssumeRole"}),
                      [{"name": "migrate-customer-profiles", "document": policy(
                          allow("MigrateProfiles",
                                ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:PutItem",
                                 "dynamodb:DeleteItem"], profiles_arn("eu")))}]))
    roles.append(role(chk, "checkout-migration-runner", {"app": "checkout", "ticket": "MIG-7"},
                      policy({"Effect": "Allow",
                              "Principal": {"Service": "codebuild.amazonaws.com"},
                              "Action": "sts:AssumeRole"}),
                      [{"name": "assume-shared-maintenance", "document": policy(
                          allow("AssumeSharedMaintenance", "sts:AssumeRole",
                                role_arn(SHARED, "shared-ops-maintenance")))}]))


# --- Trust in other accounts, and Agent Service roles without a known space ---------------------

def build_reach_plants():
    """Plants for account trust as access by that account, the conditional status, and a role
    the DevOps Agent service may assume for a space the snapshot does not show."""
    org_id = "o-a1b2c3d4e5"
    # PLANTED cross-account-write-to-shared, CONDITIONAL: a backfill role trusts checkout-us (its
    # administrators decide who may assume it; nobody there holds the permission today) and may
    # write only items whose leading key is `checkout` -- a request-time condition topoguard
    # cannot decide, so the finding is conditional (dynamodb:LeadingKeys), not a violation.
    roles.append(role(SHARED, "shared-profiles-backfill", {"team": "customer-data"},
                      policy({"Effect": "Allow",
                              "Principal": {"AWS": CHECKOUT["us"]},
                              "Action": "sts:AssumeRole"}),
                      [{"name": "backfill-checkout-keys", "document": policy(
                          allow("BackfillCheckoutKeys", "dynamodb:PutItem", profiles_arn("eu"),
                                Condition={"ForAllValues:StringEquals": {
                                    "dynamodb:LeadingKeys": ["checkout"]}}))}]))
    # Near miss: an organization-wide observer role ("AWS": "*" pinned by aws:PrincipalOrgID) --
    # one edge from the organization, read-only, so no finding.
    roles.append(role(SHARED, "shared-org-observer", {"team": "platform"},
                      policy({"Effect": "Allow", "Principal": {"AWS": "*"},
                              "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}),
                      [{"name": "observe", "document": policy(
                          allow("Observe", ["cloudwatch:GetMetricData", "dynamodb:DescribeTable"],
                                "*"))}]))
    # PLANTED incident-access-not-read-only: invoice-apac prepared an agent role for a Sydney
    # Agent Space that is not created yet (so not in the snapshot); the role is pinned to it, but
    # may purge invoice's APAC dead-letter queue.
    apac = INVOICE["apac"]
    pending = f"arn:aws:aidevops:ap-southeast-2:{apac}:agentspace/as-invoice-apac-pending"
    roles.append(role(apac, "DevOpsAgentRole-invoice-apac-pending", {"agent-space": "invoice-apac"},
                      policy({"Effect": "Allow",
                              "Principal": {"Service": "aidevops.amazonaws.com"},
                              "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {"aws:SourceAccount": apac},
                                            "ArnEquals": {"aws:SourceArn": pending}}}),
                      [{"name": "devops-agent-investigate", "document": policy(
                          allow("Investigate", ["cloudwatch:GetMetricData", "sqs:GetQueueAttributes"], "*"),
                          allow("DrainDeadLetters", "sqs:PurgeQueue",
                                queue_arn(HUB["apac"], apac, "invoice-dlq")))}]))


# --- owner and consumer: a resource another application uses (issue 8 point 5) ----------------

def build_owner_consumer_plants():
    """Catalog's partner inbox bus in the catalog account receives checkout's EU order events
    through a checkout rule. Only checkout uses it, but catalog owns it: it is shared, and with no
    `shared-with` tag `shared-resource-untagged` names the owner and the consumer."""
    r = "eu-west-1"
    inbox = "catalog-partner-inbox"
    buses.append(bus(r, CATALOG, inbox, {"app": "catalog"}))
    rules.append(rule(r, CHECKOUT["eu"], "checkout", "checkout-orders-to-catalog",
                      {"app": "checkout"}, [target("catalog-inbox", bus_arn(r, CATALOG, inbox))],
                      pattern={"source": ["checkout.orders"], "detail-type": ["OrderPlaced"]}))


# --- Agent Spaces and their roles --------------------------------------------------------------

def agent_role(account, app, pin="exact", extra=None, boundary=None):
    space_name, _, primary = SPACES[app]
    arn = space_arn(app)
    if pin == "wildcard":
        # PLANTED agent-space-role-unpinned: copied from the onboarding guide, which pins only
        # the account and allows any Agent Space in it.
        condition = {"StringEquals": {"aws:SourceAccount": primary},
                     "ArnLike": {"aws:SourceArn": f"arn:aws:aidevops:{SPACE_REGION}:{primary}:agentspace/*"}}
    elif pin == "string":
        # Near miss: StringEquals with one exact ARN pins as well as ArnEquals does.
        condition = {"StringEquals": {"aws:SourceAccount": primary, "aws:SourceArn": arn}}
    else:
        condition = {"StringEquals": {"aws:SourceAccount": primary},
                     "ArnEquals": {"aws:SourceArn": arn}}
    trust = policy({
        "Effect": "Allow",
        "Principal": {"Service": "aidevops.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    })
    # Metadata reads on `*`; log content only from the application's own Lambda log groups
    # (`/aws/lambda/<app>-*`) in this account. A content read on `*` (as `logs:StartQuery` was
    # here before) would let the agent query every other application's logs.
    own_logs = f"arn:aws:logs:*:{account}:log-group:/aws/lambda/{app}-*"
    statements = [
        allow("InvestigateMetadata", [
            "cloudwatch:Describe*", "cloudwatch:GetMetricData", "events:Describe*", "events:List*",
            "lambda:GetFunctionConfiguration", "logs:DescribeLogGroups", "tag:GetResources",
        ], "*"),
        allow("ReadOwnLogs", ["logs:FilterLogEvents", "logs:GetQueryResults", "logs:StartQuery"],
              [own_logs, own_logs + ":*"]),
    ]
    statements.extend(extra or [])
    name = f"DevOpsAgentRole-{space_name}"
    rec = role(account, name, {"agent-space": space_name}, trust,
               [{"name": "devops-agent-investigate", "document": policy(*statements)}])
    if boundary:
        rec["permission_boundary"] = boundary
    roles.append(rec)
    return {"account": account, "role": role_arn(account, name)}


def build_spaces():
    plan = {
        "invoice": [INVOICE["us"], INVOICE["apac"]],  # PLANTED: shared-services missing
        "checkout": [CHECKOUT["us"], CHECKOUT["apac"], SHARED],
        "catalog": [SHARED, CHECKOUT["apac"]],  # PLANTED: checkout-apac is foreign
        # PLANTED (issue 8 point 10): the crawl could not list notifications-oncall's
        # associations (see `coverage_gaps`), so the snapshot records none. Its shared-services
        # association is then unknown, not missing: agent-space-missing-account says "not
        # proven" and names the gap. Near miss: invoice-oncall's associations were read, so
        # its missing shared-services association stays a violation.
        "notifications": [SHARED],
    }
    spaces = []
    for app, secondaries in plan.items():
        space_name, space_id, primary = SPACES[app]
        pin = "string" if app == "catalog" else "exact"
        associations = []
        for acct in secondaries:
            this_pin = "wildcard" if acct == INVOICE["apac"] else pin
            extra, boundary = None, None
            if app == "checkout" and acct == SHARED:
                # PLANTED agent-space-role-overbroad (and, same root cause,
                # incident-access-not-read-only): during the "auto-remediation" pilot the
                # checkout team let the agent rewrite stale customer-profile entries in the EU
                # table. The pilot ended; the statement stayed. The role predates the platform
                # team's read-only boundary, so nothing stops it.
                extra = [allow("RepairCustomerProfiles", ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                               profiles_arn("eu"))]
            elif app == "catalog" and acct == SHARED:
                # Near miss (agent-space-role-overbroad, incident-access-not-read-only): the
                # catalog runbook lets the agent publish a test PriceChanged message, but this
                # role carries the read-only permission boundary, which does not allow
                # sns:Publish, so the statement grants nothing.
                extra = [allow("PublishTestPriceChange", "sns:Publish",
                               [price_topic_arn(z) for z in ZONES])]
                boundary = AGENT_BOUNDARY
            association = agent_role(acct, app, this_pin, extra, boundary)
            if app != "notifications":  # its role exists in IAM; its association was not read
                associations.append(association)
        spaces.append({
            "id": space_id,
            "arn": space_arn(app),
            "name": space_name,
            "account": primary,
            "region": SPACE_REGION,
            "tags": {"app": app},
            "associations": associations,
        })
    return spaces


def coverage_gaps():
    """What the crawl could not read. PLANTED (issue 8 point 10): the DevOps Agent read role in
    the notifications account was created before `aidevops:ListAssociations` was added to it."""
    return [{
        "account": NOTIFICATIONS,
        "region": SPACE_REGION,
        "api": "aidevops:ListAssociations",
        "error_code": "AccessDeniedException",
        "message": "User is not authorized to perform: aidevops:ListAssociations on resource: "
                   + space_arn("notifications"),
    }]


# --- EventBridge v2: a Custom Event Bus shared through AWS RAM (issue 9 part 1) -----------------
# shared-services runs `order-events`, an EventBridge v2 bus in eu-west-1, shared with invoice's
# and checkout's accounts through one RAM share; each consumer account created its own
# subscriber. (The subscriber ARNs below follow a made-up `subscriber/<bus>/<name>` shape: the
# example only needs them to be unique.)

buses_v2 = []


def v2_subscriber(account, region, name, target_arn, role_name):
    roles.append(role(account, role_name, {}, EVENTS_TRUST,
                      [{"name": "deliver", "document": policy(allow("Deliver", "sqs:SendMessage", target_arn))}]))
    return {
        "arn": f"arn:aws:events:{HUB['eu']}:{SHARED}:subscriber/order-events/{name}",
        "name": name,
        "account": account,
        "state": "RUNNING",
        "filters": [json.dumps({"source": ["checkout.orders"]}, separators=(",", ":"))],
        "target": target_arn,
        "role": role_arn(account, role_name),
    }


def build_v2_bus():
    region = HUB["eu"]
    chk_us, inv_eu = CHECKOUT["us"], INVOICE["eu"]
    # PLANTED residency-cross-zone-flow and cross-account-write-to-shared: checkout's US account
    # mirrors EU order events into a US queue through its own subscriber on the EU bus.
    mirror = queue_arn("us-east-1", chk_us, "eu-order-events-mirror")
    resources.append(queue("us-east-1", chk_us, "eu-order-events-mirror", {}))
    # Near miss (residency): invoice's EU subscriber delivers inside the zone; its subscriber is
    # accepted under `[checks.cross-account-write-to-shared] allow` in policies/topoguard.toml.
    inbox = queue_arn(region, inv_eu, "invoice-order-events")
    resources.append(queue(region, inv_eu, "invoice-order-events", {}))
    buses_v2.append({
        "arn": f"arn:aws:events:{region}:{SHARED}:event-busv2/order-events/eb-5d7c1a2e9f",
        "account": SHARED,
        "region": region,
        "name": "order-events",
        # Near miss (shared-resource-untagged, -tag-mismatch): the consumer tag names both users.
        "tags": {"app": "checkout", "team": "platform-events", "shared-with": "invoice+checkout"},
        "shares": [{"arn": f"arn:aws:ram:{region}:{SHARED}:resource-share/order-events",
                    "principals": [chk_us, inv_eu]}],
        "subscribers": [
            v2_subscriber(chk_us, region, "checkout-us-mirror", mirror, "order-events-mirror"),
            v2_subscriber(inv_eu, region, "invoice-eu-inbox", inbox, "order-events-inbox"),
        ],
    })


# --- The whole DevOps Agent configuration (issue 9 part 2) -------------------------------------
# Association types, external ids, elevated roles and validation statuses, and the spaces'
# preferences. Every plant has a near miss next to it.

def find_role(arn):
    return next(r for r in roles if r["arn"] == arn)


def agent_trust(app):
    return policy({
        "Effect": "Allow",
        "Principal": {"Service": "aidevops.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": SPACES[app][2]},
                      "ArnEquals": {"aws:SourceArn": space_arn(app)}},
    })


def external_id(app, account):
    return f"tg-{SPACES[app][1]}-{account}"


def agent_configuration_plants(spaces):
    by_app = {s["name"]: s for s in spaces}
    checkout = by_app["checkout-oncall"]
    chk_eu = CHECKOUT["eu"]
    for s in spaces:
        app = s["tags"]["app"]
        for a in s["associations"]:
            a["kind"] = "source"
            a["status"] = "valid"
            a["external_id"] = external_id(app, a["account"])
    # checkout-oncall requires external ids (policies/topoguard.toml). The us and apac roles
    # require theirs (near misses); PLANTED agent-space-external-id: the shared-services role
    # was created before the requirement and its trust never got the `sts:ExternalId` condition.
    for a in checkout["associations"]:
        if a["account"] != SHARED:
            cond = find_role(a["role"])["trust_policy"]["Statement"][0]["Condition"]
            cond["StringEquals"]["sts:ExternalId"] = a["external_id"]
    # PLANTED agent-space-missing-account (hygiene): invoice's us association failed validation
    # after someone edited its role's trust; the space cannot investigate invoice-us.
    invoice = by_app["invoice-oncall"]
    invoice["associations"][0]["status"] = "invalid"

    # checkout-oncall has elevated actions on. Its monitor association (the primary account)
    # has an elevated role limited to checkout's own functions: a near miss of
    # agent-space-elevated-access.
    checkout["elevated_actions_enabled"] = True
    monitor_role = "DevOpsAgentRole-checkout-oncall"
    elevated_own = "DevOpsAgentElevated-checkout-oncall"
    roles.append(role(chk_eu, monitor_role, {"agent-space": "checkout-oncall"}, agent_trust("checkout"),
                      [{"name": "devops-agent-investigate", "document": policy(allow(
                          "InvestigateMetadata", ["cloudwatch:Describe*", "lambda:GetFunctionConfiguration",
                                                  "tag:GetResources"], "*"))}]))
    roles.append(role(chk_eu, elevated_own, {"agent-space": "checkout-oncall"}, agent_trust("checkout"),
                      [{"name": "devops-agent-mitigate", "document": policy(allow(
                          "ThrottleOwnFunctions", "lambda:PutFunctionConcurrency",
                          f"arn:aws:lambda:*:{chk_eu}:function:checkout-*"))}]))
    checkout["associations"].append({
        "account": chk_eu, "role": role_arn(chk_eu, monitor_role), "kind": "monitor", "status": "valid",
        "elevated_role": role_arn(chk_eu, elevated_own), "elevated_role_status": "valid",
    })
    # PLANTED agent-space-elevated-access: the shared-services association got an elevated role
    # "to raise table capacity during throttling incidents"; it can change every
    # customer-profiles table, which invoice uses too.
    elevated_shared = "DevOpsAgentElevated-checkout-shared"
    roles.append(role(SHARED, elevated_shared, {"agent-space": "checkout-oncall"}, agent_trust("checkout"),
                      [{"name": "devops-agent-mitigate", "document": policy(allow(
                          "RaiseTableCapacity", "dynamodb:UpdateTable",
                          f"arn:aws:dynamodb:*:{SHARED}:table/customer-profiles"))}]))
    for a in checkout["associations"]:
        if a["account"] == SHARED:
            a["elevated_role"] = role_arn(SHARED, elevated_shared)
            a["elevated_role_status"] = "valid"
    # Near miss: notifications-oncall has elevated actions on, but its only association role
    # can read and nothing else.
    by_app["notifications-oncall"]["elevated_actions_enabled"] = True

    # PLANTED agent-space-reconfigurable: checkout's deploy role may update the space's
    # associations and pass any role to the agent service: it could point the space at a role
    # of its choosing. Near misses: the platform administrator (declared in [platform]) with the
    # same rights, and checkout's CI role, which may pass roles to Lambda only.
    space = space_arn("checkout")
    reconfigure = allow("ManageAgentSpace", ["aidevops:UpdateAssociation", "aidevops:AssociateService"], space)
    deploy_trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{chk_eu}:root"},
                           "Action": "sts:AssumeRole"})
    for name, passed_to in (("checkout-deployer", "aidevops.amazonaws.com"),
                            ("platform-admin", "aidevops.amazonaws.com"),
                            ("checkout-ci", "lambda.amazonaws.com")):
        roles.append(role(chk_eu, name, {"app": "checkout"}, deploy_trust,
                          [{"name": "deploy", "document": policy(
                              reconfigure,
                              allow("PassRoles", "iam:PassRole", "*",
                                    Condition={"StringEquals": {"iam:PassedToService": passed_to}}))}]))


PREVIEW_POLICY = "arn:aws:iam::aws:policy/AIOpsAssistantPolicy"


def agent_preview_policy(snapshot):
    """PLANTED agent-space-role-overbroad (hygiene): catalog's shared-services role still has the
    DevOps Agent preview's managed policy attached. The document here is an abridged stand-in
    (metadata reads only): the finding is about the attachment, not its content."""
    snapshot["managed_policies"].append({
        "arn": PREVIEW_POLICY,
        "name": "AIOpsAssistantPolicy",
        "document": policy(allow("PreviewReads", ["cloudwatch:Describe*", "tag:GetResources"], "*")),
    })
    find_role(role_arn(SHARED, "DevOpsAgentRole-catalog-oncall"))["attached_policies"].append(PREVIEW_POLICY)


# --- the organization --------------------------------------------------------------------------

def organization():
    def account(acct_id, name, parent, tags):
        return {"id": acct_id, "name": name, "status": "ACTIVE", "parent": parent, "tags": tags}

    accounts = [
        account(MANAGEMENT, "management", ROOT, {"environment": "management"}),
        account(SHARED, "shared-services", OU_SHARED, {"environment": "prod"}),
    ]
    for zone in ZONES:
        accounts.append(account(INVOICE[zone], f"invoice-{zone}", OU_WORKLOADS,
                                {"environment": "prod", "zone": zone}))
    for zone in ZONES:
        accounts.append(account(CHECKOUT[zone], f"checkout-{zone}", OU_WORKLOADS,
                                {"environment": "prod", "zone": zone}))
    accounts.append(account(CATALOG, "catalog-prod", OU_WORKLOADS, {"environment": "prod"}))
    accounts.append(account(NOTIFICATIONS, "notifications-prod", OU_WORKLOADS, {"environment": "prod"}))
    all_regions = [r for regions in ZONES.values() for r in regions]
    return {
        "id": "o-a1b2c3d4e5",
        "management_account": MANAGEMENT,
        "units": [
            {"id": ROOT, "name": "Root"},
            {"id": OU_SHARED, "name": "shared", "parent": ROOT},
            {"id": OU_WORKLOADS, "name": "workloads", "parent": ROOT},
        ],
        "accounts": accounts,
        "policies": [
            {
                "id": "p-FullAWSAccess",
                "arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                "name": "FullAWSAccess",
                "kind": "SERVICE_CONTROL_POLICY",
                "document": policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                "targets": [ROOT],
            },
            {
                "id": "p-3x8k2m9q",
                "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/o-a1b2c3d4e5/service_control_policy/p-3x8k2m9q",
                "name": "deny-unapproved-regions",
                "kind": "SERVICE_CONTROL_POLICY",
                "document": policy({
                    "Sid": "DenyOutsideApprovedRegions",
                    "Effect": "Deny",
                    "NotAction": ["aidevops:*", "cloudfront:*", "iam:*", "organizations:*",
                                  "route53:*", "sts:*", "support:*"],
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": all_regions}},
                }),
                "targets": [OU_SHARED, OU_WORKLOADS],
            },
            {
                "id": "p-7h4n1w5r",
                "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/o-a1b2c3d4e5/service_control_policy/p-7h4n1w5r",
                "name": "protect-incident-observe-roles",
                "kind": "SERVICE_CONTROL_POLICY",
                "document": policy({
                    "Sid": "ObserveRolesDoNotMitigate",
                    "Effect": "Deny",
                    "Action": ["events:DisableRule", "events:PutRule", "lambda:DeleteFunction",
                               "lambda:PutFunctionConcurrency", "lambda:UpdateFunctionCode",
                               "lambda:UpdateFunctionConfiguration", "sqs:PurgeQueue"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*-incident-observe"}},
                }),
                "targets": [OU_WORKLOADS],
            },
        ],
    }


def iam_eval_additions(snapshot):
    """IAM evaluation (issue 8 points 2, 8, 9).

    AWS attaches `FullAWSAccess` to the root, every OU and every account, and a crawl records
    every attachment (ListTargetsForPolicy). topoguard now takes a level whose attachments are
    recorded as complete: a level with only deny-style SCPs would deny everything, so the
    example records the default attachments as a crawl would.
    """
    org = snapshot["organization"]
    full = next(p for p in org["policies"] if p["name"] == "FullAWSAccess")
    full["targets"] = ([u["id"] for u in org["units"]]
                       + sorted(a["id"] for a in org["accounts"]))

    def exec_role_of(account, name):
        return next(r for r in snapshot["roles"] if r["arn"] == role_arn(account, name))

    # NEAR MISS (8.2): the EU `ops-alerts` topic keeps the default topic policy SNS writes
    # (`"AWS": "*"` limited by `AWS:SourceOwner` = the owner account). invoice's and checkout's
    # API roles name it in their identity policies (so both applications use it and it is
    # shared), but the default policy grants nothing to other accounts: no
    # cross-account-write-to-shared finding. Before 8.2 the unknown SourceOwner made it one.
    alerts = topic_arn("eu-west-1", SHARED, "ops-alerts")
    snapshot["resources"].append(resource(
        alerts, "sns-topic", SHARED, "eu-west-1",
        {"team": "platform", "shared-with": "invoice+checkout"},
        res_policy={
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
        }))
    for account, name in ((INVOICE["eu"], "invoice-api"), (CHECKOUT["eu"], "checkout-api")):
        exec_role_of(account, name)["inline_policies"].append({
            "name": "publish-ops-alerts",
            "document": policy(allow("PublishOpsAlerts", "sns:Publish", alerts)),
        })

    # PLANTED cross-account-write-to-shared (9.9): invoice-api was given bucket-wide PutObject
    # on the EU document bucket (`acme-documents-eu/*`, "for CSV exports"), and the bucket
    # policy grants it. A write on `bucket/*` is a write to the shared bucket's objects; the
    # allow entries cover only invoice-pdf-renderer and checkout-payment-worker.
    bucket = documents_bucket("eu")
    exec_role_of(INVOICE["eu"], "invoice-api")["inline_policies"].append({
        "name": "export-csv",
        "document": policy(allow("ExportCsv", "s3:PutObject", f"arn:aws:s3:::{bucket}/*")),
    })
    docs = next(r for r in snapshot["resources"] if r["arn"] == f"arn:aws:s3:::{bucket}")
    docs["policy"]["Statement"].append({
        "Sid": "InvoiceExports", "Effect": "Allow",
        "Principal": {"AWS": role_arn(INVOICE["eu"], "invoice-api")},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})


# --- IAM users as callers (issue 8 point 8) ------------------------------------------------------

def build_user_plants(snapshot):
    """Legacy IAM users of checkout-eu, from before SSO. A user that holds sts:AssumeRole starts a
    concrete chain like a role does."""
    chk = CHECKOUT["eu"]
    maintenance = role_arn(SHARED, "shared-ops-maintenance")
    # PLANTED cross-account-write-to-shared (8.8): the deploy user the MIG-7 migration used
    # before it moved to CodeBuild still may assume `shared-ops-maintenance` (trusted by
    # checkout-eu's administrators) and delete customer profiles. The finding names the user.
    deployer = {
        "arn": f"arn:aws:iam::{chk}:user/checkout-legacy-deployer",
        "account": chk,
        "name": "checkout-legacy-deployer",
        "tags": {"app": "checkout", "ticket": "MIG-7"},
        "inline_policies": [{"name": "assume-shared-maintenance", "document": policy(
            allow("AssumeSharedMaintenance", "sts:AssumeRole", maintenance))}],
        "attached_policies": [],
        "groups": [],
    }
    # NEAR MISS (8.8): the CI bot's group may assume any shared-services role, but its
    # permission boundary allows reads only, so it can assume nothing: no finding.
    boundary = f"arn:aws:iam::{chk}:policy/CheckoutCiReadOnlyBoundary"
    group = {
        "arn": f"arn:aws:iam::{chk}:group/checkout-ci",
        "account": chk,
        "name": "checkout-ci",
        "inline_policies": [{"name": "assume-shared", "document": policy(
            allow("AssumeShared", "sts:AssumeRole", f"arn:aws:iam::{SHARED}:role/*"))}],
        "attached_policies": [],
    }
    bot = {
        "arn": f"arn:aws:iam::{chk}:user/checkout-ci-bot",
        "account": chk,
        "name": "checkout-ci-bot",
        "tags": {"app": "checkout"},
        "inline_policies": [],
        "attached_policies": [],
        "permission_boundary": boundary,
        "groups": ["checkout-ci"],
    }
    snapshot["managed_policies"].append({
        "arn": boundary,
        "name": "CheckoutCiReadOnlyBoundary",
        "document": policy(allow("ReadOnly", ["cloudwatch:GetMetricData", "s3:GetObject"], "*")),
    })
    # Record fields in the snapshot's declaration order: users and groups follow roles.
    ordered = {}
    for k, v in snapshot.items():
        ordered[k] = v
        if k == "roles":
            ordered["users"] = [bot, deployer]
            ordered["groups"] = [group]
    snapshot.clear()
    snapshot.update(ordered)


def canonical(value, key=None):
    """Orders keys the way topoguard writes snapshots: record fields in declaration order (as
    built above), while free-form JSON (policy documents) and tag maps are sorted by key."""
    if isinstance(value, dict):
        if key in ("tags", "trust_policy", "document", "policy"):
            return json.loads(json.dumps(value, sort_keys=True))
        return {k: canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v, key) for v in value]
    return value


def main():
    for zone in ZONES:
        build_invoice(zone)
    for zone in ZONES:
        build_checkout(zone)
    build_catalog()
    build_notifications()
    build_shared()
    build_access()
    build_reach_plants()
    build_owner_consumer_plants()
    build_v2_bus()
    spaces = build_spaces()
    agent_configuration_plants(spaces)
    snapshot = {
        "schema_version": 1,
        "crawled_at": "2025-06-02T07:30:00Z",
        "organization": organization(),
        "roles": roles,
        "managed_policies": [{
            "arn": BASIC_EXECUTION,
            "name": "AWSLambdaBasicExecutionRole",
            "document": policy({
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }),
        }, {
            "arn": AGENT_BOUNDARY,
            "name": "DevOpsAgentReadOnlyBoundary",
            "document": policy(allow("MetadataAndLogReads", [
                "cloudwatch:Describe*", "cloudwatch:GetMetricData", "events:Describe*",
                "events:List*", "lambda:GetFunctionConfiguration", "logs:DescribeLogGroups",
                "logs:FilterLogEvents", "logs:GetQueryResults", "logs:StartQuery",
                "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "tag:GetResources",
            ], "*")),
        }],
        "event_buses": buses,
        "event_buses_v2": buses_v2,
        "rules": rules,
        "functions": functions,
        "event_source_mappings": mappings,
        "resources": resources,
        "agent_spaces": spaces,
        "relations": relations,
        "coverage": {"gaps": coverage_gaps()},
    }
    iam_eval_additions(snapshot)
    agent_preview_policy(snapshot)
    build_user_plants(snapshot)
    json.dump(canonical(snapshot), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
