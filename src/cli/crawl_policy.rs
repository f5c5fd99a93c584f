//! `topoguard crawl-policy`: print the IAM policy the crawl needs — exactly the read-only actions
//! the crawler calls, plus `sts:AssumeRole` into the crawl role.

use super::InputError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The role the crawl assumes in member accounts (scopes `sts:AssumeRole`).
    #[arg(long, default_value = "OrganizationAccountAccessRole", value_name = "NAME")]
    pub role_name: String,
}

#[cfg(not(feature = "aws"))]
pub fn run(_args: Args) -> Result<u8, InputError> {
    Err(InputError(super::crawl::NOT_BUILT.to_string()))
}

#[cfg(feature = "aws")]
pub fn run(args: Args) -> Result<u8, InputError> {
    use super::{EXIT_OK, write_atomically};
    let policy = crate::crawl::crawl_policy(&args.role_name);
    write_atomically(None, |w| {
        serde_json::to_writer_pretty(&mut *w, &policy).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    Ok(EXIT_OK)
}
