//! An organization nobody on the team designed, through the emulator: `scripts/moto_seed_realorg.py`
//! seeds moto (server mode, loopback) with shapes taken from AWS's defaults and documentation,
//! `topoguard crawl --endpoint-url` reads it, and `topoguard check --format json` with
//! `tests/corpus/realorg/topoguard.toml` must report each planted violation, the condition-only
//! write as `conditional`, and nothing for the controls. The expectations follow AWS's documented
//! behaviour (URLs beside each), not what topoguard answered when they were written.

use crate::crawl::crawl;
use crate::support::{Moto, external, root, topoguard};
use serde_json::Value;
use std::process::Command;

const TEST: &str = "realorg_check_reports_the_planted_shapes";

fn seed(venv: &std::path::Path, url: &str) -> Value {
    let out = Command::new(venv.join("bin/python"))
        .arg(root().join("scripts/moto_seed_realorg.py"))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The committed config with the emulator's account ids filled in, in `dir`.
fn config(dir: &std::path::Path, seeded: &Value) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(root().join("tests/corpus/realorg/topoguard.toml")).unwrap();
    for key in ["shared", "orders", "billing", "management"] {
        text = text.replace(&format!("{{{key}}}"), seeded[key].as_str().unwrap());
    }
    let path = dir.join("policies");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("topoguard.toml"), text).unwrap();
    path
}

/// Findings of `check` whose JSON mentions every one of `needles`.
fn mentioning<'f>(findings: &'f [Value], check: &str, needles: &[&str]) -> Vec<&'f Value> {
    findings
        .iter()
        .filter(|f| f["check"] == check)
        .filter(|f| {
            let text = f.to_string();
            needles.iter().all(|n| text.contains(n))
        })
        .collect()
}

#[test]
fn realorg_check_reports_the_planted_shapes() {
    let Some(venv) = external(TEST, &["moto_server", "python"]) else {
        return;
    };
    let moto = Moto::start(&venv);
    let s = seed(&venv, &moto.url);
    let arn = |k: &str| s[k].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("realorg.json");
    let out = crawl(&moto.url, &snapshot, &[]);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "crawl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policies = config(dir.path(), &s);
    let out = topoguard()
        .args(["check", "--format", "json", "--topology"])
        .arg(&snapshot)
        .arg("--policies")
        .arg(&policies)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap().clone();
    let shown = serde_json::to_string_pretty(&findings).unwrap();
    let mut failures: Vec<String> = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            failures.push(what.to_string());
        }
    };
    let write = "cross-account-write-to-shared";
    let status_is = |fs: &[&Value], status: &str| !fs.is_empty() && fs.iter().all(|f| f["status"] == status);

    // Account-root trust + s3:PutObject on the bucket's objects: a write to the shared bucket by
    // whatever orders-prod's administrators allow. A trust naming an account delegates to it:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    // s3:PutObject takes the object resource type, `arn:aws:s3:::bucket/key`:
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    let publisher = mentioning(&findings, write, &[&arn("publisher"), &arn("bucket")]);
    expect(
        status_is(&publisher, "violation"),
        "account-root trust + s3:PutObject on bucket/*: cross-account-write-to-shared violation on the bucket",
    );

    // An Allow with NotAction grants every action it does not list, writes included:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    // The trust names the account by bare id, which AWS treats as its root.
    let notaction = mentioning(&findings, write, &[&arn("notaction"), &arn("table")]);
    expect(
        status_is(&notaction, "violation"),
        "bare-account-id trust + NotAction write: cross-account-write-to-shared violation on the table",
    );

    // The only write is under dynamodb:LeadingKeys, a request-dependent key:
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    let conditional = mentioning(&findings, write, &[&arn("conditional"), &arn("table")]);
    expect(
        status_is(&conditional, "conditional"),
        "condition-only write: cross-account-write-to-shared with status conditional",
    );
    expect(
        conditional
            .iter()
            .all(|f| f["conditions"].to_string().contains("dynamodb:LeadingKeys")),
        "the conditional finding names dynamodb:LeadingKeys in `conditions`",
    );

    // Controls. An SCP Deny is an explicit deny for the roles it matches:
    // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    expect(
        mentioning(&findings, write, &[&arn("scp_reader")]).is_empty(),
        "role made read-only by an SCP: no cross-account-write-to-shared finding",
    );
    // A permission boundary caps identity-policy grants:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    expect(
        mentioning(&findings, write, &[&arn("boundary_reader")]).is_empty(),
        "role made read-only by a permission boundary: no cross-account-write-to-shared finding",
    );
    // The default topic policy's `AWS:SourceOwner` condition limits it to the owner account:
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    // (Roles in the shared account that other accounts assume act as the owner account; those
    // chains are real access and are not part of this control.)
    let direct_topic = findings
        .iter()
        .filter(|f| f["check"] == write && f["resource"] == arn("topic").as_str())
        .filter(|f| !f["evidence"].to_string().contains("can-assume"))
        .count();
    expect(
        direct_topic == 0,
        "default SNS topic policy: no cross-account-write-to-shared finding through the topic policy itself",
    );

    // Near misses: the same bucket write by a role only a service can assume, and an account
    // trust with a write into an account that is not a shared dependency.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
    expect(
        mentioning(&findings, write, &[&arn("service_writer")]).is_empty(),
        "write by a role only lambda.amazonaws.com can assume: no cross-account-write-to-shared finding",
    );
    expect(
        mentioning(&findings, write, &[&arn("unshared_writer")]).is_empty(),
        "account trust + write in a non-shared account: no cross-account-write-to-shared finding",
    );

    // A role aidevops.amazonaws.com can assume is incident access even when its space is not in
    // the snapshot; the finding names the aws:SourceArn the trust is pinned to:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    let agent = mentioning(
        &findings,
        "incident-access-not-read-only",
        &[&arn("agent_role"), &arn("agent_space")],
    );
    expect(
        status_is(&agent, "violation"),
        "Agent Space role of a space not in the snapshot, with a write: incident-access-not-read-only violation naming the space ARN",
    );

    // billing's bus, delivered to by orders' rule: used by an application other than its owner,
    // so it needs the consumer tag.
    let bus = findings
        .iter()
        .filter(|f| f["check"] == "shared-resource-untagged" && f["resource"] == arn("billing_bus").as_str())
        .count();
    expect(
        bus == 1,
        "bus used by another application: one shared-resource-untagged finding",
    );

    assert!(
        failures.is_empty(),
        "{} expectation(s) not met:\n- {}\nfindings:\n{shown}",
        failures.len(),
        failures.join("\n- ")
    );
}
