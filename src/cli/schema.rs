//! `topoguard schema`: prints the JSON Schema of the snapshot format, generated from the types.

use super::{EXIT_OK, InputError, write_atomically};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The schema text, pretty-printed with a trailing newline.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(crate::model::Snapshot);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub fn run(args: Args) -> Result<u8, InputError> {
    let text = schema_text();
    write_atomically(args.output.as_deref(), |w| w.write_all(text.as_bytes()))?;
    Ok(EXIT_OK)
}
