//! The HTML report and the runbooks' Mermaid diagrams in a real headless browser (Debian's
//! Chromium, driven by `tests/browser/report.mjs` with playwright-core): the page loads without
//! console errors or network requests, the SVG graphs are there, every filter shows exactly the
//! matching findings, a screenshot is written to the test's output directory, and every runbook
//! diagram parses and renders with the `mermaid` package.

use crate::support::{browser, topoguard};
use std::path::PathBuf;

const EXAMPLE: &str = "topology/examples/global-org.json";

#[test]
fn html_report_and_runbook_diagrams_work_in_chromium() {
    let Some((chromium, dir)) = browser("html_report_and_runbook_diagrams_work_in_chromium") else {
        return;
    };
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut runbooks = Vec::new();
    let rb = out.join("runbooks");
    let status = topoguard()
        .args(["runbooks", "--topology", EXAMPLE, "--out-dir"])
        .arg(&rb)
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for app in ["catalog", "checkout", "invoice", "notifications"] {
        runbooks.push(rb.join(app).join("RUNBOOK.md"));
    }
    for (command, extra) in [("readiness", vec![]), ("check", vec!["--fail-on", "none"])] {
        let html = out.join(format!("{command}.html"));
        let run = topoguard()
            .args([command, "--topology", EXAMPLE, "--format", "html", "--output"])
            .arg(&html)
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
        let shot = out.join(format!("{command}.png"));
        let mut node = std::process::Command::new("node");
        node.arg(dir.join("report.mjs"))
            .arg(&html)
            .arg(&shot)
            .env("CHROMIUM", &chromium);
        if command == "readiness" {
            node.args(&runbooks);
        }
        let result = node.output().unwrap();
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(
            result.status.success(),
            "{command}: {stdout}\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
        assert!(stdout.contains("\"failures\":[]"), "{stdout}");
        assert!(
            std::fs::metadata(&shot).unwrap().len() > 10_000,
            "screenshot {}",
            shot.display()
        );
        eprintln!("{command}: {stdout}; screenshot {}", shot.display());
    }
}
