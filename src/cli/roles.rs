//! `topoguard roles`: generate the incident roles of some or all applications and write them in
//! one format into an output directory. Everything is rendered in memory first; a new
//! `--out-dir` is written as a temporary directory beside it and renamed into place; an existing
//! one is written into file by file (each replaced atomically), touching only what the
//! manifest `.topoguard-manifest.json` says topoguard wrote there.
//!
//! Exit codes: 0 written (notes such as zone crossings are printed as warnings and recorded in
//! `summary.json`), 2 bad usage or input (unknown `--app`, an application without resources,
//! a non-empty `--out-dir` without `--force`, a file in the way that topoguard did not write,
//! a name too long for a generated IAM role), 4 internal error (a generated policy failed
//! topoguard's own validation; nothing is written: [`super::EXIT_INTERNAL`]).

use super::write::{create_temp_dir, replace_file};
use super::{CliError, EXIT_OK, InputError};
use crate::checks;
use crate::cli::join_inside;
use crate::config::load_config;
use crate::graph::Topology;
use crate::model::load_snapshot;
use crate::roles::render::Files;
use crate::roles::render::agent_spaces;
use crate::roles::{self, Format, Options};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    /// Directory to write; must not exist or be empty, unless `--force`. topoguard lists what it
    /// writes in `.topoguard-manifest.json` there.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Write into a non-empty `--out-dir`: replace and remove only the files its manifest lists
    /// (never the snapshot or config); any other file in the way is an error.
    #[arg(long)]
    pub force: bool,
    /// Also write `agent-spaces/<space>.template.json`: the `AWS::DevOpsAgent::AgentSpace` and its
    /// `Association`s with the footprint's accounts (needs `--format cloudformation`).
    #[arg(long)]
    pub agent_spaces: bool,
    /// Also generate each Agent Space's elevated role (`DevOpsAgentElevatedRole-<space>`: the
    /// mitigate tier's reversible writes on the application's own functions and rules), and with
    /// `--agent-spaces` name it in the associations the templates create.
    #[arg(long)]
    pub elevated: bool,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    if args.agent_spaces && args.format != Format::Cloudformation {
        return Err(InputError(
            "`--agent-spaces` needs `--format cloudformation` (the Agent Space templates are CloudFormation)"
                .to_string(),
        )
        .into());
    }
    let snapshot = load_snapshot(&args.topology)?;
    let config = load_config(&args.policies, &checks::known_ids())?;
    let topology = Topology::build(&snapshot, &config);
    let set = match roles::generate(
        &topology,
        &Options {
            apps: args.apps.clone(),
            elevated: args.elevated,
        },
    ) {
        Ok(set) => set,
        Err(e) if e.is_internal() => return Err(CliError::Internal(e.to_string())),
        Err(e) => return Err(InputError(e.to_string()).into()),
    };
    let mut files = roles::render(&set, args.format);
    let mut notes: Vec<String> = set.notes.iter().map(|n| n.message.clone()).collect();
    if args.elevated {
        notes.extend(elevated_notes(&topology, &set));
    }
    if args.agent_spaces {
        let associated: agent_spaces::Associated = topology
            .agent_spaces()
            .into_iter()
            .map(|v| {
                let accounts = v.associated().unwrap_or_default();
                (v.name.to_string(), accounts.into_iter().map(str::to_string).collect())
            })
            .collect();
        let unread = unread_associations(&topology);
        files.extend(agent_spaces::render(
            &set,
            &associated,
            &unread.keys().cloned().collect(),
        ));
        notes.extend(unread.iter().map(|(space, gaps)| {
            format!(
                "Agent Space `{space}`: its associations could not be read ({gaps}), so which accounts it is associated with is unknown; no association template is written for it. Let the crawl role call `aidevops:ListAssociations` and crawl again."
            )
        }));
    }
    let config_path = crate::config::config_file(&args.policies);
    write_dir(&args.out_dir, &files, args.force, &[&args.topology, &config_path])?;
    let mut err = std::io::stderr().lock();
    for n in &notes {
        let _ = writeln!(err, "warning: {}", crate::escape::terminal(n));
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

/// Existing Agent Spaces whose associations a coverage gap hides (`aidevops:ListAssociations`
/// in the space's account and region, or a gap that gates every API there), with the gaps
/// described.
fn unread_associations(topology: &Topology<'_>) -> std::collections::BTreeMap<String, String> {
    topology
        .agent_spaces()
        .into_iter()
        .filter_map(|v| {
            let space = v.existing?;
            let gaps = checks::gaps_hiding_apis(
                topology,
                &["aidevops:ListAssociations"],
                &[space.account.as_str()],
                Some(space.region.as_str()),
            );
            (!gaps.is_empty()).then(|| (v.name.to_string(), checks::describe_gaps(&gaps)))
        })
        .collect()
}

/// What `--elevated` cannot do through a template: an existing space without
/// `elevatedActionsEnabled`, and existing associations that do not name the generated elevated
/// role (templates only create associations).
fn elevated_notes(topology: &Topology<'_>, set: &roles::RoleSet) -> Vec<String> {
    let mut notes = Vec::new();
    for view in topology.agent_spaces() {
        let Some(space) = view.existing else { continue };
        let name = roles::agent_elevated_role_name(view.name);
        let generated: Vec<&roles::GeneratedRole> = set
            .roles
            .iter()
            .filter(|r| r.kind == roles::RoleKind::AgentElevated && r.name == name)
            .filter(|r| r.space.as_deref() == Some(view.name))
            .collect();
        if generated.is_empty() {
            continue;
        }
        if space.elevated_actions_enabled != Some(true) {
            notes.push(format!(
                "Agent Space `{}` exists and does not have elevated actions enabled; set its preference `elevatedActionsEnabled` (UpdateAgentSpace) for its elevated roles to be used",
                view.name
            ));
        }
        for role in generated {
            let arn = role.arn();
            let Some(a) = space.associations.iter().find(|a| a.account == role.account) else {
                continue;
            };
            if a.elevated_role.as_deref() != Some(arn.as_str()) {
                notes.push(format!(
                    "Agent Space `{}`: the association of account `{}` exists and the templates do not change it; set its elevated role to `{arn}` (UpdateAssociation, `agentElevatedRoleArn`)",
                    view.name, role.account
                ));
            }
        }
    }
    notes
}

/// The file in `--out-dir` that lists what topoguard wrote there.
pub const MANIFEST: &str = ".topoguard-manifest.json";

/// Writes `files` under `out`. A missing `out` is built as a temporary directory beside it and
/// renamed into place (all or nothing). An existing `out` is written into: empty, or with
/// `--force`, where only files listed in its manifest may be replaced or removed; any other
/// existing file in the way, and any input of the run, is an error found before anything is
/// written. Every path goes through [`join_inside`].
pub(super) fn write_dir(out: &Path, files: &Files, force: bool, inputs: &[&Path]) -> Result<(), InputError> {
    let shown = out.display();
    for rel in files.keys() {
        join_inside(out, rel).map_err(InputError::new)?;
        if rel == MANIFEST {
            return Err(InputError(format!(
                "refusing to write `{rel}`: the name is topoguard's manifest"
            )));
        }
    }
    match std::fs::symlink_metadata(out) {
        Err(_) => return write_new_dir(out, files),
        Ok(_) if !out.is_dir() => return Err(InputError(format!("`{shown}` exists and is not a directory"))),
        Ok(_) => {}
    }
    let non_empty = std::fs::read_dir(out)
        .map_err(|e| InputError(format!("cannot read `{shown}`: {e}")))?
        .next()
        .is_some();
    if non_empty && !force {
        return Err(InputError(format!(
            "`{shown}` is not empty; pass `--force` to replace the files topoguard wrote there"
        )));
    }
    let old = read_manifest(out)?;
    let inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
    let is_input = |p: &Path| std::fs::canonicalize(p).is_ok_and(|c| inputs.contains(&c));
    for rel in files.keys() {
        let target = join_inside(out, rel).map_err(InputError::new)?;
        let Ok(meta) = std::fs::symlink_metadata(&target) else {
            continue;
        };
        let problem = if is_input(&target) {
            "it is an input of this run"
        } else if !old.contains(rel) {
            "it was not written by topoguard (not in its manifest)"
        } else if meta.is_dir() {
            "it is a directory"
        } else {
            continue;
        };
        return Err(InputError(format!(
            "refusing to replace `{}`: {problem}; move it or choose another `--out-dir`",
            target.display()
        )));
    }
    merge_into(out, files, &old, &is_input)
}

/// Writes every file, removes the previous run's files that are gone (never an input), then
/// the manifest.
fn merge_into(
    out: &Path,
    files: &Files,
    old: &BTreeSet<String>,
    is_input: &dyn Fn(&Path) -> bool,
) -> Result<(), InputError> {
    let cannot = |p: &Path, e: std::io::Error| InputError(format!("cannot write `{}`: {e}", p.display()));
    for (rel, bytes) in files {
        let target = join_inside(out, rel).map_err(InputError::new)?;
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
        }
        replace_file(&target, bytes).map_err(|e| cannot(&target, e))?;
    }
    for rel in old.iter().filter(|r| !files.contains_key(*r)) {
        let target = join_inside(out, rel).map_err(InputError::new)?;
        if is_input(&target) || std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let _ = std::fs::remove_file(&target);
        // Remove directories the removal emptied (stops at the first non-empty one).
        let mut dir = target.parent();
        while let Some(d) = dir.filter(|d| *d != out && d.starts_with(out)) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    let manifest = out.join(MANIFEST);
    replace_file(&manifest, &manifest_bytes(files)).map_err(|e| cannot(&manifest, e))
}

/// A new `out`: everything is written into a temporary directory beside it, then renamed.
fn write_new_dir(out: &Path, files: &Files) -> Result<(), InputError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| InputError(format!("cannot create `{}`: {e}", parent.display())))?;
    let tmp = create_temp_dir(parent, ".topoguard-roles-").map_err(|e| {
        InputError(format!(
            "cannot create a temporary directory in `{}`: {e}",
            parent.display()
        ))
    })?;
    let result = merge_into(&tmp, files, &BTreeSet::new(), &|_| false).and_then(|()| {
        std::fs::rename(&tmp, out).map_err(|e| InputError(format!("cannot write `{}`: {e}", out.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn manifest_bytes(files: &Files) -> Vec<u8> {
    let listed: Vec<&String> = files.keys().collect();
    crate::roles::render::pretty(&serde_json::json!({
        "generated_by": "topoguard roles",
        "files": listed,
    }))
}

/// The files the manifest in `out` lists (none without a manifest). Every entry must be a
/// plain relative path inside `out`.
fn read_manifest(out: &Path) -> Result<BTreeSet<String>, InputError> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        files: Vec<String>,
    }
    let path = out.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(InputError(format!("cannot read `{}`: {e}", path.display()))),
    };
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| InputError(format!("manifest `{}` is not valid: {e}", path.display())))?;
    for rel in &manifest.files {
        join_inside(out, rel).map_err(|e| InputError(format!("manifest `{}` is not valid: {e}", path.display())))?;
    }
    Ok(manifest.files.into_iter().collect())
}
