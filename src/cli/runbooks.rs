//! `topoguard runbooks`: write each application's `RUNBOOK.md` and its AWS DevOps Agent skill
//! (see [`crate::readiness::runbook`]) into `--out-dir`, all or nothing for a new directory,
//! and only over files topoguard wrote (its manifest) for an existing one.

use super::{CliError, EXIT_OK};
use crate::checks;
use crate::config::load_config;
use crate::graph::Topology;
use crate::model::load_snapshot;
use crate::readiness::{self, runbook};
use std::io::Write as _;
use std::path::PathBuf;

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
    /// Directory to write; must not exist or be empty, unless `--force`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Write into a non-empty `--out-dir`, replacing only the files topoguard wrote there.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let config_path = crate::config::config_file(&args.policies);
    let snapshot = load_snapshot(&args.topology)?;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let mut apps = super::readiness::select_apps(&topology, &args.app)?;
    if apps.is_empty() {
        apps = (0..topology.applications.len()).collect();
    }
    let outcome = checks::run_checks(&topology, &config_path.display().to_string());
    let scores = readiness::score(&topology, &outcome, &apps);
    let files = runbook::generate(&topology, &outcome.findings, &scores, &apps);
    super::roles::write_dir(&args.out_dir, &files, args.force, &[&args.topology, &config_path])?;
    let _ = writeln!(
        std::io::stderr(),
        "wrote {} runbook(s) and skill(s) to `{}`",
        apps.len(),
        crate::escape::terminal(&args.out_dir.display().to_string())
    );
    Ok(EXIT_OK)
}
