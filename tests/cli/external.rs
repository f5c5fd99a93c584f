//! The canaries themselves: a validator that reports nothing on everything must fail them, one
//! that flags the planted problem must pass. Fake tools stand in for parliament and cfn-lint
//! here so these run everywhere; the real tools run the canaries in `roles.rs`.

use crate::support::{cfn_lint_canary, parliament_canary};
use std::os::unix::fs::PermissionsExt;

/// A venv-shaped directory whose `bin/<tool>` prints `stdout` and exits with `code`.
fn fake_venv(tool: &str, stdout: &str, code: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join(tool);
    std::fs::write(&path, format!("#!/bin/sh\ncat <<'OUT'\n{stdout}\nOUT\nexit {code}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn quiet_parliament_canary_passes_when_the_bad_policy_is_flagged() {
    let venv = fake_venv(
        "parliament",
        r#"{"issue": "RESOURCE_MISMATCH", "title": "No resources match"}"#,
        1,
    );
    parliament_canary(venv.path());
}

#[test]
#[should_panic(expected = "parliament canary")]
fn fires_parliament_canary_when_the_validator_reports_nothing() {
    let venv = fake_venv("parliament", "", 0);
    parliament_canary(venv.path());
}

#[test]
#[should_panic(expected = "parliament canary")]
fn near_miss_parliament_canary_wants_the_planted_issue_not_any_issue() {
    let venv = fake_venv("parliament", r#"{"issue": "MALFORMED_JSON"}"#, 1);
    parliament_canary(venv.path());
}

#[test]
fn quiet_cfn_lint_canary_passes_when_the_broken_template_is_rejected() {
    let venv = fake_venv(
        "cfn-lint",
        "E3002 Additional properties are not allowed ('NoSuchProperty' was unexpected)",
        2,
    );
    cfn_lint_canary(venv.path());
}

#[test]
#[should_panic(expected = "cfn-lint canary")]
fn fires_cfn_lint_canary_when_the_validator_accepts_everything() {
    let venv = fake_venv("cfn-lint", "", 0);
    cfn_lint_canary(venv.path());
}

#[test]
#[should_panic(expected = "cfn-lint canary")]
fn near_miss_cfn_lint_canary_wants_a_failing_exit_code_too() {
    let venv = fake_venv("cfn-lint", "E3002 reported but exit 0", 0);
    cfn_lint_canary(venv.path());
}
