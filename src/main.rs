//! The `topoguard` binary: parse arguments, dispatch to a subcommand, map the result to an exit
//! code. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = topoguard::cli::Cli::parse();
    topoguard::cli::run(cli)
}
