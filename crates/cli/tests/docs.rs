//! Every TOML snippet in README.md and docs/*.md is checked by the built `pipectl`, so the
//! documents cannot drift from the binary (no AWS call: `validate` and `cost` make none).
//!
//! The fence's info string says what a snippet is:
//! - ```` ```toml ````: a spec. One with a `[stack]` table is a whole spec, validated as it
//!   is. Any other is a fragment, merged into the seed spec (`infra-specs/two-hour-pipeline.toml`)
//!   and then validated: a fragment's top-level table replaces the seed's table of the same name
//!   (`[[phases]]` replaces all the seed's phases), except in the named collections
//!   (`[compute_environments.NAME]`, `[job_queues.NAME]`, `[placement_groups.NAME]`,
//!   `[buckets.NAME]`) where each named table replaces or adds the one of that name. It must
//!   validate (exit 0; warnings allowed).
//! - ```` ```toml invalid ```` (optionally followed by finding codes): a spec shown for its
//!   error, merged the same way; `validate` must exit 3 and report each named code as an error.
//! - ```` ```toml price-sheet ````: a price sheet; `pipectl cost SEED --prices FILE` must accept it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "infra-specs/two-hour-pipeline.toml";
/// Top-level tables whose sub-tables are merged one by one, by name.
const NAMED_COLLECTIONS: [&str; 4] = [
    "compute_environments",
    "job_queues",
    "placement_groups",
    "buckets",
];
/// `pipectl validate`'s exit code for an invalid spec (docs/commands.md, "Exit codes").
const EXIT_INVALID: i32 = 3;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Spec,
    /// A spec that must fail, with the finding codes it must report as errors.
    Invalid(Vec<String>),
    PriceSheet,
}

#[derive(Debug)]
struct Snippet {
    /// Where the snippet's first line is, as `file:line`.
    place: String,
    kind: Kind,
    text: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The kind a fence's info string gives, `None` when the fence is not TOML.
fn kind_of(info: &str) -> Result<Option<Kind>, String> {
    let mut words = info.split_whitespace();
    if words.next() != Some("toml") {
        return Ok(None);
    }
    let rest: Vec<&str> = words.collect();
    match rest.split_first() {
        None => Ok(Some(Kind::Spec)),
        Some((&"invalid", codes)) => Ok(Some(Kind::Invalid(
            codes.iter().map(ToString::to_string).collect(),
        ))),
        Some((&"price-sheet", [])) => Ok(Some(Kind::PriceSheet)),
        _ => Err(format!(
            "unknown marker in ```{info} (expected `toml`, `toml invalid [CODE...]` or `toml price-sheet`)"
        )),
    }
}

/// Every fenced TOML block of a Markdown text, with the line of its first content line.
fn snippets_in(file: &str, text: &str) -> Result<Vec<Snippet>, String> {
    let mut found = Vec::new();
    // (fence marker, kind if TOML, first content line, content)
    let mut open: Option<(String, Option<Kind>, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let kind =
                        kind_of(info.trim()).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
                    open = Some(("```".to_string(), kind, i + 2, String::new()));
                }
            }
            Some((fence, kind, start, mut body)) => {
                if trimmed.starts_with(&fence) && trimmed.trim_end() == fence {
                    if let Some(kind) = kind {
                        let place = format!("{file}:{start}");
                        found.push(Snippet {
                            place,
                            kind,
                            text: body,
                        });
                    }
                } else {
                    body.push_str(line);
                    body.push('\n');
                    open = Some((fence, kind, start, body));
                }
            }
        }
    }
    match open {
        Some((_, _, start, _)) => Err(format!("{file}:{}: unclosed code fence", start - 1)),
        None => Ok(found),
    }
}

/// The spec to validate for a snippet: a whole spec (or one that is not TOML, so that
/// `validate` reports it) as written, a fragment merged into the seed spec.
fn spec_text(snippet: &str, seed: &str) -> String {
    let Ok(fragment) = snippet.parse::<toml::Table>() else {
        return snippet.to_string();
    };
    if fragment.contains_key("stack") {
        return snippet.to_string();
    }
    let mut spec: toml::Table = seed.parse().expect("the seed spec is TOML");
    for (key, value) in fragment {
        match value {
            toml::Value::Table(named) if NAMED_COLLECTIONS.contains(&key.as_str()) => {
                let entry = spec
                    .entry(key)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let collection = entry.as_table_mut().expect("a named collection is a table");
                collection.extend(named);
            }
            value => {
                spec.insert(key, value);
            }
        }
    }
    toml::to_string(&spec).expect("a parsed table serializes")
}

fn pipectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("pipectl runs")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Checks one snippet with the binary; the error names the snippet's place.
fn check(snippet: &Snippet, seed: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snippet.toml");
    let fail =
        |why: &str, output: &Output| Err(format!("{}: {why}\n{}", snippet.place, describe(output)));
    match &snippet.kind {
        Kind::PriceSheet => {
            fs::write(&file, &snippet.text).unwrap();
            let output = pipectl(&["-q", "cost", SEED, "--prices", file.to_str().unwrap()]);
            if !output.status.success() {
                return fail("`pipectl cost` refuses this price sheet", &output);
            }
        }
        Kind::Spec => {
            fs::write(&file, spec_text(&snippet.text, seed)).unwrap();
            let output = pipectl(&["validate", file.to_str().unwrap()]);
            if !output.status.success() {
                return fail("this spec snippet does not validate", &output);
            }
        }
        Kind::Invalid(codes) => {
            fs::write(&file, spec_text(&snippet.text, seed)).unwrap();
            let output = pipectl(&["validate", file.to_str().unwrap()]);
            if output.status.code() != Some(EXIT_INVALID) {
                return fail("marked invalid, but `validate` did not exit 3", &output);
            }
            let text = describe(&output);
            for code in codes {
                if !text.contains(&format!("error[{code}]")) {
                    return fail(
                        &format!("marked invalid with {code}, not reported"),
                        &output,
                    );
                }
            }
        }
    }
    Ok(())
}

/// README.md and every docs/*.md, as (path from the root, text), in a stable order.
fn documents() -> Vec<(String, String)> {
    let root = root();
    let mut names = vec!["README.md".to_string()];
    let mut docs: Vec<String> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    names.extend(docs);
    names
        .into_iter()
        .map(|n| {
            let text = fs::read_to_string(root.join(&n)).unwrap();
            (n, text)
        })
        .collect()
}

fn seed() -> String {
    fs::read_to_string(root().join(SEED)).unwrap()
}

#[test]
fn every_toml_snippet_in_the_docs_is_checked() {
    let seed = seed();
    let mut failures = Vec::new();
    let (mut specs, mut invalid, mut sheets) = (0, 0, 0);
    for (name, text) in documents() {
        let snippets = match snippets_in(&name, &text) {
            Ok(s) => s,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for snippet in snippets {
            match snippet.kind {
                Kind::Spec => specs += 1,
                Kind::Invalid(_) => invalid += 1,
                Kind::PriceSheet => sheets += 1,
            }
            if let Err(e) = check(&snippet, &seed) {
                failures.push(e);
            }
        }
    }
    eprintln!("checked {specs} spec snippets, {invalid} invalid ones, {sheets} price sheets");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The documents show each kind; finding none means the fences are no longer recognised.
    assert!(
        specs > 0 && invalid > 0 && sheets > 0,
        "{specs}/{invalid}/{sheets}"
    );
}

#[test]
fn a_bad_spec_snippet_fails_with_its_place() {
    let doc =
        "text\n\n```toml\n[fsx]\ncapacity = \"1000GiB\"\ndeployment_type = \"SCRATCH_2\"\n```\n";
    let snippets = snippets_in("docs/x.md", doc).unwrap();
    assert_eq!(snippets.len(), 1);
    let err = check(&snippets[0], &seed()).unwrap_err();
    assert!(
        err.starts_with("docs/x.md:4: this spec snippet does not validate"),
        "{err}"
    );
    assert!(err.contains("fsx-capacity"), "{err}");
}

#[test]
fn a_snippet_marked_invalid_must_fail_with_the_codes_it_names() {
    let good = "```toml invalid\n[buckets.extra]\nsize = \"1GB\"\n```\n";
    let err = check(&snippets_in("a.md", good).unwrap()[0], &seed()).unwrap_err();
    assert!(err.starts_with("a.md:2:"), "{err}");
    let fsx = "```toml invalid fsx-capacity\n[fsx]\ncapacity = \"1000GiB\"\ndeployment_type = \"SCRATCH_2\"\n```\n";
    check(&snippets_in("a.md", fsx).unwrap()[0], &seed()).unwrap();
    let wrong_code = fsx.replace("fsx-capacity", "mnp-spot");
    let err = check(&snippets_in("a.md", &wrong_code).unwrap()[0], &seed()).unwrap_err();
    assert!(err.contains("mnp-spot, not reported"), "{err}");
}

#[test]
fn a_broken_price_sheet_snippet_fails() {
    let doc = "```toml price-sheet\n[sheet]\nname = \"x\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = -1 }\n```\n";
    let err = check(&snippets_in("p.md", doc).unwrap()[0], &seed()).unwrap_err();
    assert!(err.starts_with("p.md:2:"), "{err}");
}

#[test]
fn fences_are_told_apart_and_unknown_markers_refused() {
    let doc = "```sh\n```toml\n```\n```toml\na = 1\n```\n```toml price-sheet\n```\n";
    let kinds: Vec<Kind> = snippets_in("d.md", doc)
        .unwrap()
        .into_iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, vec![Kind::Spec, Kind::PriceSheet]);
    let err = snippets_in("d.md", "x\n```toml invalide\n```\n").unwrap_err();
    assert!(err.starts_with("d.md:2: unknown marker"), "{err}");
    assert!(snippets_in("d.md", "```toml\na = 1\n").is_err());
}

#[test]
fn a_fragment_replaces_tables_and_named_entries_of_the_seed() {
    let fragment = "[compute_environments.extra]\ninstance_types = [\"t3.medium\"]\n\n[fsx]\ncapacity = \"2400GiB\"\n";
    let merged: toml::Table = spec_text(fragment, &seed()).parse().unwrap();
    let ces = merged["compute_environments"].as_table().unwrap();
    assert!(ces.contains_key("extra") && ces.contains_key("training-spot"));
    let fsx = merged["fsx"].as_table().unwrap();
    assert_eq!(
        fsx.len(),
        1,
        "the seed's [fsx] is replaced, not merged: {fsx:?}"
    );
    let whole = "[stack]\nname = \"x\"\n";
    assert_eq!(spec_text(whole, &seed()), whole);
}
