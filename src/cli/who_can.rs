//! `topoguard who-can`: every principal that may perform an action on a resource, directly or
//! through role chains, optionally limited to one application's principals.

use super::can::{QueryArgs, action};
use super::{CliError, InputError};
use crate::graph::Topology;
use crate::query::context::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One action, `service:Action`.
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// The resource ARN.
    #[arg(long, value_name = "ARN")]
    pub resource: String,
    /// A request-context value that decides conditions, on every request of a chain, or
    /// `hop=N:KEY=VALUE` on request N only (see `can`).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Only principals this application owns.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let context = Context::parse(&args.context).map_err(InputError::new)?;
    let action = action(&args.action)?;
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let app = match &args.app {
        Some(name) => Some(topology.app_id(name).ok_or_else(|| {
            InputError(format!(
                "unknown application `{}`; configured applications: {}",
                crate::escape::terminal(name),
                topology.applications.join(", ")
            ))
        })?),
        None => None,
    };
    let answer =
        crate::query::who_can::who_can(&topology, &action, &args.resource, &context, app).map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
