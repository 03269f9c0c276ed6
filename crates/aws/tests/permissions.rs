//! Every AWS call in pipectl's sources (`.ctx(SERVICE, "Operation", …)`) has a row in the table
//! `pipectl iam-policy` prints from, so a new call cannot be left out of the policy.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The service a `.ctx` first argument names: a literal, or one of the modules' constants.
fn service(arg: &str) -> String {
    let arg = arg.trim();
    if let Some(lit) = arg.strip_prefix('"') {
        return lit.trim_end_matches('"').to_string();
    }
    arg.to_ascii_lowercase()
}

#[test]
fn every_call_in_the_sources_is_in_the_table() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in ["aws", "provision", "runner", "cli"] {
        sources(&crates.join(c).join("src"), &mut files);
    }
    let mut calls = 0;
    let mut missing = Vec::new();
    for f in files {
        let text: String = std::fs::read_to_string(&f)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for (i, _) in text.match_indices(".ctx(") {
            let rest = &text[i + 5..];
            let mut parts = rest.splitn(3, ',');
            let (Some(svc), Some(op)) = (parts.next(), parts.next()) else {
                continue;
            };
            let op = op.trim();
            if !op.starts_with('"') {
                continue; // not an AWS call site (the trait's own definition)
            }
            let op = op.trim_matches('"');
            calls += 1;
            let svc = service(svc);
            if !pipectl_aws::permissions::known(&svc, op) {
                missing.push(format!("{svc}:{op} ({})", f.display()));
            }
        }
    }
    assert!(calls > 80, "found the call sites ({calls})");
    assert!(
        missing.is_empty(),
        "add to pipectl_aws::permissions::OPERATIONS: {missing:#?}"
    );
}
