#!/usr/bin/env python3
"""Seed a moto server (server mode, loopback) with an organization shaped like real ones, for
`tests/cli/realorg.rs`. Nothing here was designed alongside topoguard's checks: every shape is an
AWS default or a pattern from AWS's documentation.

Usage: moto_seed_realorg.py ENDPOINT

Management account 123456789012; three members: `platform-shared` (the shared-dependency
account), `orders-prod` (application orders) and `billing-prod` (application billing). Everything
regional is in eu-west-1. Prints a JSON summary on stdout: account ids and the ARNs the test
asserts on.

In every member: `OrganizationAccountAccessRole` as AWS Organizations creates it (trusts the
management account's root, full administrator access).
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_create-cross-account-role.html

In platform-shared:
- bucket `shared-artifacts-<id>` and table `ledger` (both used by orders), topic `platform-alerts`
  with the exact default SNS topic policy (control: grants nothing to other accounts);
- `orders-artifact-publisher`: trusts orders-prod's root, `s3:PutObject` on the bucket's
  objects (violation: account trust + write);
- `billing-ledger-sync`: trusts billing-prod by bare account id, an Allow with `NotAction`
  that leaves `dynamodb:PutItem` on the table (violation);
- `orders-ledger-tenant-writer`: trusts orders-prod's root, `dynamodb:PutItem` only under a
  `dynamodb:LeadingKeys` condition (conditional: the key is request-dependent);
- `reporting-ledger-reader`: trusts orders-prod's root, `dynamodb:*` on the table, made
  read-only by an SCP on the account that denies every non-read DynamoDB action to
  `role/reporting-*` (control);
- `audit-ledger-reader`: trusts orders-prod's root, `dynamodb:*` on the table, limited by a
  permission boundary that allows only reads (control).

Near misses: `artifact-indexer-exec` in platform-shared writes the bucket but only Lambda can
assume it; `orders-billing-publisher` in billing-prod trusts orders-prod's root and writes
billing's bus, but billing-prod is not a shared-dependency account (neither is a finding).

In orders-prod: `DevOpsAgentRole-orders`, an Agent Space role trusting `aidevops.amazonaws.com`
pinned by `aws:SourceAccount` / `aws:SourceArn` to a space that does not exist in the snapshot,
with `AIDevOpsAgentAccessPolicy`-like reads plus `lambda:UpdateFunctionConfiguration` (violation:
incident access that can write); a rule on orders' bus delivering to billing's bus.

In billing-prod: the bus `billing-events` (its policy lets orders-prod put events), used by
orders' rule (shared: it needs the consumer tag).
"""
import argparse
import json

import boto3
from botocore.config import Config

MANAGEMENT = "123456789012"
REGION = "eu-west-1"


def client(endpoint, service, creds=None, region=REGION):
    kw = dict(endpoint_url=endpoint, region_name=region, config=Config(inject_host_prefix=False))
    if creds:
        kw.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    else:
        kw.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client(service, **kw)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust_account(principal):
    return doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})


def role(iam, name, trust, inline=None, boundary=None):
    kw = {"RoleName": name, "AssumeRolePolicyDocument": trust}
    if boundary:
        kw["PermissionsBoundary"] = boundary
    arn = iam.create_role(**kw)["Role"]["Arn"]
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=inline)
    return arn


def organization_access_role(iam):
    """The role AWS Organizations creates in an account it creates: trusts the management
    account, full administrator permissions (an inline `AdministratorAccess` policy)."""
    try:
        iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=trust_account(f"arn:aws:iam::{MANAGEMENT}:root"))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.put_role_policy(
        RoleName="OrganizationAccountAccessRole",
        PolicyName="AdministratorAccess",
        PolicyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )


def default_topic_policy(topic, owner):
    """The policy SNS gives a new topic (AWS:SourceOwner pinned to the owner account).
    https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": owner}},
                }
            ],
        }
    )


DYNAMODB_READS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Describe*",
    "dynamodb:GetItem",
    "dynamodb:List*",
    "dynamodb:Query",
    "dynamodb:Scan",
]


def seed_shared(endpoint, creds, acct, orders, billing, out):
    iam = client(endpoint, "iam", creds)
    organization_access_role(iam)
    bucket = f"shared-artifacts-{acct}"
    s3 = client(endpoint, "s3", creds)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "shared-with", "Value": "orders"}]})
    ddb = client(endpoint, "dynamodb", creds)
    ddb.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "tenant", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "tenant", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "shared-with", "Value": "orders billing"}],
    )
    table = f"arn:aws:dynamodb:{REGION}:{acct}:table/ledger"
    sns = client(endpoint, "sns", creds)
    topic = sns.create_topic(Name="platform-alerts", Tags=[{"Key": "shared-with", "Value": "orders"}])["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=default_topic_policy(topic, acct))

    orders_root = f"arn:aws:iam::{orders}:root"
    out["publisher"] = role(
        iam,
        "orders-artifact-publisher",
        trust_account(orders_root),
        doc({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}),
    )
    out["notaction"] = role(
        iam,
        "billing-ledger-sync",
        trust_account(billing),
        doc({"Effect": "Allow", "NotAction": ["dynamodb:DeleteTable", "dynamodb:DeleteBackup", "iam:*"], "Resource": table}),
    )
    out["conditional"] = role(
        iam,
        "orders-ledger-tenant-writer",
        trust_account(orders_root),
        doc(
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": table,
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["orders"]}},
            }
        ),
    )
    out["scp_reader"] = role(
        iam, "reporting-ledger-reader", trust_account(orders_root), doc({"Effect": "Allow", "Action": "dynamodb:*", "Resource": table})
    )
    boundary = iam.create_policy(
        PolicyName="ledger-read-only-boundary",
        PolicyDocument=doc({"Effect": "Allow", "Action": DYNAMODB_READS, "Resource": "*"}),
    )["Policy"]["Arn"]
    out["boundary_reader"] = role(
        iam,
        "audit-ledger-reader",
        trust_account(orders_root),
        doc({"Effect": "Allow", "Action": "dynamodb:*", "Resource": table}),
        boundary=boundary,
    )
    # Near miss: the same write, but only Lambda can assume the role (an execution role).
    out["service_writer"] = role(
        iam,
        "artifact-indexer-exec",
        doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        doc({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}),
    )
    out.update(bucket=f"arn:aws:s3:::{bucket}", table=table, topic=topic)


def seed_orders(endpoint, creds, acct, billing_bus, out):
    iam = client(endpoint, "iam", creds)
    organization_access_role(iam)
    space = f"arn:aws:aidevops:us-east-1:{acct}:agentspace/as-0rders0ncall"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "aidevops.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": acct}, "ArnLike": {"aws:SourceArn": space}},
        }
    )
    out["agent_role"] = role(
        iam,
        "DevOpsAgentRole-orders",
        trust,
        doc(
            {"Effect": "Allow", "Action": ["cloudwatch:GetMetricData", "logs:DescribeLogGroups", "lambda:GetFunction"], "Resource": "*"},
            {"Effect": "Allow", "Action": "lambda:UpdateFunctionConfiguration", "Resource": f"arn:aws:lambda:{REGION}:{acct}:function:*"},
        ),
    )
    out["agent_space"] = space
    ev = client(endpoint, "events", creds)
    ev.create_event_bus(Name="orders")
    ev.put_rule(Name="order-billed", EventBusName="orders", EventPattern=json.dumps({"source": ["orders"], "detail-type": ["OrderPlaced"]}))
    ev.put_targets(Rule="order-billed", EventBusName="orders", Targets=[{"Id": "billing", "Arn": billing_bus}])


def seed_billing(endpoint, creds, acct, orders, out):
    iam = client(endpoint, "iam", creds)
    organization_access_role(iam)
    ev = client(endpoint, "events", creds)
    bus = ev.create_event_bus(Name="billing-events")["EventBusArn"]
    ev.put_permission(EventBusName="billing-events", Action="events:PutEvents", Principal=orders, StatementId="orders-puts")
    ev.put_rule(Name="invoice", EventBusName="billing-events", EventPattern=json.dumps({"source": ["orders"]}))
    # Near miss: an account-root trust with a write, but billing-prod is not a shared-dependency
    # account.
    out["unshared_writer"] = role(
        iam,
        "orders-billing-publisher",
        trust_account(f"arn:aws:iam::{orders}:root"),
        doc({"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}),
    )
    out["billing_bus"] = bus


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    a = ap.parse_args()
    org = client(a.endpoint, "organizations", region="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    ids = {}
    for name in ("platform-shared", "orders-prod", "billing-prod"):
        acct = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=workloads)
        ids[name] = acct
    shared, orders, billing = ids["platform-shared"], ids["orders-prod"], ids["billing-prod"]
    # Read-only reporting roles, as in AWS's SCP examples that condition on aws:PrincipalArn.
    # https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html
    scp = org.create_policy(
        Name="reporting-roles-read-only",
        Description="roles named reporting-* may only read DynamoDB",
        Type="SERVICE_CONTROL_POLICY",
        Content=doc(
            {
                "Effect": "Deny",
                "NotAction": DYNAMODB_READS,
                "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reporting-*"}},
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=shared)

    sts = client(a.endpoint, "sts")

    def creds(acct):
        return sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole", RoleSessionName="seed")["Credentials"]

    out = {"management": MANAGEMENT, "shared": shared, "orders": orders, "billing": billing, "region": REGION}
    seed_billing(a.endpoint, creds(billing), billing, orders, out)
    seed_shared(a.endpoint, creds(shared), shared, orders, billing, out)
    seed_orders(a.endpoint, creds(orders), orders, out["billing_bus"], out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
