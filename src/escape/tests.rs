//! Tests of the sink functions: the same hostile strings through every sink, exact outputs for
//! the classes that matter, and property tests of each sink's invariant on arbitrary strings.

use super::*;
use proptest::prelude::*;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::writer::Writer;
use quick_xml::{Reader, XmlVersion};

/// The hostile strings every sink is tested with, from `tests/fixtures/hostile-strings.json`
/// (the CLI tests of `tests/cli/hostile_output.rs` read the same file).
pub(crate) fn hostile() -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../../tests/fixtures/hostile-strings.json"))
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

#[test]
fn terminal_shows_every_hidden_character_on_one_line() {
    assert_eq!(terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    assert_eq!(terminal("a\nb\r"), "a\\u{a}b\\u{d}");
    assert_eq!(terminal("x\u{202e}y\u{2066}"), "x\\u{202e}y\\u{2066}");
    assert_eq!(terminal("\u{0}\u{7f}\u{85}\u{9b}"), "\\u{0}\\u{7f}\\u{85}\\u{9b}");
    // Quiet: printable text, non-ASCII included, is untouched (and not copied).
    assert!(matches!(terminal("ünïcode arn:aws:x"), Cow::Borrowed(_)));
    // Near miss: a tab is a control character too.
    assert_eq!(terminal("a\tb"), "a\\u{9}b");
    for s in &hostile() {
        let out = terminal(s);
        assert!(!out.chars().any(is_hidden), "{out:?}");
        assert_eq!(out.lines().count(), 1, "{out:?}");
    }
}

/// Whether `c` at byte `i` of `s` is preceded by an odd number of backslashes.
fn escaped_at(s: &str, i: usize) -> bool {
    s.get(..i).unwrap().chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

fn assert_markdown_text_safe(out: &str) {
    assert!(!out.contains('\n') && !out.contains('\r'), "{out:?}");
    // Nothing GitHub's autolink extension starts from: `scheme://` or `www.`.
    let lower = out.to_ascii_lowercase();
    assert!(!lower.contains("://") && !lower.contains("www."), "autolink in {out:?}");
    let without_breaks = out
        .replace("<br>", "")
        .replace(MARKDOWN_AT, "")
        .replace(MARKDOWN_HASH, "")
        .replace("&#58;", "")
        .replace("&#46;", "");
    for (i, c) in without_breaks.char_indices() {
        if matches!(c, '<' | '>' | '|' | '[' | ']' | '*' | '_' | '&' | '!' | '$' | '~' | '`') {
            assert!(escaped_at(&without_breaks, i), "unescaped {c:?} in {out:?}");
        }
        assert!(c != '@' && c != '#', "bare {c:?} in {out:?}");
        assert!(!is_hidden(c), "{out:?}");
    }
}

#[test]
fn markdown_text_is_inert() {
    assert_eq!(markdown_text("a|b\nc"), "a\\|b<br>c");
    assert_eq!(markdown_text("x\r\ny"), "x<br>y");
    assert_eq!(markdown_text("<script>"), "\\<script\\>");
    assert_eq!(markdown_text("hi @octocat"), "hi `@`octocat");
    assert_eq!(markdown_text("[a](b)"), "\\[a\\](b)");
    assert_eq!(markdown_text("$x$"), "\\$x\\$");
    // Quiet: plain words and ARNs are unchanged.
    assert_eq!(
        markdown_text("rule forward-invoices arn:aws:events:eu-west-1:1:rule/x"),
        "rule forward-invoices arn:aws:events:eu-west-1:1:rule/x"
    );
    for s in &hostile() {
        assert_markdown_text_safe(&markdown_text(s));
    }
}

// GitHub autolinks `www.` and `scheme://` in text (https://github.github.com/gfm/#autolinks-extension-),
// and links `#123`, `owner/repo#123` and `@user` outside code:
// https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/autolinked-references-and-urls
#[test]
fn fires_markdown_text_breaks_autolinks_references_and_mentions() {
    assert_eq!(markdown_text("see #12"), "see `#`12");
    assert_eq!(markdown_text("acme/repo#5"), "acme/repo`#`5");
    assert_eq!(markdown_text("https://evil.example/x"), "https&#58;//evil.example/x");
    assert_eq!(markdown_text("WWW.evil.example"), "WWW&#46;evil.example");
    assert_eq!(markdown_text("a@b.example"), "a`@`b.example");
}

#[test]
fn near_miss_markdown_text_keeps_colons_and_dots_that_link_nothing() {
    // An ARN's colons and a name's dots are not autolinks: unchanged.
    assert_eq!(
        markdown_text("arn:aws:s3:::www-bucket.logs"),
        "arn:aws:s3:::www-bucket.logs"
    );
    assert_eq!(markdown_text("ww.x a:/b"), "ww.x a:/b");
}

/// The content of a single code span, or `None` when `out` is not exactly one code span.
fn code_span_content(out: &str) -> Option<String> {
    let fence_len = out.chars().take_while(|c| *c == '`').count();
    let fence = "`".repeat(fence_len);
    let inner = out.strip_prefix(&fence)?.strip_suffix(&fence)?;
    // No run of exactly `fence_len` backticks inside (that would close the span early).
    let mut run = 0;
    for c in inner.chars().chain([' ']) {
        if c == '`' {
            run += 1;
        } else {
            if run == fence_len {
                return None;
            }
            run = 0;
        }
    }
    let stripped = match inner.strip_prefix(' ').and_then(|i| i.strip_suffix(' ')) {
        Some(s) if !inner.chars().all(|c| c == ' ') => s,
        _ => inner,
    };
    Some(stripped.to_string())
}

#[test]
fn markdown_code_is_one_span() {
    assert_eq!(markdown_code("a|b"), "`a\\|b`");
    assert_eq!(markdown_code_inline("a|b"), "`a|b`");
    assert_eq!(markdown_code("a`b"), "``a`b``");
    assert_eq!(markdown_code("`x"), "`` `x ``");
    assert_eq!(markdown_code(""), "` `");
    assert_eq!(code_span_content(&markdown_code_inline("a ``` b")).unwrap(), "a ``` b");
    for s in &hostile() {
        let out = markdown_code(s);
        assert!(!out.contains('\n'), "{out:?}");
        assert!(code_span_content(&out).is_some(), "{out:?}");
        let unescaped = out.replace("\\|", "");
        assert!(!unescaped.contains('|'), "{out:?}");
    }
}

/// `s` without its numeric character references (`&#60;`).
fn without_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("&#") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after
            .find(';')
            .filter(|e| after[..*e].chars().all(|c| c.is_ascii_digit()))
        {
            Some(e) => rest = &after[e + 1..],
            None => {
                out.push_str("&#");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn markdown_html_is_entities_only() {
    assert_eq!(markdown_html("<b>&"), "&#60;b&#62;&#38;");
    assert_eq!(markdown_html("a\n\nb"), "a  b");
    assert_eq!(markdown_html("@x"), "<code>@</code>x");
    assert_eq!(markdown_html("#1"), "<code>#</code>1");
    assert_eq!(markdown_html("arn:aws:iam::1:role/x-y.z"), "arn:aws:iam::1:role/x-y.z");
    for s in &hostile() {
        let out = markdown_html(s)
            .replace("<code>@</code>", "")
            .replace("<code>#</code>", "");
        assert!(!without_entities(&out).contains('#'), "bare # in {out:?}");
        assert!(
            !out.contains(['<', '>', '\n', '\r', '[', ']', '`', '|', '@', '*', '_', '"']),
            "{out:?}"
        );
        assert!(!out.chars().any(is_hidden), "{out:?}");
    }
}

/// Whether `label` can sit between DOT double quotes: no unescaped quote, no line break.
fn dot_safe(label: &str) -> bool {
    let mut chars = label.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return false,
            '\\' => {}
            '"' | '\n' | '\r' => return false,
            c if is_hidden(c) => return false,
            _ => {}
        }
    }
    true
}

#[test]
fn dot_labels_stay_quoted() {
    assert_eq!(dot_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    assert_eq!(dot_label("\u{1b}"), "\\\\u{1b}");
    assert_eq!(dot_label("{x} <y> |z|"), "{x} <y> |z|");
    for s in &hostile() {
        assert!(dot_safe(&dot_label(s)), "{s:?}");
    }
}

fn mermaid_safe(label: &str) -> bool {
    !label.contains(['"', '\n', '\r', '<', '>', '`']) && !label.chars().any(is_hidden)
}

#[test]
fn mermaid_labels_stay_quoted() {
    assert_eq!(mermaid_label("a\"b#quot;"), "a#quot;b#35;quot;");
    assert_eq!(mermaid_label("<x>&`"), "#lt;x#gt;#amp;#96;");
    for s in &hostile() {
        assert!(mermaid_safe(&mermaid_label(s)), "{s:?}");
    }
}

/// Writes `text` as an attribute and as a text node with quick-xml, then parses it back.
fn xml_round_trip(text: &str) -> Result<(String, String), String> {
    let mut writer = Writer::new(Vec::new());
    let mut start = BytesStart::new("a");
    start.push_attribute(("m", text));
    writer.write_event(Event::Start(start)).map_err(|e| e.to_string())?;
    writer
        .write_event(Event::Text(BytesText::new(text)))
        .map_err(|e| e.to_string())?;
    writer
        .write_event(Event::End(quick_xml::events::BytesEnd::new("a")))
        .map_err(|e| e.to_string())?;
    let xml = String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())?;
    if let Some(c) = xml.chars().find(|c| !is_xml_char(*c)) {
        return Err(format!("character {c:?} is not allowed in XML 1.0"));
    }
    let mut reader = Reader::from_str(&xml);
    let (mut attr, mut body) = (String::new(), String::new());
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                for a in e.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    attr = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| e.to_string())?
                        .into_owned();
                }
            }
            Event::Text(t) => body.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => {
                let name = r.xml_content(XmlVersion::Implicit1_0);
                let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                    .ok_or_else(|| format!("unknown entity {name}"))?;
                body.push_str(resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((attr, body))
}

#[test]
fn xml_text_is_well_formed() {
    assert_eq!(xml_text("a\u{0}b\u{fffe}"), "a\\u{0}b\\u{fffe}");
    assert_eq!(xml_text("a\r\nb"), "a\nb");
    assert!(matches!(xml_text("<ok> & fine"), Cow::Borrowed(_)));
    // Near miss: unescaped, NUL makes the document ill-formed.
    assert!(xml_round_trip("a\u{0}b").is_err());
    for s in &hostile() {
        let safe = xml_text(s);
        let (attr, body) = xml_round_trip(&safe).unwrap();
        assert_eq!(body, safe, "{s:?}");
        assert!(!attr.is_empty());
    }
}

/// What CloudFormation's `Fn::Sub` makes of `s` when no variable is defined: `None` when it would
/// substitute something.
fn cfn_sub_result(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(rest.get(..i)?);
        let after = rest.get(i + 2..)?;
        let literal = after.strip_prefix('!')?;
        out.push_str("${");
        rest = literal;
    }
    out.push_str(rest);
    Some(out)
}

#[test]
fn cfn_sub_literals_substitute_nothing() {
    assert_eq!(cfn_sub_literal("${AWS::AccountId}"), "${!AWS::AccountId}");
    assert_eq!(cfn_sub_literal("${!x}"), "${!!x}");
    assert!(matches!(cfn_sub_literal("$ {x} $"), Cow::Borrowed(_)));
    assert_eq!(cfn_sub_result("${!x}").unwrap(), "${x}");
    assert_eq!(cfn_sub_result("${x}"), None);
    for s in &hostile() {
        assert_eq!(cfn_sub_result(&cfn_sub_literal(s)).as_deref(), Some(s.as_str()));
    }
}

/// What Terraform makes of template string `s`: `None` when it holds an interpolation or a
/// directive.
pub(crate) fn terraform_result(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = r;
        } else if let Some(r) = rest.strip_prefix("%%{") {
            out.push_str("%{");
            rest = r;
        } else if rest.starts_with("${") || rest.starts_with("%{") {
            return None;
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..)?;
        }
    }
    Some(out)
}

#[test]
fn terraform_literals_interpolate_nothing() {
    assert_eq!(terraform_literal("${path.cwd}"), "$${path.cwd}");
    assert_eq!(terraform_literal("%{ if }"), "%%{ if }");
    assert_eq!(terraform_literal("$${x}"), "$$${x}");
    assert!(matches!(terraform_literal("$ { % {"), Cow::Borrowed(_)));
    assert_eq!(terraform_result("${x}"), None);
    for s in &hostile() {
        assert_eq!(terraform_result(&terraform_literal(s)).as_deref(), Some(s.as_str()));
    }
}

/// Arbitrary strings, biased towards the characters the sinks care about.
fn hostile_string() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        prop::sample::select(vec![
            "${", "%{", "$${", "%%{", "${!", "}", "$", "%", "{", "`", "``", "|", "\n", "\r", "\r\n", "<", ">", "&",
            "@", "\\", "\"", "#", "]]>", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{202e}", "\u{2066}", "\u{fffe}",
            " ", "a", "é", "://", "www.", "WwW.", "*", "?", "${*}", "${?}", "${$}",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn prop_terminal_has_no_hidden_character(s in hostile_string()) {
        let out = terminal(&s);
        prop_assert!(!out.chars().any(is_hidden));
        prop_assert_eq!(out.lines().count(), usize::from(!s.is_empty()));
    }

    #[test]
    fn prop_markdown_is_inert(s in hostile_string()) {
        assert_markdown_text_safe(&markdown_text(&s));
        let code = markdown_code_inline(&s);
        prop_assert!(code_span_content(&code).is_some(), "{:?}", code);
        prop_assert!(!code.contains('\n'));
        let html = markdown_html(&s).replace("<code>@</code>", "").replace("<code>#</code>", "");
        prop_assert!(!html.contains(['<', '>', '\n', '@', '`', '|']));
    }

    #[test]
    fn prop_graph_labels_stay_quoted(s in hostile_string()) {
        prop_assert!(dot_safe(&dot_label(&s)));
        prop_assert!(mermaid_safe(&mermaid_label(&s)));
    }

    #[test]
    fn prop_xml_parses(s in hostile_string()) {
        let safe = xml_text(&s);
        let parsed = xml_round_trip(&safe);
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
    }

    #[test]
    fn prop_iac_literals_round_trip(s in hostile_string()) {
        prop_assert_eq!(cfn_sub_result(&cfn_sub_literal(&s)), Some(s.clone()));
        prop_assert_eq!(terraform_result(&terraform_literal(&s)), Some(s.clone()));
    }

    #[test]
    fn prop_iam_literals_match_only_themselves(s in hostile_string(), extra in "[a-z*?$]{1,3}") {
        use crate::iam::pattern;
        let lit = iam_literal(&s);
        prop_assert!(!pattern::has_variable(&lit), "{:?}", lit);
        prop_assert_eq!(pattern::literal(&lit), s.clone());
        prop_assert!(pattern::matches(&lit, &s, false));
        let longer = format!("{s}{extra}");
        prop_assert!(!pattern::matches(&lit, &longer, false));
        // Nested in Terraform, the same IAM literal comes back.
        prop_assert_eq!(terraform_result(&terraform_literal(&lit)), Some(lit.to_string()));
    }
}

// `${*}`, `${?}`, `${$}` are IAM's literal `*`, `?`, `$`:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
#[test]
fn fires_iam_literal_writes_wildcards_and_variables_as_special_variables() {
    assert_eq!(iam_literal("q*"), "q${*}");
    assert_eq!(iam_literal("q?x"), "q${?}x");
    assert_eq!(iam_literal("${aws:username}"), "${$}{aws:username}");
    assert_eq!(terraform_literal(&iam_literal("a$*")), "a$${$}$${*}");
}

#[test]
fn quiet_iam_literal_leaves_plain_arns_alone() {
    let arn = "arn:aws:lambda:eu-west-1:111111111111:function:invoice-api";
    assert!(matches!(iam_literal(arn), Cow::Borrowed(_)));
    for s in &hostile() {
        let lit = iam_literal(s);
        assert!(!crate::iam::pattern::has_variable(&lit), "{lit:?}");
        assert_eq!(crate::iam::pattern::literal(&lit), *s);
    }
}

#[test]
fn near_miss_markdown_html_breaks_autolinks_too() {
    assert_eq!(markdown_html("https://x"), "https&#58;//x");
    assert_eq!(markdown_html("www.x"), "www&#46;x");
    assert_eq!(markdown_html("a.b:c"), "a.b:c");
}
