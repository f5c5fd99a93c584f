//! Hostile strings from a snapshot through every output: account names, tag keys and values,
//! ARNs (their resource part), coverage gap codes and messages. Each format must stay what it
//! claims to be: a terminal report without control characters, Markdown without raw HTML, broken
//! tables or mentions, well-formed XML, valid JSON and SARIF, parse-safe DOT and Mermaid labels,
//! and an error line that stays one line.

use crate::support::{fixture, topoguard};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The hostile strings every sink is tested with, from `tests/fixtures/hostile-strings.json`
/// (the unit tests of `topoguard::escape` read the same file).
fn hostile() -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../fixtures/hostile-strings.json"))
        .expect("the hostile-strings fixture is JSON");
    let strings: Vec<String> = doc["strings"]
        .as_array()
        .expect("`strings` is a list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert!(strings.len() >= 18, "the hostile-strings fixture lost entries");
    strings
}

/// Characters no reader should receive raw (as `topoguard::escape::is_hidden`).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// A snapshot of two accounts: `111111111111` (application `a` of `minimal.toml`) and an
/// unattributed `222222222222` named with a hostile string, holding one bus per hostile string
/// (so `application-resource-unattributed` reports each), plus one gap per hostile string.
fn hostile_snapshot(dir: &Path) -> PathBuf {
    let mut buses = Vec::new();
    for (i, h) in hostile().iter().enumerate() {
        let name = format!("bus{i}-{h}");
        buses.push(json!({
            "arn": format!("arn:aws:events:eu-west-1:222222222222:event-bus/{name}"),
            "account": "222222222222",
            "region": "eu-west-1",
            "name": name,
            "tags": {format!("k{i}{h}"): h},
        }));
    }
    buses.push(json!({
        "arn": "arn:aws:events:eu-west-1:111111111111:event-bus/own${path.cwd}<h1>",
        "account": "111111111111",
        "region": "eu-west-1",
        "name": "own${path.cwd}<h1>",
        "tags": {"app": "a"},
    }));
    let gaps: Vec<Value> = hostile()
        .iter()
        .map(|h| {
            json!({
                "account": "222222222222",
                "region": "eu-west-1",
                "api": "lambda:ListFunctions",
                "error_code": format!("AccessDenied{h}"),
                "message": format!("not authorized: {h}"),
            })
        })
        .collect();
    let snapshot = json!({
        "schema_version": 1,
        "organization": {"accounts": [
            {"id": "111111111111", "name": "a"},
            {"id": "222222222222", "name": hostile().concat()},
        ]},
        "event_buses": buses,
        "coverage": {"gaps": gaps},
    });
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    path
}

fn check(snapshot: &Path, format: &str) -> String {
    let out = topoguard()
        .args(["check", "--fail-on", "none", "--format", format, "--topology"])
        .arg(snapshot)
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .assert()
        .code(0);
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn human_output_has_no_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let text = check(&hostile_snapshot(dir.path()), "human");
    let bad: Vec<char> = text.chars().filter(|c| hidden(*c) && *c != '\n').collect();
    assert!(bad.is_empty(), "{bad:?} in {text}");
    assert!(text.contains("\\u{1b}[31mred"), "{text}");
    assert!(text.contains("\\u{202e}txt.exe"), "{text}");
    // Each gap stays on its own line.
    assert_eq!(
        text.lines().filter(|l| l.contains("failed with AccessDenied")).count(),
        hostile().len()
    );
}

/// `text` with code spans (and the `<code>@</code>`, `<code>#</code>` of summaries) removed,
/// line by line.
fn outside_code_spans(text: &str) -> String {
    let mut out = String::new();
    for line in text.replace("<code>@</code>", "").replace("<code>#</code>", "").lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '\\' {
                out.extend(chars.get(i..(i + 2).min(chars.len())).unwrap());
                i += 2;
                continue;
            }
            if chars[i] == '`' {
                let run = chars[i..].iter().take_while(|c| **c == '`').count();
                let mut j = i + run;
                let mut closed = None;
                while j < chars.len() {
                    let r = chars[j..].iter().take_while(|c| **c == '`').count();
                    if r == run {
                        closed = Some(j + r);
                        break;
                    }
                    j += r.max(1);
                }
                match closed {
                    Some(end) => i = end,
                    None => panic!("unclosed code span in {line}"),
                }
                continue;
            }
            out.push(chars[i]);
            i += 1;
        }
        out.push('\n');
    }
    out
}

#[test]
fn markdown_has_no_raw_html_broken_tables_or_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let text = check(&hostile_snapshot(dir.path()), "markdown");
    let prose = outside_code_spans(&text);
    let lower = prose.to_lowercase();
    for tag in ["<script", "<h1", "<img", "<!--", "](http"] {
        for (i, _) in lower.match_indices(tag) {
            assert!(lower[..i].ends_with('\\'), "raw `{tag}` at {i} in {text}");
        }
    }
    assert!(!prose.contains('@'), "a mention outside code spans in {text}");
    // No issue reference (`#123`, `owner/repo#5`) and nothing GitHub autolinks (`scheme://`,
    // `www.`) outside code: https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/autolinked-references-and-urls
    // (`&#58;` is topoguard's own entity, not a reference.)
    let refs: Vec<&str> = prose
        .match_indices('#')
        .filter(|(i, _)| !prose[..*i].ends_with('&'))
        .map(|(i, _)| &prose[i..])
        .collect();
    assert!(
        refs.iter().all(|r| !r[1..].starts_with(|c: char| c.is_ascii_digit())),
        "an issue reference outside code spans in {text}"
    );
    assert!(
        !lower.contains("://") && !lower.contains("www."),
        "an autolink in {text}"
    );
    // The only HTML is topoguard's own.
    let own = ["<details>", "<summary>", "</summary>", "</details>", "<br>"];
    let mut stripped = prose.clone();
    for tag in own {
        stripped = stripped.replace(tag, "");
    }
    for (i, c) in stripped.char_indices() {
        if c == '<' {
            assert!(stripped[..i].ends_with('\\'), "raw `<` at {i} in {stripped}");
        }
    }
    // Every table row keeps its columns.
    for line in text.lines().filter(|l| l.starts_with('|')) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 3 || cells == 5, "{line}");
    }
    // `<details>` blocks are never cut by a blank line from data.
    for line in text.lines().filter(|l| l.starts_with("<details>")) {
        assert!(line.ends_with("</summary>"), "{line}");
    }
    assert!(!text.chars().any(|c| hidden(c) && c != '\n'), "{text}");
}

#[test]
fn junit_is_well_formed_xml() {
    let dir = tempfile::tempdir().unwrap();
    let xml = check(&hostile_snapshot(dir.path()), "junit");
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
    assert!(xml.chars().all(allowed), "{xml}");
    let mut reader = Reader::from_str(&xml);
    let mut failures = 0;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    a.unwrap();
                }
                if e.name().as_ref() == "failure" {
                    failures += 1;
                }
            }
            _ => {}
        }
    }
    assert!(failures >= 1, "{xml}");
}

#[test]
fn json_and_sarif_are_valid_and_keep_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = hostile_snapshot(dir.path());
    let json: Value = serde_json::from_str(&check(&snapshot, "json")).unwrap();
    let resources: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["resource"].as_str())
        .collect();
    for (i, h) in hostile().iter().enumerate() {
        let arn = format!("arn:aws:events:eu-west-1:222222222222:event-bus/bus{i}-{h}");
        assert!(resources.contains(&arn.as_str()), "{arn:?} missing");
    }
    let sarif: Value = serde_json::from_str(&check(&snapshot, "sarif")).unwrap();
    let text = std::fs::read_to_string(&snapshot).unwrap();
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        let arn = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        let region = &r["locations"][0]["physicalLocation"]["region"];
        if let Some(offset) = region["byteOffset"].as_u64() {
            let start = usize::try_from(offset).unwrap();
            let len = usize::try_from(region["byteLength"].as_u64().unwrap()).unwrap();
            let object: Value = serde_json::from_str(&text[start..start + len]).unwrap();
            assert!(object["arn"] == arn || object["id"] == arn, "{arn:?}");
        }
    }
}

/// The label of a DOT node line `  nN [… label="…"];` or cluster line `label="…";`, checked for
/// unescaped quotes.
fn dot_label(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let label = match line.strip_prefix("label=\"") {
        Some(rest) => rest.strip_suffix("\";")?,
        None => line.split_once("label=\"")?.1.strip_suffix("\"];")?,
    };
    let mut chars = label.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => assert!(chars.next().is_some(), "{line}"),
            '"' => panic!("unescaped quote in {line}"),
            _ => {}
        }
    }
    Some(label)
}

#[test]
fn graph_labels_are_parse_safe() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = hostile_snapshot(dir.path());
    let graph = |format: &str| {
        let out = topoguard()
            .args(["graph", "--format", format, "--topology"])
            .arg(&snapshot)
            .arg("--policies")
            .arg(fixture("minimal.toml"))
            .assert()
            .code(0);
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let dot = graph("dot");
    let lines: Vec<&str> = dot.lines().collect();
    assert_eq!(lines.first(), Some(&"digraph topology {"));
    assert_eq!(lines.last(), Some(&"}"));
    let mut labels = 0;
    for line in &lines[1..lines.len() - 1] {
        assert!(!line.chars().any(hidden), "{line:?}");
        if dot_label(line).is_some() {
            labels += 1;
        } else {
            let t = line.trim();
            assert!(
                t.starts_with("rankdir")
                    || t.starts_with("newrank")
                    || t.starts_with("style=")
                    || t.starts_with("node [")
                    || (t.starts_with("subgraph cluster_") && t.ends_with(" {"))
                    || t == "}"
                    || line.contains(" -> "),
                "{line}"
            );
        }
    }
    // A node per bus (hostile ones included), account and region.
    assert!(labels > hostile().len() + 2, "{dot}");
    let mermaid = graph("mermaid");
    for line in mermaid.lines().skip(1) {
        assert!(!line.chars().any(hidden), "{line:?}");
        if let Some(rest) = line.trim_start().split_once("[\"") {
            let label = rest.1.strip_suffix("\"]").unwrap_or_else(|| panic!("{line}"));
            assert!(!label.contains(['"', '<', '>', '`']), "{line}");
        } else {
            let t = line.trim();
            assert!(
                line.contains(" -->|")
                    || t == "end"
                    || t.starts_with("classDef ")
                    || t.starts_with("class ")
                    || t.starts_with("linkStyle "),
                "{line}"
            );
        }
    }
}

#[test]
fn error_messages_stay_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // A duplicate ARN whose resource part is hostile: the loader quotes it in the error.
    let arn = format!("arn:aws:events:eu-west-1:111111111111:event-bus/{}", hostile().concat());
    let bus = json!({"arn": arn, "account": "111111111111", "region": "eu-west-1", "name": "b"});
    let snapshot = json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
        "event_buses": [bus, bus],
    });
    let path = dir.path().join("dup.json");
    std::fs::write(&path, serde_json::to_string(&snapshot).unwrap()).unwrap();
    let out = topoguard()
        .args(["check", "--topology"])
        .arg(&path)
        .arg("--policies")
        .arg(fixture("minimal.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    // One problem: one `error:` line, then its source snippet; no line from the data.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.starts_with("error: ") && stderr.contains("duplicate ARN"),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.chars().any(hidden)), "{stderr:?}");
    assert!(stderr.contains("\\u{1b}[31mred"), "{stderr}");
}
