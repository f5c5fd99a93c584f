//! `topoguard export`: the topology for a graph database — Neptune bulk-loader CSV, Neo4j
//! `neo4j-admin database import` CSV or an openCypher script — written into `--out-dir`. A
//! missing directory is built beside it under a temporary name and renamed into place (all or
//! nothing); an existing one must be empty. Every path goes through [`join_inside`].

use super::write::{create_temp_dir, replace_file};
use super::{CliError, EXIT_OK, InputError, join_inside};
use crate::graph::dbexport::{DbEdge, DbFormat, access_edge, files};
use crate::graph::{NodeKind, Topology};
use crate::query::who_can::who_can;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config (for application attribution).
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum)]
    pub format: DbFormat,
    /// Directory to write; must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Also export `CAN` edges for this action (repeatable): every principal of the snapshot
    /// that `who-can` finds allowed or conditional directly, on every resource of the action's
    /// service; the `who-can` query of docs/graph-database.md runs over them.
    #[arg(long, value_name = "ACTION")]
    pub access: Vec<String>,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let snapshot = crate::model::load_snapshot(&args.topology)?;
    let config = crate::config::load_config(&args.policies, &crate::checks::known_ids()).map_err(InputError::new)?;
    let topology = Topology::build(&snapshot, &config);
    let mut extra = Vec::new();
    for a in &args.access {
        let action = super::can::action(a)?;
        extra.extend(access_edges(&topology, &action)?);
    }
    let out = files(&topology, args.format, extra).map_err(InputError)?;
    write_dir(&args.out_dir, &out)?;
    Ok(EXIT_OK)
}

/// `CAN` edges for `action`: the direct entries of `who-can` on every resource of its service.
fn access_edges(t: &Topology<'_>, action: &str) -> Result<Vec<DbEdge>, InputError> {
    let service = action.split(':').next().unwrap_or("");
    let mut out = Vec::new();
    for (_, n) in t.nodes() {
        let same = crate::arn::Arn::parse(n.id).is_ok_and(|a| a.service == service);
        if !same || n.kind == NodeKind::External {
            continue;
        }
        let answer =
            who_can(t, action, n.id, &crate::query::context::Context::default(), None).map_err(InputError::new)?;
        for p in answer
            .principals
            .iter()
            .filter(|p| p.chain.is_empty() && t.find(&p.principal).is_some())
        {
            out.push(access_edge(t, &p.principal, n.id, action, p.decision.as_str()));
        }
    }
    Ok(out)
}

fn write_files(dir: &Path, files: &[(String, String)]) -> Result<(), InputError> {
    for (rel, text) in files {
        let target = join_inside(dir, rel).map_err(InputError::new)?;
        replace_file(&target, text.as_bytes())
            .map_err(|e| InputError(format!("cannot write `{}`: {e}", target.display())))?;
    }
    Ok(())
}

fn write_dir(out: &Path, files: &[(String, String)]) -> Result<(), InputError> {
    for (rel, _) in files {
        join_inside(out, rel).map_err(InputError::new)?;
    }
    let shown = out.display();
    if std::fs::symlink_metadata(out).is_ok() {
        if !out.is_dir() {
            return Err(InputError(format!("`{shown}` exists and is not a directory")));
        }
        let empty = std::fs::read_dir(out)
            .map_err(|e| InputError(format!("cannot read `{shown}`: {e}")))?
            .next()
            .is_none();
        if !empty {
            return Err(InputError(format!(
                "`{shown}` is not empty; choose a new or empty `--out-dir`"
            )));
        }
        return write_files(out, files);
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| InputError(format!("cannot create `{}`: {e}", parent.display())))?;
    let tmp = create_temp_dir(parent, ".topoguard-export-").map_err(|e| {
        InputError(format!(
            "cannot create a temporary directory in `{}`: {e}",
            parent.display()
        ))
    })?;
    let result = write_files(&tmp, files)
        .and_then(|()| std::fs::rename(&tmp, out).map_err(|e| InputError(format!("cannot write `{shown}`: {e}"))));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}
