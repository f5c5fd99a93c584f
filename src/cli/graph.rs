//! `topoguard graph`: exports the topology as Graphviz DOT, Mermaid or JSON, whole or limited
//! to one application's footprint.

use super::{CliError, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks;
use crate::config::load_config;
use crate::graph::Topology;
use crate::graph::export::{GraphFormat, export};
use crate::model::load_snapshot;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config (for application attribution).
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Only this application's footprint: its resources, what they use, and their accounts.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// Write here instead of stdout: a regular file is replaced atomically, `-`, `/dev/stdout`, a
    /// FIFO or a device is written to directly; naming the snapshot or config is an error.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let config_path = crate::config::config_file(&args.policies);
    refuse_input(
        args.output.as_deref(),
        &[("snapshot", &args.topology), ("config", &config_path)],
    )?;
    let snapshot = load_snapshot(&args.topology)?;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let app = match &args.app {
        Some(name) => Some(topology.app_id(name).ok_or_else(|| {
            InputError(format!(
                "unknown application `{name}`; configured applications: {}",
                topology.applications.join(", ")
            ))
        })?),
        None => None,
    };
    // Findings are drawn on the pictures (outlined, named in the tooltip).
    let findings = match args.format {
        GraphFormat::Json => Vec::new(),
        _ => checks::run_checks(&topology, &config_path.display().to_string()).findings,
    };
    write_atomically(args.output.as_deref(), |w| {
        export(&topology, app, args.format, &findings, w)
    })?;
    Ok(EXIT_OK)
}
