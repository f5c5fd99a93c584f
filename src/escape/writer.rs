//! A writer for log output (the `crawl -v` tracing lines): each event written through it
//! reaches the terminal as one line escaped with [`super::terminal`], so a bus or function name
//! in a trace line cannot move the cursor, recolour, retitle the terminal or forge a line.

use std::io::{self, Write};

/// Wraps a writer of log events: every write is one event (the tracing formatter writes each
/// event with one `write_all`, and this writer always takes the whole buffer), which reaches
/// the inner writer as one line: its text through [`super::terminal`] (a line break inside a
/// field is shown as `\u{a}`, so data cannot forge a line), its final line break kept.
#[derive(Debug)]
pub struct TerminalLines<W: Write> {
    inner: W,
}

impl<W: Write> TerminalLines<W> {
    pub fn new(inner: W) -> Self {
        TerminalLines { inner }
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for TerminalLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(b) => (b.strip_suffix('\r').unwrap_or(b), "\n"),
            None => (text.as_ref(), ""),
        };
        let mut out = super::terminal(body).into_owned();
        out.push_str(end);
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::is_hidden;
    use crate::escape::tests::hostile;

    fn through(text: &str) -> String {
        let mut w = TerminalLines::new(Vec::new());
        w.write_all(text.as_bytes()).unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    #[test]
    fn fires_hostile_names_in_a_line_are_shown_escaped() {
        for h in hostile() {
            let out = through(&format!("DEBUG calling lambda:GetFunction function={h}\n"));
            assert!(out.ends_with('\n'), "{out:?}");
            assert_eq!(out.matches('\n').count(), 1, "one line per event: {out:?}");
            assert!(!out.chars().any(|c| c != '\n' && is_hidden(c)), "{out:?}");
        }
        assert_eq!(through("a\u{1b}]0;pwned\u{7}b\n"), "a\\u{1b}]0;pwned\\u{7}b\n");
    }

    #[test]
    fn quiet_plain_lines_are_unchanged() {
        let mut w = TerminalLines::new(Vec::new());
        let lines = [
            "DEBUG call api=lambda:ListFunctions account=111111111111\n",
            "DEBUG done\n",
        ];
        for l in lines {
            w.write_all(l.as_bytes()).unwrap();
        }
        assert_eq!(String::from_utf8(w.into_inner()).unwrap(), lines.concat());
    }

    #[test]
    fn near_miss_a_carriage_return_inside_a_line_is_escaped_not_kept() {
        assert_eq!(through("ok\rforged\n"), "ok\\u{d}forged\n");
        assert_eq!(through("crlf line\r\n"), "crlf line\n");
        // A line break inside one event is data: shown, not a second line.
        assert_eq!(through("a\nforged\n"), "a\\u{a}forged\n");
    }

    /// The subscriber as `crawl -v` sets it up, writing into a buffer.
    #[cfg(feature = "aws")]
    #[test]
    fn fires_tracing_events_with_hostile_fields_stay_one_clean_line() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || TerminalLines::new(sink.clone()))
            .with_ansi(false)
            .with_target(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for h in hostile() {
                tracing::debug!(bus = %h, "listing rules of {h}");
            }
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), hostile().len(), "{out}");
        assert!(!out.chars().any(|c| c != '\n' && is_hidden(c)), "{out:?}");
    }
}
