//! One escaping function per output sink, for every string that came from outside topoguard
//! (snapshot, config, AWS error messages).
//!
//! Each sink has exactly one function, and every renderer routes external data through it:
//!
//! | sink | function | invariant |
//! | --- | --- | --- |
//! | terminal (human report, errors, progress, gap lines) | [`terminal`] | no control character, no bidi control, no line break |
//! | log lines (`crawl -v` tracing) | [`TerminalLines`] (a writer) | [`terminal`] per line |
//! | Markdown text and table cells | [`markdown_text`] | no raw HTML, no Markdown markup, no `@mention`, `#123` reference or autolink, one line, no bare `\|` |
//! | Markdown code spans | [`markdown_code`] | one code span whatever the backticks; one line; `\|` escaped |
//! | HTML inside Markdown (`<summary>`) | [`markdown_html`] | entities only, one line, no `@mention` |
//! | Graphviz DOT quoted labels | [`dot_label`] | no unescaped `"`, no line break, backslashes literal |
//! | Mermaid quoted labels | [`mermaid_label`] | no `"`, `<`, `>`, `#`, backtick or line break |
//! | XML text and attributes (JUnit) | [`xml_text`] | only characters XML 1.0 allows |
//! | CloudFormation `Fn::Sub` strings | [`cfn_sub_literal`] | no `${` that CloudFormation would substitute |
//! | Terraform JSON strings | [`terraform_literal`] | no `${` or `%{` that Terraform would interpolate |
//! | IAM policy Resource and Condition values | [`iam_literal`] | no policy variable, no wildcard |
//!
//! Sinks nest: a name in a generated IAM policy is first made an IAM literal, then the policy
//! goes through its file format's escaper (Terraform's `$${`; CloudFormation writes data without
//! `Fn::Sub`), so each layer reads back exactly what the layer inside it wrote.
//!
//! Characters that a reader could not see or that reorder text are shown as a visible escape
//! `\u{…}` (the Rust notation) in every text sink: C0 controls (NUL, BEL, ESC, CR, …), DEL, C1
//! controls, the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the
//! other bidi marks (U+200E, U+200F, U+061C), and the Unicode line and paragraph separators.

use std::borrow::Cow;
use std::fmt::Write as _;

mod writer;
pub use writer::TerminalLines;

/// Whether `c` must never reach a reader as itself: controls, bidi controls, line separators.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// Pushes the visible escape of `c` (`\u{1b}`).
fn push_visible(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// Text for a terminal, on one line: every hidden character (see [`is_hidden`]) and every line
/// break shown as `\u{…}`.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A GitHub mention or team reference is only inert inside a code span; `@` alone in one is.
const MARKDOWN_AT: &str = "`@`";

/// GitHub links `#123` (and `owner/repo#123`) to issues after rendering, outside code only;
/// `#` alone in a code span is inert. A backslash or an entity would not do: both come back as
/// a plain `#` in the rendered text that the reference filter reads.
const MARKDOWN_HASH: &str = "`#`";

/// `:` of a `scheme://` and `.` of a `www.` as entities: GitHub's autolink extension looks for
/// those characters in the Markdown source, and an entity is not one of them.
/// <https://github.github.com/gfm/#autolinks-extension->
fn autolink_breaker(c: char, before: &str, after: &str) -> Option<&'static str> {
    match c {
        ':' if after.starts_with("//") => Some("&#58;"),
        '.' if before.len() >= 3
            && before
                .get(before.len() - 3..)
                .is_some_and(|w| w.eq_ignore_ascii_case("www")) =>
        {
            Some("&#46;")
        }
        _ => None,
    }
}

/// Text for a Markdown paragraph or table cell (GitHub-flavoured, as a pull-request comment):
/// Markdown and HTML punctuation backslash-escaped (so no emphasis, link, image, HTML tag,
/// entity, math or table separator comes from data), `@` and `#` inside code spans (no mention,
/// no issue reference), the `:` of `://` and the `.` of `www.` as entities (no autolink), line
/// breaks as `<br>` (a blank line would end the enclosing block), hidden characters shown.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let (before, after) = (s.get(..i).unwrap_or(""), s.get(i + c.len_utf8()..).unwrap_or(""));
        if let Some(entity) = autolink_breaker(c, before, after) {
            out.push_str(entity);
            continue;
        }
        match c {
            '\r' if chars.peek().map(|(_, n)| *n) == Some('\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            '@' => out.push_str(MARKDOWN_AT),
            '#' => out.push_str(MARKDOWN_HASH),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if is_hidden(c) => {
                out.push('\\');
                push_visible(&mut out, c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span holding `s` verbatim (on one line): fenced by more backticks than the
/// longest run inside, padded with a space when `s` starts or ends with a backtick, `|` escaped
/// so that it stays inside a table cell (GitHub removes that backslash in tables; use the span
/// in table cells only, or [`markdown_code_inline`] elsewhere).
pub fn markdown_code(s: &str) -> String {
    code_span(s, true)
}

/// [`markdown_code`] outside a table: `|` kept as is.
pub fn markdown_code_inline(s: &str) -> String {
    code_span(s, false)
}

fn code_span(s: &str, in_table: bool) -> String {
    let mut inner = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\r' | '\n' => inner.push(' '),
            '|' if in_table => inner.push_str("\\|"),
            c if is_hidden(c) => push_visible(&mut inner, c),
            c => inner.push(c),
        }
    }
    if inner.is_empty() {
        return "` `".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in inner.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space on each side when both are there; pad when the content starts
    // or ends with a backtick or a space, so that what is shown is exactly `inner`.
    let pad = inner.starts_with(['`', ' ']) || inner.ends_with(['`', ' ']);
    if pad {
        format!("{fence} {inner} {fence}")
    } else {
        format!("{fence}{inner}{fence}")
    }
}

/// Text inside an HTML element of a Markdown document (the `<summary>` of `<details>`): on one
/// line, every character that HTML or Markdown could read as markup written as a numeric entity,
/// `@` and `#` inside `<code>` (no mention, no issue reference), the `:` of `://` and the `.` of
/// `www.` as entities like [`markdown_text`] (an HTML block is not autolinked, but the same
/// string may be moved into text later), hidden characters shown.
pub fn markdown_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        let (before, after) = (s.get(..i).unwrap_or(""), s.get(i + c.len_utf8()..).unwrap_or(""));
        if let Some(entity) = autolink_breaker(c, before, after) {
            out.push_str(entity);
            continue;
        }
        match c {
            '\r' | '\n' => out.push(' '),
            '@' => out.push_str("<code>@</code>"),
            '#' => out.push_str("<code>#</code>"),
            c if is_hidden(c) => {
                let mut visible = String::new();
                push_visible(&mut visible, c);
                out.push_str(&visible.replace('\\', "&#92;"));
            }
            c if c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '.' | '/' | ':' | '-') || !c.is_ascii() => {
                out.push(c);
            }
            c => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
        }
    }
    out
}

/// A Graphviz DOT label between double quotes: `\` and `"` backslash-escaped, line breaks as
/// DOT's centred line break `\n`, hidden characters shown (their backslash escaped too).
pub fn dot_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if is_hidden(c) => {
                out.push('\\');
                push_visible(&mut out, c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid label between double quotes: `"`, `#`, `<`, `>`, `&` and backticks as Mermaid entity
/// codes (`#quot;`, `#35;`, `#lt;`, `#gt;`, `#amp;`, `#96;`), line breaks as spaces, hidden
/// characters shown.
pub fn mermaid_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            c if is_hidden(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Text for an XML text node or attribute value, before the XML writer escapes `<`, `&` and
/// quotes (quick-xml does that; quick-junit also strips ANSI sequences and most C0 controls, but
/// keeps DEL, C1 controls, U+FFFE and U+FFFF). Here every hidden character (line breaks
/// excepted) and every character XML 1.0 forbids is shown as `\u{…}`, so nothing is lost and the
/// document stays well-formed.
pub fn xml_text(s: &str) -> Cow<'_, str> {
    let bad = |c: char| (is_hidden(c) && c != '\n' && c != '\t') || !is_xml_char(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            c if bad(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A literal for a CloudFormation `Fn::Sub` template string: every `${` becomes `${!`, which
/// CloudFormation writes back as a literal `${`.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html>
pub fn cfn_sub_literal(s: &str) -> Cow<'_, str> {
    if s.contains("${") {
        Cow::Owned(s.replace("${", "${!"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A literal for a Terraform string (every JSON string of a `.tf.json` file is a template):
/// `${` becomes `$${` and `%{` becomes `%%{`, which Terraform reads as literal text.
/// <https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences>
pub fn terraform_literal(s: &str) -> Cow<'_, str> {
    if s.contains("${") || s.contains("%{") {
        Cow::Owned(s.replace("${", "$${").replace("%{", "%%{"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A literal for an IAM policy's Resource or Condition value: `$`, `*` and `?` written as the
/// policy variables `${$}`, `${*}` and `${?}`, which IAM reads as those characters, so that data
/// never becomes a policy variable (`${aws:username}`) or a wildcard. Apply it to data only;
/// topoguard's own wildcards (`function:*`, `prefix*`) are written around it.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars>
pub fn iam_literal(s: &str) -> Cow<'_, str> {
    if !s.contains(['$', '*', '?']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '$' | '*' | '?' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
pub(crate) mod tests;
