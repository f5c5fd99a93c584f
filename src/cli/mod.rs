//! Command-line interface: one file per subcommand, each returning an exit code or a
//! [`CliError`], which knows its own exit code.
//!
//! Exit codes, each with one meaning:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | clean: the command did what was asked and nothing reached `--fail-on` |
//! | 1 | findings at or above `--fail-on` (`check`, `diff`: a finding the change introduces), or an application below `--min-score` (`readiness`) |
//! | 2 | bad usage, input or config: every problem found is printed on stderr, naming the file and the place; nothing was written |
//! | 3 | `crawl` only: the snapshot was written, but some account, region or API could not be read (the gaps are in it) |
//! | 4 | internal error: topoguard's own output failed its own validation (a bug; nothing was written) |

mod can;
mod check;
mod crawl;
mod crawl_policy;
mod diff;
mod export;
mod graph;
mod impact;
mod path;
mod readiness;
mod roles;
mod runbooks;
mod schema;
mod who_can;
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
/// Exit code when topoguard's own output failed its own validation (e.g. a generated role
/// policy the IAM engine rejects): a bug in topoguard, reported as such; nothing is written.
pub const EXIT_INTERNAL: u8 = 4;

/// The exit codes as `--help` shows them.
const EXIT_CODES_HELP: &str = "Exit codes:
  0  clean
  1  findings at or above --fail-on (check; diff: findings the change introduces),
     or an application below --min-score (readiness)
  2  bad usage, input or config (every problem is printed; nothing is written)
  3  crawl wrote the snapshot, but with coverage gaps
  4  internal error: topoguard's output failed its own validation (a bug; nothing is written)";

#[derive(Debug, Parser)]
#[command(
    name = "topoguard",
    version,
    about = "Check an AWS Organization's topology against incident-readiness guardrails",
    after_help = EXIT_CODES_HELP
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
    /// May a principal do an action (on a resource), directly or through a role chain?
    Can(can::Args),
    /// Every principal that may do an action on a resource, directly or through role chains.
    WhoCan(who_can::Args),
    /// What is affected if a resource, account, region or application fails or is compromised.
    Impact(impact::Args),
    /// The shortest delivery, use and assume paths between two nodes.
    Path(path::Args),
    /// Export the topology for a graph database (Neptune CSV, Neo4j CSV, openCypher).
    Export(export::Args),
}

/// An input error described by one message (exit code 2); converted into [`CliError`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        InputError(e.to_string())
    }
}

/// Why a command failed; [`CliError::exit_code`] says what the failure means.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config could not be read or has problems (all of them, located).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The snapshot could not be read or is not valid (every problem, located).
    #[error(transparent)]
    Snapshot(#[from] crate::model::LoadError),
    /// Any other bad usage or input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// topoguard's own output failed its own validation.
    #[error("internal error (please report it): {0}")]
    Internal(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Snapshot(_) | CliError::Input(_) => EXIT_INPUT,
            CliError::Internal(_) => EXIT_INTERNAL,
        }
    }

    /// What stderr shows: located problems with source snippets, anything else on one line.
    /// Everything from input goes through the terminal escaper.
    pub fn report(&self) -> String {
        let located = match self {
            CliError::Config(crate::config::ConfigError::Invalid(d)) => Some(d.as_ref()),
            CliError::Snapshot(e) => e.diagnostics(),
            _ => None,
        };
        match located {
            Some(d) => format!("{}\n", d.render()),
            None => format!("error: {}\n", crate::escape::terminal(&self.to_string())),
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let result: Result<u8, CliError> = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Crawl(args) => crawl::run(args).map_err(CliError::from),
        Command::CrawlPolicy(args) => crawl_policy::run(args).map_err(CliError::from),
        Command::Diff(args) => diff::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Schema(args) => schema::run(args).map_err(CliError::from),
        Command::Roles(args) => roles::run(args),
        Command::Readiness(args) => readiness::run(args),
        Command::Runbooks(args) => runbooks::run(args),
        Command::Can(args) => can::run(args),
        Command::WhoCan(args) => who_can::run(args),
        Command::Impact(args) => impact::run(args),
        Command::Path(args) => path::run(args),
        Command::Export(args) => export::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = std::io::stderr().write_all(e.report().as_bytes());
            ExitCode::from(e.exit_code())
        }
    }
}
