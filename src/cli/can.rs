//! `topoguard can`: may a principal perform an action (on a resource), directly or through a
//! role chain? Also holds the arguments and the load-answer-write path every query command
//! shares.

use super::{CliError, EXIT_OK, InputError, refuse_input, write_atomically};
use crate::checks;
use crate::config::{Config, load_config};
use crate::graph::Topology;
use crate::iam::catalog::Catalog;
use crate::iam::store::Named;
use crate::model::{Snapshot, load_snapshot};
use crate::query::context::Context;
use crate::query::{AnswerFormat, known_action};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What every query command reads and where it writes.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The topology snapshot (JSON).
    #[arg(long, short = 't', value_name = "FILE")]
    pub topology: PathBuf,
    /// The guardrail config (applications, zones, Agent Spaces).
    #[arg(long, short = 'p', value_name = "PATH", default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = AnswerFormat::Human)]
    pub format: AnswerFormat,
    /// Write here instead of stdout (replaced atomically; naming the snapshot or config is an error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl QueryArgs {
    /// Loads the snapshot and config, refusing an output that names either.
    pub fn load(&self) -> Result<(Snapshot, Config), CliError> {
        let config_path = crate::config::config_file(&self.policies);
        refuse_input(
            self.output.as_deref(),
            &[("snapshot", &self.topology), ("config", &config_path)],
        )?;
        let snapshot = load_snapshot(&self.topology)?;
        let config = load_config(&self.policies, &checks::known_ids())?;
        Ok((snapshot, config))
    }

    /// Writes a rendered answer and returns exit 0.
    pub fn write(&self, render: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<u8, InputError> {
        write_atomically(self.output.as_deref(), render)?;
        Ok(EXIT_OK)
    }
}

/// The action as the catalog spells it (exit 2 with the closest names when unknown).
pub fn action(name: &str) -> Result<String, InputError> {
    let catalog = Catalog::get().map_err(|e| InputError(format!("cannot load the action catalog: {e}")))?;
    known_action(catalog, name).map_err(InputError::new)
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The principal: a role, role session or user ARN of the snapshot.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// One action, `service:Action`.
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// The resource ARN (omitted: `*`).
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// A request-context value that decides conditions, e.g. `aws:MultiFactorAuthPresent=true`
    /// (repeat for several keys or values; `KEY=` says the key is absent). It applies to every
    /// request of a role chain; `hop=N:KEY=VALUE` to request N only (1 = the first request).
    #[arg(long, value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The inline session policy (a JSON policy document) passed when the principal's session
    /// was created: the session may do only what its identity policies and its session
    /// policies both allow.
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// A managed policy of the snapshot passed as a session policy (repeat, at most 10).
    #[arg(long, value_name = "ARN")]
    pub session_policy_arn: Vec<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

/// AWS accepts at most this many managed session policies.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html>
const MAX_MANAGED_SESSION_POLICIES: usize = 10;

/// The inline session policy read from `path`, named for evidence after the file.
fn inline_session_policy(path: &Path) -> Result<Named, InputError> {
    let place = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError(format!("cannot read session policy `{place}`: {e}")))?;
    let policy = crate::iam::session_policy::parse(&text)
        .map_err(|e| InputError(format!("session policy `{place}`{}", e.describe(&text))))?;
    Ok(Named {
        name: format!("session policy `{place}`"),
        policy: Arc::new(policy),
    })
}

/// The session policies `can` was given: the file's and the snapshot's managed ones.
fn session_policies(args: &Args, topology: &Topology<'_>) -> Result<Vec<Named>, InputError> {
    if args.session_policy_arn.len() > MAX_MANAGED_SESSION_POLICIES {
        return Err(InputError(format!(
            "{} --session-policy-arn given: a session takes at most {MAX_MANAGED_SESSION_POLICIES} managed session policies",
            args.session_policy_arn.len()
        )));
    }
    let mut out = Vec::new();
    if let Some(path) = &args.session_policy {
        out.push(inline_session_policy(path)?);
    }
    for arn in &args.session_policy_arn {
        let managed = topology.policies.managed(arn).ok_or_else(|| {
            InputError(format!(
                "--session-policy-arn `{}`: no managed policy with this ARN in the snapshot",
                crate::escape::terminal(arn)
            ))
        })?;
        out.push(Named {
            name: format!("session policy {}", managed.name),
            policy: Arc::clone(&managed.policy),
        });
    }
    Ok(out)
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let context = Context::parse(&args.context).map_err(InputError::new)?;
    let action = action(&args.action)?;
    if let Some(p) = &args.session_policy {
        refuse_input(args.query.output.as_deref(), &[("session policy", p)])?;
    }
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let context = context.with_session(session_policies(&args, &topology)?);
    let answer = crate::query::can::can(&topology, &args.principal, &action, args.resource.as_deref(), &context)
        .map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
