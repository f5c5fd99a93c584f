//! Renderers: every output goes through an injected writer, and every list is sorted so that the
//! same input gives byte-identical output.

mod report;

pub use report::{CheckInfo, Report, Summary};

use std::io::Write;

/// Output formats of `topoguard check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Markdown,
}

/// Options that only some renderers use.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Colour (human format only).
    pub color: bool,
}

/// Renders a report in `format` to `out`.
pub fn render(report: &Report, format: Format, options: RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let _ = (report, options, out);
    match format {
        Format::Human | Format::Json | Format::Sarif | Format::Junit | Format::Markdown => Err(std::io::Error::other(
            format!("output format `{format:?}` is not supported yet"),
        )),
    }
}
