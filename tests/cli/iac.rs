//! The IaC overlay end to end: the three example changes give exactly their new / resolved
//! findings with template locations in every format; `diff` of two snapshots; unknown values,
//! deletes and changes that touch nothing modelled; every bad-input class exits 2 naming file and
//! place and writes nothing; the vendored real-world corpus reads without a crash.

use crate::support::{root, topoguard};
use serde_json::Value;

const EXAMPLE: &str = "topology/examples/global-org.json";
const CFN: &str = "examples/iac/profile-writer.template.yaml";
const CDK: &str = "examples/iac/cdk/InvoiceArchiveStack.template.json";
const PLAN: &str = "examples/iac/fix-apac-residency.tfplan.json";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = topoguard().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn diff_json(extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["diff", "--before", EXAMPLE, "--format", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    assert!(stderr.is_empty(), "{stderr}");
    (code, serde_json::from_str(&stdout).unwrap())
}

/// (check, resource, template location) of each finding in a list.
fn listed(doc: &Value, list: &str) -> Vec<(String, String, Option<String>)> {
    doc[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["relation"] == "template")
                .map(|e| e["detail"].as_str().unwrap().to_string());
            (
                f["check"].as_str().unwrap().into(),
                f["resource"].as_str().unwrap().into(),
                at,
            )
        })
        .collect()
}

fn s(a: &str, b: &str, c: Option<&str>) -> (String, String, Option<String>) {
    (a.into(), b.into(), c.map(str::to_string))
}

#[test]
fn iac_cloudformation_example_adds_a_cross_account_write() {
    let (code, doc) = diff_json(&["--cfn", CFN, "--account", "222222222222", "--region", "eu-west-1"]);
    assert_eq!(code, 1);
    assert_eq!(
        listed(&doc, "new"),
        [s(
            "cross-account-write-to-shared",
            "arn:aws:dynamodb:eu-west-1:222222222222:table/customer-profiles",
            Some("examples/iac/profile-writer.template.yaml:11:3 (ProfileWriterRole)")
        )]
    );
    assert!(listed(&doc, "resolved").is_empty());
    assert_eq!(doc["not_considered"][0]["resource_type"], "AWS::Logs::LogGroup");
    assert_eq!(
        doc["topology"]["added_nodes"][0]["id"],
        "arn:aws:iam::222222222222:role/checkout-profile-writer"
    );
}

#[test]
fn iac_cdk_example_adds_a_cross_zone_rule() {
    let (code, doc) = diff_json(&["--cfn", CDK, "--account", "311111111111", "--region", "eu-west-1"]);
    assert_eq!(code, 1);
    assert_eq!(
        listed(&doc, "new"),
        [s(
            "residency-cross-zone-flow",
            "arn:aws:events:eu-west-1:311111111111:rule/invoice/invoice-archive-to-us",
            Some("examples/iac/cdk/InvoiceArchiveStack.template.json:42:5 (ArchiveRule9E8F7A6B)")
        )]
    );
    let hop = doc["topology"]["added_edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["relation"] == "targets")
        .unwrap();
    assert_eq!(
        (hop["cross_account"].as_bool(), hop["cross_zone"].as_bool()),
        (Some(true), Some(true))
    );
    // CDK's metadata resource is listed, the SSM-typed bootstrap parameter has its default.
    assert_eq!(doc["not_considered"][0]["resource_type"], "AWS::CDK::Metadata");
}

#[test]
fn iac_terraform_example_fixes_planted_findings() {
    let (code, doc) = diff_json(&["--terraform-plan", PLAN]);
    assert_eq!(code, 0);
    assert!(listed(&doc, "new").is_empty());
    assert_eq!(
        listed(&doc, "resolved"),
        [
            s(
                "residency-cross-zone-flow",
                "arn:aws:events:ap-southeast-1:323333333333:rule/checkout/order-placed-notify",
                None
            ),
            s(
                "shared-resource-untagged",
                "arn:aws:dynamodb:ap-southeast-1:222222222222:table/customer-profiles",
                None
            ),
        ]
    );
    let removed = &doc["topology"]["removed_edges"][0];
    assert_eq!(
        removed["to"],
        "arn:aws:events:us-east-1:222222222222:event-bus/customer-notifications"
    );
    assert_eq!(removed["cross_zone"], true);
    assert_eq!(
        doc["not_considered"][0]["location"]["resource"],
        "module.checkout_apac.aws_cloudwatch_log_group.notify_failures"
    );
}

#[test]
fn iac_check_locates_findings_in_every_format() {
    let base = [
        "check",
        "--topology",
        EXAMPLE,
        "--cfn",
        CFN,
        "--account",
        "222222222222",
        "--region",
        "eu-west-1",
    ];
    for format in ["human", "json", "markdown", "junit", "sarif"] {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 1, "{format}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
        let wanted = if format == "sarif" {
            "examples/iac/profile-writer.template.yaml"
        } else {
            "profile-writer.template.yaml:11:3 (ProfileWriterRole)"
        };
        assert!(stdout.contains(wanted), "{format}: {stdout}");
    }
    let (_, sarif, _) = run(&[&base[..], &["--format", "sarif"]].concat());
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let located: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"])
        .filter(|p| p["artifactLocation"]["uri"] == "examples/iac/profile-writer.template.yaml")
        .collect();
    assert_eq!(located.len(), 1);
    assert_eq!(
        (
            located[0]["region"]["startLine"].as_i64(),
            located[0]["region"]["startColumn"].as_i64()
        ),
        (Some(11), Some(3))
    );
}

/// `check` puts the resources it did not consider into the report itself, in every format, at
/// their template line; without them (no IaC, or everything modelled) no format mentions it.
#[test]
fn iac_check_reports_not_considered_in_every_format() {
    let with = ["--cfn", CFN, "--account", "222222222222", "--region", "eu-west-1"];
    let check = |extra: &[&str], format: &str| {
        let mut args = vec!["check", "--topology", EXAMPLE, "--format", format];
        args.extend_from_slice(extra);
        run(&args).1
    };
    // fires: the log group of the example template, at 35:3, in every format.
    let json: Value = serde_json::from_str(&check(&with, "json")).unwrap();
    assert_eq!(
        json["coverage"]["not_considered"],
        serde_json::json!([{"file": CFN, "line": 35, "column": 3, "resource": "ProfileWriterLogs",
            "type": "AWS::Logs::LogGroup", "reason": "topoguard does not model this resource type"}])
    );
    let sarif: Value = serde_json::from_str(&check(&with, "sarif")).unwrap();
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let note = notes
        .iter()
        .find(|n| n["descriptor"]["id"] == "not-considered")
        .unwrap();
    let physical = &note["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], CFN);
    assert_eq!(
        (
            physical["region"]["startLine"].as_i64(),
            physical["region"]["startColumn"].as_i64()
        ),
        (Some(35), Some(3))
    );
    assert_eq!(
        note["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "ProfileWriterLogs"
    );
    let line = "profile-writer.template.yaml:35:3 (ProfileWriterLogs): AWS::Logs::LogGroup not considered";
    assert!(check(&with, "human").contains(line));
    assert!(check(&with, "junit").contains(line));
    let markdown = check(&with, "markdown");
    assert!(markdown.contains("### Not considered"), "{markdown}");
    assert!(
        markdown.contains("profile-writer.template.yaml:35:3 `ProfileWriterLogs` (`AWS::Logs::LogGroup`)"),
        "{markdown}"
    );
    // quiet: no IaC change, nothing to list.
    let json: Value = serde_json::from_str(&check(&[], "json")).unwrap();
    assert!(json["coverage"].get("not_considered").is_none());
    assert!(!check(&[], "markdown").contains("Not considered"));
    // near miss: an IaC change whose every resource is modelled lists nothing either.
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("queue.yaml");
    std::fs::write(
        &queue,
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: q}\n",
    )
    .unwrap();
    let only = [
        "--cfn",
        queue.to_str().unwrap(),
        "--account",
        "222222222222",
        "--region",
        "eu-west-1",
    ];
    let json: Value = serde_json::from_str(&check(&only, "json")).unwrap();
    assert!(json["coverage"].get("not_considered").is_none(), "{json}");
    for format in ["human", "markdown", "junit", "sarif"] {
        assert!(!check(&only, format).contains("not considered"), "{format}");
    }
}

/// `diff` lists them too, SARIF included.
#[test]
fn iac_diff_reports_not_considered_in_every_format() {
    let base = [
        "diff",
        "--before",
        EXAMPLE,
        "--cfn",
        CFN,
        "--account",
        "222222222222",
        "--region",
        "eu-west-1",
        "--format",
    ];
    for (format, wanted) in [
        ("human", "ProfileWriterLogs"),
        ("markdown", "ProfileWriterLogs"),
        ("json", "\"not_considered\""),
        ("sarif", "\"not-considered\""),
    ] {
        let (_, stdout, _) = run(&[&base[..], &[format]].concat());
        assert!(stdout.contains(wanted), "{format}: {stdout}");
    }
}

#[test]
fn iac_diff_sarif_holds_new_findings_only_and_output_is_deterministic() {
    let args = [
        "diff",
        "--before",
        EXAMPLE,
        "--cfn",
        CDK,
        "--account",
        "311111111111",
        "--region",
        "eu-west-1",
        "--format",
        "sarif",
    ];
    let (code, first, _) = run(&args);
    let (_, second, _) = run(&args);
    assert_eq!(code, 1);
    assert_eq!(first, second);
    let sarif: Value = serde_json::from_str(&first).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "residency-cross-zone-flow");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        42
    );
}

#[test]
fn iac_diff_of_two_snapshots_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut snap: Value = serde_json::from_str(&std::fs::read_to_string(root().join(EXAMPLE)).unwrap()).unwrap();
    // The APAC customer-profiles table gets its `shared-with` tag.
    for r in snap["resources"].as_array_mut().unwrap() {
        if r["arn"] == "arn:aws:dynamodb:ap-southeast-1:222222222222:table/customer-profiles" {
            r["tags"]["shared-with"] = "invoice+checkout".into();
        }
    }
    let after = dir.path().join("after.json");
    std::fs::write(&after, serde_json::to_string(&snap).unwrap()).unwrap();
    let after = after.to_str().unwrap();
    let (code, doc) = diff_json(&["--after", after]);
    assert_eq!(code, 0);
    assert_eq!(
        listed(&doc, "resolved"),
        [s(
            "shared-resource-untagged",
            "arn:aws:dynamodb:ap-southeast-1:222222222222:table/customer-profiles",
            None
        )]
    );
    assert_eq!(
        doc["topology"]["changed_nodes"][0]["id"],
        "arn:aws:dynamodb:ap-southeast-1:222222222222:table/customer-profiles"
    );
    for (format, wanted) in [
        ("human", "0 new, 1 resolved"),
        ("markdown", "### Resolved findings"),
        ("sarif", "\"results\": []"),
    ] {
        let (code, stdout, _) = run(&["diff", "--before", EXAMPLE, "--after", after, "--format", format]);
        assert_eq!(code, 0);
        assert!(stdout.contains(wanted), "{format}: {stdout}");
    }
}

#[test]
fn iac_deletes_and_unknown_values() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("delete.json");
    std::fs::write(&plan, r#"{"format_version":"1.1","resource_changes":[{"address":"aws_iam_role.maintenance","mode":"managed","type":"aws_iam_role","name":"maintenance","change":{"actions":["delete"],"before":{"name":"shared-ops-maintenance","arn":"arn:aws:iam::222222222222:role/shared-ops-maintenance"},"after":null,"after_unknown":{}}}]}"#).unwrap();
    let (code, doc) = diff_json(&["--terraform-plan", plan.to_str().unwrap()]);
    assert_eq!(code, 0);
    let resolved = listed(&doc, "resolved");
    // The role is reached by checkout's migration runner, by checkout-eu's legacy IAM user and
    // by invoice-us's administrators (plants 10, 17 and 11): deleting it resolves all three.
    assert_eq!(resolved.len(), 3, "{resolved:?}");
    assert!(
        resolved
            .iter()
            .all(|(c, r, _)| c == "cross-account-write-to-shared" && r.ends_with("table/customer-profiles"))
    );
    assert_eq!(
        doc["topology"]["removed_nodes"][0]["id"],
        "arn:aws:iam::222222222222:role/shared-ops-maintenance"
    );

    // A role without a name: its name is known only at deployment, so the IAM checks of that
    // account are not proven, naming the template location.
    let template = dir.path().join("generated.yaml");
    std::fs::write(&template, "Resources:\n  Worker:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n").unwrap();
    let (code, doc) = diff_json(&[
        "--cfn",
        template.to_str().unwrap(),
        "--account",
        "222222222222",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(code, 1);
    let new = doc["new"].as_array().unwrap();
    assert!(
        !new.is_empty() && new.iter().all(|f| f["status"] == "not-proven"),
        "{new:?}"
    );
    assert!(new.iter().any(|f| f["check"] == "cross-account-write-to-shared"
        && f["message"].as_str().unwrap().contains("generated.yaml:2:3 (Worker)")));
    // The wording says what the gap is: a value known only after apply, not a crawl failure.
    for f in new {
        let message = f["message"].as_str().unwrap();
        assert!(message.contains("a value known only after apply at "), "{message}");
        assert!(!message.contains("crawl could not read"), "{message}");
    }
    assert_eq!(doc["unknown"][0]["field"], "Properties.RoleName (generated name)");
}

#[test]
fn iac_change_touching_nothing_modelled_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("vpc.json");
    std::fs::write(
        &template,
        r#"{"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}"#,
    )
    .unwrap();
    let (code, doc) = diff_json(&[
        "--cfn",
        template.to_str().unwrap(),
        "--account",
        "311111111111",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(code, 0);
    assert!(doc["new"].as_array().unwrap().is_empty() && doc["resolved"].as_array().unwrap().is_empty());
    assert_eq!(doc["topology"]["added_nodes"], Value::Array(vec![]));
    assert_eq!(doc["not_considered"][0]["location"]["resource"], "Vpc");
}

#[test]
fn iac_bad_input_exits_2_naming_file_and_place_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let not_cfn = write("not-cfn.yaml", "name: build\non: push\n");
    let bad_ref = write(
        "bad-ref.yaml",
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Missing\n",
    );
    let foreign = write(
        "foreign.json",
        r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}}}"#,
    );
    let plan_v2 = write("plan-v2.json", r#"{"format_version": "2.0", "resource_changes": []}"#);
    let bad_yaml = write("bad.yaml", "Resources: [1, 2\n");
    let bad_bus = write(
        "bad-bus.yaml",
        "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties:\n      Name: r\n      EventBusName: nope\n",
    );
    let sam = write(
        "sam.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n",
    );
    let for_each = write(
        "each.yaml",
        "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Q:\n    - N\n    - [a]\n    - Q${N}: {Type: AWS::SQS::Queue}\n",
    );
    let mut cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--cfn", &sam, "--account", "311111111111", "--region", "eu-west-1"],
            format!(
                "{sam}:1:1: not supported yet: the template declares the `AWS::Serverless-2016-10-31` transform; run `sam build`"
            ),
        ),
        (
            vec!["--cfn", &for_each, "--account", "311111111111", "--region", "eu-west-1"],
            format!("{for_each}:1:1: not supported yet: the template declares the `AWS::LanguageExtensions` transform"),
        ),
        (
            vec!["--cfn", &bad_bus, "--account", "311111111111", "--region", "eu-west-1"],
            format!("{bad_bus}:2:3: resource `R`: does not fit the snapshot: `bus`: relation to unknown event bus"),
        ),
        (
            vec!["--cfn", &not_cfn, "--account", "311111111111", "--region", "eu-west-1"],
            format!("{not_cfn}:1:1: not a CloudFormation template"),
        ),
        (
            vec!["--cfn", &bad_ref, "--account", "311111111111", "--region", "eu-west-1"],
            format!("{bad_ref}:2:3: resource `Q`: QueueName: `Ref` to `Missing`"),
        ),
        (
            vec!["--cfn", &foreign, "--account", "999999999999", "--region", "eu-west-1"],
            format!("{foreign}:1:16: resource `Q`: deploys into account `999999999999`, which is not in the snapshot"),
        ),
        (
            vec!["--terraform-plan", &plan_v2],
            format!("{plan_v2}:1:1: plan `format_version` `2.0` is not supported"),
        ),
        (
            vec!["--cfn", &bad_yaml, "--account", "311111111111", "--region", "eu-west-1"],
            format!("{bad_yaml}:2:1: not valid YAML"),
        ),
        (
            vec!["--cfn", &foreign, "--region", "eu-west-1"],
            format!("{foreign}:1:1: a CloudFormation template does not say its account"),
        ),
        (
            vec!["--cfn", &foreign, "--account", "12", "--region", "eu-west-1"],
            "`--account 12`: not a twelve-digit account id".to_string(),
        ),
    ];
    cases.push((
        vec!["--parameter", "A=b"],
        "`--account`, `--region` and `--parameter` need `--cfn` or `--terraform-plan`".to_string(),
    ));
    for (command, in_sarif) in [("check", false), ("diff", true)] {
        for (extra, wanted) in &cases {
            let out = dir.path().join("out.sarif");
            let mut args = vec![
                command,
                if command == "check" { "--topology" } else { "--before" },
                EXAMPLE,
                "--output",
                out.to_str().unwrap(),
            ];
            args.extend(extra);
            let (code, stdout, stderr) = run(&args);
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert!(
                stderr.starts_with(&format!("error: {wanted}")),
                "{args:?}\nwanted: {wanted}\ngot: {stderr}"
            );
            assert!(stdout.is_empty() && !out.exists(), "{args:?} (sarif: {in_sarif})");
        }
    }
}

/// Reads one vendored template, giving a value to each parameter the template leaves without a
/// default (as a user would with `--parameter`), and lays it over the example organization.
fn corpus_template(
    text: &str,
    file: &str,
    snapshot: &topoguard::model::Snapshot,
) -> Result<(usize, usize, Vec<String>), String> {
    use topoguard::iac::{Target, apply, cfn};
    let mut target = Target {
        accounts: vec!["311111111111".into()],
        region: Some("eu-west-1".into()),
        parameters: vec![],
    };
    loop {
        match cfn::read_text(text, file, &target) {
            Ok(overlay) => {
                let applied = apply(snapshot, &overlay).map_err(|e| e.to_string())?;
                let notes = topoguard::iac::not_considered_lines(&applied.not_considered);
                return Ok((overlay.changes.len(), overlay.unknowns.len(), notes));
            }
            Err(e) => match e
                .message
                .split("pass `--parameter ")
                .nth(1)
                .and_then(|r| r.split_once("=VALUE`"))
            {
                Some((name, _)) if target.parameters.len() < 50 => {
                    target.parameters.push((name.to_string(), "corpus-value".to_string()))
                }
                _ => return Err(e.to_string()),
            },
        }
    }
}

fn corpus_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn iac_corpus_cloudformation_templates_read_without_crash() {
    let snapshot = topoguard::model::load_snapshot(&root().join(EXAMPLE)).unwrap();
    let files = corpus_files("tests/corpus/iac/cloudformation");
    assert!(files.len() >= 12, "{files:?}");
    let (mut modelled, mut failed) = (0, Vec::new());
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        match corpus_template(&text, &name, &snapshot) {
            Ok((changes, unknowns, notes)) => {
                modelled += changes;
                eprintln!("{name}: {changes} changes, {unknowns} unknown values");
                for n in notes {
                    eprintln!("  not considered: {n}");
                }
            }
            Err(e) => failed.push(e),
        }
    }
    eprintln!(
        "{} templates, {modelled} modelled changes, errors: {failed:#?}",
        files.len()
    );
    // A clear, located error is allowed (not a crash); each one names its file and place.
    assert!(
        failed.iter().all(|e| e.contains(".yaml:") || e.contains(".json:")),
        "{failed:#?}"
    );
    assert!(failed.len() * 4 < files.len(), "too many templates fail: {failed:#?}");
    assert!(modelled > 0);
}

#[test]
fn iac_corpus_terraform_plans_read_without_crash() {
    use topoguard::iac::{Target, terraform};
    let files = corpus_files("tests/corpus/iac/terraform");
    assert!(files.len() >= 12, "{files:?}");
    let target = Target {
        accounts: vec!["311111111111".into()],
        region: Some("eu-west-1".into()),
        parameters: vec![],
    };
    let (mut modelled, mut failed) = (0, Vec::new());
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else {
            failed.push(format!("{name}: not UTF-8"));
            continue;
        };
        match terraform::read_text(&text, &name, &target) {
            Ok(overlay) => {
                modelled += overlay.changes.len();
                eprintln!(
                    "{name}: {} changes, {} unknown values",
                    overlay.changes.len(),
                    overlay.unknowns.len()
                );
                for n in topoguard::iac::not_considered_lines(&overlay.not_considered) {
                    eprintln!("  not considered: {n}");
                }
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    eprintln!(
        "{} plans, {modelled} modelled changes, errors: {failed:#?}",
        files.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(modelled > 0);
}

#[test]
fn iac_hostile_addresses_are_escaped_and_inputs_are_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let text = serde_json::json!({"format_version": "1.2", "resource_changes": [{
        "address": "aws_instance.web[\"\u{1b}[31mred\u{7}\"]", "mode": "managed", "type": "aws_instance", "name": "web",
        "change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": {}}}]});
    std::fs::write(&plan, text.to_string()).unwrap();
    let plan = plan.to_str().unwrap();
    let args = [
        "diff",
        "--before",
        EXAMPLE,
        "--terraform-plan",
        plan,
        "--account",
        "311111111111",
        "--region",
        "eu-west-1",
    ];
    for format in ["human", "markdown"] {
        let (code, stdout, stderr) = run(&[&args[..], &["--format", format]].concat());
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("31mred") && !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
            "{format}: {stdout:?}"
        );
    }
    let (code, _, stderr) = run(&[
        "check",
        "--topology",
        EXAMPLE,
        "--terraform-plan",
        plan,
        "--output",
        plan,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(serde_json::from_str::<Value>(&std::fs::read_to_string(plan).unwrap()).is_ok());
}

/// A CloudFormation template giving a new user in checkout-eu, through a new group, the group
/// policy `policy_resource` allows `sts:AssumeRole` on. The user lands in `member_of`.
fn users_template(dir: &std::path::Path, policy_resource: &str, member_of: &str) -> String {
    let text = format!(
        "Resources:
  ReleaseGroup:
    Type: AWS::IAM::Group
    Properties: {{GroupName: checkout-release}}
  OtherGroup:
    Type: AWS::IAM::Group
    Properties: {{GroupName: checkout-other}}
  ReleaseBot:
    Type: AWS::IAM::User
    Properties: {{UserName: checkout-release-bot}}
  Membership:
    Type: AWS::IAM::UserToGroupAddition
    Properties: {{GroupName: !Ref {member_of}, Users: [!Ref ReleaseBot]}}
  AssumeMaintenance:
    Type: AWS::IAM::GroupPolicy
    Properties:
      GroupName: !Ref ReleaseGroup
      PolicyName: assume-maintenance
      PolicyDocument: {{Version: '2012-10-17', Statement: [{{Effect: Allow, Action: sts:AssumeRole, Resource: '{policy_resource}'}}]}}
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties: {{Roles: [x]}}
"
    );
    let path = dir.join("users.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const MAINTENANCE: &str = "arn:aws:iam::222222222222:role/shared-ops-maintenance";

fn users_diff(template: &str) -> (i32, Value) {
    diff_json(&["--cfn", template, "--account", "321111111111", "--region", "eu-west-1"])
}

/// IAM users and groups: <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-usertogroupaddition.html>,
/// `AWS::IAM::GroupPolicy`, `AWS::IAM::User`, `AWS::IAM::Group`. A group's policies apply to its
/// members (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html>).
#[test]
fn iac_fires_new_user_reaching_shared_through_a_group_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc) = users_diff(&users_template(dir.path(), MAINTENANCE, "ReleaseGroup"));
    assert_eq!(code, 1);
    let new = doc["new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["check"], "cross-account-write-to-shared");
    assert!(
        new[0]["message"]
            .as_str()
            .unwrap()
            .contains("user/checkout-release-bot")
    );
    // Located at the user's definition; the membership that puts it in the group follows as a
    // further template step.
    assert!(
        listed(&doc, "new")[0]
            .2
            .as_deref()
            .unwrap()
            .ends_with("users.yaml:8:3 (ReleaseBot)"),
        "{:?}",
        listed(&doc, "new")
    );
    let steps: Vec<&str> = new[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["relation"] == "template")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(
        steps
            .iter()
            .any(|d| d.ends_with("users.yaml:11:3 (Membership) (also changes it)")),
        "{steps:?}"
    );
    // The instance profile is listed with why, not dropped.
    assert_eq!(doc["not_considered"][0]["resource_type"], "AWS::IAM::InstanceProfile");
    assert!(
        doc["not_considered"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("instance-profile")
    );
}

/// SARIF annotates the line that defines the user (the `AWS::IAM::User`), not the last change
/// that touched it (the membership).
#[test]
fn iac_user_finding_is_annotated_at_the_user_definition_in_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let template = users_template(dir.path(), MAINTENANCE, "ReleaseGroup");
    let (_, stdout, stderr) = run(&[
        "check",
        "--topology",
        EXAMPLE,
        "--cfn",
        &template,
        "--account",
        "321111111111",
        "--region",
        "eu-west-1",
        "--format",
        "sarif",
    ]);
    assert!(stderr.is_empty(), "{stderr}");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("user/checkout-release-bot")
        })
        .unwrap();
    let at = &result["locations"][0]["physicalLocation"];
    assert!(
        at["artifactLocation"]["uri"].as_str().unwrap().ends_with("users.yaml"),
        "{at}"
    );
    assert_eq!(at["region"]["startLine"], 8, "{at}");
}

#[test]
fn iac_quiet_new_user_whose_group_policy_reaches_nothing_shared() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc) = users_diff(&users_template(
        dir.path(),
        "arn:aws:iam::321111111111:role/local",
        "ReleaseGroup",
    ));
    assert_eq!(code, 0);
    assert!(doc["new"].as_array().unwrap().is_empty(), "{doc}");
    let added: Vec<&str> = doc["topology"]["added_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert!(
        added.contains(&"arn:aws:iam::321111111111:user/checkout-release-bot"),
        "{added:?}"
    );
}

#[test]
fn iac_near_miss_user_in_another_group_than_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (code, doc) = users_diff(&users_template(dir.path(), MAINTENANCE, "OtherGroup"));
    assert_eq!(code, 0);
    assert!(doc["new"].as_array().unwrap().is_empty(), "{doc}");
}

/// The same through a Terraform plan: `aws_iam_user`, `aws_iam_group`, `aws_iam_group_policy`,
/// `aws_iam_user_group_membership`; then a membership deleted changes the user it names.
#[test]
fn iac_terraform_users_groups_and_memberships() {
    let dir = tempfile::tempdir().unwrap();
    let rc = |address: &str, ty: &str, actions: &str, values: Value| {
        let (before, after) = if actions == "delete" {
            (values, Value::Null)
        } else {
            (Value::Null, values)
        };
        serde_json::json!({"address": address, "mode": "managed", "type": ty, "name": "x",
            "change": {"actions": [actions], "before": before, "after": after, "after_unknown": {}}})
    };
    let plan = |changes: Vec<Value>| {
        let p = dir.path().join(format!("plan{}.json", changes.len()));
        let doc = serde_json::json!({"format_version": "1.2", "resource_changes": changes,
            "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"},
                "assume_role": [{"role_arn": {"constant_value": "arn:aws:iam::321111111111:role/terraform"}}]}}}}});
        std::fs::write(&p, doc.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": MAINTENANCE}]}).to_string();
    let created = plan(vec![
        rc(
            "aws_iam_user.bot",
            "aws_iam_user",
            "create",
            serde_json::json!({"name": "release-bot", "path": "/"}),
        ),
        rc(
            "aws_iam_group.release",
            "aws_iam_group",
            "create",
            serde_json::json!({"name": "release", "path": "/"}),
        ),
        rc(
            "aws_iam_group_policy.assume",
            "aws_iam_group_policy",
            "create",
            serde_json::json!({"name": "assume", "group": "release", "policy": policy}),
        ),
        rc(
            "aws_iam_user_group_membership.bot",
            "aws_iam_user_group_membership",
            "create",
            serde_json::json!({"user": "release-bot", "groups": ["release"]}),
        ),
    ]);
    let (code, doc) = diff_json(&["--terraform-plan", &created]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(listed(&doc, "new").len(), 1);
    assert!(doc["new"][0]["message"].as_str().unwrap().contains("user/release-bot"));
    // Removing the existing CI bot from its group `checkout-ci`: the user changes.
    let removed = plan(vec![rc(
        "aws_iam_user_group_membership.ci",
        "aws_iam_user_group_membership",
        "delete",
        serde_json::json!({"user": "checkout-ci-bot", "groups": ["checkout-ci"]}),
    )]);
    let (_, doc) = diff_json(&["--terraform-plan", &removed]);
    assert!(doc["new"].as_array().unwrap().is_empty(), "{doc}");
    let changed: Vec<&str> = doc["topology"]["changed_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(changed, ["arn:aws:iam::321111111111:user/checkout-ci-bot"], "{doc}");
}
