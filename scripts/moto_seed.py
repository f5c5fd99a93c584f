#!/usr/bin/env python3
"""Seed a moto server with an AWS Organization for the crawler's end-to-end test and benchmark.

Usage: moto_seed.py ENDPOINT [--accounts N] [--regions r1,r2] [--light] [--functions-in-one N]
                   [--cross-account-refs]

Creates, in the management account 123456789012: an organization, an OU tree, N member accounts
(tagged), a service control policy attached to an OU. In every member account (through
OrganizationAccountAccessRole) and region: a custom event bus with a policy, rules on the default
and the custom bus with a cross-account target, a Lambda function (environment with an ARN, a URL
and a secret-looking value; in the first region a second function whose environment holds
every shape of `src/crawl/secret_corpus.json`), a tagged SQS queue (with a queue policy) feeding it through an event-source
mapping, a tagged DynamoDB table, SNS topic, KMS key and Secrets Manager secret (each with a
resource policy granting the next account, the secret with a secret value), an untagged queue
with a policy and a queue that does not exist, both targets of a rule, a tagged S3 bucket
with a policy in the last region, and an IAM role trusting the next account. `--light` leaves out
the policies and the workloads beyond buses, rules and queues; without it each member account
also gets an AWS DevOps Agent Space in the first region. `--cross-account-refs` adds resources
referenced only from another account (see `seed_cross_account_references`). Prints a JSON summary
on stdout.
"""
import argparse
import io
import json
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

MANAGEMENT = "123456789012"
SECRET = "hunter2-s3cr3t-value"
# Secret-bearing environment values (webhooks, DSNs, basic auth, presigned URLs, JWTs, API keys),
# shared with the crawler's unit test; each shape lists the parts that must never be kept.
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "crawl", "secret_corpus.json")


def client(endpoint, service, region, creds=None):
    kw = dict(endpoint_url=endpoint, region_name=region)
    if creds:
        kw.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    else:
        kw.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    # The DevOps Agent API puts `cp.` before the endpoint's host; an emulator has no such name.
    kw["config"] = Config(inject_host_prefix=False)
    return boto3.client(service, **kw)


def grant(account, action, resource):
    """A resource policy allowing one action to another account."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": action, "Resource": resource}],
    }


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create_functions(endpoint, region, creds, role_arn, code, count, workers=8):
    """`count` functions `bulk-00000`… (a crowded account-region for the rate-limit benchmark),
    created by `workers` threads with a client each: one at a time, most of each call's time is
    the client's own (signing, parsing), so 3,000 functions take minutes; in parallel, about a
    quarter of that."""
    local = threading.local()
    # boto3's default session is not safe to create clients from in several threads at once.
    creating = threading.Lock()

    def create(n):
        if not hasattr(local, "lam"):
            with creating:
                local.lam = client(endpoint, "lambda", region, creds)
        local.lam.create_function(
            FunctionName=f"bulk-{n:05}",
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # list() re-raises the first failure.
        list(pool.map(create, range(count)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("--accounts", type=int, default=3)
    ap.add_argument(
        "--cross-account-refs", action="store_true", help="resources referenced only from another account"
    )
    ap.add_argument("--regions", default="eu-west-1,eu-central-1")
    ap.add_argument("--light", action="store_true", help="no Lambda or DynamoDB (faster seeding)")
    ap.add_argument(
        "--functions-in-one", type=int, default=0, help="this many more functions in the first member's first region"
    )
    a = ap.parse_args()
    regions = a.regions.split(",")
    home = regions[0]

    org = client(a.endpoint, "organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    prod = org.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    accounts = []
    for i in range(a.accounts):
        acct = org.create_account(
            Email=f"member{i}@example.com",
            AccountName=f"member-{i}",
            Tags=[{"Key": "app", "Value": f"app{i % 3}"}],
        )["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=prod if i % 2 else workloads)
        accounts.append(acct)
    scp = org.create_policy(
        Name="deny-leave",
        Description="deny leaving the organization",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=workloads)

    sts = client(a.endpoint, "sts", home)
    code = lambda_zip()
    summary = {"management": MANAGEMENT, "accounts": accounts, "regions": regions, "ous": [workloads, prod], "scp": scp}
    for i, acct in enumerate(accounts):
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
        )["Credentials"]
        nxt = accounts[(i + 1) % len(accounts)]
        iam = client(a.endpoint, "iam", home, creds)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{nxt}:root"}, "Action": "sts:AssumeRole"}],
        }
        iam.create_role(RoleName="cross-account-reader", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName="cross-account-reader",
            PolicyName="read-queues",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": "*"}]}
            ),
        )
        pol = iam.create_policy(
            PolicyName="events-put",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]}
            ),
        )["Policy"]["Arn"]
        lambda_trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
        role_arn = iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=json.dumps(lambda_trust))["Role"]["Arn"]
        iam.attach_role_policy(RoleName="fn-exec", PolicyArn=pol)
        if not a.light:
            # An Agent Space in the first region (moto has no associations API).
            client(a.endpoint, "devops-agent", regions[0], creds).create_agent_space(name=f"app{i % 3}-oncall")
            # One tagged bucket with a policy, in the last region (its ARN names no region).
            bucket = f"shared-{acct}"
            s3 = client(a.endpoint, "s3", regions[-1], creds)
            if regions[-1] == "us-east-1":
                s3.create_bucket(Bucket=bucket)
            else:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": regions[-1]})
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "shared", "Value": "true"}]})
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant(nxt, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
        for region in regions:
            ev = client(a.endpoint, "events", region, creds)
            bus = ev.create_event_bus(Name="orders")["EventBusArn"]
            ev.put_permission(EventBusName="orders", Action="events:PutEvents", Principal=nxt, StatementId="from-next")
            ev.put_rule(Name="to-next-account", EventBusName="orders", EventPattern=json.dumps({"source": ["orders"]}))
            ev.put_targets(
                Rule="to-next-account",
                EventBusName="orders",
                Targets=[{"Id": "next", "Arn": f"arn:aws:events:{region}:{nxt}:event-bus/orders"}],
            )
            ev.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
            sqs = client(a.endpoint, "sqs", region, creds)
            q = sqs.create_queue(QueueName="orders-in", tags={"app": f"app{i % 3}", "shared": "true"})["QueueUrl"]
            qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            ev.put_targets(Rule="nightly", Targets=[{"Id": "queue", "Arn": qarn}])
            if i == 0 and region == home and a.functions_in_one:
                create_functions(a.endpoint, region, creds, role_arn, code, a.functions_in_one)
            if a.light:
                continue
            sqs.set_queue_attributes(QueueUrl=q, Attributes={"Policy": json.dumps(grant(nxt, "sqs:SendMessage", qarn))})
            # An untagged queue the nightly rule targets (found through the reference), and a
            # target whose queue does not exist (no resource, no gap).
            audit = sqs.create_queue(QueueName="audit-untagged")["QueueUrl"]
            audit_arn = f"arn:aws:sqs:{region}:{acct}:audit-untagged"
            sqs.set_queue_attributes(
                QueueUrl=audit, Attributes={"Policy": json.dumps(grant(nxt, "sqs:SendMessage", audit_arn))}
            )
            ev.put_targets(
                Rule="nightly",
                Targets=[
                    {"Id": "audit", "Arn": audit_arn},
                    {"Id": "gone", "Arn": f"arn:aws:sqs:{region}:{acct}:deleted-queue"},
                ],
            )
            ddb = client(a.endpoint, "dynamodb", region, creds)
            ddb.create_table(
                TableName="orders",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "app", "Value": f"app{i % 3}"}],
            )
            ddb.put_resource_policy(
                ResourceArn=f"arn:aws:dynamodb:{region}:{acct}:table/orders",
                Policy=json.dumps(grant(nxt, "dynamodb:GetItem", f"arn:aws:dynamodb:{region}:{acct}:table/orders")),
            )
            # The other shared kinds whose resource policies the crawler reads.
            sns = client(a.endpoint, "sns", region, creds)
            topic = sns.create_topic(Name="alerts", Tags=[{"Key": "shared", "Value": "true"}])["TopicArn"]
            sns.set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(grant(nxt, "sns:Publish", topic))
            )
            kms = client(a.endpoint, "kms", region, creds)
            kms.create_key(
                Description="shared key",
                Policy=json.dumps(grant(nxt, "kms:Decrypt", "*")),
                Tags=[{"TagKey": "shared", "TagValue": "true"}],
            )
            sm = client(a.endpoint, "secretsmanager", region, creds)
            secret = sm.create_secret(Name="db", SecretString=SECRET, Tags=[{"Key": "shared", "Value": "true"}])["ARN"]
            sm.put_resource_policy(SecretId=secret, ResourcePolicy=json.dumps(grant(nxt, "secretsmanager:DescribeSecret", "*")))
            lam = client(a.endpoint, "lambda", region, creds)
            fn = lam.create_function(
                FunctionName="order-handler",
                Runtime="python3.12",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": code},
                Environment={
                    "Variables": {
                        "QUEUE_ARN": qarn,
                        "API_URL": "https://api.example.com/v1/orders?token=abc",
                        "DB_PASSWORD": SECRET,
                    }
                },
                Tags={"app": f"app{i % 3}"},
            )["FunctionArn"]
            lam.add_permission(
                FunctionName="order-handler",
                StatementId="events",
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=f"arn:aws:events:{region}:{acct}:rule/orders/to-next-account",
            )
            lam.create_event_source_mapping(EventSourceArn=qarn, FunctionName="order-handler")
            if region == home:
                with open(CORPUS) as f:
                    shapes = json.load(f)
                lam.create_function(
                    FunctionName="env-corpus",
                    Runtime="python3.12",
                    Role=role_arn,
                    Handler="index.handler",
                    Code={"ZipFile": code},
                    Environment={"Variables": {f"V{n:02}": s["value"] for n, s in enumerate(shapes)}},
                )
    if a.cross_account_refs:
        summary["cross_account"] = seed_cross_account_references(a.endpoint, accounts, regions)
    print(json.dumps(summary))


# A region no crawl of the seeded organization lists.
UNLISTED_REGION = "us-west-2"


def seed_cross_account_references(endpoint, accounts, regions):
    """Resources of the second member account referenced only from the first one, never by their
    owner (issue 9 part 3): a tagged queue with a policy in a region the crawl does not list,
    targeted by a rule of the first account; an untagged topic with a policy and an untagged bucket
    with a policy in the first crawled region, named only in an IAM policy of the first account.
    Returns their ARNs."""
    referrer, owner = accounts[0], accounts[1]
    home = regions[0]
    sts = client(endpoint, "sts", home)

    def creds(acct):
        role = f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole"
        return sts.assume_role(RoleArn=role, RoleSessionName="seed-xref")["Credentials"]

    mine, theirs = creds(owner), creds(referrer)
    sqs = client(endpoint, "sqs", UNLISTED_REGION, mine)
    url = sqs.create_queue(QueueName="xref-replica", tags={"shared-with": "app0"})["QueueUrl"]
    queue = f"arn:aws:sqs:{UNLISTED_REGION}:{owner}:xref-replica"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(grant(referrer, "sqs:SendMessage", queue))})
    sns = client(endpoint, "sns", home, mine)
    topic = sns.create_topic(Name="xref-alerts")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(grant(referrer, "sns:Publish", topic)))
    bucket = f"xref-exports-{owner}"
    s3 = client(endpoint, "s3", home, mine)
    if home == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": home})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant(referrer, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")))

    ev = client(endpoint, "events", home, theirs)
    ev.put_rule(Name="xref-replica", EventPattern=json.dumps({"source": ["orders"]}))
    ev.put_targets(Rule="xref-replica", Targets=[{"Id": "replica", "Arn": queue}])
    iam = client(endpoint, "iam", home, theirs)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="xref-publisher", AssumeRolePolicyDocument=json.dumps(trust))
    statements = [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]
    iam.put_role_policy(
        RoleName="xref-publisher",
        PolicyName="xref",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return {"referrer": referrer, "owner": owner, "queue": queue, "topic": topic, "bucket": bucket}


if __name__ == "__main__":
    main()
