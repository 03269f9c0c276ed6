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
    // marks (in a row of their own: no legend box drawn over the bars)
    let timeline =
        &html[html.find("id=\"timeline\"").unwrap()..html.find("id=\"scaling\"").unwrap()];
    let (drawn, _tips) = timeline.split_once(TIPS).unwrap();
    assert_eq!(
        drawn.matches("<rect").count(),
        2 + 60 + 2,
        "{}",
        drawn.matches("<rect").count()
    );
    // no legend covers data: every chart's legend marks lie apart from its bars
    let timeline_svg = drawn.split("<svg").nth(1).unwrap();
    let marks = rects(timeline_svg)
        .iter()
        .filter(|r| r.2 == 12.0 && r.3 == 12.0)
        .count();
    assert!(marks >= 2, "queue wait and run at least: {marks}");
    for chart in html.split("<svg").skip(1) {
        let rects = rects(chart);
        let marks: Vec<_> = rects
            .iter()
            .filter(|r| r.2 == 12.0 && r.3 == 12.0)
            .collect();
        let bars: Vec<_> = rects
            .iter()
            .filter(|r| !(r.2 == 12.0 && r.3 == 12.0) && r.2 < 700.0)
            .collect();
        for m in &marks {
            for b in &bars {
                let apart =
                    m.0 + m.2 <= b.0 || b.0 + b.2 <= m.0 || m.1 + m.3 <= b.1 || b.1 + b.3 <= m.1;
                assert!(apart, "legend mark {m:?} covers bar {b:?}");
            }
        }
    }
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
    assert!(html.contains("No phase has runs at two node counts yet: `pipectl sweep SPEC --phase NAME --nodes 1,2` makes them."));
    assert!(html.contains("CloudWatch returned no values"));
    assert_eq!(html.matches("<svg").count(), 5);
    // one node count recorded: how to get more
    report.scaling = fixture::sample(6).scaling[..1].to_vec();
    let html = &render(&report).unwrap()[0].1;
    assert!(html.contains("The recorded runs have one node count per phase: `pipectl sweep"));
}

/// Where a chart's hover titles start: every `<rect>` after it is a tip, not a drawn mark.
const TIPS: &str = "<g class=\"tips\"";

#[test]
fn every_bar_names_its_value_on_hover_and_its_tip_lies_over_it() {
    let report = fixture::sample(6);
    let html = &render(&report).unwrap()[0].1;
    let timeline =
        &html[html.find("id=\"timeline\"").unwrap()..html.find("id=\"scaling\"").unwrap()];
    let (drawn, tips) = timeline.split_once(TIPS).unwrap();
    let titles: Vec<&str> = tips
        .split("<title>")
        .skip(1)
        .map(|t| &t[..t.find("</title>").unwrap()])
        .collect();
    // each attempt's run bar names its phase, attempt and minutes, as the record says
    for j in &report.jobs {
        let minutes = (j.stopped_ms - j.started_ms) as f64 / 60_000.0;
        let want = format!("{} #{}: ran {minutes:.4} min", j.phase, j.attempt);
        assert!(
            titles.iter().any(|t| t.starts_with(&want)),
            "{want} not among {titles:?}"
        );
    }
    // every tip covers a bar drawn there (plotters may round a pixel either way)
    let bars = rects(drawn);
    for tip in rects(tips) {
        let near = |a: f64, b: f64| (a - b).abs() <= 1.0;
        assert!(
            bars.iter().any(|b| near(b.0, tip.0)
                && near(b.1, tip.1)
                && near(b.0 + b.2, tip.0 + tip.2)
                && near(b.1 + b.3, tip.1 + tip.3)),
            "tip {tip:?} covers no bar"
        );
    }
    // the cost charts' bars too: each names its value in its chart's unit, never `-0.0000`
    let per_job = &html[html.find("id=\"per-job\"").unwrap()..];
    let per_job = &per_job[..per_job.find("</figure>").unwrap()];
    assert!(per_job.contains(TIPS) && per_job.contains(" USD per attempt</title>"));
    assert!(!html.contains("-0.0000"));
}

/// The (x, y, width, height) of every `<rect>` of an SVG.
fn rects(svg: &str) -> Vec<(f64, f64, f64, f64)> {
    let attr = |r: &str, name: &str| -> f64 {
        let at = r.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3);
        at.and_then(|i| r[i..].split('"').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    svg.split("<rect")
        .skip(1)
        .map(|r| {
            let r = &r[..r.find('>').unwrap_or(r.len())];
            (
                attr(r, "x"),
                attr(r, "y"),
                attr(r, "width"),
                attr(r, "height"),
            )
        })
        .collect()
}

/// Names and notes from a record are data: the CSV cannot start a formula, the Markdown cannot
/// carry HTML, and numbers stay numbers.
#[test]
fn record_text_cannot_become_a_formula_or_html() {
    let mut report = fixture::sample(6);
    report.run_id = "=HYPERLINK(\"http://x\",\"y\")".into();
    report.stack = "<script>alert(1)</script>".into();
    report.notes = vec!["<img src=x onerror=alert(1)> | @SUM(A1)".into()];
    let files = render(&report).unwrap();
    let file = |n: &str| files.iter().find(|(name, _)| *name == n).unwrap().1.clone();
    let csv = file("report.csv");
    let mut cells = 0;
    for line in csv.lines().skip(1) {
        let first = line.split(',').next().unwrap();
        assert!(
            first.starts_with("\"'=") || first.starts_with("'="),
            "{line}"
        );
        cells += 1;
    }
    assert!(cells > 0);
    assert!(
        !csv.lines()
            .skip(1)
            .any(|l| l.contains(",=") || l.contains(",+") || l.contains(",@")),
        "{csv}"
    );
    let md = file("report.md");
    assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    // numbers are left as they were
    assert!(
        csv.contains(",0.5833,") && csv.contains(",$-0.0867,"),
        "{csv}"
    );
}
