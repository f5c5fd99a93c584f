//! Reading the guardrail config: every section and every entry on its own, so that all
//! problems are found in one run, each a [`Diagnostic`] with its span in the file.

use super::checks::read_checks;
use super::{Config, Source};
use crate::diagnostic::{Diagnostic, Diagnostics, FileKind};
use crate::model::{Strict, strip_bom};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue, ValueDeserializer};

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Every problem found, with the file's text to show them in.
    #[error("{0}")]
    Invalid(Box<Diagnostics>),
}

/// The top-level sections a config may have.
const SECTIONS: &[&str] = &[
    "attribution",
    "applications",
    "shared_dependencies",
    "zones",
    "agent_spaces",
    "responders",
    "checks",
    "readiness",
    "platform",
    "devops_agent",
];

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

/// Parses and validates config text; `path` names the file in messages and locations. A
/// leading UTF-8 byte-order mark is skipped (as in snapshots; spans count from after it); a
/// table written as an array is rejected. Every problem is returned, not only the first.
pub fn parse_config(text: &str, path: &Path, known_checks: &[&str]) -> Result<Config, ConfigError> {
    let text = strip_bom(text);
    let (root, errors) = DeTable::parse_recoverable(text);
    let mut r = Reader::default();
    // After a duplicate key the parser keeps the first and the document is still what was
    // written; after any other syntax error keys may have landed in the wrong table, so only
    // the syntax errors are reported (reading on would report mistakes that are not there).
    let trustworthy = errors.iter().all(|e| e.message().trim() == "duplicate key");
    for e in errors {
        r.push(Diagnostic::new(
            format!("not valid TOML: {}", e.message().trim()),
            e.span(),
            "here",
        ));
    }
    let mut config = Config::default();
    if trustworthy {
        config = read_sections(&mut r, root.into_inner(), known_checks);
        super::validate::validate(&config, &mut r.diagnostics);
        let base = path.parent().unwrap_or(Path::new(""));
        super::guardrail::resolve(&mut config, base, &mut r.diagnostics);
    }
    if !r.diagnostics.is_empty() {
        let mut items = r.diagnostics;
        items.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
        return Err(ConfigError::Invalid(Box::new(Diagnostics::new(
            FileKind::Config,
            path,
            text,
            items,
        ))));
    }
    config.source = Some(Source {
        path: path.display().to_string().replace('\\', "/"),
        text: text.to_string(),
    });
    Ok(config)
}

/// Each top-level section into its place in [`Config`].
fn read_sections(r: &mut Reader, root: DeTable<'_>, known_checks: &[&str]) -> Config {
    let mut c = Config::default();
    for (key, value) in root {
        match key.get_ref().as_ref() {
            "attribution" => c.attribution = r.value(value, "attribution").unwrap_or_default(),
            "applications" => c.applications = r.map(value, "applications"),
            "shared_dependencies" => {
                c.shared_dependencies = r.value(value, "shared_dependencies").unwrap_or_default();
            }
            "zones" => c.zones = r.map(value, "zones"),
            "agent_spaces" => c.agent_spaces = r.map(value, "agent_spaces"),
            "responders" => c.responders = r.value(value, "responders").unwrap_or_default(),
            "checks" => c.checks = read_checks(r, value, known_checks),
            "readiness" => c.readiness = r.value(value, "readiness").unwrap_or_default(),
            "platform" => c.platform = r.value(value, "platform").unwrap_or_default(),
            "devops_agent" => c.devops_agent = r.value(value, "devops_agent").unwrap_or_default(),
            other => {
                let expected: Vec<String> = SECTIONS.iter().map(|s| format!("`{s}`")).collect();
                r.push(Diagnostic::new(
                    format!(
                        "unknown field `{}`, expected one of {}",
                        other.escape_debug(),
                        expected.join(", ")
                    ),
                    Some(key.span()),
                    "unknown section",
                ));
            }
        }
    }
    c
}

/// A table key as an owned spanned string.
pub(super) fn key_string(key: &Spanned<DeString<'_>>) -> Spanned<String> {
    Spanned::new(key.span(), key.get_ref().to_string())
}

/// Reads parts of the document into types, collecting a diagnostic for each part that does not
/// fit instead of stopping.
#[derive(Debug, Default)]
pub(super) struct Reader {
    pub diagnostics: Vec<Diagnostic>,
}

impl Reader {
    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// `value` (at config key `key`) as a `T`; `None` after reporting why not.
    pub fn value<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>, key: &str) -> Option<T> {
        let span = value.span();
        match T::deserialize(Strict(ValueDeserializer::from(value))) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = e.span().unwrap_or(span);
                self.push(Diagnostic::new(
                    format!("{key}: {}", e.message().trim()),
                    Some(at),
                    "here",
                ));
                None
            }
        }
    }

    /// The entries of a table, each with its key; reports a value that is not a table.
    pub fn table_entries<'i>(
        &mut self,
        value: Spanned<DeValue<'i>>,
        key: &str,
    ) -> Vec<(Spanned<DeString<'i>>, Spanned<DeValue<'i>>)> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(t) => t.into_iter().collect(),
            other => {
                self.push(Diagnostic::new(
                    format!(
                        "{key}: invalid type: {}, expected an object (a table)",
                        other.type_str()
                    ),
                    Some(span),
                    "expected a table",
                ));
                Vec::new()
            }
        }
    }

    /// A table of named entries, each read on its own.
    pub fn map<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>, key: &str) -> BTreeMap<Spanned<String>, T> {
        let mut out = BTreeMap::new();
        for (name, entry) in self.table_entries(value, key) {
            let name = key_string(&name);
            if let Some(v) = self.value(entry, &format!("{key}.{}", name.get_ref())) {
                out.insert(name, v);
            }
        }
        out
    }

    /// An array of entries, each read on its own and kept with its span.
    pub fn entries<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>, key: &str) -> Vec<Spanned<T>> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.push(Diagnostic::new(
                format!("{key}: invalid type: expected an array of entries"),
                Some(span),
                "expected an array",
            ));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let span = item.span();
            if let Some(v) = self.value(item, &format!("{key}[{i}]")) {
                out.push(Spanned::new(span, v));
            }
        }
        out
    }
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

    fn problems(text: &str) -> Box<Diagnostics> {
        let checks = &[
            "shared-resource-untagged",
            "unused-ignore",
            "cross-account-write-to-shared",
        ];
        match parse_config(text, Path::new("t.toml"), checks) {
            Err(ConfigError::Invalid(d)) => d,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn every_independent_mistake_is_reported_with_its_place() {
        let text = r#"[attribution]
tag_key = "app"
colour = "blue"

[applications.invoice]
accounts = "111111111111"

[applications.checkout]
accounts = ["222222222222"]

[applications.checkout]
owner = "team"

[checks.no-such-check]
severity = "high"

[checks.shared-resource-untagged]
severity = "urgent"
ignore = [
  { account = "111111111111", reason = "ok" },
  { application = "nobody", reason = "stale" },
]

[checks.cross-account-write-to-shared]
allow = [{ principal = "222222222222", resource = "sqs:orders", actions = ["sqs:SendMessage"], reason = "r" }]
"#;
        let d = problems(text);
        let at = |needle: &str| {
            let found: Vec<_> = d.items.iter().filter(|i| i.message.contains(needle)).collect();
            assert_eq!(found.len(), 1, "{needle}: {:#?}", d.items);
            let span = found[0].span.clone().unwrap();
            crate::finding::Lines::new(text).position(span.start).0
        };
        assert_eq!(at("unknown field `colour`"), 3);
        assert_eq!(at("applications.invoice: invalid type: string"), 6);
        assert_eq!(at("duplicate key"), 11);
        assert_eq!(at("unknown check id `no-such-check`"), 14);
        assert_eq!(at("unknown variant `urgent`"), 18);
        assert_eq!(at("unknown application `nobody`"), 21);
        assert_eq!(at("`resource` `sqs:orders` is not an ARN"), 25);
        // Sorted by place in the file.
        let starts: Vec<usize> = d
            .items
            .iter()
            .filter_map(|i| i.span.as_ref().map(|s| s.start))
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
        // Rendered: each with its line of source, file:line:column and label.
        let shown = d.render();
        assert!(shown.contains("--> t.toml:3:1"), "{shown}");
        assert!(shown.contains("colour = \"blue\""), "{shown}");
        assert!(shown.contains("--> t.toml:25:"), "{shown}");
        assert!(shown.ends_with("problems in config `t.toml`"), "{shown}");
        // The one-line form names every problem too.
        assert_eq!(d.to_string().lines().count(), d.items.len());
    }

    #[test]
    fn options_belong_to_their_check_and_are_typed() {
        let e = parse("[checks.shared-resource-untagged]\nallow = []\n").unwrap_err();
        assert!(e.contains("only `cross-account-write-to-shared` takes `allow`"), "{e}");
        let e = parse("[checks.shared-resource-untagged]\nthreshold = 3\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("unknown field `threshold`"), "{e}");
        let checks = &["cross-account-write-to-shared"];
        let ok = "[checks.cross-account-write-to-shared]\nenabled = true\nallow = [{ principal = \"arn:aws:iam::222222222222:role/*\", resource = \"arn:aws:sqs:*:*:orders\", actions = [\"sqs:SendMessage\"], reason = \"r\" }]\n";
        let c = parse_config(ok, Path::new("t.toml"), checks).unwrap();
        assert_eq!(c.write_exceptions().len(), 1);
        // Near misses: a principal that is neither an account id nor an ARN; a bad entry does
        // not hide the good one after it.
        let bad = ok.replace("arn:aws:iam::222222222222:role/*", "role/ops");
        let e = parse_config(&bad, Path::new("t.toml"), checks).unwrap_err().to_string();
        assert!(e.contains("`principal` `role/ops` is not an account id"), "{e}");
        let two = "[checks.cross-account-write-to-shared]\nallow = [\n  { resource = 1 },\n  { resource = \"*\", actions = [], reason = \"\" },\n]\n";
        let e = parse_config(two, Path::new("t.toml"), checks).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("allow[0]"), "{e}");
        assert!(e.contains("line 4") && e.contains("`reason` must say why"), "{e}");
    }

    #[test]
    fn entries_keep_their_place_for_findings() {
        let text =
            "[checks.shared-resource-untagged]\nignore = [\n  { account = \"111111111111\", reason = \"é\" },\n]\n";
        let c = parse_config(text, Path::new("dir\\t.toml"), CHECKS).unwrap();
        let ignore = &c.check_settings("shared-resource-untagged").unwrap().ignore[0];
        let at = c.locate(ignore.span()).unwrap();
        assert_eq!(at.to_string(), "dir/t.toml:3:3");
        assert_eq!((at.span.end_line, at.span.end_column), (3, 45));
        assert!(Config::default().locate(0..1).is_none());
    }
}
