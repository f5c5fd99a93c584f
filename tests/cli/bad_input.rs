//! Bad input: one clear error naming the file and the problem, exit code 2, and no output file
//! left behind (or an existing one left untouched).

use crate::support::{fixture, topoguard};

fn fails_cleanly(topology: &str, policies: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.sarif");
    std::fs::write(&out, "previous report\n").unwrap();
    let assert = topoguard()
        .args(["check", "--format", "sarif", "--output"])
        .arg(&out)
        .arg("--topology")
        .arg(fixture(topology))
        .arg("--policies")
        .arg(fixture(policies))
        .assert()
        .code(2);
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one error line expected, got: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for needle in expected {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
    assert!(output.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "previous report\n",
        "output file was touched"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a temporary file was left behind"
    );
}

#[test]
fn truncated_snapshot() {
    fails_cleanly(
        "bad/truncated.json",
        "minimal.toml",
        &["truncated.json", "EOF while parsing", "line "],
    );
}

#[test]
fn non_json_snapshot() {
    fails_cleanly(
        "bad/not-json.json",
        "minimal.toml",
        &["not-json.json", "line 1, column 1"],
    );
}

#[test]
fn wrong_schema_version() {
    fails_cleanly(
        "bad/wrong-version.json",
        "minimal.toml",
        &["wrong-version.json", "schema_version 7", "reads version 1"],
    );
}

#[test]
fn unknown_field() {
    fails_cleanly(
        "bad/unknown-field.json",
        "minimal.toml",
        &["unknown-field.json", "unknown field `colour`"],
    );
}

#[test]
fn duplicate_arn() {
    fails_cleanly(
        "bad/duplicate-arn.json",
        "minimal.toml",
        &["duplicate-arn.json", "event_buses[1].arn", "duplicate ARN"],
    );
}

#[test]
fn invalid_arn() {
    fails_cleanly(
        "bad/invalid-arn.json",
        "minimal.toml",
        &["invalid-arn.json", "event_buses[0].arn", "invalid account `111`"],
    );
}

#[test]
fn relation_to_unknown_node() {
    fails_cleanly(
        "bad/unknown-relation.json",
        "minimal.toml",
        &["unknown-relation.json", "rules[0].bus", "unknown event bus"],
    );
}

#[test]
fn missing_snapshot_file() {
    fails_cleanly(
        "bad/does-not-exist.json",
        "minimal.toml",
        &["does-not-exist.json", "cannot read snapshot"],
    );
}

#[test]
fn malformed_config() {
    fails_cleanly("minimal.json", "bad/malformed.toml", &["malformed.toml", "line 1"]);
}

#[test]
fn unknown_check_id_in_config() {
    fails_cleanly(
        "minimal.json",
        "bad/unknown-check.toml",
        &["unknown-check.toml", "line 4", "unknown check id `no-such-check`"],
    );
}

#[test]
fn ignore_without_reason() {
    fails_cleanly(
        "minimal.json",
        "bad/ignore-without-reason.toml",
        &["ignore-without-reason.toml", "line 5", "missing field `reason`"],
    );
}

#[test]
fn missing_config_directory() {
    fails_cleanly("minimal.json", "no-such-dir/", &["no-such-dir", "cannot read config"]);
}

#[test]
fn usage_errors_exit_2() {
    topoguard().args(["check"]).assert().code(2);
    topoguard()
        .args(["check", "--topology", "x.json", "--format", "yaml"])
        .assert()
        .code(2);
    topoguard().args(["frobnicate"]).assert().code(2);
}

#[test]
fn clean_minimal_snapshot_exits_0() {
    topoguard()
        .arg("check")
        .arg("--topology")
        .arg(fixture("minimal.json"))
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .assert()
        .code(0);
}
