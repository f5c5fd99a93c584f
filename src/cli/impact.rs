//! `topoguard impact`: what is affected if a resource, an account, a region or an application
//! fails or is compromised.

use super::can::QueryArgs;
use super::{CliError, InputError};
use crate::graph::Topology;
use crate::query::impact::{Scope, impact};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["resource", "account", "region", "app"])))]
pub struct Args {
    /// A resource, function, rule, bus or role ARN.
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// An account id.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// A region, e.g. `eu-west-1`.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// An application's own nodes.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let scope = match (&args.resource, &args.account, &args.region, &args.app) {
        (Some(r), ..) => Scope::Resource(r),
        (_, Some(a), ..) => Scope::Account(a),
        (_, _, Some(r), _) => Scope::Region(r),
        (_, _, _, Some(a)) => Scope::App(a),
        _ => {
            return Err(InputError("give one of --resource, --account, --region, --app".to_string()).into());
        }
    };
    let (snapshot, config) = args.query.load()?;
    let topology = Topology::build(&snapshot, &config);
    let answer = impact(&topology, scope).map_err(InputError::new)?;
    Ok(args.query.write(|w| answer.render(args.query.format, w))?)
}
