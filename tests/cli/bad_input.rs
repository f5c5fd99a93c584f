//! Bad input: a clear error naming the file, the place and the problem (with the lines it
//! points at when it has a place), exit code 2, and no output file left behind (or an existing
//! one left untouched).

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
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "one error expected, got: {stderr}"
    );
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
        &["duplicate-arn.json:", "event_buses[1].arn", "duplicate ARN"],
    );
}

#[test]
fn invalid_arn() {
    fails_cleanly(
        "bad/invalid-arn.json",
        "minimal.toml",
        &["invalid-arn.json:", "event_buses[0].arn", "invalid account `111`"],
    );
}

#[test]
fn relation_to_unknown_node() {
    fails_cleanly(
        "bad/unknown-relation.json",
        "minimal.toml",
        &["unknown-relation.json:", "rules[0].bus", "unknown event bus"],
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
    fails_cleanly(
        "minimal.json",
        "bad/malformed.toml",
        &["malformed.toml:1:", "not valid TOML"],
    );
}

#[test]
fn unknown_check_id_in_config() {
    fails_cleanly(
        "minimal.json",
        "bad/unknown-check.toml",
        &["unknown-check.toml:4:", "unknown check id `no-such-check`"],
    );
}

#[test]
fn ignore_without_reason() {
    fails_cleanly(
        "minimal.json",
        "bad/ignore-without-reason.toml",
        &["ignore-without-reason.toml:5:", "missing field `reason`"],
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

// Objects given as arrays: `topology/schema.json` says `"type": "object"`
// (https://json-schema.org/understanding-json-schema/reference/object).
#[test]
fn coverage_given_as_an_array() {
    fails_cleanly(
        "bad/coverage-as-array.json",
        "minimal.toml",
        &[
            "coverage-as-array.json",
            "line ",
            "invalid type: array, expected an object",
        ],
    );
}

#[test]
fn account_given_as_a_positional_array() {
    fails_cleanly(
        "bad/account-as-array.json",
        "minimal.toml",
        &["account-as-array.json", "expected an object (struct Account)"],
    );
}

#[test]
fn config_table_given_as_an_array() {
    fails_cleanly(
        "minimal.json",
        "bad/attribution-as-array.toml",
        &["attribution-as-array.toml:1:", "expected an object"],
    );
}

#[test]
fn application_name_that_is_a_path() {
    fails_cleanly(
        "minimal.json",
        "bad/app-name-path.toml",
        &["app-name-path.toml:1:", "`../../etc` is not a usable application name"],
    );
}

/// A UTF-8 byte-order mark is skipped the same way in both loaders.
#[test]
fn a_byte_order_mark_is_accepted_in_snapshot_and_config() {
    topoguard()
        .args(["check", "--topology"])
        .arg(fixture("bom.json"))
        .arg("--policies")
        .arg(fixture("bom.toml"))
        .assert()
        .code(0);
}

/// `--output` naming an input is exit 2, and the input is untouched.
#[test]
fn output_naming_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap.json");
    let config = dir.path().join("topoguard.toml");
    std::fs::copy(fixture("minimal.json"), &snapshot).unwrap();
    std::fs::copy(fixture("minimal.toml"), &config).unwrap();
    for (sub, output) in [
        ("check", snapshot.clone()),
        ("check", dir.path().join(".").join("topoguard.toml")),
        ("graph", snapshot.clone()),
        ("graph", config.clone()),
    ] {
        let o = topoguard()
            .args([sub, "--topology"])
            .arg(&snapshot)
            .arg("--policies")
            .arg(dir.path())
            .arg("--output")
            .arg(&output)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{sub} {}", output.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("this run reads; choose another file") && err.lines().count() == 1,
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read(&snapshot).unwrap(),
        std::fs::read(fixture("minimal.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(&config).unwrap(),
        std::fs::read(fixture("minimal.toml")).unwrap()
    );
}

fn check_to(output: &std::path::Path) -> std::process::Output {
    topoguard()
        .args(["check", "--format", "json", "--topology"])
        .arg(fixture("minimal.json"))
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .arg("--output")
        .arg(output)
        .output()
        .unwrap()
}

/// Non-regular files are written to, not replaced: `/dev/null` stays a device, a FIFO stays a
/// FIFO and its reader gets the report.
#[cfg(unix)]
#[test]
fn output_to_a_device_or_fifo_is_written_directly() {
    use std::os::unix::fs::FileTypeExt;
    let o = check_to(std::path::Path::new("/dev/null"));
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = check_to(&fifo);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report = reader.join().unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&report).is_ok(), "{report}");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file beside the FIFO"
    );
    // `-` and `/dev/stdout` are stdout (here a pipe)
    for stdout in ["-", "/dev/stdout"] {
        let o = check_to(std::path::Path::new(stdout));
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            serde_json::from_slice::<serde_json::Value>(&o.stdout).is_ok(),
            "{stdout}"
        );
    }
}

/// A replaced report keeps its mode; a new one gets the umask mode, not `0600`.
#[cfg(unix)]
#[test]
fn output_file_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.json");
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(check_to(&kept).status.code(), Some(0));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kept), 0o644);
    let fresh = dir.path().join("fresh.json");
    assert_eq!(check_to(&fresh).status.code(), Some(0));
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "").unwrap();
    assert_eq!(
        mode(&fresh),
        mode(&plain),
        "the test process and topoguard share the umask"
    );
    assert_ne!(mode(&fresh), 0o600);
}
