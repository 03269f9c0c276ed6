//! The report's files from a sample run: all four written, the page self-contained (no script,
//! no external resource) with every chart drawn, the CSV one row per reconciled figure.

use pipectl_report::{fixture, render, write};

#[test]
fn every_file_is_written_and_the_page_stands_alone() {
    let report = fixture::sample(30);
    let dir = tempfile::tempdir().unwrap();
    let w = write(&report, dir.path()).unwrap();
    let names: Vec<String> = w
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["index.html", "report.json", "report.csv", "report.md"]
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    // seven charts, each drawn: the sample has two node counts, metrics and attempts
    assert_eq!(w.charts, 7, "{}", &html[..html.len().min(2000)]);
    assert!(!html.contains("<script"));
    for attr in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(attr), "external resource: {attr}");
    }
    // the Gantt has a bar per attempt (30) for queue and for run, plus the legend's two
    let timeline =
        &html[html.find("id=\"timeline\"").unwrap()..html.find("id=\"scaling\"").unwrap()];
    assert_eq!(
        timeline.matches("<rect").count(),
        2 + 60 + 2 + 1,
        "{}",
        timeline.matches("<rect").count()
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["jobs"].as_array().unwrap().len(), 30);
    let figures: usize = report
        .reconciliation
        .phases
        .iter()
        .map(|p| p.components.len())
        .sum();
    let csv = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + figures);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("## Plan against actual"));
    assert!(md.contains("## Sensitivity"));
}

#[test]
fn many_attempts_fold_into_one_row_per_phase() {
    let report = fixture::sample(1_000);
    let files = render(&report).unwrap();
    let html = &files[0].1;
    let timeline =
        &html[html.find("id=\"timeline\"").unwrap()..html.find("id=\"scaling\"").unwrap()];
    assert!(timeline.contains("1000 attempts: one row per phase"));
    assert!(timeline.contains("training (334 attempts)"));
}

#[test]
fn a_chart_without_data_says_why_instead_of_drawing_nothing() {
    let mut report = fixture::sample(6);
    report.scaling.clear();
    report.metrics.clear();
    let html = &render(&report).unwrap()[0].1;
    assert!(html.contains("Needs runs of the same phase with different node counts"));
    assert!(html.contains("CloudWatch returned no values"));
    assert_eq!(html.matches("<svg").count(), 5);
}
