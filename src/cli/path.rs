//! `topoguard path`: the shortest delivery, use and assume paths between two nodes.

use super::can::{QueryArgs, action};
use super::{CliError, InputError};
use crate::graph::Topology;
use crate::query::context::Context;
use crate::query::path::PathQuery;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The start node: an ARN or account id.
    #[arg(long, value_name = "ARN")]
    pub from: String,
    /// The end node: an ARN or account id.
    #[arg(long, value_name = "ARN")]
    pub to: String,
    /// The action a last `can-access` hop to the target must allow (omitted: any action the
    /// principal's identity policies name that is allowed on it).
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// A request-context value for every assumption and access of the path, or
    /// `hop=N:KEY=VALUE` for the N-th hop only (see `can`).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let context = Context::parse(&args.context).map_err(InputError::new)?;
    let action = args.action.as_deref().map(action).transpose()?;
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let q = PathQuery {
        action: action.as_deref(),
        context: &context,
    };
    let answer = crate::query::path::path(&topology, &args.from, &args.to, q).map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
