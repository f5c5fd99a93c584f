//! Reading and validating the guardrail config, with errors that name file, line and key.

use super::Config;
use crate::arn::is_account_id;
use crate::model::{Strict, strip_bom};
use serde::Deserialize as _;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("config `{path}` line {line}, column {column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// The config file `path` names: the file itself, or `topoguard.toml` in a directory.
pub fn config_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("topoguard.toml")
    } else {
        path.to_path_buf()
    }
}

/// Reads the config: `path` is a TOML file, or a directory holding `topoguard.toml`.
pub fn load_config(path: &Path, known_checks: &[&str]) -> Result<Config, ConfigError> {
    let file = config_file(path);
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
        path: file.clone(),
        source,
    })?;
    parse_config(&text, &file, known_checks)
}

/// Parses and validates config text; `path` is used in messages only. A leading UTF-8
/// byte-order mark is skipped (as in snapshots); a table written as an array is rejected.
pub fn parse_config(text: &str, path: &Path, known_checks: &[&str]) -> Result<Config, ConfigError> {
    let text = strip_bom(text);
    let located = |span: Option<Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| line_column(text, s.start));
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let config = toml::Deserializer::parse(text)
        .and_then(|de| Config::deserialize(Strict(de)))
        .map_err(|e| located(e.span(), e.message().trim().to_string()))?;
    validate(&config, known_checks).map_err(|(span, message)| located(Some(span), message))?;
    Ok(config)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

type Problem = (Range<usize>, String);

/// Longest application name.
pub const APP_NAME_MAX: usize = 64;

/// An application name becomes part of file names (`roles --out-dir`), IAM role names
/// (`topoguard-<app>-observe`) and tag values, so it takes what all three allow: 1 to 64 ASCII
/// letters, digits and `_ . - @ =`, starting with a letter or digit (so never `.`, `..`, a
/// hidden file or an option). `+` and `,` are left out because they separate names in tags.
fn app_name_problem(name: &str) -> Option<&'static str> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok {
        return Some("start with a letter or digit");
    }
    if name.len() > APP_NAME_MAX {
        return Some("use at most 64 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-@=".contains(c)) {
        return Some("use only ASCII letters, digits and `_ . - @ =`");
    }
    None
}

fn validate(c: &Config, known_checks: &[&str]) -> Result<(), Problem> {
    let account = |a: &toml::Spanned<String>, key: &str| -> Result<(), Problem> {
        if is_account_id(a.get_ref()) {
            Ok(())
        } else {
            Err((
                a.span(),
                format!("{key}: `{}` is not a twelve-digit account id", a.get_ref()),
            ))
        }
    };
    let zone_known = |z: &toml::Spanned<String>, key: &str| -> Result<(), Problem> {
        if c.zones.keys().any(|k| k.get_ref() == z.get_ref()) {
            Ok(())
        } else {
            Err((
                z.span(),
                format!("{key}: unknown zone `{}` (not in [zones])", z.get_ref()),
            ))
        }
    };
    if c.attribution.tag_key.is_empty() {
        return Err((0..0, "attribution.tag_key: must not be empty".into()));
    }
    let mut owner_of_account: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, app) in &c.applications {
        if let Some(rule) = app_name_problem(name.get_ref()) {
            let shown = name.get_ref().escape_debug();
            return Err((
                name.span(),
                format!("applications: `{shown}` is not a usable application name: {rule}"),
            ));
        }
        for a in &app.accounts {
            account(a, &format!("applications.{}.accounts", name.get_ref()))?;
            if let Some(other) = owner_of_account.insert(a.get_ref(), name.get_ref()) {
                return Err((
                    a.span(),
                    format!(
                        "applications.{}.accounts: account `{}` is already attributed to `{other}`",
                        name.get_ref(),
                        a.get_ref()
                    ),
                ));
            }
        }
        if let Some(z) = &app.zone {
            zone_known(z, &format!("applications.{}.zone", name.get_ref()))?;
        }
    }
    for a in &c.shared_dependencies.accounts {
        account(a, "shared_dependencies.accounts")?;
    }
    if c.shared_dependencies.consumer_tag_key.is_empty() {
        return Err((0..0, "shared_dependencies.consumer_tag_key: must not be empty".into()));
    }
    let mut zone_of_region: BTreeMap<&str, &str> = BTreeMap::new();
    for (zone, z) in &c.zones {
        if z.regions.is_empty() {
            return Err((
                zone.span(),
                format!("zones.{}.regions: must list at least one region", zone.get_ref()),
            ));
        }
        for r in &z.regions {
            if let Some(other) = zone_of_region.insert(r.get_ref(), zone.get_ref()) {
                return Err((
                    r.span(),
                    format!(
                        "zones.{}.regions: region `{}` is already in zone `{other}`",
                        zone.get_ref(),
                        r.get_ref()
                    ),
                ));
            }
        }
    }
    for (space, intent) in &c.agent_spaces {
        if let Some(problem) = crate::model::agent_space_name_problem(space.get_ref()) {
            let shown = space.get_ref().escape_debug();
            return Err((space.span(), format!("agent_spaces: `{shown}`: {problem}")));
        }
        let key = format!("agent_spaces.{}", space.get_ref());
        let app = &intent.application;
        if c.application(app.get_ref()).is_none() {
            return Err((
                app.span(),
                format!(
                    "{key}.application: unknown application `{}` (not in [applications])",
                    app.get_ref()
                ),
            ));
        }
        for a in &intent.accounts {
            account(a, &format!("{key}.accounts"))?;
        }
        if let Some(z) = &intent.zone {
            zone_known(z, &format!("{key}.zone"))?;
        }
    }
    for p in &c.responders.principals {
        let arn = crate::arn::Arn::parse(p.get_ref()).map_err(|e| (p.span(), format!("responders.principals: {e}")))?;
        if arn.service != "iam" {
            return Err((
                p.span(),
                format!(
                    "responders.principals: `{}` is not an IAM role or user ARN",
                    p.get_ref()
                ),
            ));
        }
    }
    for p in &c.platform.administrators {
        // Wildcards are allowed (in the account too): check the shape with them made concrete.
        let concrete = p.get_ref().replace(['*', '?'], "0");
        let concrete = if p.get_ref().contains(['*', '?']) {
            concrete.replacen("::0:", "::000000000000:", 1)
        } else {
            concrete
        };
        let arn = crate::arn::Arn::parse(&concrete).map_err(|e| (p.span(), format!("platform.administrators: {e}")))?;
        if arn.service != "iam" {
            return Err((
                p.span(),
                format!(
                    "platform.administrators: `{}` is not an IAM role or user ARN",
                    p.get_ref()
                ),
            ));
        }
    }
    for (id, settings) in &c.checks {
        if let Some(first) = settings.allow.first()
            && id.get_ref() != "cross-account-write-to-shared"
        {
            return Err((
                first.span(),
                format!(
                    "checks.{}.allow: only `cross-account-write-to-shared` takes `allow` entries",
                    id.get_ref()
                ),
            ));
        }
        for a in &settings.allow {
            let key = format!("checks.{}.allow", id.get_ref());
            let e = a.get_ref();
            if e.reason.trim().is_empty() {
                return Err((
                    a.span(),
                    format!("{key}: `reason` must say why the write is acceptable"),
                ));
            }
            if e.principal.is_none() && e.application.is_none() {
                return Err((a.span(), format!("{key}: give `principal` or `application`")));
            }
            if e.actions.is_empty() || e.actions.iter().any(|x| !x.contains(':') && x != "*") {
                return Err((
                    a.span(),
                    format!("{key}: `actions` must list `service:Action` patterns"),
                ));
            }
            if let Some(app) = &e.application
                && c.application(app).is_none()
            {
                return Err((a.span(), format!("{key}: unknown application `{app}`")));
            }
        }
        if !known_checks.contains(&id.get_ref().as_str()) {
            let mut known = known_checks.to_vec();
            known.sort_unstable();
            return Err((
                id.span(),
                format!(
                    "checks.{}: unknown check id `{}`; known checks: {}",
                    id.get_ref(),
                    id.get_ref(),
                    known.join(", ")
                ),
            ));
        }
        if id.get_ref() == crate::finding::UNUSED_IGNORE_ID
            && let Some(first) = settings.ignore.first()
        {
            return Err((
                first.span(),
                format!(
                    "checks.{}.ignore: unused-ignore findings cannot be ignored; fix or delete the stale ignore instead",
                    id.get_ref()
                ),
            ));
        }
        for ignore in &settings.ignore {
            let key = format!("checks.{}.ignore", id.get_ref());
            let i = ignore.get_ref();
            if i.reason.trim().is_empty() {
                return Err((
                    ignore.span(),
                    format!("{key}: `reason` must say why the finding is acceptable"),
                ));
            }
            if i.resource.is_none() && i.application.is_none() && i.account.is_none() {
                return Err((
                    ignore.span(),
                    format!("{key}: give at least one of `resource`, `application`, `account`"),
                ));
            }
            if let Some(a) = &i.application
                && c.application(a).is_none()
            {
                return Err((ignore.span(), format!("{key}: unknown application `{a}`")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::toml_string;

    const CHECKS: &[&str] = &["shared-resource-untagged", "unused-ignore"];

    fn parse(text: &str) -> Result<Config, String> {
        parse_config(text, Path::new("t.toml"), CHECKS).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_a_full_config() {
        let c = parse(
            r#"
[attribution]
tag_key = "application"
[applications.invoice]
accounts = ["111111111111"]
zone = "eu"
[zones.eu]
regions = ["eu-west-1", "eu-central-1"]
[shared_dependencies]
accounts = ["999999999999"]
[agent_spaces.invoice-space]
application = "invoice"
accounts = ["111111111111", "999999999999"]
[checks.shared-resource-untagged]
severity = "high"
ignore = [{ resource = "arn:aws:sqs:*", reason = "legacy queue, owner asked" }]
"#,
        )
        .unwrap();
        assert_eq!(c.attribution.tag_key, "application");
        assert_eq!(c.shared_dependencies.consumer_tag_key, "shared-with");
        assert_eq!(c.zone_of_region("eu-central-1"), Some("eu"));
        assert!(c.is_shared_account("999999999999"));
    }

    #[test]
    fn platform_administrators_must_be_iam_arns() {
        let e = parse("[platform]\nadministrators = [\"arn:aws:sqs:eu-west-1:111111111111:q\"]\n").unwrap_err();
        assert!(
            e.contains("line 2")
                && e.contains(
                    "platform.administrators: `arn:aws:sqs:eu-west-1:111111111111:q` is not an IAM role or user ARN"
                ),
            "{e}"
        );
        let e = parse("[platform]\nadministrators = [\"admin\"]\n").unwrap_err();
        assert!(e.contains("platform.administrators:"), "{e}");
        // Near miss: wildcards in the role name and account are fine.
        let c = parse("[platform]\nadministrators = [\"arn:aws:iam::*:role/AWSReservedSSO_Admin_*\"]\n").unwrap();
        assert!(
            c.platform
                .is_administrator("arn:aws:iam::111111111111:role/AWSReservedSSO_Admin_0a1b")
        );
        assert!(!c.platform.is_administrator("arn:aws:iam::111111111111:role/developer"));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("[applications.invoice]\naccounts = [\"1\"]\n").unwrap_err();
        assert_eq!(
            e,
            "config `t.toml` line 2, column 13: applications.invoice.accounts: `1` is not a twelve-digit account id"
        );
        let e = parse("[checks.no-such-check]\nseverity = \"high\"\n").unwrap_err();
        assert!(
            e.starts_with("config `t.toml` line 1, column 9: checks.no-such-check: unknown check id `no-such-check`"),
            "{e}"
        );
        let e = parse("[checks.shared-resource-untagged]\nignore = [{ resource = \"x\" }]\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("missing field `reason`"), "{e}");
        let e =
            parse("[checks.shared-resource-untagged]\nignore = [{ resource = \"x\", reason = \" \" }]\n").unwrap_err();
        assert!(e.contains("`reason` must say why"), "{e}");
        let e = parse("[attribution]\ntagkey = \"x\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("unknown field `tagkey`"), "{e}");
        let e = parse("[zones.eu]\nregions = [\"eu-west-1\"]\n[zones.us]\nregions = [\"eu-west-1\"]\n").unwrap_err();
        assert!(e.contains("line 4") && e.contains("already in zone `eu`"), "{e}");
        let e = parse("[agent_spaces.x]\napplication = \"nope\"\n").unwrap_err();
        assert!(e.contains("unknown application `nope`"), "{e}");
        let e = parse("[applications.\"a+b\"]\n").unwrap_err();
        assert!(e.contains("not a usable application name"), "{e}");
        assert!(parse("this is not toml").is_err());
        let e =
            parse("[checks.unused-ignore]\nignore = [{ account = \"111111111111\", reason = \"x\" }]\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("cannot be ignored"), "{e}");
    }

    #[test]
    fn application_names_never_become_paths() {
        for bad in [
            "..",
            ".",
            "../x",
            "/abs",
            "a/b",
            "a\\b",
            "a\u{0}b",
            "a\nb",
            "\u{1b}[31m",
            "a\u{202e}b",
            "${path.cwd}",
            "%{ if }",
            "<script>",
            "]]>",
            "`x`",
            "a|b",
            "-rf",
            ".hidden",
            "é",
        ] {
            let text = format!("[applications.{}]\n", toml_string(bad));
            let e = parse(&text).unwrap_err();
            assert!(
                e.contains("not a usable application name") && !e.contains('\n'),
                "{bad:?}: {e}"
            );
        }
        let e = parse(&format!("[applications.{}]\n", "a".repeat(65))).unwrap_err();
        assert!(e.contains("at most 64"), "{e}");
        // near misses that are fine
        for ok in ["a", "invoice-v2.eu", "team@x", "a_b=c", &"a".repeat(64)] {
            assert!(parse(&format!("[applications.\"{ok}\"]\n")).is_ok(), "{ok}");
        }
    }

    // https://docs.aws.amazon.com/cli/latest/reference/devops-agent/create-agent-space.html
    #[test]
    fn agent_space_names_follow_aws_constraints() {
        let space = |name: &str| {
            parse(&format!(
                "[applications.a]\n[agent_spaces.{}]\napplication = \"a\"\n",
                toml_string(name)
            ))
        };
        let e = space("x\u{202e}y").unwrap_err();
        assert!(e.contains("line 2") && e.contains("U+202E"), "{e}");
        assert!(space("a\u{1b}b").is_err());
        assert!(space(&"s".repeat(256)).is_err());
        assert!(space("Facturation / équipe 2").is_ok());
    }

    #[test]
    fn tables_given_as_arrays_are_rejected_and_a_bom_is_skipped() {
        let e = parse("attribution = []\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("expected an object"), "{e}");
        let e = parse("[applications]\na = [[\"111111111111\"]]\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("expected an object"), "{e}");
        let e = parse("[[checks.shared-resource-untagged.ignore]]\nreason = \"r\"\naccount = \"1\"\n[checks.x]\n");
        assert!(e.is_err());
        let e =
            parse("[checks.shared-resource-untagged]\nignore = [[\"arn\", \"app\", \"acct\", \"why\"]]\n").unwrap_err();
        assert!(e.contains("expected an object"), "{e}");
        // near miss: arrays where the schema has arrays
        assert!(parse("[applications.a]\naccounts = []\n").is_ok());
        // a byte-order mark is skipped, and lines still count from the start
        assert!(parse("\u{feff}[applications.a]\n").is_ok());
        let e = parse("\u{feff}[applications.a]\naccounts = [\"1\"]\n").unwrap_err();
        assert!(e.contains("line 2, column 13"), "{e}");
    }
}
