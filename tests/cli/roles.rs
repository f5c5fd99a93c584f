//! `topoguard roles`: bad input, atomic output, determinism, the round trip through
//! `topoguard check`, and the external validators (parliament, cfn-lint) from the test venv.

use crate::support::{cfn_lint_canary, external, parliament_canary, root, topoguard};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "topology/examples/global-org.json";
/// The responder principal the round trip adds (management account, like an SSO role).
const RESPONDER: &str = "arn:aws:iam::111111111111:role/oncall-sso";

/// The example config with one more responder principal, written into `dir`.
fn config_with_responders(dir: &Path) -> PathBuf {
    let base = std::fs::read_to_string(root().join("policies/topoguard.toml")).unwrap();
    let config = if base.contains("\n[responders]\n") {
        base.replacen("principals = [", &format!("principals = [\"{RESPONDER}\", "), 1)
    } else {
        format!("{base}\n[responders]\nprincipals = [\"{RESPONDER}\"]\n")
    };
    let path = dir.join("topoguard.toml");
    std::fs::write(&path, config).unwrap();
    crate::support::copy_example_config_files(dir);
    path
}

fn roles(args: &[&str]) -> std::process::Output {
    topoguard().arg("roles").args(args).output().unwrap()
}

fn generate(dir: &Path, format: &str, config: &Path) -> PathBuf {
    generate_with(dir, format, config, &[])
}

fn generate_with(dir: &Path, format: &str, config: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("out-{format}"));
    let mut args = vec![
        "--topology",
        EXAMPLE,
        "--policies",
        config.to_str().unwrap(),
        "--format",
        format,
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = roles(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn unknown_app_is_exit_2_and_lists_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = roles(&[
        "-t",
        EXAMPLE,
        "--app",
        "nope",
        "--format",
        "iam",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "unknown application `nope`; known applications: `catalog`, `checkout`, `invoice`, `notifications`"
        ),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written on error");
}

#[test]
fn agent_spaces_need_the_cloudformation_format() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = roles(&[
        "-t",
        EXAMPLE,
        "--format",
        "terraform",
        "--agent-spaces",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`--agent-spaces` needs `--format cloudformation`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written on error");
}

/// Issue 8.10: the example could not list `notifications-oncall`'s associations. Which accounts
/// it is associated with is unknown, so `--agent-spaces` proposes none (an association that
/// exists would fail the stack) and says why; the other spaces' templates are unaffected.
#[test]
fn unread_associations_get_a_warning_not_a_template() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = roles(&[
        "--topology",
        EXAMPLE,
        "--format",
        "cloudformation",
        "--agent-spaces",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: Agent Space `notifications-oncall`: its associations could not be read")
            && err.contains("aidevops:ListAssociations"),
        "{err}"
    );
    let files = read_tree(&out);
    assert!(
        !files.keys().any(|k| k.contains("notifications-oncall.template")),
        "{:?}",
        files.keys()
    );
    assert!(files.contains_key("agent-spaces/checkout-oncall.template.json"));
}

/// Issue 14 changed `--force`: it used to replace the whole directory; now it replaces and
/// removes only what the manifest lists, and keeps everything else.
#[test]
fn a_non_empty_out_dir_is_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let args = |app: &'static str| {
        vec![
            "-t".to_string(),
            EXAMPLE.to_string(),
            "--app".to_string(),
            app.to_string(),
            "--format".to_string(),
            "iam".to_string(),
            "--out-dir".to_string(),
            out.to_str().unwrap().to_string(),
        ]
    };
    let o = topoguard().arg("roles").args(args("catalog")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("is not empty; pass `--force` to replace the files topoguard wrote")
    );
    assert!(out.join("keep.txt").exists());
    let o = topoguard()
        .arg("roles")
        .args(args("catalog"))
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine",
        "not topoguard's file"
    );
    assert!(out.join("summary.json").exists() && out.join("README.md").exists());
    assert!(out.join("catalog").is_dir() && out.join(".topoguard-manifest.json").exists());
    // a second run for another application removes the first run's files, and only those
    let o = topoguard()
        .arg("roles")
        .args(args("invoice"))
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !out.join("catalog").exists(),
        "stale generated files and their directories are removed"
    );
    assert!(out.join("invoice").is_dir() && out.join("keep.txt").exists());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join(".topoguard-manifest.json")).unwrap()).unwrap();
    let listed: BTreeSet<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut written: BTreeSet<String> = read_tree(&out).into_keys().collect();
    written.remove("keep.txt");
    written.remove(".topoguard-manifest.json");
    assert_eq!(listed, written, "the manifest lists exactly the generated files");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("out")],
        "no temporary directories left"
    );
}

#[test]
fn force_never_replaces_a_file_topoguard_did_not_write_nor_an_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // a user's own README.md where topoguard would write one
    std::fs::write(out.join("README.md"), "mine").unwrap();
    let run = |snapshot: &Path| {
        topoguard()
            .arg("roles")
            .args([
                "-t",
                snapshot.to_str().unwrap(),
                "--app",
                "catalog",
                "--format",
                "iam",
                "--force",
            ])
            .arg("--out-dir")
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = run(Path::new(EXAMPLE));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("README.md`: it was not written by topoguard"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("README.md")).unwrap(), "mine");
    assert_eq!(read_tree(&out).len(), 1, "nothing written on error");
    // the snapshot itself sits in the out dir under a name a forged manifest claims
    std::fs::remove_file(out.join("README.md")).unwrap();
    let snapshot = out.join("summary.json");
    std::fs::copy(root().join(EXAMPLE), &snapshot).unwrap();
    std::fs::write(out.join(".topoguard-manifest.json"), r#"{"files": ["summary.json"]}"#).unwrap();
    let o = run(&snapshot);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("summary.json`: it is an input of this run"), "{err}");
    // a manifest that points outside is refused, and nothing outside is touched
    std::fs::write(tmp.path().join("victim"), "x").unwrap();
    std::fs::write(out.join(".topoguard-manifest.json"), r#"{"files": ["../victim"]}"#).unwrap();
    let o = run(Path::new(EXAMPLE));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("manifest"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(tmp.path().join("victim").exists());
}

#[test]
fn every_format_is_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_responders(tmp.path());
    for format in ["iam", "cloudformation", "terraform"] {
        let a = read_tree(&generate(&tmp.path().join("a"), format, &config));
        let b = read_tree(&generate(&tmp.path().join("b"), format, &config));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{format}");
    }
}

/// The example snapshot with the generated roles in place of any role of the same ARN, each
/// Agent Space associated with its generated secondary roles, and the responder principal.
fn snapshot_with(out: &Path) -> (Value, BTreeSet<String>) {
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(root().join(EXAMPLE)).unwrap()).unwrap();
    let index: Value = serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let mut arns = BTreeSet::new();
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    let mut associations: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut elevated: Vec<(String, String, String)> = Vec::new();
    for r in index["roles"].as_array().unwrap() {
        let arn = r["arn"].as_str().unwrap().to_string();
        let account = r["account"].as_str().unwrap();
        let read = |f: &Value| -> Value {
            serde_json::from_slice(&std::fs::read(out.join(f.as_str().unwrap())).unwrap()).unwrap()
        };
        // A space declared in the config but not in AWS (the example's `invoice-sydney`) gets
        // roles whose trust names the space by a placeholder (`${AgentSpaceArn…}`) until it is
        // created: they cannot be added to a snapshot as deployed roles.
        if read(&r["trust"]).to_string().contains("${AgentSpaceArn") {
            continue;
        }
        let mut attached = Vec::new();
        for p in r["policies"].as_array().unwrap() {
            let parn = format!("arn:aws:iam::{account}:policy/{}", p["name"].as_str().unwrap());
            policies.push(json!({"arn": parn, "name": p["name"], "document": read(&p["file"])}));
            attached.push(parn);
        }
        roles.push(
            json!({"arn": arn, "account": account, "name": r["name"], "tags": r["tags"],
            "trust_policy": read(&r["trust"]), "attached_policies": attached}),
        );
        if r["kind"] == "agent-secondary" {
            associations
                .entry(r["space"].as_str().unwrap().to_string())
                .or_default()
                .push(json!({"account": account, "role": arn}));
        }
        if r["kind"] == "agent-elevated" {
            elevated.push((
                r["space"].as_str().unwrap().to_string(),
                account.to_string(),
                arn.clone(),
            ));
        }
        arns.insert(arn);
    }
    let existing = s["roles"].as_array_mut().unwrap();
    existing.retain(|r| !arns.contains(r["arn"].as_str().unwrap()));
    existing.extend(roles);
    existing.push(json!({"arn": RESPONDER, "account": "111111111111", "name": "oncall-sso",
        "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111111111111:saml-provider/sso"}, "Action": "sts:AssumeRoleWithSAML"}]},
        "inline_policies": [{"name": "hop", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Resource": "arn:aws:iam::*:role/topoguard-*"}]}}]}));
    s["managed_policies"].as_array_mut().unwrap().extend(policies);
    // Each generated elevated role is named by its account's association (a monitor
    // association for the space's own account, which has no secondary role).
    for (space, account, arn) in elevated {
        let list = associations.entry(space.clone()).or_default();
        match list.iter_mut().find(|a| a["account"] == account.as_str()) {
            Some(a) => a["elevated_role"] = json!(arn),
            None => list.push(json!({"account": account, "kind": "monitor",
                "role": format!("arn:aws:iam::{account}:role/DevOpsAgentRole-{space}"), "elevated_role": arn})),
        }
    }
    for space in s["agent_spaces"].as_array_mut().unwrap() {
        if let Some(a) = associations.get(space["name"].as_str().unwrap()) {
            space["associations"] = json!(a);
        }
    }
    (s, arns)
}

const ROUND_TRIP_CHECKS: &[&str] = &[
    "agent-space-elevated-access",
    "incident-access-not-read-only",
    "agent-space-role-unpinned",
    "agent-space-role-overbroad",
    "cross-account-write-to-shared",
];

/// `incident-access-not-read-only` reports every write an incident role may make, the elevated
/// roles' included (as it does for the example's own elevated roles): for a generated elevated
/// role, exactly the mitigate writes.
fn elevated_mitigation(f: &Value) -> bool {
    f["check"] == "incident-access-not-read-only"
        && f["resource"].as_str().unwrap().contains(":role/DevOpsAgentElevatedRole-")
        && f["message"].as_str().unwrap().contains(
            "4 action(s), e.g. events:DisableRule, events:EnableRule, lambda:DeleteFunctionConcurrency, lambda:PutFunctionConcurrency",
        )
}

#[test]
fn generated_roles_raise_no_finding_when_added_to_the_example() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_responders(tmp.path());
    let out = generate_with(tmp.path(), "iam", &config, &["--elevated"]);
    let (snapshot, arns) = snapshot_with(&out);
    assert!(
        arns.iter().any(|a| a.contains(":role/DevOpsAgentElevatedRole-")),
        "{arns:?}"
    );
    let check = |snapshot: &Value, name: &str| -> Vec<Value> {
        let path = tmp.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(snapshot).unwrap()).unwrap();
        let o = topoguard()
            .args([
                "check",
                "--topology",
                path.to_str().unwrap(),
                "--policies",
                config.to_str().unwrap(),
            ])
            .args(["--format", "json", "--fail-on", "none"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                let text = f.to_string();
                ROUND_TRIP_CHECKS.contains(&f["check"].as_str().unwrap())
                    && arns
                        .iter()
                        .any(|a| text.contains(&format!("{a}\"")) || text.contains(&format!("{a}`")))
            })
            .cloned()
            .collect()
    };
    let findings = check(&snapshot, "with-roles.json");
    let (elevated, findings): (Vec<Value>, Vec<Value>) = findings.into_iter().partition(elevated_mitigation);
    assert!(findings.is_empty(), "generated roles raise findings: {findings:#?}");
    assert!(!elevated.is_empty());

    // The silence is not for want of reach: give one observe role a write, and exactly that
    // role is reported.
    let mut mutated = snapshot.clone();
    let observe = mutated["roles"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| {
            let arn = r["arn"].as_str().unwrap();
            arn.ends_with("-observe") && arns.iter().any(|a| a == arn)
        })
        .unwrap();
    let observe_arn = observe["arn"].as_str().unwrap().to_string();
    observe["inline_policies"] = serde_json::json!([{
        "name": "mutation",
        "document": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"}]}
    }]);
    let findings = check(&mutated, "mutated.json");
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "incident-access-not-read-only" && f["resource"] == observe_arn.as_str()),
        "{findings:#?}"
    );
    // Anything else reported is the same injected write seen by another check.
    assert!(
        findings
            .iter()
            .filter(|f| !elevated_mitigation(f))
            .all(|f| f["message"].as_str().unwrap().contains("dynamodb:DeleteTable")),
        "{findings:#?}"
    );

    // Mitigate roles are not reachable by a responder principal or any Agent Space.
    assert!(
        !arns
            .iter()
            .any(|a| a.ends_with("-mitigate") && findings.iter().any(|f| f.to_string().contains(a.as_str())))
    );

    // The elevated roles' silence is not for want of evaluation either: next to a queue of
    // another application in its account, one that may also purge any queue is reported by
    // `agent-space-elevated-access`.
    let mut mutated = snapshot.clone();
    let elevated_arn = "arn:aws:iam::311111111111:role/DevOpsAgentElevatedRole-invoice-oncall";
    let elevated = mutated["roles"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["arn"] == elevated_arn)
        .unwrap();
    elevated["inline_policies"] = serde_json::json!([{
        "name": "mutation",
        "document": {"Statement": [{"Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": "*"}]}
    }]);
    mutated["resources"].as_array_mut().unwrap().push(json!({
        "arn": "arn:aws:sqs:us-east-1:311111111111:checkout-foreign", "kind": "sqs-queue",
        "account": "311111111111", "region": "us-east-1", "tags": {"app": "checkout"}}));
    let findings = check(&mutated, "mutated-elevated.json");
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "agent-space-elevated-access" && f.to_string().contains(elevated_arn)),
        "{findings:#?}"
    );
}

#[test]
fn parliament_reports_nothing_on_the_generated_policies() {
    let Some(venv) = external("parliament_reports_nothing_on_the_generated_policies", &["parliament"]) else {
        return;
    };
    parliament_canary(&venv);
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_responders(tmp.path());
    let out = generate_with(tmp.path(), "iam", &config, &["--elevated"]);
    let tree = read_tree(&out);
    // The elevated roles are among the documents checked.
    assert!(
        tree.keys().any(|k| k.contains("/DevOpsAgentElevatedRole-")),
        "{:?}",
        tree.keys()
    );
    let files: Vec<String> = tree
        .keys()
        .filter(|k| k.rsplit('/').next().unwrap().starts_with("policy-"))
        .map(|k| out.join(k).to_string_lossy().into_owned())
        .collect();
    assert!(files.len() > 20);
    let o = std::process::Command::new(venv.join("bin/parliament"))
        .args(["--json", "--files", &files.join(",")])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let catalog = topoguard::iam::catalog::Catalog::get().unwrap();
    let mut newer_than_parliament = BTreeSet::new();
    let mut problems = Vec::new();
    for line in String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let issue: Value = serde_json::from_str(line).unwrap();
        let action = issue["location"]["string"].as_str().unwrap_or("");
        // parliament's bundled action list is older than topoguard's catalog: an action it does
        // not know but the catalog has is a newer action, not a mistake.
        if issue["issue"] == "UNKNOWN_ACTION" && catalog.action(action).is_some() {
            newer_than_parliament.insert(action.to_string());
        } else {
            problems.push(issue);
        }
    }
    assert!(problems.is_empty(), "parliament: {problems:#?}");
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("actions newer than parliament's data: {newer_than_parliament:?}");
}

#[test]
fn cfn_lint_passes_the_templates() {
    let Some(venv) = external("cfn_lint_passes_the_templates", &["cfn-lint"]) else {
        return;
    };
    cfn_lint_canary(&venv);
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_responders(tmp.path());
    // A second space for catalog that the snapshot does not have, so one template creates its
    // space and the other (invoice's, missing an account) only adds associations.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[agent_spaces.catalog-standby]\napplication = \"catalog\"\n");
    // (The example's config already declares `invoice-sydney`, which is not in AWS either.)
    std::fs::write(&config, text).unwrap();
    let out = generate_with(tmp.path(), "cloudformation", &config, &["--agent-spaces", "--elevated"]);
    let templates: Vec<PathBuf> = read_tree(&out)
        .keys()
        .filter(|k| k.ends_with(".template.json"))
        .map(|k| out.join(k))
        .collect();
    assert!(templates.len() >= 8);
    let spaces: Vec<String> = templates
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("agent-spaces")))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // The example's other spaces are associated with their whole footprint: nothing to deploy.
    // checkout-oncall misses the catalog account its rule delivers to (plant 11).
    assert_eq!(
        spaces,
        vec![
            "catalog-standby.template.json",
            "checkout-oncall.template.json",
            "invoice-oncall.template.json",
            "invoice-sydney.template.json"
        ]
    );
    let standby: Value =
        serde_json::from_slice(&read_tree(&out)["agent-spaces/catalog-standby.template.json"]).unwrap();
    assert_eq!(
        standby["Resources"]["AgentSpace"]["Type"],
        "AWS::DevOpsAgent::AgentSpace"
    );
    let invoice: Value = serde_json::from_slice(&read_tree(&out)["agent-spaces/invoice-oncall.template.json"]).unwrap();
    let added: Vec<&String> = invoice["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(
        added,
        vec!["Association222222222222"],
        "only the missing shared-services account"
    );
    let o = std::process::Command::new(venv.join("bin/cfn-lint"))
        .args(&templates)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `--elevated`: the elevated roles (mitigate writes only, trusted by the one space), named in
/// the associations the templates create, with the space's preference set when the template
/// creates the space; existing spaces and associations the templates leave alone are warned about.
#[test]
fn elevated_roles_are_named_in_new_associations_and_existing_ones_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_responders(tmp.path());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[agent_spaces.catalog-standby]\napplication = \"catalog\"\n");
    std::fs::write(&config, text).unwrap();
    let out = tmp.path().join("out");
    let o = roles(&[
        "--topology",
        EXAMPLE,
        "--policies",
        config.to_str().unwrap(),
        "--format",
        "cloudformation",
        "--agent-spaces",
        "--elevated",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let tree = read_tree(&out);
    let summary: Value = serde_json::from_slice(&tree["summary.json"]).unwrap();
    let elevated: Vec<&Value> = summary["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "agent-elevated")
        .collect();
    assert!(!elevated.is_empty(), "{summary:#}");
    // Only where a mitigate role is: the application's own functions and rules.
    for r in &elevated {
        let account = r["account"].as_str().unwrap();
        let app = r["application"].as_str().unwrap();
        assert!(
            summary["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["kind"] == "mitigate" && m["account"] == account && m["application"] == app),
            "{r:#}"
        );
    }
    // The space the template creates: elevated actions on, and each association of an account
    // with an elevated role names it.
    let standby: Value = serde_json::from_slice(&tree["agent-spaces/catalog-standby.template.json"]).unwrap();
    assert_eq!(
        standby["Resources"]["AgentSpace"]["Properties"]["Preferences"],
        json!({"ElevatedActionsEnabled": true})
    );
    let catalog_elevated: BTreeSet<String> = elevated
        .iter()
        .filter(|r| {
            r["arn"]
                .as_str()
                .unwrap()
                .ends_with("/DevOpsAgentElevatedRole-catalog-standby")
        })
        .map(|r| r["arn"].as_str().unwrap().to_string())
        .collect();
    assert!(!catalog_elevated.is_empty());
    let named: BTreeSet<String> = standby["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::DevOpsAgent::Association")
        .filter_map(|r| {
            let c = &r["Properties"]["Configuration"];
            let c = if c["Aws"].is_object() {
                &c["Aws"]
            } else {
                &c["SourceAws"]
            };
            c["AgentElevatedRoleArn"].as_str().map(str::to_string)
        })
        .collect();
    assert_eq!(named, catalog_elevated);
    // Without --elevated, no elevated role and no association names one.
    let plain = generate_with(tmp.path(), "cloudformation", &config, &["--agent-spaces"]);
    let plain = read_tree(&plain);
    assert!(!plain.values().any(|b| String::from_utf8_lossy(b).contains("Elevated")));
    // The example's invoice-oncall exists without elevated actions enabled: a warning, since
    // no template changes an existing space.
    assert!(
        stderr.contains("Agent Space `invoice-oncall` exists and does not have elevated actions enabled"),
        "{stderr}"
    );
}
