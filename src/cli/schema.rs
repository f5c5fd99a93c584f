//! `topoguard schema`: prints the JSON Schema of the snapshot format, generated from the types.

use super::{EXIT_OK, InputError, write_atomically};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<u8, InputError> {
    let text = crate::model::json_schema();
    write_atomically(args.output.as_deref(), |w| w.write_all(text.as_bytes()))?;
    Ok(EXIT_OK)
}
