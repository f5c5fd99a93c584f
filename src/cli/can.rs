//! `topoguard can`: may a principal perform an action (on a resource), directly or through a
//! role chain? Also holds the arguments and the load-answer-write path every query command
//! shares.

use super::{CliError, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks;
use crate::config::{Config, load_config};
use crate::graph::Topology;
use crate::iam::catalog::Catalog;
use crate::model::{Snapshot, load_snapshot};
use crate::query::{AnswerFormat, known_action, parse_context};
use std::io::{self, Write};
use std::path::PathBuf;

/// What every query command reads and where it writes.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config (applications, zones, Agent Spaces).
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = AnswerFormat::Human)]
    pub format: AnswerFormat,
    /// Write here instead of stdout (replaced atomically; naming the snapshot or config is an error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl QueryArgs {
    /// Loads the snapshot and config, refusing an output that names either.
    pub fn load(&self) -> Result<(Snapshot, Config), CliError> {
        let config_path = crate::config::config_file(&self.policies);
        refuse_input(
            self.output.as_deref(),
            &[("snapshot", &self.topology), ("config", &config_path)],
        )?;
        let snapshot = load_snapshot(&self.topology)?;
        let config = load_config(&self.policies, &checks::known_ids())?;
        Ok((snapshot, config))
    }

    /// Writes a rendered answer and returns exit 0.
    pub fn write(&self, render: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<u8, InputError> {
        write_atomically(self.output.as_deref(), render)?;
        Ok(EXIT_OK)
    }
}

/// The action as the catalog spells it (exit 2 with the closest names when unknown).
pub fn action(name: &str) -> Result<String, InputError> {
    let catalog = Catalog::get().map_err(|e| InputError(format!("cannot load the action catalog: {e}")))?;
    known_action(catalog, name).map_err(InputError::new)
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The principal: a role, role session or user ARN of the snapshot.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// One action, `service:Action`.
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// The resource ARN (omitted: `*`).
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// A request-context value that decides conditions, e.g. `aws:MultiFactorAuthPresent=true`
    /// (repeat for several keys or values; `KEY=` says the key is absent).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let context = parse_context(&args.context).map_err(InputError::new)?;
    let action = action(&args.action)?;
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let answer = crate::query::can::can(&topology, &args.principal, &action, args.resource.as_deref(), &context)
        .map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
