//! Diagnostics: every problem found in one input file (the config, a snapshot), each with a
//! labelled span, collected all at once and shown with the lines of the file they point at.
//!
//! Loaders collect [`Diagnostic`]s into one [`Diagnostics`] per file instead of stopping at
//! the first problem. It prints two ways: [`Diagnostics::render`] for people (source snippets
//! drawn by `annotate-snippets`, the first [`SHOWN`] problems, then a count), and its
//! `Display` for logs and tests (one line per problem, same limit). Lines and columns come from
//! [`Lines`] (1-based, columns in Unicode code points). Both forms pass every line through the
//! terminal escaper, so nothing from the file can drive the terminal.
//!
//! This module sits below `checks` and depends only on `finding` and `escape`.

pub mod json_path;

use crate::escape::terminal;
use crate::finding::Lines;
use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How many problems are shown before the rest are only counted.
pub const SHOWN: usize = 20;

/// Longest excerpt of one line shown in a snippet, in bytes (a minified snapshot is one line).
const EXCERPT_MAX: usize = 240;

/// What kind of file the problems are in; decides how the one-line form names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Snapshot,
}

impl FileKind {
    fn as_str(self) -> &'static str {
        match self {
            FileKind::Config => "config",
            FileKind::Snapshot => "snapshot",
        }
    }
}

/// One problem: a message, the span it is about (if it has a place) with a label, and an
/// optional help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// Byte range in the file; `None` when the problem is about the file as a whole.
    pub span: Option<Range<usize>>,
    /// Shown under the span.
    pub label: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem at `span`, labelled `label`.
    pub fn new(message: impl Into<String>, span: Option<Range<usize>>, label: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one file, with the file's text to show them in.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub kind: FileKind,
    pub path: PathBuf,
    pub text: String,
    /// In the order found (file order where the loader walks the file in order).
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(kind: FileKind, path: &Path, text: &str, items: Vec<Diagnostic>) -> Self {
        Diagnostics {
            kind,
            path: path.to_path_buf(),
            text: text.to_string(),
            items,
        }
    }

    /// The problems with source snippets (no colour), then how many were not shown. Every line
    /// is escaped for the terminal.
    pub fn render(&self) -> String {
        let lines = Lines::new(&self.text);
        let path = terminal(&self.path.display().to_string()).into_owned();
        let renderer = Renderer::plain();
        let mut out = String::new();
        for d in self.items.iter().take(SHOWN) {
            out.push_str(&render_one(&renderer, &lines, &path, d));
            out.push_str("\n\n");
        }
        out.push_str(&self.summary());
        escape_lines(&out)
    }

    /// `3 problems in config `p``, and how many are not shown.
    fn summary(&self) -> String {
        let n = self.items.len();
        let noun = if n == 1 { "problem" } else { "problems" };
        let mut s = format!("{n} {noun} in {} `{}`", self.kind.as_str(), self.path.display());
        if n > SHOWN {
            s.push_str(&format!(" ({} not shown)", n - SHOWN));
        }
        s
    }

    /// The one-line form of diagnostic `d`.
    fn line(&self, lines: &Lines<'_>, d: &Diagnostic) -> String {
        let path = self.path.display();
        match (self.kind, &d.span) {
            (FileKind::Config, Some(span)) => {
                let (line, column) = lines.position(span.start);
                format!("config `{path}` line {line}, column {column}: {}", d.message)
            }
            (FileKind::Config, None) => format!("config `{path}`: {}", d.message),
            (FileKind::Snapshot, _) => format!("snapshot `{path}` is not valid: {}", d.message),
        }
    }
}

impl fmt::Display for Diagnostics {
    /// One line per problem (the first [`SHOWN`]), then how many more there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = Lines::new(&self.text);
        let shown: Vec<String> = self.items.iter().take(SHOWN).map(|d| self.line(&lines, d)).collect();
        write!(f, "{}", shown.join("\n"))?;
        if self.items.len() > SHOWN {
            write!(f, "\n… and {} more problems", self.items.len() - SHOWN)?;
        }
        Ok(())
    }
}

/// One diagnostic: title, `--> file:line:column`, the lines of its span with the label, help.
/// Message, label and help are escaped first, so that no line break in them starts a line.
fn render_one(renderer: &Renderer, lines: &Lines<'_>, path: &str, d: &Diagnostic) -> String {
    let message = terminal(&d.message);
    let help = d.help.as_deref().map(terminal);
    let title = Level::ERROR.primary_title(message.as_ref());
    let Some(span) = &d.span else {
        let mut group = title.element(Origin::path(path));
        if let Some(help) = &help {
            group = group.element(Level::HELP.message(help.as_ref()));
        }
        return renderer.render(&[group]);
    };
    let (line, column) = lines.position(span.start);
    let (excerpt, rebased, whole_line) = excerpt(lines, span.clone());
    let label = terminal(&d.label);
    let snippet = Snippet::source(excerpt)
        .line_start(line)
        .fold(true)
        .annotation(AnnotationKind::Primary.span(rebased).label(label.as_ref()));
    // annotate-snippets counts the column from the excerpt's start: right when the excerpt
    // starts at the line's start; a cut long line says where it is in a note instead.
    let mut group = if whole_line {
        title.element(snippet.path(path))
    } else {
        let at = format!("at {path}:{line}:{column} (a long line, shown from near the span)");
        title.element(snippet).element(Level::NOTE.message(at))
    };
    if let Some(help) = &help {
        group = group.element(Level::HELP.message(help.as_ref()));
    }
    renderer.render(&[group])
}

/// The lines `span` covers (from its first line's start), at most [`EXCERPT_MAX`] bytes of
/// them, starting a little before the span on a long line; the span relative to it; and
/// whether the excerpt starts at the start of the span's line.
fn excerpt<'t>(lines: &Lines<'t>, span: Range<usize>) -> (&'t str, Range<usize>, bool) {
    let text = lines.text();
    let from = floor_boundary(text, span.start);
    let to = floor_boundary(text, span.end).max(from);
    let mut start = lines.line_range(lines.position(from).0).start.min(from);
    let mut end = lines.line_range(lines.position(to).0).end.max(to);
    let whole_line = from - start <= EXCERPT_MAX / 2;
    if !whole_line {
        start = floor_boundary(text, from - EXCERPT_MAX / 2);
    }
    if end - start > EXCERPT_MAX {
        end = floor_boundary(text, start + EXCERPT_MAX).max(from);
    }
    let excerpt = text.get(start..end).unwrap_or("");
    (excerpt, from - start..to.min(end) - start, whole_line)
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Every line of `s` through the terminal escaper (line breaks kept, nothing else hidden).
fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| terminal(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
