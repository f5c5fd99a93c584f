//! `topoguard path`: the shortest delivery, use and assume paths between two nodes.

use super::can::QueryArgs;
use super::{CliError, InputError};
use crate::graph::Topology;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The start node: an ARN or account id.
    #[arg(long, value_name = "ARN")]
    pub from: String,
    /// The end node: an ARN or account id.
    #[arg(long, value_name = "ARN")]
    pub to: String,
    #[command(flatten)]
    pub query: QueryArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let answer = crate::query::path::path(&topology, &args.from, &args.to).map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
