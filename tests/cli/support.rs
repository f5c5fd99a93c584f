//! Shared helpers: paths to fixtures, a configured `topoguard` command, and the one way tests
//! find external tools (moto, parliament, cfn-lint) with their canaries.

use assert_cmd::Command;
use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the files the example config (`policies/topoguard.toml`) names (its DevOps Agent
/// guardrail) into `dir`, so a copy of the config written there loads.
pub fn copy_example_config_files(dir: &std::path::Path) {
    let name = "devops-agent-guardrail.json";
    std::fs::copy(root().join("policies").join(name), dir.join(name)).unwrap();
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// `topoguard` run from the repository root (so `policies/` is the default config), no colour.
pub fn topoguard() -> Command {
    let mut cmd = Command::cargo_bin("topoguard").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// A moto server (from the venv [`external`] found) on a free loopback port, killed on drop.
#[cfg(feature = "aws")]
pub struct Moto {
    child: std::process::Child,
    pub url: String,
}

#[cfg(feature = "aws")]
impl Moto {
    pub fn start(venv: &std::path::Path) -> Moto {
        use std::time::{Duration, Instant};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start moto_server from the test venv");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, url }
    }
}

#[cfg(feature = "aws")]
impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the tests run under CI (`CI` set to anything but `false`/`0`, as CI servers do).
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Appends `line` to `$TOPOGUARD_EXTERNAL_LOG` (set by `scripts/test.sh`, which counts the lines
/// to report how many external tests ran and how many were skipped).
fn record(line: &str) {
    use std::io::Write;
    if let Some(path) = std::env::var_os("TOPOGUARD_EXTERNAL_LOG") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

/// The Python environment holding the external `tools` (moto_server, parliament, cfn-lint) a
/// test needs, found with one precedence for every such test:
///
/// 1. `TOPOGUARD_SKIP_EXTERNAL=1` skips the test (`None`, logged) — except under `CI=true`,
///    where skipping is a failure;
/// 2. `TOPOGUARD_VENV`, the environment `scripts/test.sh` installs from PyPI;
/// 3. `.venv` at the repository root, when it exists.
///
/// A tool missing from the chosen environment, or no environment at all, is a failure (with
/// the command that installs it), never a silent pass.
pub fn external(test: &str, tools: &[&str]) -> Option<PathBuf> {
    if std::env::var("TOPOGUARD_SKIP_EXTERNAL").as_deref() == Ok("1") {
        assert!(
            !under_ci(),
            "{test}: TOPOGUARD_SKIP_EXTERNAL=1 under CI=true: external tests ({}) cannot be skipped in CI",
            tools.join(", ")
        );
        eprintln!("SKIPPED {test}: TOPOGUARD_SKIP_EXTERNAL=1 (needs {})", tools.join(", "));
        record(&format!("skipped {test}"));
        return None;
    }
    let venv = std::env::var_os("TOPOGUARD_VENV")
        .map(PathBuf::from)
        .or_else(|| Some(root().join(".venv")).filter(|p| p.join("bin/python").exists()));
    let Some(venv) = venv else {
        panic!(
            "{test} needs {}: set TOPOGUARD_VENV or run ./scripts/test.sh (it installs \
             scripts/requirements-test.txt into .venv); TOPOGUARD_SKIP_EXTERNAL=1 skips it outside CI",
            tools.join(", ")
        );
    };
    for tool in tools {
        assert!(
            venv.join("bin").join(tool).exists(),
            "{test}: `{tool}` is not in `{}`: install scripts/requirements-test.txt into it",
            venv.display()
        );
    }
    record(&format!("ran {test}"));
    Some(venv)
}

/// Fails unless parliament, run from `venv`, flags a known-bad policy (an object action on a
/// bucket ARN: RESOURCE_MISMATCH). A validator that reports nothing on everything proves nothing.
pub fn parliament_canary(venv: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"}]}"#,
    )
    .unwrap();
    let o = std::process::Command::new(venv.join("bin/parliament"))
        .args(["--json", "--files"])
        .arg(&bad)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("RESOURCE_MISMATCH"),
        "parliament canary: a known-bad policy was not flagged: {stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Fails unless cfn-lint, run from `venv`, rejects a broken template (an unknown resource
/// property and a reference to a missing resource).
pub fn cfn_lint_canary(venv: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.template.json");
    std::fs::write(
        &bad,
        r#"{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Ref": "Missing"}, "NoSuchProperty": 1}}}}"#,
    )
    .unwrap();
    let o = std::process::Command::new(venv.join("bin/cfn-lint"))
        .arg(&bad)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.code().is_some_and(|c| c != 0) && stdout.contains("E3002"),
        "cfn-lint canary: a broken template passed: {stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The headless-browser tools, found the way [`external`] finds the Python ones: Chromium
/// (`$CHROMIUM`, else Debian's `/usr/bin/chromium`) and the npm packages `scripts/test.sh`
/// installs into `tests/browser/node_modules`. Returns (chromium, tests/browser), or `None` when
/// `TOPOGUARD_SKIP_EXTERNAL=1` outside CI; anything missing is a failure naming the fix.
pub fn browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    if std::env::var("TOPOGUARD_SKIP_EXTERNAL").as_deref() == Ok("1") {
        assert!(
            !under_ci(),
            "{test}: TOPOGUARD_SKIP_EXTERNAL=1 under CI=true: the browser test cannot be skipped in CI"
        );
        eprintln!("SKIPPED {test}: TOPOGUARD_SKIP_EXTERNAL=1 (needs chromium, node, playwright-core, mermaid)");
        record(&format!("skipped {test}"));
        return None;
    }
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.exists(),
        "{test}: `{}` is missing: run ./scripts/test.sh (it installs Debian's chromium) or set CHROMIUM",
        chromium.display()
    );
    let dir = root().join("tests/browser");
    for package in ["playwright-core", "mermaid"] {
        assert!(
            dir.join("node_modules").join(package).exists(),
            "{test}: npm package `{package}` is not in tests/browser/node_modules: run ./scripts/test.sh (npm install --prefix tests/browser)"
        );
    }
    record(&format!("ran {test}"));
    Some((chromium, dir))
}

/// The reference IAM evaluator, found the way [`external`] finds the Python tools: `node` (`$NODE`,
/// else `node` on `PATH`) and the npm package `@cloud-copilot/iam-simulate` that
/// `scripts/test.sh` installs into `tests/reference/node_modules`. Returns (node,
/// tests/reference), or `None` when `TOPOGUARD_SKIP_EXTERNAL=1` outside CI; anything missing is
/// a failure naming the fix.
pub fn reference_evaluator(test: &str) -> Option<(PathBuf, PathBuf)> {
    if std::env::var("TOPOGUARD_SKIP_EXTERNAL").as_deref() == Ok("1") {
        assert!(
            !under_ci(),
            "{test}: TOPOGUARD_SKIP_EXTERNAL=1 under CI=true: the reference-evaluator test cannot be skipped in CI"
        );
        eprintln!("SKIPPED {test}: TOPOGUARD_SKIP_EXTERNAL=1 (needs node, @cloud-copilot/iam-simulate)");
        record(&format!("skipped {test}"));
        return None;
    }
    let node = std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let version = std::process::Command::new(&node)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "{test}: `{}` cannot be run: install Node.js (Debian: apt-get install nodejs npm) or set NODE",
        node.display()
    );
    let dir = root().join("tests/reference");
    assert!(
        dir.join("node_modules/@cloud-copilot/iam-simulate").exists(),
        "{test}: npm package `@cloud-copilot/iam-simulate` is not in tests/reference/node_modules: run ./scripts/test.sh (npm install --prefix tests/reference)"
    );
    record(&format!("ran {test}"));
    Some((node, dir))
}
