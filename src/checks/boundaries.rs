//! The checks read the topology's narrow view (`src/graph/facts.rs` and the graph itself), never
//! the config's or the snapshot's fields: this test reads every check file's code (its test
//! module excluded) and fails on a field access `x.snapshot` or `x.config`. The engine and the
//! check context (settings, ignores, allow entries) are the two files that may.

use regex::Regex;
use std::path::Path;

/// Files that own the config bookkeeping, and test-only files.
const MAY_READ_CONFIG: &[&str] = &["engine.rs", "context.rs", "testkit.rs", "tests.rs", "boundaries.rs"];

/// `(file, line, text)` of every field access to `snapshot` or `config` outside the test module.
fn reaches_in(dir: &Path) -> Vec<(String, usize, String)> {
    let field = Regex::new(r"[A-Za-z0-9_)\]]\.(snapshot|config)\b[^(]").unwrap();
    // String literals emptied and line comments cut before matching.
    let strings = Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if MAY_READ_CONFIG.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            let code = strings.replace_all(line, "\"\"");
            let code = code.split("//").next().unwrap_or("");
            if field.is_match(&format!("{code}\n")) {
                out.push((name.clone(), i + 1, line.trim().to_string()));
            }
        }
    }
    out
}

#[test]
fn quiet_no_check_reads_config_or_snapshot_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks");
    let found = reaches_in(&dir);
    assert!(
        found.is_empty(),
        "checks reach into config/snapshot internals: {found:#?}"
    );
}

#[test]
fn fires_on_a_field_access_and_not_on_words_or_methods() {
    let dir = std::env::temp_dir().join(format!("topoguard-boundaries-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("some_check.rs");
    std::fs::write(
        &file,
        "fn run(t: &T) {\n    let z = t.config.zones.len();\n    let o = t.snapshot.organization.id;\n    \
         let ok = t.organization_id(); // t.config.x in a comment\n    let s = \"is not in the snapshot.config\";\n    \
         let m = cx.config();\n}\n#[cfg(test)]\nmod tests { fn f(t: &T) { t.config.zones; } }\n",
    )
    .unwrap();
    let found = reaches_in(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: Vec<usize> = found.iter().map(|(_, l, _)| *l).collect();
    // Lines 2 and 3 reach in; the string on line 5 names `snapshot.config` as words after a
    // space, the method call on line 6 and the test module are allowed.
    assert_eq!(lines, [2, 3], "{found:#?}");
}
