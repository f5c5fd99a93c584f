//! Every problem at once, shown in context; config entries located in findings; one meaning per
//! exit code.

use crate::support::{fixture, topoguard};
use std::path::Path;

/// A config with independent mistakes in different sections.
const THREE_MISTAKES: &str = r#"[applications.a]
accounts = ["111111111111"]
owner = 7

[zones.eu]
regions = ["eu-west-1"]
colour = "blue"

[checks.shared-resource-untagged]
severity = "urgent"
"#;

fn check(snapshot: &Path, config: &Path, output: &Path, format: &str) -> std::process::Output {
    topoguard()
        .args(["check", "--format", format, "--output"])
        .arg(output)
        .arg("--topology")
        .arg(snapshot)
        .arg("--policies")
        .arg(config)
        .output()
        .unwrap()
}

/// The problems on stderr: exit 2, every line escaped, the output file untouched.
fn problems(snapshot: &Path, config: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    std::fs::write(&out, "previous\n").unwrap();
    let o = check(snapshot, config, &out, "json");
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(
        !stderr.chars().any(|c| c != '\n' && topoguard::escape::is_hidden(c)),
        "{stderr:?}"
    );
    stderr
}

#[test]
fn three_config_mistakes_are_all_shown_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topoguard.toml");
    std::fs::write(&config, THREE_MISTAKES).unwrap();
    let stderr = problems(&fixture("minimal.json"), &config);
    assert_eq!(stderr.matches("error: ").count(), 3, "{stderr}");
    let file = config.display().to_string();
    for (line, problem, source) in [
        (3, "invalid type: integer `7`, expected a string", "owner = 7"),
        (7, "unknown field `colour`", "colour = \"blue\""),
        (10, "unknown variant `urgent`", "severity = \"urgent\""),
    ] {
        assert!(stderr.contains(&format!("--> {file}:{line}:")), "{line}: {stderr}");
        assert!(stderr.contains(problem), "{problem}: {stderr}");
        assert!(stderr.contains(&format!("{line} | {source}")), "{source}: {stderr}");
    }
    assert!(
        stderr.trim_end().ends_with(&format!("3 problems in config `{file}`")),
        "{stderr}"
    );
}

#[test]
fn hostile_config_text_is_escaped_in_snippets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topoguard.toml");
    // Raw controls are not TOML: the snippet shows them as visible pictures.
    std::fs::write(&config, "[applications.\"a\u{1b}[31m\u{202e}\"]\n").unwrap();
    let stderr = problems(&fixture("minimal.json"), &config);
    assert!(
        stderr.contains("not valid TOML") && stderr.contains("a\u{241b}[31m"),
        "{stderr}"
    );
    // Escaped in TOML, they are in the name: the message shows them as escapes.
    std::fs::write(&config, "[applications.\"a\\u001b[31m\\u202e\"]\n").unwrap();
    let stderr = problems(&fixture("minimal.json"), &config);
    assert!(
        stderr.contains("`a\\u{1b}[31m\\u{202e}` is not a usable application name"),
        "{stderr}"
    );
}

/// Snapshot validation: every problem is found, the first 20 shown at their values, the rest
/// counted.
#[test]
fn snapshot_problems_first_twenty_then_a_count() {
    let mut s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("minimal.json")).unwrap()).unwrap();
    let buses: Vec<serde_json::Value> = (0..25)
        .map(|i| {
            serde_json::json!({"arn": format!("arn:aws:events:eu-west-1:111111111111:event-bus/b{i}"),
                "account": "999999999999", "region": "eu-west-1", "name": format!("b{i}")})
        })
        .collect();
    s["event_buses"] = serde_json::Value::Array(buses);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap.json");
    std::fs::write(&snapshot, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let stderr = problems(&snapshot, &fixture("minimal.toml"));
    assert_eq!(stderr.matches("error: ").count(), 20, "{stderr}");
    assert!(
        stderr.contains("event_buses[19].account: account `999999999999` is not in"),
        "{stderr}"
    );
    assert!(!stderr.contains("event_buses[20]"), "{stderr}");
    assert!(stderr.trim_end().ends_with("(5 not shown)"), "{stderr}");
    // Each points at the value it names: the `account` member of its bus.
    let text = std::fs::read_to_string(&snapshot).unwrap();
    let line = text.lines().position(|l| l.contains("\"999999999999\"")).unwrap() + 1;
    assert!(stderr.contains(&format!("snap.json:{line}:")), "{line}: {stderr}");
    assert!(
        stderr.contains(&format!("{line} |       \"account\": \"999999999999\"")),
        "{stderr}"
    );
}

/// An unused `ignore` entry is a finding located at the entry in the config: SARIF gives the
/// config file and the entry's region, the human format `file:line:column`.
#[test]
fn unused_ignore_points_at_its_config_entry() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topoguard.toml");
    let text = "[applications.a]\naccounts = [\"111111111111\"]\n\n[checks.shared-resource-untagged]\nignore = [\n  { account = \"111111111111\", reason = \"stale\" },\n]\n";
    std::fs::write(&config, text).unwrap();
    let sarif = dir.path().join("r.sarif");
    let o = check(&fixture("minimal.json"), &config, &sarif, "sarif");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let unused: Vec<_> = results.iter().filter(|r| r["ruleId"] == "unused-ignore").collect();
    assert_eq!(unused.len(), 1, "{results:#?}");
    let physical = &unused[0]["locations"][0]["physicalLocation"];
    assert!(
        physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("topoguard.toml")
    );
    let region = &physical["region"];
    assert_eq!(region["startLine"], 6);
    assert_eq!(region["startColumn"], 3);
    assert_eq!(region["endLine"], 6);
    // The region is the entry itself: `{ … }`.
    let offset = region["byteOffset"].as_u64().unwrap() as usize;
    let length = region["byteLength"].as_u64().unwrap() as usize;
    assert_eq!(
        &text[offset..offset + length],
        "{ account = \"111111111111\", reason = \"stale\" }"
    );
    // Near miss: the other findings stay in the snapshot.
    assert!(results.iter().all(|r| {
        r["ruleId"] == "unused-ignore"
            || r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("minimal.json")
    }));

    let human = dir.path().join("r.txt");
    let o = check(&fixture("minimal.json"), &config, &human, "human");
    assert_eq!(o.status.code(), Some(0));
    let report = std::fs::read_to_string(&human).unwrap();
    assert!(report.contains(&format!("at: {}:6:3", config.display())), "{report}");
}

/// Each exit code has one meaning: 0 clean, 1 findings, 2 bad input, 3 crawl gaps (in
/// `tests/cli/crawl.rs`, which needs the crawler), 4 internal error.
#[test]
fn exit_codes_each_mean_one_thing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let code = |snapshot: &str, policies: &str| {
        check(&topoguard_root(snapshot), &topoguard_root(policies), &out, "json")
            .status
            .code()
    };
    assert_eq!(
        code("tests/fixtures/minimal.json", "tests/fixtures/minimal.toml"),
        Some(0)
    );
    assert_eq!(code("topology/examples/global-org.json", "policies"), Some(1));
    assert_eq!(code("tests/fixtures/bad/truncated.json", "policies"), Some(2));
    let help = topoguard().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for line in [
        "0  clean",
        "1  findings",
        "2  bad usage",
        "3  crawl",
        "4  internal error",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
}

fn topoguard_root(rel: &str) -> std::path::PathBuf {
    crate::support::root().join(rel)
}

/// A trust policy listing many responder principals exceeds IAM's 2,048 characters. That is the
/// config's doing (60 responders), so it is a config error naming the application and role
/// (exit 2), not an internal error (exit 4, which is left for roles failing topoguard's own
/// validation); nothing is written.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
#[test]
fn too_many_responders_for_a_trust_policy_are_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topoguard.toml");
    let principals: Vec<String> = (0..60)
        .map(|i| format!("\"arn:aws:iam::311111111111:role/responder-with-a-long-name-{i:03}\""))
        .collect();
    let original = std::fs::read_to_string(topoguard_root("policies/topoguard.toml")).unwrap();
    let line = original.lines().find(|l| l.starts_with("principals = ")).unwrap();
    let text = original.replace(line, &format!("principals = [{}]", principals.join(", ")));
    std::fs::write(&config, text).unwrap();
    crate::support::copy_example_config_files(dir.path());
    let out = dir.path().join("roles");
    let o = topoguard()
        .args(["roles", "--format", "iam", "--topology"])
        .arg(topoguard_root("topology/examples/global-org.json"))
        .arg("--policies")
        .arg(&config)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: application `"), "{stderr}");
    assert!(stderr.contains("more than IAM's limit of 2048"), "{stderr}");
    assert!(!stderr.contains("internal"), "{stderr}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "nothing beside the config and its guardrail"
    );
}
