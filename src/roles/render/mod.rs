//! Renderers of a role set: `iam` (one directory per role with its JSON documents),
//! `cloudformation` (one template per account) and `terraform` (one `.tf.json` root module per
//! account). Each returns every file in memory, keyed by relative path, with sorted keys and no
//! timestamps, so the same role set always gives the same bytes. Every format also writes
//! `summary.json` with the roles and the notes (zone crossings, placeholders). With
//! `--agent-spaces`, [`agent_spaces`] adds the Agent Space templates.

pub mod agent_spaces;
mod cloudformation;
mod iam;
mod terraform;

use super::RoleSet;
pub use crate::model::file_name;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Trust and permission JSON documents per role, in `<app>/<account>/<role>/`.
    Iam,
    /// One CloudFormation template per account (JSON), parameterised for StackSets.
    Cloudformation,
    /// One Terraform root module per account (`<account>/main.tf.json`).
    Terraform,
}

/// Files to write: relative path (with `/`) → content. Every component that comes from data
/// (application, account, role and Agent Space names) goes through [`file_name`], and the
/// writer places each path with `cli::join_inside`, which refuses anything leaving `--out-dir`.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Renders every file of `format`.
pub fn render(set: &RoleSet, format: Format) -> Files {
    let mut files = match format {
        Format::Iam => iam::render(set),
        Format::Cloudformation => cloudformation::render(set),
        Format::Terraform => terraform::render(set),
    };
    files.insert("summary.json".to_string(), pretty(&summary(set)));
    files
}

/// Pretty JSON with a trailing newline.
pub fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn summary(set: &RoleSet) -> Value {
    let roles: Vec<Value> = set
        .roles
        .iter()
        .map(|r| {
            json!({
                "application": r.application,
                "account": r.account,
                "arn": r.arn(),
                "kind": r.kind,
                "space": r.space,
                "policies": r.policies.len(),
                "largest_policy_chars": r.policies.iter().map(super::compact_len).max().unwrap_or(0),
                "trust_chars": super::compact_len(&r.trust),
            })
        })
        .collect();
    json!({
        "generated_by": "topoguard roles",
        "roles": roles,
        "parameters": set.parameters,
        "notes": set.notes,
    })
}

/// Whether `doc` contains the placeholder `${name}` anywhere.
fn uses_placeholder(doc: &Value, name: &str) -> bool {
    serde_json::to_string(doc).is_ok_and(|s| s.contains(&format!("${{{name}}}")))
}

/// The role's accounts, sorted, each with its roles in set order.
fn by_account(set: &RoleSet) -> BTreeMap<&str, Vec<&super::GeneratedRole>> {
    let mut out: BTreeMap<&str, Vec<&super::GeneratedRole>> = BTreeMap::new();
    for r in &set.roles {
        out.entry(r.account.as_str()).or_default().push(r);
    }
    out
}

/// A CamelCase identifier from a name (`DevOpsAgentRole-invoice-oncall` →
/// `DevOpsAgentRoleInvoiceOncall`).
pub(crate) fn identifier(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod path_props {
    //! Whatever the names in the config and snapshot, every path a renderer returns is relative,
    //! has no `.`/`..` component and stays under the output directory once joined.
    use super::*;
    use crate::checks::known_ids;
    use crate::checks::testkit::toml_string;
    use crate::cli::join_inside;
    use crate::config::parse_config;
    use crate::graph::Topology;
    use crate::model::parse_snapshot;
    use crate::roles::{Options, generate};
    use proptest::prelude::*;
    use std::path::{Component, Path};

    /// Every file the roles command would write for these names, in every format.
    fn rendered(app: &str, space: &str, snapshot_space: &str, account: &str, queue: &str) -> Vec<String> {
        let snapshot = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": account, "name": "a"}]},
            "resources": [{"arn": format!("arn:aws:sqs:eu-west-1:{account}:{queue}"), "kind": "sqs-queue",
                "account": account, "region": "eu-west-1"}],
            "agent_spaces": [{"id": "s1", "arn": format!("arn:aws:aidevops:eu-west-1:{account}:agentspace/s1"),
                "name": snapshot_space, "account": account, "region": "eu-west-1"}]
        });
        let config = format!(
            "[applications.{a}]\naccounts = [\"{account}\"]\nzone = \"eu\"\n[zones.eu]\nregions = [\"eu-west-1\"]\n[agent_spaces.{s}]\napplication = {a}\naccounts = [\"{account}\"]\n[responders]\nprincipals = [\"arn:aws:iam::{account}:role/oncall\"]\n",
            a = toml_string(app),
            s = toml_string(space)
        );
        let (Ok(snapshot), Ok(config)) = (
            parse_snapshot(&snapshot.to_string(), Path::new("p.json")),
            parse_config(&config, Path::new("p.toml"), &known_ids()),
        ) else {
            return Vec::new();
        };
        let t = Topology::build(&snapshot, &config);
        let Ok(set) = generate(&t, &Options::default()) else {
            return Vec::new();
        };
        let associated: agent_spaces::Associated = t
            .agent_spaces()
            .into_iter()
            .map(|v| {
                (
                    v.name.to_string(),
                    v.associated()
                        .unwrap_or_default()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                )
            })
            .collect();
        let mut paths = Vec::new();
        for format in [Format::Iam, Format::Cloudformation, Format::Terraform] {
            paths.extend(render(&set, format).into_keys());
        }
        paths.extend(agent_spaces::render(&set, &associated, &Default::default()).into_keys());
        paths
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn every_rendered_path_stays_under_the_out_dir(
            app in prop_oneof!["[a-z0-9][a-z0-9_.@=-]{0,20}", "\\PC{0,12}"],
            space in prop_oneof!["[A-Za-z0-9_.@=,+-]{1,20}", "\\PC{1,20}", Just("..".to_string())],
            snapshot_space in prop_oneof!["[A-Za-z0-9_.@=,+-]{1,20}", "\\PC{1,20}"],
            account in "[0-9]{12}",
            queue in "[A-Za-z0-9_-]{1,20}",
        ) {
            let out = Path::new("/tmp/topoguard-out");
            for rel in rendered(&app, &space, &snapshot_space, &account, &queue) {
                let rel_path = Path::new(&rel);
                prop_assert!(rel_path.is_relative(), "{}", rel);
                prop_assert!(rel_path.components().all(|c| matches!(c, Component::Normal(_))), "{}", rel);
                let joined = join_inside(out, &rel);
                prop_assert!(joined.as_ref().is_ok_and(|p| p.starts_with(out)), "{} {:?}", rel, joined);
            }
        }
    }

    #[test]
    fn plain_names_render_files() {
        let paths = rendered("invoice", "invoice-oncall", "..", "111111111111", "q");
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with("invoice/111111111111/DevOpsAgentRole-invoice-oncall/")),
            "{paths:?}"
        );
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with("invoice/111111111111/DevOpsAgentRole-../")),
            "{paths:?}"
        );
    }
}
