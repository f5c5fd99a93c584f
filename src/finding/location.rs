//! Places in a text file (snapshot, config): the one line/column implementation of the crate.
//!
//! Positions: lines and columns are 1-based; columns count Unicode code points (SARIF
//! `columnKind` `unicodeCodePoints`, and what an editor shows for non-ASCII text); byte offsets
//! are 0-based. A span's end is exclusive: the line and column just after its last character.
//! Offsets inside a character or past the end are clamped, never a panic.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A span of a text file, as bytes and as lines and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Span {
    pub byte_offset: usize,
    pub byte_length: usize,
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    /// Column just after the last character of the span.
    pub end_column: usize,
}

impl Span {
    /// The byte range of the span.
    pub fn bytes(&self) -> Range<usize> {
        self.byte_offset..self.byte_offset.saturating_add(self.byte_length)
    }
}

/// A place in a file other than the snapshot: a config entry (later an IaC resource).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub struct FileLocation {
    /// The file as the user named it.
    pub file: String,
    pub span: Span,
}

impl std::fmt::Display for FileLocation {
    /// `file:line:column`, as editors and terminals link it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.span.start_line, self.span.start_column)
    }
}

/// Bytes per block of [`Lines::chars_before_block`]: a column is counted from the nearest block
/// start, so one position costs at most a block, even on a one-line (minified) file.
const BLOCK: usize = 4096;

/// Line starts of a text, to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct Lines<'t> {
    text: &'t str,
    /// Byte offset of the first character of each line; the first is 0.
    starts: Vec<usize>,
    /// Characters before each [`BLOCK`]-byte block.
    chars_before_block: Vec<usize>,
}

impl<'t> Lines<'t> {
    /// Indexes `text` in one pass (`\n` ends a line; a `\r` before it is part of the line).
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        let mut chars_before_block = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut chars = 0;
        for (i, b) in text.bytes().enumerate() {
            if i % BLOCK == 0 {
                chars_before_block.push(chars);
            }
            if b == b'\n' {
                starts.push(i + 1);
            }
            chars += usize::from(!is_continuation(b));
        }
        Lines {
            text,
            starts,
            chars_before_block,
        }
    }

    /// Line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = self.floor(offset);
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let column = self.chars_before(offset) - self.chars_before(start);
        (line.max(1), column + 1)
    }

    /// How many characters the text has before byte `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / BLOCK;
        let before = self.chars_before_block.get(block).copied().unwrap_or(0);
        let counted = self.text.as_bytes().get(block * BLOCK..offset).unwrap_or(&[]);
        before + counted.iter().filter(|b| !is_continuation(**b)).count()
    }

    /// The span of a byte range.
    pub fn span(&self, range: Range<usize>) -> Span {
        let start = self.floor(range.start);
        let end = self.floor(range.end.max(start));
        let (start_line, start_column) = self.position(start);
        let (end_line, end_column) = self.position(end);
        Span {
            byte_offset: start,
            byte_length: end - start,
            start_line,
            start_column,
            end_line,
            end_column,
        }
    }

    /// The byte range of line `line` (1-based) without its line break.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let end = self.starts.get(line).map_or(self.text.len(), |next| next - 1);
        start..end.max(start)
    }

    /// The text being indexed.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// `offset` moved back to a character boundary and into the text.
    fn floor(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }
}

/// Whether `b` continues a UTF-8 character (is not its first byte).
fn is_continuation(b: u8) -> bool {
    (b & 0xC0) == 0x80
}

/// The byte just after the JSON string whose opening `"` is at byte `start` (the end of the
/// text when the string is not closed). The JSON scans that locate snapshot values share it.
pub fn json_string_end(bytes: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while let Some(k) = bytes.get(j..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
        let at = j + k;
        if bytes.get(at) == Some(&b'"') {
            return at + 1;
        }
        j = at + 2;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8259 section 7: inside a string, `\"` is a quote and `\\` a backslash; the string ends
    /// at the first quote not escaped.
    #[test]
    fn string_ends_skip_escapes_and_stop_at_the_text_end() {
        let end = |t: &str, start: usize| json_string_end(t.as_bytes(), start);
        assert_eq!(end(r#""abc" x"#, 0), 5);
        assert_eq!(end(r#""a\"b" x"#, 0), 6, "an escaped quote does not end it");
        assert_eq!(
            end(r#""a\\" x"#, 0),
            5,
            "an escaped backslash does not escape the quote"
        );
        assert_eq!(end(r#"x "" y"#, 2), 4, "empty string after an offset");
        assert_eq!(end(r#""never closed"#, 0), 13);
        assert_eq!(end("\"ends in \\", 0), 10, "a backslash as the last byte");
        assert_eq!(end("\"é\"", 0), 4, "multi-byte characters are skipped whole");
    }

    #[test]
    fn positions_count_code_points_from_one() {
        let text = "ab\né=x\r\nlast";
        let lines = Lines::new(text);
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(2), (1, 3));
        assert_eq!(lines.position(3), (2, 1));
        // `é` is two bytes, one column.
        assert_eq!(lines.position(5), (2, 2));
        assert_eq!(lines.position(text.len()), (3, 5));
        let span = lines.span(3..6);
        assert_eq!(
            (span.start_line, span.start_column, span.end_line, span.end_column),
            (2, 1, 2, 3)
        );
        assert_eq!(&text[lines.line_range(2)], "é=x\r");
        assert_eq!(&text[lines.line_range(3)], "last");
    }

    #[test]
    fn offsets_out_of_range_or_inside_a_character_are_clamped() {
        let lines = Lines::new("é\n");
        // Byte 1 is inside `é`: the position of its start.
        assert_eq!(lines.position(1), (1, 1));
        assert_eq!(lines.position(99), (2, 1));
        let reversed = std::ops::Range { start: 5, end: 1 };
        let span = lines.span(reversed);
        assert_eq!(span.byte_length, 0);
        assert_eq!(Lines::new("").position(0), (1, 1));
        assert_eq!(Lines::new("").line_range(7), 0..0);
    }

    #[test]
    fn columns_on_a_long_line_cross_blocks() {
        let text = format!("{}x", "é".repeat(BLOCK));
        let lines = Lines::new(&text);
        assert_eq!(lines.position(text.len() - 1), (1, BLOCK + 1));
        assert_eq!(lines.position(BLOCK + 2), (1, BLOCK / 2 + 2));
    }
}
