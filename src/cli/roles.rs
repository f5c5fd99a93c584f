//! `topoguard roles`: generate the incident roles of some or all applications and write them in
//! one format into an output directory, atomically: everything is rendered in memory, written
//! to a temporary directory next to `--out-dir`, then renamed into place.
//!
//! Exit codes: 0 written (notes such as zone crossings are printed as warnings and recorded in
//! `summary.json`), 2 bad usage or input (unknown `--app`, an application without resources,
//! a non-empty `--out-dir` without `--force`), 3 internal error (a generated policy failed
//! topoguard's own validation; nothing is written).

use super::{EXIT_OK, InputError};
use crate::checks;
use crate::config::load_config;
use crate::graph::Topology;
use crate::model::load_snapshot;
use crate::roles::render::agent_spaces;
use crate::roles::{self, Format, Options};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Exit code when the generated roles fail their own validation (a bug in topoguard).
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config: a TOML file, or a directory holding `topoguard.toml`.
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    /// Generate for this application only (repeatable); default: every configured application.
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
    #[arg(long, short = 'f', value_enum)]
    pub format: Format,
    /// Directory to write; must not exist or be empty, unless `--force` (which replaces it).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Replace a non-empty `--out-dir`.
    #[arg(long)]
    pub force: bool,
    /// Also write `agent-spaces/<space>.template.json`: the `AWS::DevOpsAgent::AgentSpace` and its
    /// `Association`s with the footprint's accounts (needs `--format cloudformation`).
    #[arg(long)]
    pub agent_spaces: bool,
}

pub fn run(args: Args) -> Result<u8, InputError> {
    if args.agent_spaces && args.format != Format::Cloudformation {
        return Err(InputError(
            "`--agent-spaces` needs `--format cloudformation` (the Agent Space templates are CloudFormation)"
                .to_string(),
        ));
    }
    let snapshot = load_snapshot(&args.topology).map_err(InputError::new)?;
    let config = load_config(&args.policies, &checks::known_ids()).map_err(InputError::new)?;
    let topology = Topology::build(&snapshot, &config);
    let set = match roles::generate(
        &topology,
        &Options {
            apps: args.apps.clone(),
        },
    ) {
        Ok(set) => set,
        Err(e) if e.is_internal() => {
            let _ = writeln!(std::io::stderr(), "error: {}", crate::escape::terminal(&e.to_string()));
            return Ok(EXIT_INTERNAL);
        }
        Err(e) => return Err(InputError(e.to_string())),
    };
    let mut files = roles::render(&set, args.format);
    if args.agent_spaces {
        let associated: agent_spaces::Associated = topology
            .agent_spaces()
            .into_iter()
            .map(|v| {
                let accounts = v.associated().unwrap_or_default();
                (v.name.to_string(), accounts.into_iter().map(str::to_string).collect())
            })
            .collect();
        files.extend(agent_spaces::render(&set, &associated));
    }
    write_dir(&args.out_dir, &files, args.force)?;
    let mut err = std::io::stderr().lock();
    for n in &set.notes {
        let _ = writeln!(err, "warning: {}", crate::escape::terminal(&n.message));
    }
    let policies: usize = set.roles.iter().map(|r| r.policies.len()).sum();
    let _ = writeln!(
        err,
        "wrote {} role(s) with {policies} managed policies to `{}`",
        set.roles.len(),
        args.out_dir.display()
    );
    Ok(EXIT_OK)
}

/// Writes `files` into a fresh temporary directory beside `out`, then renames it to `out`.
fn write_dir(out: &Path, files: &roles::render::Files, force: bool) -> Result<(), InputError> {
    let shown = out.display();
    let exists = out.exists();
    if exists {
        if !out.is_dir() {
            return Err(InputError(format!("`{shown}` exists and is not a directory")));
        }
        let non_empty = std::fs::read_dir(out)
            .map_err(|e| InputError(format!("cannot read `{shown}`: {e}")))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(InputError(format!(
                "`{shown}` is not empty; pass `--force` to replace it"
            )));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| InputError(format!("cannot create `{}`: {e}", parent.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".topoguard-roles-")
        .tempdir_in(parent)
        .map_err(|e| {
            InputError(format!(
                "cannot create a temporary directory in `{}`: {e}",
                parent.display()
            ))
        })?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| InputError(format!("cannot write `{}`: {e}", path.display())))?;
        }
        std::fs::write(&path, bytes).map_err(|e| InputError(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let old = if exists {
        let old = tempfile::Builder::new()
            .prefix(".topoguard-roles-old-")
            .tempdir_in(parent)
            .map_err(|e| InputError(format!("cannot replace `{shown}`: {e}")))?;
        // Move the old directory aside into the (empty) temporary directory's place.
        let aside = old.path().join("old");
        std::fs::rename(out, &aside).map_err(|e| InputError(format!("cannot replace `{shown}`: {e}")))?;
        Some(old)
    } else {
        None
    };
    let written = tmp.keep();
    if let Err(e) = std::fs::rename(&written, out) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old.path().join("old"), out);
        }
        let _ = std::fs::remove_dir_all(&written);
        return Err(InputError(format!("cannot write `{shown}`: {e}")));
    }
    drop(old); // removes the previous contents
    Ok(())
}
