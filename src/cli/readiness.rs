//! `topoguard readiness`: score each application's incident readiness (see
//! `docs/readiness.md`) from the snapshot and the findings, render the scores, and with
//! `--min-score` fail (exit 1) when a selected application scores below the bar.

use super::{CliError, EXIT_FINDINGS, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks;
use crate::config::load_config;
use crate::graph::{AppId, Topology};
use crate::model::parse_snapshot;
use crate::readiness::{self, render};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadinessFormat {
    Human,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config: a TOML file, or a directory holding `topoguard.toml`.
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    /// Only this application (repeatable); every configured application by default.
    #[arg(long, value_name = "NAME")]
    pub app: Vec<String>,
    #[arg(long, short = 'f', value_enum, default_value_t = ReadinessFormat::Human)]
    pub format: ReadinessFormat,
    /// Exit with 1 when a selected application scores below this (0-100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub min_score: Option<u32>,
    /// Write here instead of stdout: a regular file is replaced atomically; naming the snapshot
    /// or config is an error.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let config_path = crate::config::config_file(&args.policies);
    refuse_input(
        args.output.as_deref(),
        &[("snapshot", &args.topology), ("config", &config_path)],
    )?;
    let text = std::fs::read_to_string(&args.topology)
        .map_err(|e| InputError(format!("cannot read snapshot `{}`: {e}", args.topology.display())))?;
    let text = crate::model::strip_bom(&text).to_string();
    let snapshot = parse_snapshot(&text, &args.topology)?;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let source = args.topology.display().to_string().replace('\\', "/");
    let apps = select_apps(&topology, &args.app)?;
    let outcome = checks::run_checks(&topology, &config_path.display().to_string());
    let scores = readiness::score(&topology, &outcome, &apps);
    if scores.iter().any(|s| s.possible == 0) {
        return Err(InputError(format!(
            "`{}`: every `[readiness.weights]` entry is 0, so no score can be computed",
            config_path.display()
        ))
        .into());
    }
    write_atomically(args.output.as_deref(), |w| match args.format {
        ReadinessFormat::Human => render::human(&scores, w),
        ReadinessFormat::Json => render::json(&scores, w),
        ReadinessFormat::Markdown => render::markdown(&scores, w),
        ReadinessFormat::Html => crate::output::html::readiness(&topology, &scores, &outcome.findings, &source, w),
    })?;
    let below = args.min_score.is_some_and(|min| scores.iter().any(|s| s.score < min));
    Ok(if below { EXIT_FINDINGS } else { EXIT_OK })
}

/// The applications named, or an error naming the unknown one and the configured ones.
pub fn select_apps(t: &Topology<'_>, names: &[String]) -> Result<Vec<AppId>, InputError> {
    let mut out = Vec::new();
    for name in names {
        let id = t.app_id(name).ok_or_else(|| {
            InputError(format!(
                "unknown application `{name}`; configured applications: {}",
                t.applications.join(", ")
            ))
        })?;
        out.push(id);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
