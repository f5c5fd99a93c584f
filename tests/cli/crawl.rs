//! End-to-end crawl against moto in server mode: the test starts `moto_server` from
//! `$TOPOGUARD_VENV` on a free loopback port, seeds an organization with `scripts/moto_seed.py`,
//! crawls it with `topoguard crawl --endpoint-url`, and checks the snapshot, that it loads, and
//! that `topoguard check` runs on it. Also `crawl-policy`.

use crate::support::{Moto, external, root, topoguard};
use std::process::Command;

fn seed(venv: &std::path::Path, url: &str, accounts: usize) -> serde_json::Value {
    seed_with(venv, url, accounts, &[])
}

/// Seeds `accounts` member accounts in two regions with `scripts/moto_seed.py`, passing `extra`
/// options; returns its JSON summary.
fn seed_with(venv: &std::path::Path, url: &str, accounts: usize, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(venv.join("bin/python"))
        .arg(root().join("scripts/moto_seed.py"))
        .args([
            url,
            "--accounts",
            &accounts.to_string(),
            "--regions",
            "eu-west-1,eu-central-1",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn crawl(url: &str, output: &std::path::Path, extra: &[&str]) -> std::process::Output {
    topoguard()
        .args([
            "crawl",
            "--endpoint-url",
            url,
            "--region",
            "us-east-1",
            "--regions",
            "eu-west-1,eu-central-1",
        ])
        .arg("--output")
        .arg(output)
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap()
}

#[test]
fn crawl_of_a_moto_organization() {
    let Some(venv) = external("crawl_of_a_moto_organization", &["moto_server", "python"]) else {
        return;
    };
    let moto = Moto::start(&venv);
    let seeded = seed(&venv, &moto.url, 3);
    let members: Vec<String> = seeded["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    let out = crawl(&moto.url, &path, &["-v"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // moto has Agent Spaces but not their associations: the snapshot is written with gaps.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("aidevops:ListAssociations"), "{stderr}");
    assert!(
        stderr.contains("lambda:ListFunctions"),
        "-v traces every call: {stderr}"
    );
    assert!(!stderr.contains("hunter2"), "no secret in the log");

    let snapshot = topoguard::model::load_snapshot(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("hunter2"),
        "environment values and secret values never reach the snapshot"
    );
    assert!(!text.contains("token=abc"), "URL query strings are dropped");
    no_corpus_secret(&[&text, &stderr, &String::from_utf8_lossy(&out.stdout)]);

    let org = &snapshot.organization;
    assert_eq!(org.accounts.len(), 4);
    assert_eq!(org.management_account.as_deref(), Some("123456789012"));
    assert_eq!(org.units.len(), 3, "root and two units");
    let scp = org.policies.iter().find(|p| p.name == "deny-leave").unwrap();
    assert_eq!(scp.targets, vec![seeded["ous"][0].as_str().unwrap().to_string()]);
    for m in &members {
        let account = org.accounts.iter().find(|a| &a.id == m).unwrap();
        assert!(account.tags.contains_key("app"));
        assert!(account.parent.as_deref().unwrap().starts_with("ou-"));
        for region in ["eu-west-1", "eu-central-1"] {
            let bus = format!("arn:aws:events:{region}:{m}:event-bus/orders");
            let b = snapshot.event_buses.iter().find(|b| b.arn == bus).unwrap();
            assert!(b.policy.is_some(), "bus policy read");
            let rule = snapshot
                .rules
                .iter()
                .find(|r| r.bus == bus && r.name == "to-next-account")
                .expect("rules on custom buses are read");
            let target = &rule.targets[0].arn;
            assert!(target.starts_with(&format!("arn:aws:events:{region}:")) && !target.contains(m.as_str()));
            let f = snapshot
                .functions
                .iter()
                .find(|f| f.account == *m && f.region == region && f.name == "order-handler")
                .unwrap();
            assert_eq!(f.environment_keys, vec!["API_URL", "DB_PASSWORD", "QUEUE_ARN"]);
            // Only the scheme and host of a URL that names no AWS resource (issue 14: the path
            // can be a credential).
            assert!(
                f.environment_references
                    .contains(&"https://api.example.com".to_string())
            );
            assert!(!f.environment_references.iter().any(|r| r.contains("/v1/orders")));
            if region == "eu-west-1" {
                corpus_references_kept(&snapshot, m, region);
            }
            assert!(f.policy.is_some());
            assert!(snapshot.event_source_mappings.iter().any(|e| e.function == f.arn));
            let queue = format!("arn:aws:sqs:{region}:{m}:orders-in");
            let q = snapshot.resources.iter().find(|r| r.arn == queue).unwrap();
            assert_eq!(q.kind, topoguard::model::ResourceKind::SqsQueue);
            assert_eq!(q.tags["shared"], "true");
            let statement = &q.policy.as_ref().expect("queue policy read")["Statement"][0];
            assert_eq!(statement["Action"], "sqs:SendMessage");
            // An untagged queue is found through the rule that targets it; the target whose
            // queue does not exist adds neither a resource nor a gap.
            let audit = format!("arn:aws:sqs:{region}:{m}:audit-untagged");
            let a = snapshot
                .resources
                .iter()
                .find(|r| r.arn == audit)
                .expect("referenced untagged queue");
            assert!(a.tags.is_empty());
            assert_eq!(
                a.policy.as_ref().expect("its policy read")["Statement"][0]["Action"],
                "sqs:SendMessage"
            );
            assert!(!snapshot.resources.iter().any(|r| r.arn.ends_with(":deleted-queue")));
            // The other shared kinds: each policy read with the right API, granting the next
            // account what the seed granted it.
            let policy_action = |kind: topoguard::model::ResourceKind, prefix: &str| {
                let r = snapshot
                    .resources
                    .iter()
                    .find(|r| r.kind == kind && r.arn.starts_with(prefix))
                    .unwrap_or_else(|| panic!("no {kind:?} under {prefix}"));
                let p = r
                    .policy
                    .as_ref()
                    .unwrap_or_else(|| panic!("no policy read for {}", r.arn));
                p["Statement"][0]["Action"].as_str().unwrap().to_string()
            };
            use topoguard::model::ResourceKind as K;
            let table = format!("arn:aws:dynamodb:{region}:{m}:table/orders");
            assert_eq!(policy_action(K::DynamodbTable, &table), "dynamodb:GetItem");
            let topic = format!("arn:aws:sns:{region}:{m}:alerts");
            assert_eq!(policy_action(K::SnsTopic, &topic), "sns:Publish");
            let key = format!("arn:aws:kms:{region}:{m}:key/");
            assert_eq!(policy_action(K::KmsKey, &key), "kms:Decrypt");
            let secret = format!("arn:aws:secretsmanager:{region}:{m}:secret:db-");
            assert_eq!(
                policy_action(K::SecretsmanagerSecret, &secret),
                "secretsmanager:DescribeSecret"
            );
        }
        // The Agent Space, read through the DevOps Agent API at the custom endpoint.
        let space = snapshot
            .agent_spaces
            .iter()
            .find(|sp| sp.account == *m)
            .expect("the member's Agent Space");
        assert_eq!(space.region, "eu-west-1");
        assert!(space.name.ends_with("-oncall"), "{}", space.name);
        assert_eq!(
            space.arn,
            format!("arn:aws:aidevops:eu-west-1:{m}:agentspace/{}", space.id)
        );
        let bucket = format!("arn:aws:s3:::shared-{m}");
        let b = snapshot.resources.iter().find(|r| r.arn == bucket).unwrap();
        assert_eq!(b.kind, topoguard::model::ResourceKind::S3Bucket);
        assert_eq!(
            b.region.as_deref(),
            Some("eu-central-1"),
            "bucket region from GetBucketLocation"
        );
        assert_eq!(
            b.policy.as_ref().expect("bucket policy read")["Statement"][0]["Action"],
            "s3:GetObject"
        );
        let reader = snapshot
            .roles
            .iter()
            .find(|r| r.arn == format!("arn:aws:iam::{m}:role/cross-account-reader"))
            .unwrap();
        assert!(reader.trust_policy.is_object());
        assert_eq!(reader.inline_policies.len(), 1);
        let exec = snapshot
            .roles
            .iter()
            .find(|r| r.arn == format!("arn:aws:iam::{m}:role/fn-exec"))
            .unwrap();
        assert_eq!(
            exec.attached_policies,
            vec![format!("arn:aws:iam::{m}:policy/events-put")]
        );
    }
    // Only the associations and operator apps (which moto lacks) are missing, once per space, and EventBridge v2,
    // which moto does not serve: its bus listing fails once per account and region (a gap that
    // makes the EventBridge checks "not proven"), and nothing else of the v2 API is called.
    assert_eq!(snapshot.agent_spaces.len(), members.len());
    let (v2, other): (Vec<_>, Vec<_>) = snapshot
        .coverage
        .gaps
        .iter()
        .partition(|g| g.api == "eventsv2:ListEventBuses");
    // moto has neither the associations nor the operator app of a space: one gap of each per space.
    for api in ["aidevops:ListAssociations", "aidevops:GetOperatorApp"] {
        assert_eq!(
            other.iter().filter(|g| g.api == api).count(),
            members.len(),
            "{api}: {other:?}"
        );
    }
    assert_eq!(other.len(), members.len() * 2, "{other:?}");
    // Every member's bucket is placed in its account by `ListBuckets`.
    for m in &members {
        assert_eq!(
            snapshot.bucket_owners.get(&format!("shared-{m}")),
            Some(m),
            "{:?}",
            snapshot.bucket_owners
        );
    }
    assert_eq!(v2.len(), (members.len() + 1) * 2, "every account and region");
    assert!(
        !v2.iter().any(|g| g.error_code == "NotSupportedYet"),
        "read, not skipped: {v2:?}"
    );
    assert!(
        !snapshot.coverage.gaps.iter().any(|g| g.api.starts_with("ram:")),
        "no v2 bus, no RAM call"
    );
    assert!(snapshot.event_buses_v2.is_empty());

    // Determinism: a second crawl differs only in `crawled_at`.
    let again = dir.path().join("again.json");
    let out = crawl(&moto.url, &again, &["--concurrency", "1"]);
    assert_eq!(out.status.code(), Some(3));
    let strip = |p: &std::path::Path| {
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("crawled_at");
        serde_json::to_string_pretty(&v).unwrap()
    };
    assert_eq!(strip(&path), strip(&again));

    // Without the DevOps Agent API: the same snapshot but for the spaces, with a `Skipped` gap
    // for every account and region in place of what was not read.
    let skipped = dir.path().join("skipped.json");
    let out = crawl(&moto.url, &skipped, &["--skip-agent-spaces"]);
    assert_eq!(out.status.code(), Some(3), "a skipped read is a gap");
    let read = |p: &std::path::Path| -> serde_json::Value { serde_json::from_str(&strip(p)).unwrap() };
    let skip = read(&skipped);
    let gaps = skip["coverage"]["gaps"].as_array().unwrap();
    assert_eq!(
        gaps.len(),
        (members.len() + 1) * 2 * 2,
        "every account and region, twice"
    );
    assert!(
        gaps.iter()
            .all(|g| g["error_code"] == "Skipped" || g["api"] == "eventsv2:ListEventBuses"),
        "{gaps:?}"
    );
    assert_eq!(skip["agent_spaces"], serde_json::json!([]));
    let rest = |mut v: serde_json::Value| {
        let o = v.as_object_mut().unwrap();
        o.remove("coverage");
        o.remove("agent_spaces");
        v
    };
    assert_eq!(rest(read(&path)), rest(skip));

    // The checks run on the crawled snapshot.
    let checked = topoguard()
        .args(["check", "--fail-on", "none", "-t"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The secret-bearing shapes the seed put into each member's `env-corpus` function.
fn corpus() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(root().join("src/crawl/secret_corpus.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// No secret part of any corpus shape appears in any of `texts` (snapshot, stderr, stdout).
fn no_corpus_secret(texts: &[&str]) {
    for shape in corpus() {
        for secret in shape["secrets"].as_array().unwrap() {
            let secret = secret.as_str().unwrap();
            for (i, text) in texts.iter().enumerate() {
                assert!(
                    !text.contains(secret),
                    "{}: `{secret}` found in output #{i}",
                    shape["name"]
                );
            }
        }
    }
}

/// The `env-corpus` function keeps exactly what the corpus says may be kept.
fn corpus_references_kept(snapshot: &topoguard::model::Snapshot, account: &str, region: &str) {
    let f = snapshot
        .functions
        .iter()
        .find(|f| f.account == account && f.region == region && f.name == "env-corpus")
        .expect("the env-corpus function");
    let mut keeps: Vec<String> = corpus()
        .iter()
        .flat_map(|s| s["keeps"].as_array().unwrap().clone())
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    keeps.sort();
    keeps.dedup();
    assert_eq!(f.environment_references, keeps);
    assert_eq!(f.environment_keys.len(), corpus().len());
}

#[test]
fn crawl_policy_prints_the_read_only_policy() {
    let out = topoguard().arg("crawl-policy").output().unwrap();
    assert!(out.status.success());
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read = policy["Statement"][0]["Action"].as_array().unwrap();
    assert!(read.iter().any(|a| a == "iam:GetAccountAuthorizationDetails"));
    assert!(read.iter().all(|a| a != "sts:AssumeRole"));
    // The EventBridge v2 reads (IAM namespace `events:`) and the RAM reads of bus shares.
    for action in [
        "events:ListSubscribers",
        "events:DescribeSubscriber",
        "events:GetResourcePolicy",
        "ram:ListResources",
        "ram:ListPrincipals",
        // Bucket owners (`ListBuckets`) and the operator app's role of an Agent Space.
        "s3:ListAllMyBuckets",
        "aidevops:GetOperatorApp",
    ] {
        assert!(read.iter().any(|a| a == action), "{action}");
    }
    assert_eq!(read.iter().filter(|a| *a == "events:ListEventBuses").count(), 1);
    assert_eq!(
        policy["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/OrganizationAccountAccessRole"
    );
}

#[test]
fn crawl_rejects_bad_usage() {
    let out = topoguard()
        .args(["crawl", "--output", "x.json", "--accounts", "12345"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`12345` is not a twelve-digit account id"));
}

/// Runs `crawl` with `extra` and no AWS anywhere to reach: any argument problem must stop it
/// before a call is made.
fn crawl_usage(extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let out = topoguard()
        .args(["crawl", "--region", "us-east-1", "--output"])
        .arg(dir.path().join("snap.json"))
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(!dir.path().join("snap.json").exists(), "nothing written for {extra:?}");
    out
}

#[test]
fn crawl_bounds_concurrency_and_call_timeout() {
    // Out of range (incl. the values that used to panic: a semaphore larger than tokio allows,
    // a timeout that overflows the clock), negative, or not a number: exit 2 naming the flag.
    for (flag, value) in [
        ("--concurrency", "0"),
        ("--concurrency", "1025"),
        ("--concurrency", "2305843009213693952"),
        ("--concurrency", "18446744073709551615"),
        ("--concurrency", "18446744073709551616"),
        ("--concurrency", "-1"),
        ("--concurrency", "many"),
        ("--call-timeout", "0"),
        ("--call-timeout", "3601"),
        ("--call-timeout", "18446744073709551615"),
        ("--call-timeout", "-5"),
        ("--call-timeout", "1.5"),
        ("--rate-share", "9"),
        ("--rate-share", "101"),
        ("--rate-share", "0.9"),
    ] {
        let out = crawl_usage(&[&format!("{flag}={value}")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flag} {value}: {stderr}");
    }
}

#[test]
fn crawl_accepts_the_bounds_themselves() {
    // The edges of the ranges pass argument checking; the crawl then fails on the bad endpoint
    // scheme, which proves it got past the numbers (near miss of the test above).
    for (flag, value) in [
        ("--concurrency", "1"),
        ("--concurrency", "1024"),
        ("--call-timeout", "1"),
        ("--call-timeout", "3600"),
        ("--rate-share", "10"),
        ("--rate-share", "100"),
    ] {
        let out = crawl_usage(&[flag, value, "--endpoint-url", "ftp://127.0.0.1:1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains("--endpoint-url"), "{flag} {value}: {stderr}");
        assert!(!stderr.contains(flag), "{flag} {value} was accepted: {stderr}");
    }
}

#[test]
fn crawl_rejects_an_endpoint_that_is_not_an_http_url() {
    for value in [
        "not a url",
        "localhost:5000",
        "127.0.0.1",
        "ftp://127.0.0.1:5000",
        "http://",
        "https:///path",
        "http://:5000",
        "http://host:port",
        "http://user:pw@127.0.0.1:5000",
        "http://127.0.0.1:5000/\u{1b}[31m",
        "",
    ] {
        let out = crawl_usage(&["--endpoint-url", value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {stderr}");
        assert!(stderr.contains("--endpoint-url"), "{value:?}: {stderr}");
    }
}

/// Seeds with `--cross-account-refs` (and `--light`): resources of the second member referenced
/// only from the first (`seed_cross_account_references` in `scripts/moto_seed.py`).
fn seed_cross_account(venv: &std::path::Path, url: &str) -> serde_json::Value {
    seed_with(venv, url, 2, &["--light", "--cross-account-refs"])
}

#[test]
fn crawl_reads_resources_referenced_only_from_another_account_in_their_owner() {
    // Issue 9 part 3, "done when": a resource referenced only from another account ends with its
    // tags and policy in the snapshot and no gap for it. The queue lives in a region the crawl
    // does not list and only the other account's rule targets it; the topic and the bucket are
    // untagged and named only by the other account's IAM policy (the bucket's ARN names no
    // account: `ListBuckets` places it).
    let Some(venv) = external(
        "crawl_reads_resources_referenced_only_from_another_account_in_their_owner",
        &["moto_server", "python"],
    ) else {
        return;
    };
    let moto = Moto::start(&venv);
    let seeded = seed_cross_account(&venv, &moto.url);
    let x = &seeded["cross_account"];
    let (owner, queue, topic) = (
        x["owner"].as_str().unwrap(),
        x["queue"].as_str().unwrap(),
        x["topic"].as_str().unwrap(),
    );
    let bucket = x["bucket"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    let out = crawl(&moto.url, &path, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // moto does not serve EventBridge v2: that gap only.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let snapshot = topoguard::model::load_snapshot(&path).unwrap();
    let other: Vec<_> = snapshot
        .coverage
        .gaps
        .iter()
        .filter(|g| g.api != "eventsv2:ListEventBuses")
        .collect();
    assert!(other.is_empty(), "no gap for the references: {other:?}");
    let find = |arn: &str| {
        snapshot
            .resources
            .iter()
            .find(|r| r.arn == arn)
            .unwrap_or_else(|| panic!("`{arn}` is not in the snapshot"))
    };
    let q = find(queue);
    assert_eq!(q.account, owner);
    assert_eq!(q.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        q.tags["shared-with"], "app0",
        "tags read in the owner's account and region"
    );
    assert_eq!(
        q.policy.as_ref().expect("queue policy read")["Statement"][0]["Action"],
        "sqs:SendMessage"
    );
    let t = find(topic);
    assert_eq!(t.account, owner);
    assert!(t.tags.is_empty());
    assert_eq!(
        t.policy.as_ref().expect("topic policy read")["Statement"][0]["Action"],
        "sns:Publish"
    );
    assert_eq!(snapshot.bucket_owners.get(bucket).map(String::as_str), Some(owner));
    let b = find(&format!("arn:aws:s3:::{bucket}"));
    assert_eq!(b.account, owner);
    assert_eq!(b.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        b.policy.as_ref().expect("bucket policy read")["Statement"][0]["Action"],
        "s3:GetObject"
    );
}
