//! Command-line interface: one file per subcommand, each returning an exit code.
//!
//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage, input or config error
//! (one message on stderr naming the file and the problem, nothing half-written), 3 (`crawl`
//! only) the snapshot was written but has coverage gaps.

mod can;
mod check;
mod crawl;
mod crawl_policy;
mod export;
mod graph;
mod impact;
mod path;
mod roles;
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
    /// Export the topology graph (whole organization or one application).
    Graph(graph::Args),
    /// Print the JSON Schema of the snapshot format.
    Schema(schema::Args),
    /// Generate least-privilege Agent Space and responder roles.
    Roles(roles::Args),
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
        Command::Graph(args) => graph::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Roles(args) => roles::run(args),
        Command::Can(args) => can::run(args),
        Command::WhoCan(args) => who_can::run(args),
        Command::Impact(args) => impact::run(args),
        Command::Path(args) => path::run(args),
        Command::Export(args) => export::run(args),
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
