//! `topoguard diff`: what a change does — findings new, resolved and unchanged (matched by their
//! stable fingerprint) and the topology's added, removed and changed nodes and edges — between
//! two snapshots, or a snapshot and the same snapshot with CloudFormation templates or Terraform
//! plans laid over it. Exit 1 only when the change *introduces* a finding at or above
//! `--fail-on`. Also home of the IaC options that `check` shares.

use super::check::{ColorChoice, FailOn, check_infos};
use super::{CliError, EXIT_FINDINGS, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks::{self, Status};
use crate::config::load_config;
use crate::finding::Finding;
use crate::graph::Topology;
use crate::iac::diff::{FindingDiff, TopologyDiff};
use crate::iac::{self, NotConsidered, SourceLocation, Target, Unknown};
use crate::model::{Snapshot, parse_snapshot};
use crate::output::diff::{DiffFormat, DiffReport};
use crate::output::{RenderOptions, Report};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The IaC change to lay over the snapshot (`check` and `diff`).
#[derive(Debug, Default, clap::Args)]
pub struct IacArgs {
    /// A CloudFormation template (JSON or YAML; `cdk synth` output) to lay over the snapshot.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub cfn: Vec<PathBuf>,
    /// A Terraform plan as JSON (`terraform show -json plan.out`). Repeatable.
    #[arg(long = "terraform-plan", value_name = "FILE")]
    pub terraform_plan: Vec<PathBuf>,
    /// The account a template deploys into (repeat for a StackSet); for a plan, the account when
    /// neither the resource's ARN nor the provider's `assume_role` / `allowed_account_ids` says.
    #[arg(long, value_name = "ID")]
    pub account: Vec<String>,
    /// The region a template deploys into; for a plan, when the provider does not say.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// A template parameter value. Repeatable.
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = parse_parameter)]
    pub parameter: Vec<(String, String)>,
}

fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// A snapshot with the IaC change applied.
pub struct Overlaid {
    pub snapshot: Snapshot,
    pub sources: BTreeMap<String, SourceLocation>,
    pub related: BTreeMap<String, Vec<SourceLocation>>,
    pub not_considered: Vec<NotConsidered>,
    pub unknowns: Vec<Unknown>,
}

impl IacArgs {
    fn is_empty(&self) -> bool {
        self.cfn.is_empty() && self.terraform_plan.is_empty()
    }

    /// The files, for `refuse_input`.
    pub fn inputs(&self) -> Vec<(&'static str, &Path)> {
        let cfn = self.cfn.iter().map(|p| ("template", p.as_path()));
        cfn.chain(self.terraform_plan.iter().map(|p| ("plan", p.as_path())))
            .collect()
    }

    /// Lays the change over `snapshot`; without IaC files returns it unchanged. What was not
    /// considered goes into the report of `check` and `diff`, in every format.
    pub fn apply(&self, snapshot: Snapshot) -> Result<Overlaid, InputError> {
        if self.is_empty() {
            if !self.account.is_empty() || self.region.is_some() || !self.parameter.is_empty() {
                return Err(InputError(
                    "`--account`, `--region` and `--parameter` need `--cfn` or `--terraform-plan`".into(),
                ));
            }
            return Ok(Overlaid {
                snapshot,
                sources: BTreeMap::new(),
                related: BTreeMap::new(),
                not_considered: Vec::new(),
                unknowns: Vec::new(),
            });
        }
        if let Some(bad) = self.account.iter().find(|a| !crate::arn::is_account_id(a)) {
            return Err(InputError(format!("`--account {bad}`: not a twelve-digit account id")));
        }
        let target = Target {
            accounts: self.account.clone(),
            region: self.region.clone(),
            parameters: self.parameter.clone(),
        };
        let overlay = iac::read_all(&self.cfn, &self.terraform_plan, &target).map_err(InputError::new)?;
        let applied = iac::apply(&snapshot, &overlay).map_err(InputError::new)?;
        Ok(Overlaid {
            snapshot: applied.snapshot,
            sources: applied.sources,
            related: applied.related,
            not_considered: applied.not_considered,
            unknowns: applied.unknowns,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The snapshot before the change.
    #[arg(long, visible_alias = "topology", short = 't', value_name = "FILE")]
    pub before: PathBuf,
    /// The snapshot after the change (default: the `--before` snapshot, with the IaC change
    /// laid over it).
    #[arg(long, value_name = "FILE")]
    pub after: Option<PathBuf>,
    #[command(flatten)]
    pub iac: IacArgs,
    /// The guardrail config: a TOML file, or a directory holding `topoguard.toml`.
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Write the report here instead of stdout (replaced atomically; naming an input is an error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with 1 when the change introduces a finding of this severity or above.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Do not let new "not proven" results affect the exit code.
    #[arg(long)]
    pub allow_not_proven: bool,
    /// Do not let new "conditional" results affect the exit code.
    #[arg(long)]
    pub allow_conditional: bool,
    /// Colour in the human format; `auto` honours NO_COLOR and whether stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn read_snapshot(path: &Path) -> Result<(Snapshot, String), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("cannot read snapshot `{}`: {e}", path.display())))?;
    let text = crate::model::strip_bom(&text).to_string();
    Ok((parse_snapshot(&text, path)?, text))
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let config_path = crate::config::config_file(&args.policies);
    let mut inputs = vec![("snapshot", args.before.as_path()), ("config", config_path.as_path())];
    inputs.extend(args.after.as_deref().map(|a| ("snapshot", a)));
    inputs.extend(args.iac.inputs());
    refuse_input(args.output.as_deref(), &inputs)?;
    if args.after.is_none()
        && args.iac.is_empty()
        && args.iac.account.is_empty()
        && args.iac.region.is_none()
        && args.iac.parameter.is_empty()
    {
        return Err(InputError("nothing to compare: give `--after` or `--cfn` / `--terraform-plan`".into()).into());
    }
    let (before, before_text) = read_snapshot(&args.before)?;
    let (after_base, after_path, after_text) = match &args.after {
        Some(p) => {
            let (s, t) = read_snapshot(p)?;
            (s, p.clone(), t)
        }
        None => (before.clone(), args.before.clone(), before_text),
    };
    let after = args.iac.apply(after_base)?;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let config_name = config_path.display().to_string();
    let (tb, ta) = (
        Topology::build(&before, &config),
        Topology::build(&after.snapshot, &config),
    );
    let (ob, mut oa) = (
        checks::run_checks(&tb, &config_name),
        checks::run_checks(&ta, &config_name),
    );
    iac::locate_findings(&mut oa.findings, &after.sources, &after.related);
    let sorted = |mut v: Vec<Finding>| {
        v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        v
    };
    let findings = FindingDiff::new(&sorted(ob.findings), &sorted(oa.findings), crate::output::fingerprint);
    let topology = TopologyDiff::new(&tb, &ta);
    let threshold = args.fail_on.threshold();
    let failing = threshold.is_some_and(|t| {
        findings.introduces(t, |f| match f.status {
            Status::Violation => true,
            Status::Conditional => !args.allow_conditional,
            Status::NotProven => !args.allow_not_proven,
        })
    });
    // SARIF of the new findings only, located in the after snapshot or the templates.
    let sarif = Report::new(
        after_path.display().to_string().replace('\\', "/"),
        after_text,
        check_infos(&oa.checks_run),
        config.application_names().map(str::to_string).collect(),
        findings.new.clone(),
        Vec::new(),
        0,
    )
    .with_sources(after.sources.clone())
    .with_not_considered(after.not_considered.clone());
    let report = DiffReport {
        findings,
        topology,
        not_considered: after.not_considered,
        unknowns: after.unknowns,
        sarif,
        failing,
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    write_atomically(args.output.as_deref(), |w| {
        crate::output::diff::render(&report, args.format, RenderOptions { color }, w)
    })?;
    Ok(if failing { EXIT_FINDINGS } else { EXIT_OK })
}
