//! Progress output on stderr: a bar on a terminal (accounts done / listed so far, calls in
//! flight, gaps so far), plain log lines otherwise, nothing when quiet. Never prints credentials or values.
//! Everything that came from AWS (account ids, error codes and messages) is printed through
//! [`terminal`], on one line, with control and bidi characters shown escaped.

use crate::escape::terminal;
use crate::model::CoverageGap;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar (stderr is a terminal).
    Bar,
    /// One line per account done and per gap.
    Lines,
    /// Nothing (library use, tests).
    Quiet,
}

/// The progress display of one crawl.
#[derive(Debug)]
pub struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    in_flight: AtomicU64,
    gaps: AtomicU64,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} accounts {pos}/{len} [{elapsed_precise}] {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            mode,
            bar,
            in_flight: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    fn line(&self, text: &str) {
        if self.mode == ProgressMode::Lines {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "calls in flight {}, gaps {}",
                self.in_flight.load(Ordering::Relaxed),
                self.gaps.load(Ordering::Relaxed)
            ));
        }
    }

    /// The crawl starts; accounts are counted as the organization lists them.
    pub fn start(&self, regions: usize) {
        if let Some(bar) = &self.bar {
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        self.line(&format!("crawling accounts in {regions} regions as they are listed"));
    }

    /// One more account to crawl.
    pub fn account_listed(&self) {
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// Every account to crawl is listed.
    pub fn accounts_known(&self) {
        self.line(&format!("{} accounts to crawl", self.total.load(Ordering::Relaxed)));
    }

    pub fn call_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    pub fn call_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.refresh();
    }

    pub fn gap(&self, gap: &CoverageGap) {
        self.gaps.fetch_add(1, Ordering::Relaxed);
        self.refresh();
        self.line(&format!("gap: {}", describe_gap(gap)));
    }

    /// One account is done.
    pub fn account_done(&self, account: &str) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
        self.line(&format!(
            "account {} done ({done}/{})",
            terminal(account),
            self.total.load(Ordering::Relaxed)
        ));
    }

    /// The crawl is over: remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One line describing a gap: `account region api: code: message`, safe for a terminal.
pub fn describe_gap(gap: &CoverageGap) -> String {
    format!(
        "account {} region {} {}: {}: {}",
        terminal(gap.account.as_deref().unwrap_or("(organization)")),
        terminal(gap.region.as_deref().unwrap_or("(global)")),
        terminal(&gap.api),
        terminal(&gap.error_code),
        terminal(&gap.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::tests::hostile;

    #[test]
    fn gap_lines_are_terminal_safe() {
        for hostile in &hostile() {
            let gap = CoverageGap {
                account: Some("111111111111".to_string()),
                region: Some(format!("eu-west-1{hostile}")),
                api: "lambda:ListFunctions".to_string(),
                error_code: format!("AccessDenied{hostile}"),
                message: format!("User: x is not authorized{hostile}"),
            };
            let line = describe_gap(&gap);
            assert!(!line.chars().any(crate::escape::is_hidden), "{line:?}");
            assert_eq!(line.lines().count(), 1, "{line:?}");
        }
        // Quiet: an ordinary gap reads as before.
        let gap = CoverageGap {
            account: None,
            region: None,
            api: "organizations:ListAccounts".to_string(),
            error_code: "AccessDeniedException".to_string(),
            message: "not allowed".to_string(),
        };
        assert_eq!(
            describe_gap(&gap),
            "account (organization) region (global) organizations:ListAccounts: AccessDeniedException: not allowed"
        );
    }
}
