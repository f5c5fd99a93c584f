use super::*;

fn diagnostics(text: &str, items: Vec<Diagnostic>) -> Diagnostics {
    Diagnostics::new(FileKind::Config, Path::new("c.toml"), text, items)
}

#[test]
fn a_problem_is_shown_at_its_line_with_its_label() {
    let text = "[a]\nkey = \"value\"\nother = 1\n";
    let d = diagnostics(
        text,
        vec![Diagnostic::new("a: bad key", Some(4..7), "this key").with_help("remove it")],
    );
    let shown = d.render();
    assert!(shown.starts_with("error: a: bad key\n"), "{shown}");
    assert!(shown.contains("--> c.toml:2:1"), "{shown}");
    assert!(shown.contains("2 | key = \"value\""), "{shown}");
    assert!(shown.contains("^^^ this key"), "{shown}");
    assert!(shown.contains("help: remove it"), "{shown}");
    // Near miss: lines the span does not touch are not shown.
    assert!(!shown.contains("other = 1"), "{shown}");
    assert!(shown.ends_with("1 problem in config `c.toml`"), "{shown}");
    assert_eq!(d.to_string(), "config `c.toml` line 2, column 1: a: bad key");
}

#[test]
fn problems_without_a_place_name_the_file() {
    let d = diagnostics("", vec![Diagnostic::new("x: must not be empty", None, "")]);
    assert!(d.render().contains("--> c.toml"), "{}", d.render());
    assert_eq!(d.to_string(), "config `c.toml`: x: must not be empty");
}

#[test]
fn the_first_twenty_are_shown_then_counted() {
    let text = "x\n".repeat(30);
    let items = (0..25)
        .map(|i| Diagnostic::new(format!("problem {i}"), Some(i * 2..i * 2 + 1), "here"))
        .collect();
    let d = diagnostics(&text, items);
    let shown = d.render();
    assert_eq!(shown.matches("error: problem").count(), SHOWN);
    assert!(shown.contains("problem 19") && !shown.contains("problem 20"), "{shown}");
    assert!(
        shown.ends_with("25 problems in config `c.toml` (5 not shown)"),
        "{shown}"
    );
    let lines = d.to_string();
    assert_eq!(lines.lines().count(), SHOWN + 1);
    assert!(lines.ends_with("… and 5 more problems"), "{lines}");
}

#[test]
fn nothing_from_the_file_reaches_the_terminal_raw() {
    let text = "name = \"a\u{1b}[2J\u{202e}b\u{7}\"\r\n";
    let d = diagnostics(
        text,
        vec![Diagnostic::new(
            "name `a\u{1b}[2J` is bad",
            Some(0..text.len() - 2),
            "\u{9b}31m",
        )],
    );
    let shown = d.render();
    assert!(
        !shown.chars().any(|c| c != '\n' && crate::escape::is_hidden(c)),
        "{shown:?}"
    );
    // The snippet shows controls as visible pictures (annotate-snippets), the rest as escapes.
    assert!(
        shown.contains("a\u{241b}[2J") && shown.contains("\\u{9b}31m"),
        "{shown}"
    );
}

#[test]
fn a_long_line_is_cut_around_the_span() {
    let text = format!("{}BAD{}\n", "a".repeat(100_000), "b".repeat(100_000));
    let d = diagnostics(&text, vec![Diagnostic::new("bad", Some(100_000..100_003), "here")]);
    let shown = d.render();
    assert!(shown.len() < 2_000, "{} bytes", shown.len());
    assert!(
        shown.contains("BAD") && shown.contains("note: at c.toml:1:100001"),
        "{shown}"
    );
}

#[test]
fn snapshot_problems_keep_the_snapshot_wording() {
    let d = Diagnostics::new(
        FileKind::Snapshot,
        Path::new("s.json"),
        "{}",
        vec![Diagnostic::new(
            "roles[0].arn: duplicate ARN `a`",
            Some(0..2),
            "`roles[0].arn`",
        )],
    );
    assert_eq!(
        d.to_string(),
        "snapshot `s.json` is not valid: roles[0].arn: duplicate ARN `a`"
    );
    assert!(d.render().ends_with("1 problem in snapshot `s.json`"));
}
