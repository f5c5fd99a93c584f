//! The example's expected results, written down before the code answers
//! (`topology/examples/global-org.expected.json`): `check --format json` on the example must
//! report exactly that set (check, resource, severity, status), the README's table of planted
//! findings must list the same checks with the same severities and statuses, and the
//! walkthrough's table (`docs/example-walkthrough.md`) the same four fields. A failure prints
//! the exact difference, as JSON lines ready to paste into the expected file.

use crate::support::{root, topoguard};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const EXPECTED: &str = "topology/examples/global-org.expected.json";

/// One finding as the expected file and the JSON report both state it.
type Key = (String, String, String, String);

fn expected() -> (Value, Vec<Key>) {
    let text = std::fs::read_to_string(root().join(EXPECTED)).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let keys = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| key(f, "expected file"))
        .collect();
    (doc, keys)
}

fn key(f: &Value, source: &str) -> Key {
    let field = |name: &str| {
        f[name]
            .as_str()
            .unwrap_or_else(|| panic!("{source}: finding without `{name}`: {f}"))
            .to_string()
    };
    (field("check"), field("resource"), field("severity"), field("status"))
}

/// Counts of each item.
fn counts<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut out = BTreeMap::new();
    for i in items {
        *out.entry(i.clone()).or_insert(0) += 1;
    }
    out
}

/// `(missing, unexpected)`: what `want` has more of than `got`, and the reverse.
fn difference<T: Ord + Clone>(want: &[T], got: &[T]) -> (Vec<T>, Vec<T>) {
    let (w, g) = (counts(want), counts(got));
    let more = |a: &BTreeMap<T, usize>, b: &BTreeMap<T, usize>| -> Vec<T> {
        a.iter()
            .flat_map(|(k, n)| std::iter::repeat_n(k.clone(), n.saturating_sub(*b.get(k).unwrap_or(&0))))
            .collect()
    };
    (more(&w, &g), more(&g, &w))
}

fn line((check, resource, severity, status): &Key) -> String {
    json!({"check": check, "resource": resource, "severity": severity, "status": status}).to_string()
}

#[test]
fn the_example_reports_exactly_the_expected_findings() {
    let (doc, want) = expected();
    let out = topoguard()
        .args(["check", "--format", "json", "--topology"])
        .arg(root().join(doc["snapshot"].as_str().unwrap()))
        .arg("--policies")
        .arg(root().join(doc["config"].as_str().unwrap()))
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<Key> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| key(f, "report"))
        .collect();
    let (missing, unexpected) = difference(&want, &got);
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "the example's findings differ from {EXPECTED}\n- expected, not reported ({}):\n{}\n+ reported, not expected ({}):\n{}",
        missing.len(),
        missing.iter().map(line).collect::<Vec<_>>().join("\n"),
        unexpected.len(),
        unexpected.iter().map(line).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(report["summary"]["ignored"], doc["ignored"], "ignored findings");
    let blocking = want.iter().any(|(_, _, s, _)| s == "high" || s == "critical");
    assert_eq!(out.status.code(), Some(if blocking { 1 } else { 0 }));
}

/// (check, severity, status) per finding of the README's planted-findings table: each row's first
/// cell names one or more checks in backticks (one finding each), its second cell the severity,
/// with `(conditional)` for conditional findings.
fn readme_table(readme: &str) -> Vec<(String, String, String)> {
    let rows = readme
        .lines()
        .skip_while(|l| !l.starts_with("| check | severity | resource |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    let mut out = Vec::new();
    for row in rows {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (checks, severity) = (cells[0], cells[1]);
        let status = if severity.contains("(conditional)") {
            "conditional"
        } else if severity.contains("(not proven)") {
            "not-proven"
        } else {
            "violation"
        };
        let severity = severity.split_whitespace().next().unwrap();
        let ids: Vec<&str> = checks.split('`').skip(1).step_by(2).collect();
        assert!(!ids.is_empty(), "README table row names no check: {row}");
        for id in ids {
            out.push((id.to_string(), severity.to_string(), status.to_string()));
        }
    }
    out
}

/// The number the README states in "<Number> findings in all (<number> of them conditional)".
/// (total, conditional, not proven) from "<N> findings in all (<M> of them conditional[, <K> not
/// proven])".
fn readme_totals(readme: &str) -> (usize, usize, usize) {
    const WORDS: [&str; 61] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "twenty-one",
        "twenty-two",
        "twenty-three",
        "twenty-four",
        "twenty-five",
        "twenty-six",
        "twenty-seven",
        "twenty-eight",
        "twenty-nine",
        "thirty",
        "thirty-one",
        "thirty-two",
        "thirty-three",
        "thirty-four",
        "thirty-five",
        "thirty-six",
        "thirty-seven",
        "thirty-eight",
        "thirty-nine",
        "forty",
        "forty-one",
        "forty-two",
        "forty-three",
        "forty-four",
        "forty-five",
        "forty-six",
        "forty-seven",
        "forty-eight",
        "forty-nine",
        "fifty",
        "fifty-one",
        "fifty-two",
        "fifty-three",
        "fifty-four",
        "fifty-five",
        "fifty-six",
        "fifty-seven",
        "fifty-eight",
        "fifty-nine",
        "sixty",
    ];
    let number = |w: &str| {
        WORDS
            .iter()
            .position(|x| x.eq_ignore_ascii_case(w))
            .or_else(|| w.parse().ok())
            .unwrap_or_else(|| panic!("README: `{w}` is not a number"))
    };
    let (before, after) = readme
        .split_once(" findings in all (")
        .expect("README states \"<N> findings in all (<M> of them conditional)\"");
    let total = number(before.split_whitespace().last().unwrap());
    let conditional = number(after.split_whitespace().next().unwrap());
    let clause = after.split_once(')').map_or("", |(c, _)| c);
    let not_proven = clause
        .split_once(", ")
        .and_then(|(_, rest)| rest.strip_suffix(" not proven"))
        .map_or(0, number);
    (total, conditional, not_proven)
}

#[test]
fn the_readme_table_lists_the_expected_findings() {
    let (_, want) = expected();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = readme_table(&readme);
    let want: Vec<(String, String, String)> = want.into_iter().map(|(c, _, s, st)| (c, s, st)).collect();
    let (missing, unexpected) = difference(&want, &table);
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "README's planted-findings table differs from {EXPECTED} (check, severity, status)\n- in the expected file, not in the table: {missing:?}\n+ in the table, not in the expected file: {unexpected:?}"
    );
    let conditional = want.iter().filter(|(_, _, s)| s == "conditional").count();
    let not_proven = want.iter().filter(|(_, _, s)| s == "not-proven").count();
    assert_eq!(
        readme_totals(&readme),
        (want.len(), conditional, not_proven),
        "README's count of findings"
    );
}

#[test]
fn near_miss_the_table_parser_sees_a_changed_row() {
    // The comparison can fail: a row whose severity or status changes is a different finding.
    let table = "| check | severity | resource |\n| --- | --- | --- |\n| `a` + `b` | high | x |\n| `c` | medium (conditional) | y |\n| `d` | high (not proven) | z |\n\nSeventeen findings in all (two of them conditional).";
    assert_eq!(
        readme_table(table),
        [
            ("a".into(), "high".into(), "violation".into()),
            ("b".into(), "high".into(), "violation".into()),
            ("c".into(), "medium".into(), "conditional".into()),
            ("d".into(), "high".into(), "not-proven".into()),
        ]
    );
    assert_eq!(readme_totals(table), (17, 2, 0));
    assert_eq!(
        readme_totals("Nine findings in all (one of them conditional, 3 not proven)."),
        (9, 1, 3)
    );
    let walk = "| # | Check | Severity | Resource |\n|---|---|---|---|\n| 9 | [`x-y`](#9) (same plant) | medium, **conditional** | `arn:r` (account `1`) |\n| 10 | [`u`](#10) | high, **not proven** | `2` |\n| — | [`z` (ignored)](#i) | high | `arn:z` |\n";
    assert_eq!(
        walkthrough_table(walk),
        [
            ("x-y".into(), "arn:r".into(), "medium".into(), "conditional".into()),
            ("u".into(), "2".into(), "high".into(), "not-proven".into()),
        ]
    );
    let want = vec![("c", "medium", "violation")];
    let got = vec![("c", "medium", "conditional")];
    assert_eq!(difference(&want, &got), (want.clone(), got.clone()));
}

/// (check, resource, severity, status) per row of the walkthrough's "Planted violations" table:
/// `| # | [`check`](…) … | severity[, **conditional**] | `resource` … |`; rows numbered `—`
/// (ignored findings) are left out.
fn walkthrough_table(text: &str) -> Vec<Key> {
    let rows = text
        .lines()
        .skip_while(|l| !l.starts_with("| # | Check | Severity | Resource |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    let mut out = Vec::new();
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 4, "walkthrough row: {row}");
        if cells[0] == "—" {
            continue;
        }
        let first_code = |cell: &str| {
            cell.split('`')
                .nth(1)
                .unwrap_or_else(|| panic!("no code in {row}"))
                .to_string()
        };
        let check = first_code(cells[1]).split_whitespace().next().unwrap().to_string();
        let status = if cells[2].contains("conditional") {
            "conditional"
        } else if cells[2].contains("not proven") {
            "not-proven"
        } else {
            "violation"
        };
        let severity = cells[2].split([',', ' ']).next().unwrap().to_string();
        out.push((check, first_code(cells[3]), severity, status.to_string()));
    }
    out
}

#[test]
fn the_walkthrough_table_lists_the_expected_findings() {
    let (_, want) = expected();
    let text = std::fs::read_to_string(root().join("docs/example-walkthrough.md")).unwrap();
    let table = walkthrough_table(&text);
    let (missing, unexpected) = difference(&want, &table);
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "docs/example-walkthrough.md's table differs from {EXPECTED}\n- expected, not in the table:\n{}\n+ in the table, not expected:\n{}",
        missing.iter().map(line).collect::<Vec<_>>().join("\n"),
        unexpected.iter().map(line).collect::<Vec<_>>().join("\n"),
    );
}
