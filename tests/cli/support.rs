//! Shared helpers: paths to fixtures and a configured `topoguard` command.

use assert_cmd::Command;
use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
