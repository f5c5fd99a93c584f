//! `topoguard check`: load a snapshot and the guardrail config, run every enabled check, render
//! the findings, and decide the exit code.

use super::{CliError, EXIT_FINDINGS, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks::{self, REGISTRY, Severity, Status, unused_ignore};
use crate::config::load_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use crate::output::{CheckInfo, Format, RenderOptions, Report, render};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never fail on findings.
    None,
}

impl FailOn {
    pub(super) fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::None => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology snapshot (JSON) to check.
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config: a TOML file, or a directory holding `topoguard.toml`.
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report here instead of stdout: a regular file is replaced atomically, `-`,
    /// `/dev/stdout`, a FIFO or a device is written to directly; naming the snapshot or config is
    /// an error.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with 1 when a finding reaches this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Do not let "not proven" results (coverage gaps) affect the exit code. They are still reported.
    #[arg(long)]
    pub allow_not_proven: bool,
    /// Do not let "conditional" results (access that depends on condition keys the snapshot cannot
    /// decide) affect the exit code. They are still reported.
    #[arg(long)]
    pub allow_conditional: bool,
    /// Colour in the human format; `auto` honours NO_COLOR and whether stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// An IaC change to check with the snapshot (templates, plans, account, region, parameters).
    #[command(flatten)]
    pub iac: super::diff::IacArgs,
}

/// Descriptions of every check the report may mention.
pub fn check_infos(ran: &[&str]) -> Vec<CheckInfo> {
    let mut infos: Vec<CheckInfo> = REGISTRY
        .iter()
        .filter(|c| ran.contains(&c.id()))
        .map(|c| CheckInfo {
            id: c.id().to_string(),
            title: c.title().to_string(),
            description: c.description().to_string(),
            default_severity: c.default_severity(),
            help_uri: format!("{}#{}", checks::DOCS_URL, c.id()),
        })
        .collect();
    infos.push(CheckInfo {
        id: unused_ignore::ID.to_string(),
        title: unused_ignore::TITLE.to_string(),
        description: unused_ignore::DESCRIPTION.to_string(),
        default_severity: Severity::Low,
        help_uri: format!("{}#{}", checks::DOCS_URL, unused_ignore::ID),
    });
    infos
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let config_path = crate::config::config_file(&args.policies);
    let mut inputs = vec![("snapshot", args.topology.as_path()), ("config", config_path.as_path())];
    inputs.extend(args.iac.inputs());
    refuse_input(args.output.as_deref(), &inputs)?;
    let text = std::fs::read_to_string(&args.topology)
        .map_err(|e| InputError(format!("cannot read snapshot `{}`: {e}", args.topology.display())))?;
    let text = crate::model::strip_bom(&text).to_string();
    let snapshot = parse_snapshot(&text, &args.topology)?;
    let overlaid = args.iac.apply(snapshot)?;
    let snapshot = overlaid.snapshot;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let mut outcome = checks::run_checks(&topology, &config_path.display().to_string());
    crate::iac::locate_findings(&mut outcome.findings, &overlaid.sources, &overlaid.related);
    let report = Report::new(
        args.topology.display().to_string().replace('\\', "/"),
        text,
        check_infos(&outcome.checks_run),
        config.application_names().map(str::to_string).collect(),
        outcome.findings,
        snapshot.coverage.gaps.clone(),
        outcome.ignored,
    )
    .with_sources(overlaid.sources)
    .with_not_considered(overlaid.not_considered);
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    write_atomically(args.output.as_deref(), |w| match args.format {
        Format::Html => crate::output::html::check(&topology, &report.findings, &report.topology_path, w),
        format => render(&report, format, RenderOptions { color }, w),
    })?;
    let failing = args.fail_on.threshold().is_some_and(|threshold| {
        report
            .findings
            .iter()
            .any(|f| f.severity >= threshold && counts_toward_failure(f.status, &args))
    });
    Ok(if failing { EXIT_FINDINGS } else { EXIT_OK })
}

/// Whether a finding of this status can fail the run: violations always, conditional and
/// not-proven results unless the user accepted them.
fn counts_toward_failure(status: Status, args: &Args) -> bool {
    match status {
        Status::Violation => true,
        Status::Conditional => !args.allow_conditional,
        Status::NotProven => !args.allow_not_proven,
    }
}
