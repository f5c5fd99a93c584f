//! Reading and validating the guardrail config, with errors that name file, line and key.

use super::Config;
use crate::arn::is_account_id;
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

/// Parses and validates config text; `path` is used in messages only.
pub fn parse_config(text: &str, path: &Path, known_checks: &[&str]) -> Result<Config, ConfigError> {
    let located = |span: Option<Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| line_column(text, s.start));
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let config: Config = toml::from_str(text).map_err(|e| located(e.span(), e.message().trim().to_string()))?;
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

/// Characters AWS allows in tag values, minus the separators topoguard uses between names.
fn valid_app_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || "_.:/=-@".contains(c))
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
        if !valid_app_name(name.get_ref()) {
            return Err((
                name.span(),
                format!(
                    "applications.{0}: `{0}` is not a usable application name: use letters, digits and `_ . : / = - @` (spaces and `+` separate names in tags)",
                    name.get_ref()
                ),
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
        if id.get_ref() == crate::checks::unused_ignore::ID
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
}
