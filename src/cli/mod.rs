//! Command-line interface: one file per subcommand, each returning an exit code.
//!
//! Exit codes: 0 clean, 1 findings at or above `--fail-on` (`readiness`: an application below
//! `--min-score`), 2 usage, input or config error
//! (one message on stderr naming the file and the problem, nothing half-written), 3 (`crawl`
//! only) the snapshot was written but has coverage gaps.

mod check;
mod crawl;
mod crawl_policy;
mod diff;
mod graph;
mod readiness;
mod roles;
mod runbooks;
mod schema;
mod write;

use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::process::ExitCode;

pub use write::{PathEscape, join_inside, refuse_input, write_atomically};

/// Exit code for clean runs.
pub const EXIT_OK: u8 = 0;
/// Exit code when findings reach `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for bad usage, input or config.
pub const EXIT_INPUT: u8 = 2;
/// Exit code of `crawl` when the snapshot was written but some account, region or API could not
/// be read (the gaps are in the snapshot and listed on stderr).
pub const EXIT_GAPS: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "topoguard",
    version,
    about = "Check an AWS Organization's topology against incident-readiness guardrails"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a topology snapshot against the guardrail config.
    Check(check::Args),
    /// Crawl a live AWS Organization into a snapshot (exit 3: written with coverage gaps).
    Crawl(crawl::Args),
    /// Print the IAM policy the crawl role needs (read-only, plus `sts:AssumeRole`).
    CrawlPolicy(crawl_policy::Args),
    /// Compare findings and topology before and after a change (two snapshots, or a snapshot and
    /// CloudFormation templates / Terraform plans); exit 1 only for findings the change introduces.
    Diff(diff::Args),
    /// Export the topology graph (whole organization or one application).
    Graph(graph::Args),
    /// Print the JSON Schema of the snapshot format.
    Schema(schema::Args),
    /// Generate least-privilege Agent Space and responder roles.
    Roles(roles::Args),
    /// Score each application's incident readiness (exit 1 below `--min-score`).
    Readiness(readiness::Args),
    /// Write a runbook and an AWS DevOps Agent skill per application.
    Runbooks(runbooks::Args),
}

/// An error that ends a command with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        InputError(e.to_string())
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Crawl(args) => crawl::run(args),
        Command::CrawlPolicy(args) => crawl_policy::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Roles(args) => roles::run(args),
        Command::Readiness(args) => readiness::run(args),
        Command::Runbooks(args) => runbooks::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // The message quotes input (paths, ARNs, AWS error text): one line, nothing that can
            // drive the terminal.
            let _ = writeln!(std::io::stderr(), "error: {}", crate::escape::terminal(&e.to_string()));
            ExitCode::from(EXIT_INPUT)
        }
    }
}
