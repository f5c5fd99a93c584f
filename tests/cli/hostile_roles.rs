//! Hostile names in generated IAM policies (issue 14, class 4): a snapshot name with `$`, `*`,
//! `?` or `${…}` is written so that IAM matches it literally (`${$}`, `${*}`, `${?}`), while
//! topoguard's own wildcards stay wildcards; then each file format's escaping applies on top
//! (Terraform `$${`, CloudFormation without `Fn::Sub`), and every format carries the same
//! documents. parliament and cfn-lint check the results.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars>

use crate::support::{cfn_lint_canary, external, parliament_canary, topoguard};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use topoguard::iam::pattern;

const ACCOUNT: &str = "111111111111";
const OTHER: &str = "222222222222";

/// Queue names of invoice's account: IAM's special characters and a variable.
const HOSTILE: [&str; 5] = ["q$1", "q*", "q?x", "q${aws:username}", "plain"];
/// Another queue of the account that a raw `q*` would have matched.
const FOREIGN: &str = "q-checkout-owned";
/// The Agent Space's id in the snapshot: its ARN ends up in the trust policy.
const SPACE_ID: &str = "as-*1";

fn queue(name: &str) -> String {
    format!("arn:aws:sqs:eu-west-1:{ACCOUNT}:{name}")
}

fn space_arn() -> String {
    format!("arn:aws:aidevops:eu-west-1:{ACCOUNT}:agentspace/{SPACE_ID}")
}

/// A snapshot and config with the hostile queues, written into `dir`.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let mut resources: Vec<Value> = HOSTILE
        .iter()
        .map(|n| json!({"arn": queue(n), "kind": "sqs-queue", "account": ACCOUNT, "region": "eu-west-1"}))
        .collect();
    resources.push(json!({"arn": queue(FOREIGN), "kind": "sqs-queue", "account": ACCOUNT,
        "region": "eu-west-1", "tags": {"application": "checkout"}}));
    let snapshot = json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": ACCOUNT, "name": "invoice"}, {"id": OTHER, "name": "checkout"}]},
        "resources": resources,
        "agent_spaces": [{"id": SPACE_ID, "arn": space_arn(), "name": "invoice-oncall", "account": ACCOUNT,
            "region": "eu-west-1", "associations": []}],
    });
    let config = format!(
        "[applications.invoice]\naccounts = [\"{ACCOUNT}\"]\nzone = \"eu\"\n[applications.checkout]\naccounts = [\"{OTHER}\"]\nzone = \"eu\"\n[zones.eu]\nregions = [\"eu-west-1\"]\n[agent_spaces.invoice-oncall]\napplication = \"invoice\"\n[responders]\nprincipals = [\"arn:aws:iam::{ACCOUNT}:role/oncall\"]\n"
    );
    let (s, c) = (dir.join("snap.json"), dir.join("topoguard.toml"));
    std::fs::write(&s, snapshot.to_string()).unwrap();
    std::fs::write(&c, config).unwrap();
    (s, c)
}

/// Runs `roles` in `format` and returns every file written, by relative path.
fn generate(dir: &Path, format: &str) -> BTreeMap<String, Vec<u8>> {
    let (snapshot, config) = inputs(dir);
    let out = dir.join(format!("out-{format}"));
    let o = topoguard()
        .args(["roles", "--app", "invoice", "--format", format, "--topology"])
        .arg(&snapshot)
        .arg("--policies")
        .arg(&config)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files = BTreeMap::new();
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&out).unwrap().to_string_lossy().replace('\\', "/");
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// Every string of `doc`'s Resource elements.
fn resources(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().unwrap() {
        match &st["Resource"] {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => out.extend(items.iter().map(|v| v.as_str().unwrap().to_string())),
            _ => {}
        }
    }
    out
}

/// The IAM-format permission documents (`policy-N.json`), sorted by their text.
fn iam_policies(files: &BTreeMap<String, Vec<u8>>) -> Vec<Value> {
    let mut docs: Vec<Value> = files
        .iter()
        .filter(|(k, _)| k.rsplit('/').next().unwrap().starts_with("policy-"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .collect();
    docs.sort_by_key(Value::to_string);
    docs
}

#[test]
fn fires_hostile_names_become_iam_literals_and_match_only_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let files = generate(tmp.path(), "iam");
    let docs = iam_policies(&files);
    assert!(!docs.is_empty(), "{:?}", files.keys());
    let all: Vec<String> = docs.iter().flat_map(resources).collect();
    for name in HOSTILE {
        let written = topoguard::escape::iam_literal(&queue(name)).into_owned();
        assert!(
            all.contains(&written),
            "`{name}` is not written as the IAM literal `{written}`: {all:#?}"
        );
    }
    let queues: Vec<String> = HOSTILE.iter().chain([&FOREIGN]).map(|n| queue(n)).collect();
    for r in &all {
        // Near miss: no resource string holds a policy variable IAM would substitute, and each
        // queue string, read as IAM reads it, matches one queue of the snapshot (`q${*}` is not
        // `q*`, which would also match `q-checkout-owned`, `q$1` and `q?x`).
        assert!(!pattern::has_variable(r), "policy variable in {r}");
        if r.contains(":sqs:") {
            let hits: Vec<&String> = queues.iter().filter(|q| pattern::matches(r, q, false)).collect();
            assert_eq!(hits.len(), 1, "{r} matches {hits:?}");
        }
    }
    // Each hostile queue is matched by exactly its own string among the queue resources.
    for name in HOSTILE {
        let hits: std::collections::BTreeSet<&String> = all
            .iter()
            .filter(|r| r.contains(":sqs:") && pattern::matches(r, &queue(name), false))
            .collect();
        let own = topoguard::escape::iam_literal(&queue(name)).into_owned();
        assert_eq!(hits, [&own].into(), "{name}");
    }
    // The trust policy pins the snapshot's Agent Space ARN literally, not as `agentspace/as-*1`.
    let trust: Vec<Value> = files
        .iter()
        .filter(|(k, _)| k.contains("DevOpsAgentRole-") && k.ends_with("/trust.json"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .collect();
    assert!(!trust.is_empty(), "{:?}", files.keys());
    for t in &trust {
        let pinned = t["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
            .as_str()
            .unwrap();
        assert_eq!(pinned, topoguard::escape::iam_literal(&space_arn()));
        assert!(pattern::matches(pinned, &space_arn(), false));
        assert!(!pattern::matches(pinned, &space_arn().replace('*', "X"), false));
    }
}

/// A Terraform template string read back as Terraform would (`$${` and `%%{` are the literal
/// `${` and `%{`); panics on an interpolation or directive.
fn terraform_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("$${").or_else(|| rest.strip_prefix("%%{")) {
            out.push_str(&rest[..1]);
            out.push('{');
            rest = r;
            continue;
        }
        assert!(
            !rest.starts_with("${") && !rest.starts_with("%{"),
            "Terraform would interpolate {s:?}"
        );
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn near_miss_terraform_and_cloudformation_carry_the_same_iam_literals() {
    let tmp = tempfile::tempdir().unwrap();
    let want = iam_policies(&generate(tmp.path(), "iam"));
    // Terraform: each `policy` is a template string holding the JSON document.
    let tf = generate(tmp.path(), "terraform");
    let module: Value = serde_json::from_slice(&tf[&format!("{ACCOUNT}/main.tf.json")]).unwrap();
    let mut got: Vec<Value> = module["resource"]["aws_iam_policy"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| serde_json::from_str(&terraform_text(p["policy"].as_str().unwrap())).unwrap())
        .collect();
    got.sort_by_key(Value::to_string);
    assert_eq!(got, want, "Terraform's documents differ from the IAM format's");
    // CloudFormation: documents as JSON objects, no `Fn::Sub` anywhere.
    let cfn = generate(tmp.path(), "cloudformation");
    let text = String::from_utf8(cfn[&format!("{ACCOUNT}.template.json")].clone()).unwrap();
    assert!(!text.contains("Fn::Sub"), "{text}");
    let template: Value = serde_json::from_str(&text).unwrap();
    let mut got: Vec<Value> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::ManagedPolicy")
        .map(|r| r["Properties"]["PolicyDocument"].clone())
        .collect();
    got.sort_by_key(Value::to_string);
    assert_eq!(got, want, "CloudFormation's documents differ from the IAM format's");
    // The Agent Space ARN parameter's default is the IAM literal too.
    let defaults: Vec<&str> = template["Parameters"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|p| p["Default"].as_str())
        .collect();
    assert_eq!(defaults, [topoguard::escape::iam_literal(&space_arn())]);
}

#[test]
fn quiet_validators_accept_the_hostile_policies_and_templates() {
    let Some(venv) = external(
        "quiet_validators_accept_the_hostile_policies_and_templates",
        &["parliament", "cfn-lint"],
    ) else {
        return;
    };
    parliament_canary(&venv);
    cfn_lint_canary(&venv);
    let tmp = tempfile::tempdir().unwrap();
    let iam_dir = tmp.path().join("out-iam");
    let files = generate(tmp.path(), "iam");
    let policies: Vec<String> = files
        .keys()
        // parliament reads identity policies; trust policies have no Resource by design.
        .filter(|k| k.ends_with(".json") && k.contains("/policy-"))
        .map(|k| iam_dir.join(k).to_string_lossy().into_owned())
        .collect();
    let o = std::process::Command::new(venv.join("bin/parliament"))
        .args(["--json", "--files", &policies.join(",")])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let catalog = topoguard::iam::catalog::Catalog::get().unwrap();
    let problems: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        // parliament's action list is older than the catalog (see tests/cli/roles.rs).
        .filter(|i| {
            !(i["issue"] == "UNKNOWN_ACTION"
                && catalog.action(i["location"]["string"].as_str().unwrap_or("")).is_some())
        })
        .collect();
    assert!(problems.is_empty(), "parliament: {problems:#?}");
    generate(tmp.path(), "cloudformation");
    let template = tmp.path().join(format!("out-cloudformation/{ACCOUNT}.template.json"));
    let o = std::process::Command::new(venv.join("bin/cfn-lint"))
        .arg(&template)
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
